"""Faults survived: every planner scenario of tests/scenarios.py, run under seeded faults on both stand-ins.

The HF stand-in fails 30 % of first attempts (503 loading, 429 with rate-limit headers, 500, 502/504, reset
connections, read timeouts, malformed JSON, truncated media), and the top text-to-image model's only
provider mapping names a provider that never answers. The planner stand-in fails a share of chat
completions with 429, 500 or a timeout. Each run must end either fully correct or with an honest partial
answer naming what failed; no run may crash or hang, every file reported must exist and be whole, and the
`--json` summary and the trace must say which attempts failed and which model served.

The planner plays the scenarios as written, except that its final answer also quotes every tool error of
the turn, as a careful LLM would (`HonestPlan`): so "the answer names what failed" tests what the tools
tell the model. A summary line (runs, faults injected, outcomes) is printed at the end and written to
test-artifacts/fault-report.txt.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import subprocess
import sys
import time
import wave
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from langchain_core.tracers.langchain import wait_for_all_tracers
from langgraph.checkpoint.memory import InMemorySaver
from PIL import Image

from hugginggpt.agent import AgentSettings, TurnSummary, build_agent, run_turn
from hugginggpt.agent.events import TurnDone
from hugginggpt.agent.tracing import close_tracing, reset_tracing
from hugginggpt.tools.files.media import looks_complete, sniff
from hugginggpt.tools.inference.errors import Cause
from hugginggpt.tools.settings import HFSettings
from tests import scenarios
from tests.stand_ins import media
from tests.stand_ins.hf import HFStandIn
from tests.stand_ins.langsmith_api import LangSmithStandIn
from tests.stand_ins.openai_api import OpenAIStandIn
from tests.stand_ins.scripts import Plan, PlanOnce, Reply, Request, plan_failures, tool_results

REPO = Path(__file__).resolve().parent.parent
REPORT = REPO / "test-artifacts" / "fault-report.txt"
# Random faults hit only a request's first attempt (HF and LLM alike), so the retry budget always suffices
# whatever order the concurrent runs' requests arrive in; exhausted budgets have tests of their own.
HF_RATE, LLM_RATE = 0.3, 0.15
SEEDS = range(10)
HF_KINDS = (
    "loading",
    "rate_limit",
    "server_error",
    "bad_gateway",
    "reset",
    "timeout",
    "malformed",
    "truncated",
)
LLM_KINDS = ("rate_limit", "server_error", "timeout")
DEAD_MODEL = "acme/dead-diffusion"  # most liked text-to-image model; its only provider never answers
RUN_DEADLINE = 40.0  # seconds; far above the worst case the settings below allow
MEDIA_TASKS = {"text_to_image": "text-to-image", "text_to_speech": "text-to-speech"}


# ---------------------------------------------------------------------------------------------- the planner


@dataclass(frozen=True)
class HonestPlan(Plan):
    """A scenario's plan whose final answer also quotes the turn's tool errors (as a careful LLM would).

    A computed step that cannot go on (the file it needs was never made) ends the turn saying so.
    """

    def reply(self, request: Request, groups: Any = (), named: Any = None) -> Reply:
        try:
            reply = super().reply(request, groups, named)
        except (IndexError, KeyError, StopIteration, AttributeError):
            reply = Reply(text="I cannot go on: a file an earlier step should have made is missing.")
        errors = [
            r.content.removeprefix("Error: ") for r in tool_results(request) if r.content.startswith("Error")
        ]
        errors += [e for r in tool_results(request) if r.name == "run_plan" for e in plan_failures(r.content)]
        if reply.tool_calls or not errors:
            return reply
        return Reply(text=f"{reply.text}\nNot done: " + " | ".join(errors))


class _Rules:
    """Collects what `scenarios.register_all` registers."""

    def __init__(self) -> None:
        self.rules: list[tuple[str, Any]] = []

    def on_user(self, pattern: str, plan: Any) -> None:
        self.rules.append((pattern, plan))


def register_honest(stand_in: OpenAIStandIn) -> None:
    """Every scenario of tests/scenarios.py, played by `HonestPlan`."""
    rules = _Rules()
    scenarios.register_all(rules)  # type: ignore[arg-type]

    def honest(plan: Any) -> HonestPlan:
        plain = Plan.of(plan)
        return HonestPlan(plain.steps, plain.answer)

    for pattern, plan in rules.rules:
        if isinstance(plan, PlanOnce):  # planned with run_plan, or layer by layer without it
            stand_in.on_user(pattern, PlanOnce(honest(plan.planned), honest(plan.layered)))
        else:
            stand_in.on_user(pattern, honest(plan))


# ---------------------------------------------------------------------------------------------- scenarios

Check = Callable[[list[TurnSummary]], bool]


def _ok(summary: TurnSummary, *names: str) -> bool:
    return sorted(c["name"] for c in summary.tool_calls if c["status"] == "ok") == sorted(names)


def _sheep(turns: list[TurnSummary]) -> bool:
    first, second = turns
    image = next((a["path"] for a in first.artifacts if a["task"] == "text-to-image"), "")
    return (
        _ok(first, "text_to_image")
        and image in first.answer
        and _ok(second, "image_to_text", "object_detection", "visual_question_answering")
        and "There are 3 sheep in the image" in second.answer
    )


def _poem(turns: list[TurnSummary]) -> bool:
    (turn,) = turns
    return _ok(turn, "text_to_speech") and scenarios.POEM in turn.answer and bool(turn.artifacts)


def _transcribe(turns: list[TurnSummary]) -> bool:
    (turn,) = turns
    similarity = [c for c in turn.tool_calls if c["name"] == "sentence_similarity"]
    return (
        _ok(turn, "automatic_speech_recognition", "sentence_similarity")
        and "sheep are lovely animals" in similarity[0]["args"]["sentence"].lower()
        and "Similarity to the reference sentence" in turn.answer
    )


def _chain(turns: list[TurnSummary]) -> bool:
    (turn,) = turns
    return _ok(turn, "text_to_image", "image_to_text", "translation") and turn.answer.startswith(
        "French description: translation: Text:"
    )


def _dag(turns: list[TurnSummary]) -> bool:
    (turn,) = turns
    return (
        _ok(
            turn,
            "text_to_image",
            "object_detection",
            "image_classification",
            "image_to_text",
            "text_to_speech",
        )
        and "I found 2 objects" in turn.answer
    )


def _failing(turns: list[TurnSummary]) -> bool:
    (turn,) = turns
    (failed,) = turn.failed
    return (
        _ok(turn, "text_to_image", "image_to_text")
        and failed["name"] == "object_detection"
        and "not found" in failed["error"]
        and "Partial answer" in turn.answer
        and "object-detection failed" in turn.answer
    )


@dataclass(frozen=True)
class Scenario:
    name: str
    turns: tuple[str, ...]
    correct: Check
    expected_errors: frozenset[str] = frozenset()  # tools that fail by design


SCENARIOS = (
    Scenario("sheep", (scenarios.SHEEP_PROMPT, scenarios.SHEEP_FOLLOW_UP), _sheep),
    Scenario("poem", (scenarios.POEM_PROMPT,), _poem),
    Scenario("transcribe", (scenarios.transcribe_prompt("speech.flac"),), _transcribe),
    Scenario("chain", (scenarios.CHAIN_PROMPT,), _chain),
    Scenario("dag", (scenarios.DAG_PROMPT,), _dag),
)
FAILING = Scenario("failing", (scenarios.FAIL_PROMPT,), _failing, frozenset({"object_detection"}))


# ---------------------------------------------------------------------------------------------- checks


def complete_media(path: Path, mime: str) -> bool:
    """Whether the file holds whole media of `mime` (decoded where a decoder is at hand)."""
    data = path.read_bytes()
    found = sniff(data)
    if found is None or found[0] != mime or not looks_complete(data, mime):
        return False
    try:
        if mime.startswith("image/"):
            with Image.open(io.BytesIO(data)) as image:
                image.load()  # raises on a cut-off image
        elif mime == "audio/wav":
            with wave.open(io.BytesIO(data)) as audio:
                frames = audio.getnframes()
                return len(audio.readframes(frames)) == frames * audio.getsampwidth() * audio.getnchannels()
    except (OSError, ValueError, EOFError, wave.Error):
        return False
    return media.read_marker(data) is not None or not mime.startswith("audio/")


def problems(scenario: Scenario, turns: list[TurnSummary], output_dir: Path) -> list[str]:
    """What is wrong with a finished run, whatever its outcome (empty: nothing)."""
    found: list[str] = []
    for turn in turns:
        if not turn.answer.strip():
            found.append("empty answer")
        for item in turn.artifacts:
            path = Path(item["path"])
            if not path.resolve().is_relative_to(output_dir):
                found.append(f"file outside the output folder: {path}")
            elif not path.is_file() or not complete_media(path, item["mime_type"]):
                found.append(f"missing or incomplete file: {item}")
        made = Counter(a["task"] for a in turn.artifacts)
        for call in turn.tool_calls:
            failed_models = [f["model"] for f in call["failed_attempts"]]
            if any(set(f) != {"model", "provider", "cause", "error"} or f["cause"] not in set(Cause)
                   for f in call["failed_attempts"]):  # fmt: skip
                found.append(f"malformed failed_attempts: {call}")
            if call["status"] == "ok":
                if not call["model"] or call["model"] in failed_models:
                    found.append(f"served model not recorded: {call}")
                if call["name"] in MEDIA_TASKS and not made[MEDIA_TASKS[call["name"]]]:
                    found.append(f"a successful {call['name']} left no file")
                if call["name"] == "text_to_image" and (failed_models[:1] != [DEAD_MODEL]
                                                        or call["failed_attempts"][0]["cause"] != "server"):  # fmt: skip
                    found.append(f"the dead provider's failure is not recorded: {call}")
            else:
                error = call["error"] or ""
                names = (call["name"], call["name"].replace("_", "-"))
                if not error.startswith(names) and f"'{call['name']}'" not in error:
                    found.append(f"error does not name the tool: {error!r}")
                if error[:60] not in turn.answer:
                    found.append(f"the answer does not say what failed: {error[:60]!r} / {turn.answer!r}")
    return found


# ---------------------------------------------------------------------------------------------- running


@dataclass
class Tally:
    """Outcomes and injected faults, for the report."""

    outcomes: Counter[str] = field(default_factory=Counter)
    hf_faults: Counter[str] = field(default_factory=Counter)
    llm_faults: Counter[str] = field(default_factory=Counter)
    slowest: float = 0.0
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        runs = sum(self.outcomes.values())
        faults = sum(self.hf_faults.values()) + sum(self.llm_faults.values())
        return (
            f"fault runs: {runs} runs, {faults} faults injected (HF {sum(self.hf_faults.values())}: "
            f"{dict(sorted(self.hf_faults.items()))}; LLM {sum(self.llm_faults.values())}: "
            f"{dict(sorted(self.llm_faults.items()))}); fully correct {self.outcomes['correct']}, "
            f"partial {self.outcomes['partial']}, crashed {self.outcomes['crashed']}, "
            f"wrong {self.outcomes['wrong']}; slowest run {self.slowest:.1f} s"
        )


TALLY = Tally()


@pytest.fixture(scope="module", autouse=True)
def _report(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if not TALLY.outcomes:
        return
    REPORT.parent.mkdir(exist_ok=True)
    legend = "  (the failing-tool scenario counts as correct when only its broken task fails, as planned)\n"
    REPORT.write_text(
        TALLY.line() + "\n" + legend + "".join(f"  {n}\n" for n in TALLY.notes), encoding="utf-8"
    )
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():  # past pytest's capture, straight to the terminal
            reporter.write_line(f"\n{TALLY.line()}  (also in {REPORT.relative_to(REPO)})")


def count_faults(hf: HFStandIn, llm: OpenAIStandIn) -> None:
    TALLY.hf_faults.update(r.fault for r in hf.requests if r.fault)
    TALLY.llm_faults.update(r.fault for r in llm.requests if r.fault)


def settings(output_dir: Path, **overrides: Any) -> AgentSettings:
    """Short timeouts: 1 s per inference call, 1.5 s per LLM call, no waiting between retries; with 15 % of
    LLM calls failing, 6 tries per LLM call (llm_retries=5) make a lost turn improbable (0.15^6)."""
    values = {"timeout": 1.0, "llm_timeout": 1.5, "retry_delay": 0.0, "llm_retries": 5, "output_dir": output_dir,
              **overrides}  # fmt: skip
    return AgentSettings.from_env(env_file=None, **values)


async def play(scenario: Scenario, config: AgentSettings, thread: str) -> list[TurnSummary]:
    agent = build_agent(config, checkpointer=InMemorySaver())
    turns = []
    for text in scenario.turns:
        async for event in run_turn(agent, text, thread=thread):
            if isinstance(event, TurnDone):
                turns.append(event.summary)
    close_tracing(agent)  # its queued runs sent, its LangSmith client stopped (if tracing is on)
    return turns


async def judged(scenario: Scenario, config: AgentSettings, seed: int) -> tuple[str, str]:
    """Run one scenario and say how it ended: correct, partial, crashed or wrong (with the reason)."""
    started = time.monotonic()
    try:
        turns = await asyncio.wait_for(play(scenario, config, f"{scenario.name}-{seed}"), RUN_DEADLINE)
    except Exception as error:  # a crash or a hang is an outcome to report, not to stop at
        return "crashed", f"{type(error).__name__}: {error}"[:300]
    finally:
        TALLY.slowest = max(TALLY.slowest, time.monotonic() - started)
    found = problems(scenario, turns, config.toolkit.output_dir.resolve())
    unexpected = [c for t in turns for c in t.failed if c["name"] not in scenario.expected_errors]
    if found:
        return "wrong", "; ".join(found)
    if not unexpected:
        return ("correct", "") if scenario.correct(turns) else ("wrong", f"not as planned: {turns}")
    return "partial", ", ".join(f"{c['name']}: {c['error']}" for c in unexpected)


@pytest.fixture
def faulty(
    hf_stand_in: HFStandIn,
    openai_stand_in: OpenAIStandIn,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[HFStandIn, OpenAIStandIn]:
    """Both stand-ins, the honest planner, a dead provider mapping, short stand-in delays, a work folder."""
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("HUGGINGGPT_")]:
        monkeypatch.delenv(name)
    Path("speech.flac").write_bytes(media.make_audio("sheep are lovely animals"))
    register_honest(openai_stand_in)
    monkeypatch.setattr(hf_stand_in, "timeout_fault_seconds", 1.5)  # past the 1 s client timeout
    hf_stand_in.add_model("text-to-image", DEAD_MODEL, likes=10**6,
                          providers=(("fal-ai", "fal-ai/acme-dead", "live"),))  # fmt: skip
    hf_stand_in.add_fault("dead_provider", model=DEAD_MODEL, times=None)
    return hf_stand_in, openai_stand_in


# ---------------------------------------------------------------------------------------------- the tests


async def test_every_scenario_survives_faults(
    faulty: tuple[HFStandIn, OpenAIStandIn], tmp_path: Path
) -> None:
    """10 seeds x 6 scenarios at 30 % HF faults (first attempts) and 15 % LLM faults."""
    hf, llm = faulty
    config = settings(tmp_path / "outputs")
    results: list[tuple[int, str, str, str]] = []
    for seed in SEEDS:
        hf.set_fault_rate(HF_RATE, seed=seed, kinds=HF_KINDS, only_first_attempt=True)
        llm.set_fault_rate(LLM_RATE, seed=seed, kinds=LLM_KINDS, only_first_attempt=True)
        outcomes = await asyncio.gather(*(judged(s, config, seed) for s in SCENARIOS))
        results += [(seed, s.name, *o) for s, o in zip(SCENARIOS, outcomes, strict=True)]
        broken = hf.add_fault("not_found", task="object-detection", times=None)
        results.append((seed, FAILING.name, *await judged(FAILING, config, seed)))
        broken.times = broken.hits  # spent: the next seed's scenarios detect objects again
    count_faults(hf, llm)
    TALLY.outcomes.update(outcome for _, _, outcome, _ in results)
    TALLY.notes += [f"seed {seed} {name}: {outcome}: {why}" for seed, name, outcome, why in results if why]
    bad = [r for r in results if r[2] in ("crashed", "wrong")]
    assert not bad, "\n".join(map(str, bad))
    assert {r[2] for r in results} <= {"correct", "partial"}
    assert sum(r[2] == "correct" for r in results) >= len(results) * 0.8, results
    assert sum(TALLY.hf_faults.values()) >= 50 and sum(TALLY.llm_faults.values()) >= 10  # faults did fire


def test_cli_json_records_failed_attempts_and_serving_models(
    faulty: tuple[HFStandIn, OpenAIStandIn], hf_subprocess_env: dict[str, str], tmp_path: Path
) -> None:
    """The real CLI under the same faults: exit 0, and `--json` names failed attempts and serving models."""
    hf, llm = faulty
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUGGINGGPT_", "LANGSMITH_"))}
    env.update(hf_subprocess_env)
    env.update(OPENAI_API_KEY=os.environ["OPENAI_API_KEY"], OPENAI_BASE_URL=os.environ["OPENAI_BASE_URL"],
               HUGGINGGPT_TIMEOUT="1", HUGGINGGPT_LLM_TIMEOUT="1.5", HUGGINGGPT_RETRY_DELAY="0")  # fmt: skip
    for seed, scenario in ((101, SCENARIOS[4]), (102, FAILING)):
        hf.set_fault_rate(HF_RATE, seed=seed, kinds=HF_KINDS, only_first_attempt=True)
        llm.set_fault_rate(LLM_RATE, seed=seed, kinds=LLM_KINDS, only_first_attempt=True)
        hf.add_fault("loading", task="image-to-text", times=1)  # besides the random ones: a sure fallback
        broken = hf.add_fault("not_found", task="object-detection", times=None if scenario is FAILING else 0)
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, str(REPO / "run_agent.py"), "--json", "--prompt", scenario.turns[0]],
            env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        TALLY.slowest = max(TALLY.slowest, time.monotonic() - started)
        broken.times = broken.hits
        assert done.returncode == 0, done.stderr
        summary = TurnSummary(**json.loads(done.stdout))
        found = problems(scenario, [summary], (tmp_path / "outputs").resolve())
        assert not found, found
        calls = {c["name"]: c for c in summary.tool_calls}
        image, caption = calls["text_to_image"], calls["image_to_text"]
        assert image["failed_attempts"][0]["model"] == DEAD_MODEL and image["model"] != DEAD_MODEL
        cold = caption["failed_attempts"][0]
        assert cold["cause"] == "cold" and "HTTP 503" in cold["error"] and caption["model"] != cold["model"]
        unexpected = [c for c in summary.failed if c["name"] not in scenario.expected_errors]
        outcome = "partial" if unexpected else "correct" if scenario.correct([summary]) else "wrong"
        assert outcome != "wrong", summary
        TALLY.outcomes[outcome] += 1
    count_faults(hf, llm)


async def test_trace_records_failed_attempts_and_serving_models(
    faulty: tuple[HFStandIn, OpenAIStandIn], langsmith_stand_in: LangSmithStandIn, tmp_path: Path
) -> None:
    """The LangSmith trace of faulty runs agrees with the summary: same serving models, same failed ones."""
    hf, llm = faulty
    hf.set_fault_rate(HF_RATE, seed=7, kinds=HF_KINDS, only_first_attempt=True)
    llm.set_fault_rate(LLM_RATE, seed=7, kinds=LLM_KINDS, only_first_attempt=True)
    config = settings(tmp_path / "outputs")
    try:
        runs = await asyncio.gather(*(play(s, config, f"trace-{s.name}") for s in SCENARIOS[2:]))
        wait_for_all_tracers()
    finally:
        reset_tracing()
    from_summary = sorted(
        (c["name"], c["model"], tuple(f["model"] for f in c["failed_attempts"]))
        for turns in runs for turn in turns for c in turn.tool_calls if c["status"] == "ok"
    )  # fmt: skip
    traced = [r for r in langsmith_stand_in.runs().values() if r.get("run_type") == "tool"]
    from_trace = sorted(
        (r["name"], meta["model"], tuple(meta["failed_models"]))
        for r in traced
        if not r.get("error") and "model" in (meta := (r.get("extra") or {}).get("metadata") or {})
    )
    assert from_summary and from_trace == from_summary
    assert any(failed for _, _, failed in from_trace)  # fallbacks happened and were traced


async def test_failed_call_lists_its_failed_attempts(
    faulty: tuple[HFStandIn, OpenAIStandIn], langsmith_stand_in: LangSmithStandIn, tmp_path: Path
) -> None:
    """A call that failed on every model says, in `failed_attempts` and in its trace, which models failed
    and why."""
    hf, _ = faulty
    hf.add_fault("not_found", task="object-detection", times=None)
    try:
        (turn,) = await play(FAILING, settings(tmp_path / "outputs"), "failed-attempts")
        wait_for_all_tracers()
    finally:
        reset_tracing()
    (failed,) = turn.failed
    live = [m for m in hf.models("object-detection")
            if any(v.get("status") == "live" for v in m["inferenceProviderMapping"].values())]  # fmt: skip
    tried = [m["id"] for m in live[:3]]
    assert [f["model"] for f in failed["failed_attempts"]] == tried
    assert {f["cause"] for f in failed["failed_attempts"]} == {"not_found"}
    (traced,) = [r for r in langsmith_stand_in.runs().values() if r.get("name") == "object_detection"]
    assert traced.get("error") and traced["extra"]["metadata"]["failed_models"] == tried


def test_truncated_flac_falls_back_and_saves_nothing_cut(hf_stand_in: HFStandIn, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """A FLAC cut off in transit is noticed: the next model serves, and no cut file is saved."""
    from hugginggpt.tools import HuggingFaceToolkit

    monkeypatch.chdir(tmp_path)
    flac = next(m["id"] for m in hf_stand_in.models("text-to-speech")
                if m["stand_in"].get("audio_format") == "flac")  # fmt: skip
    for model in [m["id"] for m in hf_stand_in.models("text-to-speech")]:
        if model != flac:
            hf_stand_in.remove_model(model)
    hf_stand_in.add_model("text-to-speech", "acme/wav-tts", likes=1, audio_format="wav")
    hf_stand_in.add_fault("truncated", model=flac, times=1)
    kit = HuggingFaceToolkit(
        tasks=["text-to-speech"], settings=HFSettings.from_env(env_file=None, timeout=2.0)
    )
    message = kit.get_tools()[0].invoke(
        {"name": "text_to_speech", "args": {"text": "baa"}, "id": "c1", "type": "tool_call"}
    )
    result = message.artifact
    assert result["model"] == "acme/wav-tts" and result["failed_attempts"][0]["model"] == flac
    assert "truncated audio/flac" in result["failed_attempts"][0]["error"]
    assert [p.suffix for p in Path("outputs").rglob("*.*")] == [".wav"]


@pytest.mark.parametrize("rate", [16000, 44100])
def test_flac_truncation_is_noticed(rate: int) -> None:
    """looks_complete: a whole FLAC passes; cut in its header, at or around any frame boundary, near its
    end or anywhere else sampled, it does not."""
    data = media.make_audio("sheep are lovely animals, and they say baa", sample_rate=rate)
    assert looks_complete(data, "audio/flac")
    assert looks_complete(data + b"\x00" * 8, "audio/flac")  # zero padding, as servers sometimes send
    frames = [m.start() for m in re.finditer(b"\xff\xf8", data)]  # frame starts (and a few look-alikes)
    cuts = {*range(4, 200), *range(len(data) - 64, len(data)), *frames, *(f + 1 for f in frames),
            *(f - 1 for f in frames), *range(200, len(data), 211)}  # fmt: skip
    assert [cut for cut in sorted(cuts) if looks_complete(data[:cut], "audio/flac")] == []
    assert not looks_complete(data[:-3] + b"\x00\x00\x00", "audio/flac")  # same length, last bytes lost


def test_recorded_hf_flac_passes_and_its_cuts_do_not() -> None:
    """A real FLAC recorded from the HF router (streamed: STREAMINFO gives no length) passes whole."""
    from tests.stand_ins.replay import load_cassette

    cassette = load_cassette("test_text_to_speech[hf-inference")
    data = next(e.response.body for e in cassette.exchanges if e.response.body[:4] == b"fLaC")
    assert looks_complete(data, "audio/flac")
    cuts = range(len(data) // 10, len(data), 331)
    assert sum(looks_complete(data[:cut], "audio/flac") for cut in cuts) == 0


def test_report_line_is_quotable() -> None:
    """The summary line has every figure the closing note quotes."""
    tally = Tally(Counter(correct=5, partial=1), Counter(loading=2), Counter(timeout=1))
    assert re.fullmatch(
        r"fault runs: 6 runs, 3 faults injected \(HF 2: .*; LLM 1: .*\); fully correct 5, partial 1, "
        r"crashed 0, wrong 0; slowest run 0\.0 s",
        tally.line(),
    )


def test_cli_exits_promptly_when_the_hub_is_down(openai_stand_in: OpenAIStandIn, tmp_path: Path) -> None:
    """With the Hub unreachable, a task fails after HUGGINGGPT_TIMEOUT and the CLI answers and exits."""
    import socket

    with socket.socket() as probe:  # a loopback port nobody listens on: connections are refused
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    register_honest(openai_stand_in)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUGGINGGPT_", "LANGSMITH_"))}
    route = os.pathsep.join([str(REPO / "tests" / "stand_ins" / "route_hf"), str(REPO)])
    env.update(PYTHONPATH=route, HUGGINGGPT_TEST_HF_URL=dead, HF_TOKEN="hf_test_dead_hub_0123456789abcdef",
               HUGGINGGPT_TIMEOUT="1", HUGGINGGPT_RETRY_DELAY="0", HF_HOME=str(tmp_path / "hf"))  # fmt: skip
    done = subprocess.run(
        [sys.executable, str(REPO / "run_agent.py"), "--json", "--prompt", scenarios.POEM_PROMPT],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120,  # a hang guard only
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (call,) = json.loads(done.stdout)["tool_calls"]
    assert call["status"] == "error" and "could not choose a model" in call["error"]
    assert call["seconds"] < 10  # the failing call itself, not the start-up: 1 s timeouts, 9 s of margin


def test_retry_delay_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    """HUGGINGGPT_RETRY_DELAY sets the first wait of the LLM and tool retries; bad values are named."""
    from pydantic import ValidationError

    from hugginggpt.agent.build import middleware
    from hugginggpt.agent.errors import describe_error
    from tests.fakes import ScriptedModel

    monkeypatch.setenv("HUGGINGGPT_RETRY_DELAY", "0.25")
    config = AgentSettings.from_env(env_file=None)
    delays = {
        type(m).__name__: getattr(m, "initial_delay", None) for m in middleware(config, ScriptedModel())
    }
    assert delays["ModelRetryMiddleware"] == delays["ToolRetryMiddleware"] == 0.25
    assert HFSettings.model_fields["retry_delay"].default == 1.0  # (AgentSettings() reads the env)
    monkeypatch.setenv("HUGGINGGPT_RETRY_DELAY", "-1")
    with pytest.raises(ValidationError) as invalid:
        AgentSettings.from_env(env_file=None)
    assert describe_error(invalid.value).startswith("HUGGINGGPT_RETRY_DELAY is invalid")
    assert "HUGGINGGPT_RETRY_DELAY=" in (REPO / ".env.example").read_text(encoding="utf-8")
