"""The `hugginggpt` command (and run_agent.py): one request with --prompt, or a chat (stdin lines when piped)."""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import sys
import threading
import uuid
from typing import Any

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def program_name() -> str:
    """How the user started us: `run_agent.py`, `hugginggpt`, ..."""
    return os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "hugginggpt"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=program_name(),
        description="HuggingGPT: an LLM plans, Hugging Face models do the work.",
        epilog="Configuration comes from the environment and .env (see .env.example).",
    )
    parser.add_argument("--prompt", "-p", help="run one request, then exit")
    parser.add_argument("--thread", "-t", help="conversation name to resume or start (default: a new one)")
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object per request instead of prose"
    )
    parser.add_argument("--model", "-m", help="chat model name (overrides OPENAI_MODEL)")
    parser.add_argument("--tag", action="append", default=[], help="tag for traces (repeatable)")
    parser.add_argument(
        "--metadata", action="append", default=[], metavar="KEY=VALUE", help="trace metadata (repeatable)"
    )
    parser.add_argument("--list-tools", action="store_true", help="list the tools and exit")
    parser.add_argument("--verbose", "-v", action="store_true", help="show tracebacks and request details")
    return parser.parse_args(argv)


def metadata(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise SystemExit(f"{program_name()}: --metadata expects KEY=VALUE, got {pair!r}")
        out[key.strip()] = value
    return out


def list_tools(settings: Any) -> int:
    from tools import HuggingFaceToolkit
    from tools.text import shorten

    for tool in HuggingFaceToolkit(settings=settings).get_tools():
        print(f"{tool.name:32} {shorten(tool.description.splitlines()[0], 100)}")
    return EXIT_OK


def user_turns(args: argparse.Namespace):
    """The requests to run: --prompt, piped lines, or an interactive prompt."""
    if args.prompt is not None:
        yield args.prompt
        return
    interactive = sys.stdin.isatty()
    while True:
        try:
            line = input("you> ") if interactive else sys.stdin.readline()
        except EOFError:
            return
        if not interactive and line == "":
            return
        text = line.strip()
        if text.lower() in ("exit", "quit"):
            return
        if text:
            yield text


def load_agent_modules() -> None:
    """Import what building and running the agent needs (about a second of imports)."""
    import langchain.agents  # noqa: F401
    import langchain_openai  # noqa: F401
    import langgraph.checkpoint.sqlite.aio  # noqa: F401

    import agent.console
    import agent.store  # noqa: F401


def preload(args: argparse.Namespace) -> threading.Thread | None:
    """In a terminal chat, load the agent's modules while the user types the first request."""
    if args.prompt is not None or not sys.stdin.isatty():
        return None
    loader = threading.Thread(target=load_agent_modules, name="preload", daemon=True)
    loader.start()
    return loader


async def chat(args: argparse.Namespace, settings: Any) -> int:
    loader = preload(args)
    turns = user_turns(args)
    first = next(turns, None)  # on a terminal `you>` shows now, while the modules load behind it
    if first is None:
        return EXIT_OK
    if loader is not None:
        loader.join()  # never import the same modules from two threads at once

    from agent import build_agent
    from agent.console import Renderer
    from agent.store import open_store

    thread = args.thread or f"run-{uuid.uuid4().hex[:8]}"
    renderer = Renderer(json_mode=args.json, verbose=args.verbose)
    config = {"tags": list(args.tag), "metadata": {**metadata(args.metadata), "thread_id": thread}}
    async with await open_store(settings) as store:
        settings.output_dir.mkdir(parents=True, exist_ok=True)
        agent = build_agent(settings, checkpointer=store.saver)
        for text in itertools.chain([first], turns):
            if not await renderer.turn(agent, text, thread, config, store):
                return EXIT_INTERRUPTED if args.prompt is not None else EXIT_OK
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from agent.settings import AgentSettings, MissingSetting
    from agent.store import StoreUnavailable

    try:
        overrides = {"openai_model": args.model} if args.model else {}
        settings = AgentSettings.from_env(**overrides)
        if args.list_tools:
            return list_tools(settings)
        settings.require_keys()
        return asyncio.run(chat(args, settings))
    except (MissingSetting, StoreUnavailable) as error:  # a setting to fix: nothing was run or written
        print(f"{program_name()}: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("\nStopped.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. piped into `head`
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        return EXIT_OK
    except Exception as error:  # one sentence, the traceback only when asked
        from agent.errors import describe_error

        if args.verbose:
            import traceback

            traceback.print_exc()
        print(f"{program_name()}: {describe_error(error)}", file=sys.stderr)
        return EXIT_ERROR
