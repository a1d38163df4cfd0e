"""The offline stack every in-process benchmark runs on: both stand-ins, routing, a scratch folder.

Call `prepare_environment()` before anything imports huggingface_hub (it reads HF_HOME at import time).
"""

from __future__ import annotations

import atexit
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
HF_TEST_TOKEN = "hf_bench_stand_in_0123456789abcdef"
_SCRATCH: Path | None = None


def prepare_environment() -> Path:
    """Point every client at loopback and a scratch HF home; returns the scratch folder."""
    global _SCRATCH
    if _SCRATCH is None:
        _SCRATCH = Path(tempfile.mkdtemp(prefix="hugginggpt-bench-"))
        atexit.register(shutil.rmtree, _SCRATCH, ignore_errors=True)
    for name in list(os.environ):
        if name.startswith(("HUGGINGGPT_", "LANGSMITH_", "LANGCHAIN_", "OPENAI_")):
            del os.environ[name]
    os.environ.update(
        HF_HOME=str(_SCRATCH / "hf_home"),
        HF_TOKEN=HF_TEST_TOKEN,
        HF_HUB_DISABLE_TELEMETRY="1",
        LANGSMITH_TRACING="false",
        NO_PROXY="127.0.0.1,localhost,::1",
        no_proxy="127.0.0.1,localhost,::1",
    )
    os.environ.pop("HF_HUB_OFFLINE", None)
    return _SCRATCH


