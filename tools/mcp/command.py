"""The `hugginggpt-mcp` command: serve the toolkit over MCP (stdio by default, or streamable HTTP)."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from pydantic import ValidationError

from hugginggpt.tools.settings import HFSettings
from hugginggpt.tools.text import invalid_setting

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
PROG = "hugginggpt-mcp"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Serve every Hugging Face task tool (and find_models) over the Model Context Protocol.",
        epilog="Configuration comes from the environment and .env (see .env.example).",
    )
    parser.add_argument("--transport", choices=("stdio", "http"), default="stdio",
                        help="stdio (default: the client starts this command) or streamable HTTP at /mcp")  # fmt: skip
    parser.add_argument("--host", help="HTTP address (default: HUGGINGGPT_MCP_HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="HTTP port (default: HUGGINGGPT_MCP_PORT or 8765)")
    parser.add_argument("--tasks", help="only these tasks, comma-separated (default: all)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    given = {"mcp_host": args.host, "mcp_port": args.port}
    try:
        settings = HFSettings.from_env(**{k: v for k, v in given.items() if v is not None})
    except ValidationError as error:
        print(f"{PROG}: {invalid_setting(error, HFSettings.variable(error))}", file=sys.stderr)
        return EXIT_USAGE
    from hugginggpt.tools import HuggingFaceToolkit
    from hugginggpt.tools.mcp import build_server
    from hugginggpt.tools.mcp.transports import BindRefused, check_bind, serve_http, serve_stdio

    try:
        tasks = [t for t in (args.tasks or "").split(",") if t.strip()] or None
        toolkit = HuggingFaceToolkit(settings=settings, tasks=tasks)
    except (KeyError, ValidationError) as error:
        print(f"{PROG}: {str(error).strip(chr(39) + chr(34))}.", file=sys.stderr)
        return EXIT_USAGE
    if settings.token() is None:
        print(f"{PROG}: HF_TOKEN is not set, so Hugging Face will refuse the calls; set it in the"
              " environment or .env.", file=sys.stderr)  # fmt: skip
    server = build_server(toolkit)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # a service manager's stop is Ctrl-C's twin
    try:
        if args.transport == "http":
            host, port = settings.mcp_server.mcp_host, settings.mcp_server.mcp_port
            check_bind(host, settings)
            print(f"{PROG}: serving http://{host}:{port}/mcp", file=sys.stderr)
            asyncio.run(serve_http(server, settings, host, port))
        else:
            asyncio.run(serve_stdio(server))
    except BindRefused as error:
        print(f"{PROG}: {error}.", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: calls in flight cancelled, the port released
        pass
    finally:
        toolkit.close()  # its worker pools and loaded local models
    return EXIT_OK
