"""`make serve`: LangGraph's API server for `langgraph.json`, in memory, with nothing phoning home.

Runs `langgraph dev --no-browser --no-reload` (langgraph-cli[inmem], the `.[serve]` extra) in the current
folder, which holds `langgraph.json`. The server then reaches Hugging Face and the LLM (and LangSmith
only when LANGSMITH_TRACING=true); the variables below switch off what would otherwise leave the machine
(read in langgraph-cli 0.4 and langgraph-api 0.16):

- LANGGRAPH_CLI_NO_ANALYTICS=1: the CLI's usage report, a POST to Supabase for every command;
- LANGGRAPH_NO_VERSION_CHECK=true: the server's look-up of the newest langgraph-api on PyPI at start;
- LANGSMITH_CONTROL_PLANE_API_KEY empty: with LANGSMITH_API_KEY set it defaults to that key, and the server
  then posts usage metadata (with the key) to LangSmith every 5 minutes and turns tracing on by itself.

Beyond loopback it starts only with HUGGINGGPT_SERVE_TOKEN set: agent/remote/app.py then asks every request
for it (the health check /ok aside). `--no-browser` also skips the Studio page and its LangSmith organisation look-up. The server's metrics
are only served locally (/metrics); its license check is a no-op in this edition.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from pathlib import Path

from hugginggpt.agent.settings import AgentSettings
from hugginggpt.tools.settings import is_loopback

QUIET = {
    "LANGGRAPH_CLI_NO_ANALYTICS": "1",
    "LANGGRAPH_NO_VERSION_CHECK": "true",
    "LANGSMITH_CONTROL_PLANE_API_KEY": "",
}
CONFIG = "langgraph.json"


def command(host: str, port: int) -> list[str]:
    """The `langgraph dev` command line: in memory, no browser, no reload."""
    return [sys.executable, "-m", "langgraph_cli", "dev", "--config", CONFIG, "--host", host,
            "--port", str(port), "--no-browser", "--no-reload"]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m hugginggpt.agent.serve",
        description="LangGraph's API server for langgraph.json (make serve).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=2024, help="port to listen on (default: 2024)")
    args = parser.parse_args(argv)
    if importlib.util.find_spec("langgraph_api") is None:
        print("serve: LangGraph's API server is not installed: pip install -e '.[serve]'.", file=sys.stderr)
        return 2
    if not Path(CONFIG).is_file():
        print(f"serve: no {CONFIG} here: run it in the project's folder.", file=sys.stderr)
        return 2
    if not is_loopback(args.host) and AgentSettings.from_env().web.serve_token is None:
        print(
            f"serve: listening on {args.host or 'every address'} needs HUGGINGGPT_SERVE_TOKEN set (every request"
            " must then send it as a bearer token); without one, listen on 127.0.0.1.",
            file=sys.stderr,
        )
        return 2
    argv_ = command(args.host, args.port)
    os.execve(argv_[0], argv_, {**os.environ, **QUIET})  # the server takes this process's place


if __name__ == "__main__":
    sys.exit(main())
