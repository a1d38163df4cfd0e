"""The `hugginggpt-web` command (and app.py): a local Gradio chat; the UI itself is agent/web.py."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from typing import TYPE_CHECKING

from hugginggpt.agent.cli import EXIT_OK, EXIT_USAGE, program_name

if TYPE_CHECKING:
    from hugginggpt.agent.settings import AgentSettings


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=program_name(),
        description="HuggingGPT web UI: chat with the agent, see its steps and the media it makes.",
        epilog="Configuration comes from the environment and .env (see .env.example).",
    )
    parser.add_argument("--host", help="address to listen on (default: GRADIO_SERVER_NAME or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default: GRADIO_SERVER_PORT or 7860)")
    parser.add_argument("--model", "-m", help="chat model name (overrides OPENAI_MODEL)")
    return parser.parse_args(argv)


def settings_for(args: argparse.Namespace) -> AgentSettings:
    """The settings from the environment and `.env`, with the command line's options on top."""
    from hugginggpt.agent.settings import AgentSettings

    given = {"web_host": args.host, "web_port": args.port, "openai_model": args.model}
    return AgentSettings.from_env(**{k: v for k, v in given.items() if v is not None})


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        settings = settings_for(args)
        settings.web.web_sign_in(settings.web.web_host)  # refused before the UI's seconds of imports
    except Exception as error:  # invalid settings: one sentence, like the CLI
        from hugginggpt.agent.errors import describe_error

        print(f"{program_name()}: {describe_error(error)}", file=sys.stderr)
        return EXIT_USAGE
    # Process-wide setup is this command's, not the UI module's: no version check or telemetry from
    # Gradio (read when its Blocks are made), LangSmith's global client and exit flush.
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from hugginggpt.agent.tracing import install_tracing
    from hugginggpt.agent.web import WebApp

    signal.signal(signal.SIGTERM, signal.default_int_handler)  # a service manager's stop is Ctrl-C's twin

    tracer = install_tracing(settings)
    app = WebApp(settings, callbacks=[tracer] if tracer else [])  # a missing key is shown on the page
    if app.problem:
        print(f"{program_name()}: {app.problem}", file=sys.stderr)
    try:
        app.launch(settings.web.web_host, settings.web.web_port)
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM (Gradio closes its server on the first: the port is free)
        pass
    finally:
        app.close()
    return EXIT_OK
