"""The `hugginggpt` command (and run_agent.py): one request with --prompt, or a chat (stdin lines when piped)."""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import signal
import sys
import threading
import uuid
from collections.abc import Awaitable
from types import FrameType
from typing import Any

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2  # a stop signal exits 128 + its number (130, 143)
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


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
    parser.add_argument(
        "--verbose",
        "-v",
        action="store_true",
        help="show tracebacks, and request details on stderr (arguments, attempts, HTTP requests)",
    )
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


class Stopper:
    """Ctrl-C and SIGTERM alike: the first cancels the turn in flight (or stops the wait for input), a
    second one stops at once; the exit status is 128 + the signal (130, 143), as shells report it."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.turn: asyncio.Future[Any] | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> Stopper:
        if threading.current_thread() is threading.main_thread():  # signals reach only the main thread
            self._previous = {s: signal.signal(s, self._on_signal) for s in STOP_SIGNALS}
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        first, self.signum = self.signum is None, signum
        turn = self.turn
        if first and turn is not None and not turn.done():
            turn.get_loop().call_soon_threadsafe(turn.cancel)  # the renderer says "Stopped"
            return
        raise KeyboardInterrupt  # waiting for input, or asked twice

    @property
    def exit_code(self) -> int:
        return 128 + (self.signum or signal.SIGINT)

    async def run(self, turn: Awaitable[bool]) -> bool:
        """Await `turn` as the turn in flight, which a stop signal cancels; False when it was stopped."""
        self.turn = task = asyncio.ensure_future(turn)
        try:
            await asyncio.wait([task])  # a cancelled turn is an answer here, not an error
        finally:
            self.turn = None
        return not task.cancelled() and task.result()


async def chat(args: argparse.Namespace, settings: Any, stopper: Stopper) -> int:
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
    if args.verbose:
        renderer.log_requests()
    config = {"tags": list(args.tag), "metadata": {**metadata(args.metadata), "thread_id": thread}}
    async with await open_store(settings) as store:
        settings.output_dir.mkdir(parents=True, exist_ok=True)
        agent = build_agent(settings, checkpointer=store.saver)
        for text in itertools.chain([first], turns):
            if not await stopper.run(renderer.turn(agent, text, thread, config, store)):
                return stopper.exit_code
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from agent.settings import AgentSettings, MissingSetting
    from agent.store import StoreUnavailable
    from tools.mcp_client.config import ServersConfigError

    stopper = Stopper()
    try:
        overrides = {"openai_model": args.model} if args.model else {}
        settings = AgentSettings.from_env(**overrides)
        if args.list_tools:
            return list_tools(settings)
        settings.require_keys()
        with stopper:
            return asyncio.run(chat(args, settings, stopper))
    except (
        MissingSetting,
        StoreUnavailable,
        ServersConfigError,
    ) as error:  # a setting to fix: nothing was run or written
        print(f"{program_name()}: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("\nStopped.", file=sys.stderr)
        return stopper.exit_code
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