def machine() -> str:
    """One line naming the machine the numbers came from."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if "MemTotal" in line
        )
        mem = f", {mem_kb / 2**20:.0f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        mem = ""
    load = f", load average {os.getloadavg()[0]:.1f} at the end" if hasattr(os, "getloadavg") else ""
    return (
        f"{os.cpu_count()} cores ({cpu}){mem}, Python {platform.python_version()}, {platform.system()}{load}"
    )


@dataclass
class Stack:
    """Both stand-ins running, huggingface_hub routed to the HF one, cwd in a scratch folder."""

    hf: Any
    llm: Any
    workdir: Path

    def settings(self, **overrides: Any) -> Any:
        from hugginggpt.agent.settings import AgentSettings

        # Every tool offered: the scripted planners call tools whatever the words (tool_selection.py measures
        # the selection itself).
        base = {
            "timeout": 30.0,
            "llm_timeout": 30.0,
            "max_model_calls": 20,
            "max_tool_calls": 40,
            "tool_selection": "all",
        }
        return AgentSettings.from_env(env_file=None, **{**base, **overrides})

    def agent(self, settings: Any = None, **kwargs: Any) -> Any:
        from langgraph.checkpoint.memory import InMemorySaver

        from hugginggpt.agent import build_agent

        return build_agent(settings or self.settings(), checkpointer=InMemorySaver(), **kwargs)


def route_hf(url: str, tls_cost: bool = True) -> None:
    """Route huggingface_hub to the stand-in; with `tls_cost`, each HTTP client made first builds the
    TLS context a real one would (reads the CA bundle), since the stand-in transport skips TLS.
    The TLS handshake itself is not simulated (loopback, plain HTTP)."""
    import httpx2
    from huggingface_hub.utils import set_async_client_factory, set_client_factory

    from tests.stand_ins.routing import async_client_factory, client_factory, route_hf_to

    route_hf_to(url)
    if not tls_cost:
        return

    def with_tls(factory: Any) -> Any:
        def make() -> Any:
            httpx2.create_ssl_context()  # what httpx2.AsyncClient() does for https: load the CA bundle
            return factory()

        return make

    set_client_factory(with_tls(client_factory(url)))
    set_async_client_factory(with_tls(async_client_factory(url)))


def _serve(setup: Any, conn: Any) -> None:
    """Child process: run both stand-ins, configured by `setup(hf, llm)`, until told to stop."""
    from tests.stand_ins.hf import HFStandIn
    from tests.stand_ins.openai_api import DEFAULT_API_KEY, OpenAIStandIn

    with HFStandIn() as hf, OpenAIStandIn(api_key=DEFAULT_API_KEY) as llm:
        setup(hf, llm)
        conn.send((hf.url, llm.base_url))
        conn.recv()


@contextmanager
def _services(setup: Any) -> Iterator[tuple[Any, Any, str, str]]:
    """The stand-ins: here (setup None), or in a child process configured by the picklable `setup`."""
    from tests.stand_ins.openai_api import DEFAULT_API_KEY

    if setup is None:
        from tests.stand_ins.hf import HFStandIn
        from tests.stand_ins.openai_api import OpenAIStandIn

        with HFStandIn() as hf, OpenAIStandIn(api_key=DEFAULT_API_KEY) as llm:
            yield hf, llm, hf.url, llm.base_url
        return
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    server = context.Process(target=_serve, args=(setup, child), name="stand-ins", daemon=True)
    server.start()
    try:
        hf_url, llm_url = parent.recv()
        yield None, None, hf_url, llm_url
    finally:
        parent.send("stop")
        server.join(10)
        if server.is_alive():
            server.terminate()


@contextmanager
def stack(tls_cost: bool = True, remote: Any = None) -> Iterator[Stack]:
    """Start the stand-ins and route huggingface_hub to the HF one; cwd is a scratch folder.

    By default the stand-ins run in this process (`Stack.hf`/`Stack.llm` configure them); with
    `remote=setup` they run in a child process, configured there by `setup(hf, llm)` (a module-level
    function), so their CPU time is not the agent's (`Stack.hf`/`Stack.llm` are then None).
    """
    scratch = prepare_environment()
    from tests.stand_ins import media
    from tests.stand_ins.openai_api import DEFAULT_API_KEY
    from tests.stand_ins.routing import unroute_hf

    workdir = Path(tempfile.mkdtemp(prefix="work-", dir=scratch))
    old_cwd = os.getcwd()
    with _services(remote) as (hf, llm, hf_url, llm_url):
        os.environ.update(OPENAI_API_KEY=DEFAULT_API_KEY, OPENAI_BASE_URL=llm_url)
        route_hf(hf_url, tls_cost)
        os.chdir(workdir)
        (workdir / "inputs").mkdir()
        (workdir / "inputs" / "photo.png").write_bytes(media.make_image("two sheep in a field"))
        (workdir / "inputs" / "speech.flac").write_bytes(media.make_audio("sheep are lovely animals"))
        try:
            yield Stack(hf, llm, workdir)
        finally:
            os.chdir(old_cwd)
            unroute_hf()


async def run_prompt(
    agent: Any, text: str, thread: str, config: dict[str, Any] | None = None, store: Any = None
) -> tuple[Any, float]:
    """One turn through `run_turn` (on `store`'s thread lock when given); returns (TurnSummary, seconds)."""
    from hugginggpt.agent.events import TurnDone, run_turn

    started = time.perf_counter()
    summary = None
    async for event in run_turn(agent, text, thread=thread, config=config, store=store):
        if isinstance(event, TurnDone):
            summary = event.summary
    return summary, time.perf_counter() - started


def median(values: list[float]) -> float:
    ordered = sorted(values)
    n = len(ordered)
    if not n:
        return float("nan")
    mid = n // 2
    return ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


# --------------------------------------------------------------------------- reporting

ROWS_MARK = "BENCH-ROWS "


def table(rows: list[dict[str, Any]]) -> str:
    """Rows as a Markdown table (readable as plain text too)."""
    head = ["benchmark", "measure", "value", "target", "notes"]
    body = []
    for r in rows:
        target = r.get("target", "")
        if target:
            target += " ok" if r.get("ok") else " MISSED"
        body.append([r["benchmark"], r["metric"], r["value"], target, r.get("note", "")])
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body, strict=False)]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    return "\n".join([line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, body)])


def skipped(benchmark: str, why: str) -> dict[str, Any]:
    """The row of a benchmark that could not run here."""
    return {"benchmark": benchmark, "metric": why, "value": "skipped"}


def emit(rows: list[dict[str, Any]]) -> None:
    """Print rows: JSON for `benchmarks.run` (BENCH_JSON=1), else a table."""
    import json

    if os.environ.get("BENCH_JSON"):
        print(ROWS_MARK + json.dumps(rows), flush=True)
    else:
        print(table(rows), flush=True)
