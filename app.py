#!/usr/bin/env python
"""HuggingGPT in the browser: a local Gradio chat (the UI is agent/web.py)."""

from __future__ import annotations

import argparse
import os
import sys

EXIT_OK, EXIT_USAGE = 0, 2


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="app.py",
        description="HuggingGPT web UI: chat with the agent, see its steps and the media it makes.",
        epilog="Configuration comes from the environment and .env (see .env.example).",
    )
    parser.add_argument(
        "--host",
        default=os.environ.get("GRADIO_SERVER_NAME") or "127.0.0.1",
        help="address to listen on (default: GRADIO_SERVER_NAME or 127.0.0.1)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("GRADIO_SERVER_PORT") or 7860),
        help="port to listen on (default: GRADIO_SERVER_PORT or 7860)",
    )
    parser.add_argument("--model", "-m", help="chat model name (overrides OPENAI_MODEL)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from agent.settings import AgentSettings

    try:
        settings = AgentSettings.from_env(**({"openai_model": args.model} if args.model else {}))
    except Exception as error:  # invalid settings: one sentence, like the CLI
        from agent.errors import describe_error

        print(f"app.py: {describe_error(error)}", file=sys.stderr)
        return EXIT_USAGE
    from agent.web import WebApp

    app = WebApp(settings)  # a missing key is shown on the page, not here
    if app.problem:
        print(f"app.py: {app.problem}", file=sys.stderr)
    try:
        app.launch(args.host, args.port)
    except KeyboardInterrupt:
        pass
    finally:
        app.close()
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
