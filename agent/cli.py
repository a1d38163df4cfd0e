"""The `hugginggpt` command (and run_agent.py): one request with --prompt, or a chat (stdin lines when piped)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import signal
import sys
import threading
import uuid
from collections.abc import Awaitable, Iterator
from types import FrameType
from typing import Any, TextIO

from hugginggpt.agent.stdin_lines import StdinLines

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
    parser.add_argument(
        "--usage", action="store_true", help="after each answer, also what the whole thread has cost so far"
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
    from hugginggpt.tools import HuggingFaceToolkit
    from hugginggpt.tools.text import shorten

    for tool in HuggingFaceToolkit(settings=settings.toolkit).get_tools():
        print(f"{tool.name:32} {shorten(tool.description.splitlines()[0], 100)}")
    return EXIT_OK


def lines_of(stream: TextIO) -> StdinLines | TextIO:
    """A piped stream's lines, read so that a stop signal is never lost (the stream itself when it has no
    file descriptor, e.g. replaced in a test)."""
    try:
        return StdinLines(stream)
    except (OSError, ValueError, AttributeError):
        return stream


def user_turns(args: argparse.Namespace, stopper: Stopper):
    """The requests to run: --prompt, piped lines, or an interactive prompt (a stop signal ends the wait)."""
    if args.prompt is not None:
        yield args.prompt
        return
    interactive = sys.stdin.isatty()
    piped = None if interactive else lines_of(sys.stdin)
    while True:
        try:
            with stopper.interruptible():
                line = input("you> ") if piped is None else piped.readline()
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

    import hugginggpt.agent.console
    import hugginggpt.agent.store  # noqa: F401


def preload(args: argparse.Namespace) -> threading.Thread | None:
    """In a terminal chat, load the agent's modules while the user types the first request."""
    if args.prompt is not None or not sys.stdin.isatty():
        return None
    loader = threading.Thread(target=load_agent_modules, name="preload", daemon=True)
    loader.start()
    return loader


class Stopper:
    """Ctrl-C and SIGTERM alike, honoured whenever one comes: the exit status is 128 + the signal (130,
    143), as shells report it. The first one cancels the turn in flight, stops a wait for input or start-up,
    or, arriving between those (a turn winding down after its answer), is noted and stops the chat at its
    next step; a second one stops at once."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.said = False  # whether the turn's renderer already said "Stopped"
        self.turn: asyncio.Future[Any] | None = None
        self._interruptible = False  # the main thread is in code a KeyboardInterrupt may stop
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
        if not first:  # asked twice: at once, whatever is running
            print("\nStopped.", file=sys.stderr, flush=True)
            with contextlib.suppress(Exception):
                sys.stdout.flush()
            os._exit(self.exit_code)
        if self._interruptible:
            raise KeyboardInterrupt
        turn = self.turn
        if turn is not None and not turn.done():
            turn.get_loop().call_soon_threadsafe(turn.cancel)  # the renderer says "Stopped"
        # Otherwise noted: `run` and `interruptible` look at `signum` before they start and after they end.

    @property
    def exit_code(self) -> int:
        return 128 + (self.signum or signal.SIGINT)

    @contextlib.contextmanager
    def interruptible(self) -> Iterator[None]:
        """A block of plain (blocking) code, such as waiting for input, that a stop signal interrupts with
        KeyboardInterrupt; one that came before it started interrupts it at once."""
        self._interruptible = True
        try:
            if self.signum is not None:
                raise KeyboardInterrupt
            yield
        finally:
            self._interruptible = False

    async def run(self, turn: Awaitable[bool]) -> bool:
        """Await `turn` as the turn in flight, which a stop signal cancels; False when a stop signal came
        before it, while it ran or while it wound down (it may have finished: its answer stands)."""
        if self.signum is not None:
            if asyncio.iscoroutine(turn):
                turn.close()  # never started
            return False
        self.turn = task = asyncio.ensure_future(turn)
        try:
            await asyncio.wait([task])  # a cancelled turn is an answer here, not an error
        finally:
            self.turn = None
        answered = not task.cancelled() and task.result()
        self.said = not task.cancelled() and not answered  # the renderer said "Stopped"
        return answered and self.signum is None


async def chat(args: argparse.Namespace, settings: Any, stopper: Stopper) -> int:
    loader = preload(args)
    turns = user_turns(args, stopper)
    first = next(turns, None)  # on a terminal `you>` shows now, while the modules load behind it
    if first is None:
        return EXIT_OK
    with stopper.interruptible():  # a second of imports: nothing to leave consistent yet
        if loader is not None:
            loader.join()  # never import the same modules from two threads at once
        from hugginggpt.agent import build_agent
        from hugginggpt.agent.console import Renderer
        from hugginggpt.agent.store import open_store
        from hugginggpt.agent.tracing import install_tracing

    tracer = install_tracing(settings)  # process-wide: this command is the entry point
    thread = args.thread or f"run-{uuid.uuid4().hex[:8]}"
    renderer = Renderer(json_mode=args.json, verbose=args.verbose, thread_usage=args.usage)
    if args.verbose:
        renderer.log_requests()
    config = {"tags": list(args.tag), "metadata": {**metadata(args.metadata), "thread_id": thread}}
    async with await open_store(settings) as store:
        settings.toolkit.output_dir.mkdir(parents=True, exist_ok=True)
        agent = build_agent(settings, checkpointer=store.saver, callbacks=[tracer] if tracer else [])
        for text in itertools.chain([first], turns):
            if not await stopper.run(renderer.turn(agent, text, thread, config, store)):
                return stopper.exit_code
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from hugginggpt.agent.settings import AgentSettings, MissingSetting
    from hugginggpt.agent.store import StoreUnavailable
    from hugginggpt.tools.mcp_client.config import ServersConfigError

    stopper = Stopper()
    try:
        with stopper:
            with stopper.interruptible():  # reading the settings: nothing started yet
                overrides = {"openai_model": args.model} if args.model else {}
                settings = AgentSettings.from_env(**overrides)
                if args.list_tools:
                    return list_tools(settings)
                settings.require_keys()
            code = asyncio.run(chat(args, settings, stopper))
        if stopper.signum is None:
            return code
        if not stopper.said:  # a stop noted between steps (a turn winding down, the store closing)
            print("\nStopped.", file=sys.stderr)
        return stopper.exit_code
    except (MissingSetting, StoreUnavailable, ServersConfigError) as error:  # a setting to fix: nothing run
        print(f"{program_name()}: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("\nStopped.", file=sys.stderr)
        return stopper.exit_code
    except BrokenPipeError:  # e.g. piped into `head`
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        return EXIT_OK
    except Exception as error:  # one sentence, the traceback only when asked
        from hugginggpt.agent.errors import describe_error

        if args.verbose:
            import traceback

            traceback.print_exc()
        print(f"{program_name()}: {describe_error(error)}", file=sys.stderr)
        return EXIT_ERROR
