"""Replay real recorded Hugging Face traffic through huggingface_hub's own HTTP stack, offline.

The cassettes in ``tests/fixtures/hf-recorded/`` are vcrpy YAML (v1) files that huggingface_hub recorded in 2025
against the real Hub API and the real inference router. They are served here by a small ``httpx2`` transport,
installed only into huggingface_hub through ``set_client_factory`` / ``set_async_client_factory`` (the clients
keep the default event hooks and ``follow_redirects=True``). Stock vcrpy replays most of them too, but it patches
every httpx/httpx2 transport in the process, so in ``record_mode="none"`` it would also intercept the loopback
stand-ins (the planner LLM and the Hub stand-in) that the agent tests talk to; and the adaptations below would
have to be bolted onto vcrpy's private cassette internals.

Matching: method + host + path, plus the query when one is recorded or sent. Requests that match several
recorded exchanges get them in recorded order; once all are played the last one repeats (tools may retry).
Anything unmatched raises ``UnmatchedRequestError`` naming the method and URL, and is kept in
``Replay.unmatched`` so the test fails even when a tool swallows the exception.

Adaptations, each logged in ``Replay.adaptations`` when applied (the response body stays the recorded one
unless said otherwise):

- ``pipeline-path``: the router path gained ``/pipeline/{task}`` (April 2025). The body recorded at
  ``/hf-inference/pipeline/{task}/{model}`` is served at today's ``/hf-inference/models/{model}/pipeline/{task}``.
- ``provider-host``: a call recorded straight to a provider (with the provider's own key) is served at the
  router URL that a ``hf_`` token uses today (``https://router.huggingface.co/{provider}/...``).
- ``zero-shot-format``: zero-shot-classification used to answer ``{"sequence", "labels", "scores"}``; today it
  answers ``[{"label", "score"}, ...]``. With ``zero_shot="today"`` (default) the recorded labels and scores are
  served in today's shape; ``zero_shot="recorded"`` serves the recorded body untouched.
- ``model-info-expand``: ``model_info(..., expand=[...])`` is answered from the recorded model-info bodies,
  keeping ``_id``, ``id`` and the requested keys, as the Hub does.
- ``mapping-synthesized``: when ``inferenceProviderMapping`` (or ``pipeline_tag``) is requested but was never
  recorded, ``{provider: {"status": "live", "providerId": ..., "task": ...}}`` is built from the cassette.
- ``search-synthesized``: ``list_models(pipeline_tag=task, expand=[...])`` (never recorded) lists the loaded
  cassettes' models for that task, with the bodies ``model-info-expand`` would give.

``GET /api/agent-harnesses`` (huggingface_hub's agent detection) is answered with an empty registry and the
same registry is seeded under the temporary ``HF_HOME``; it is not recorded traffic.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import importlib
import json
import os
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from pathlib import Path
from types import TracebackType
from typing import Any, Literal
from unittest import mock
from urllib.parse import parse_qsl, unquote, urljoin, urlsplit

import httpx2
import yaml
from huggingface_hub import constants
from huggingface_hub.inference._common import MimeBytes
from huggingface_hub.utils import _http, set_async_client_factory, set_client_factory

CASSETTE_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "hf-recorded"
FAKE_TOKEN = "hf_replayFakeToken0000000000000000000"
HUB = "https://huggingface.co"
ROUTER = "https://router.huggingface.co"
EMPTY_HARNESS_REGISTRY: dict[str, Any] = {"standardEnvVars": [], "harnesses": {}}
ZeroShotMode = Literal["today", "recorded"]

_DROPPED_HEADERS = frozenset({"content-encoding", "transfer-encoding", "content-length", "connection"})
_MODEL_INFO_PATH = re.compile(r"/api/models/(?P<model>[^/]+(?:/[^/]+)?)(?:/revision/[^/]+)?")
_OLD_PIPELINE_PATH = re.compile(r"/hf-inference/pipeline/(?P<task>[^/]+)/(?P<model>.+)")
_NAME = re.compile(r"(?:\w+\.)?(?P<test>test_\w+?)(?:\[(?P<provider>[\w.-]+),(?P<task>[\w-]+)\])?")
_TASK_BY_TEST = (("generate", "text-generation"), ("sentence_similarity", "sentence-similarity"))
_LRU_CACHES = (
    ("huggingface_hub.inference._providers._common", "_fetch_inference_provider_mapping"),
    ("huggingface_hub.inference._providers.hf_inference", "_check_supported_task"),
    ("huggingface_hub.inference._providers.hf_inference", "_fetch_recommended_models"),
)
_MAGIC = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"fLaC", "FLAC"),
    (b"GIF8", "GIF"),
    (b"ID3", "MP3"),
    (b"OggS", "OGG"),
)
MIME_TYPES = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "GIF": "image/gif",
    "WEBP": "image/webp",
    "FLAC": "audio/flac",
    "WAV": "audio/wav",
    "MP3": "audio/mpeg",
    "OGG": "audio/ogg",
}


class Drift(StrEnum):
    """Kinds of adaptation the replay can apply (see the module docstring)."""

    PIPELINE_PATH = "pipeline-path"
    PROVIDER_HOST = "provider-host"
    ZERO_SHOT_FORMAT = "zero-shot-format"
    MODEL_INFO_EXPAND = "model-info-expand"
    MAPPING_SYNTHESIZED = "mapping-synthesized"
    SEARCH_SYNTHESIZED = "search-synthesized"


@dataclass(frozen=True)
class Unrecorded:
    """Facts a cassette needs but does not hold, with where they come from."""

    model: str
    provider_id: str
    source: str


UNRECORDED: dict[str, Unrecorded] = {
    "TestInferenceClient.test_text_to_speech[replicate,text-to-speech]": Unrecorded(
        model="hexgrad/Kokoro-82M",
        provider_id="jaaari/kokoro-82m:dfdf537ba482b029e0a761699e6f55e9162cfd159270bfe0e44857caa5f275a6",
        source="recorded straight to api.replicate.com, without Hub look-ups: the HF model id is the one the"
        " Hub maps to Replicate's jaaari/kokoro-82m; the provider id is the recorded model:version",
    ),
}


class UnmatchedRequestError(AssertionError):
    """A request that no loaded cassette recorded."""


def sniff(data: bytes) -> str:
    """Name the media format of ``data`` from its magic bytes (JPEG, PNG, FLAC, WAV, WEBP, ...)."""
    if data[:4] == b"RIFF":
        return {b"WAVE": "WAV", b"WEBP": "WEBP"}.get(data[8:12], "RIFF")
    return next((name for magic, name in _MAGIC if data.startswith(magic)), "unknown")


def _as_bytes(value: str | bytes | None) -> bytes:
    if value is None:
        return b""
    return value if isinstance(value, bytes) else value.encode("utf-8")


def _query(query: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(parse_qsl(query, keep_blank_values=True)))


@dataclass(frozen=True)
class RecordedRequest:
    """One recorded request."""

    method: str
    url: str
    body: bytes

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc.lower()

    @property
    def path(self) -> str:
        return unquote(urlsplit(self.url).path)

    @property
    def query(self) -> tuple[tuple[str, str], ...]:
        return _query(urlsplit(self.url).query)

    def json(self) -> Any:
        if not self.body:
            raise ValueError(f"{self.method} {self.url}: the request body was not recorded")
        return json.loads(self.body)


@dataclass(frozen=True)
class RecordedResponse:
    """One recorded response (body as bytes, hop-by-hop headers dropped)."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    @property
    def content_type(self) -> str:
        return next((v for k, v in self.headers if k.lower() == "content-type"), "")

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Exchange:
    """A recorded request/response pair, with the URL that reaches it today when that drifted."""

    index: int
    request: RecordedRequest
    response: RecordedResponse
    today_url: str | None = None
    drift: Drift | None = None

    @property
    def is_hub(self) -> bool:
        return self.request.url.startswith(HUB + "/api/")


@dataclass(frozen=True)
class Cassette:
    """One loaded cassette and what it says about the call it recorded."""

    name: str
    exchanges: tuple[Exchange, ...]
    provider: str
    task: str
    model: str
    model_ids: tuple[str, ...]
    provider_id: str
    mapping_recorded: bool
    unrecorded: Unrecorded | None

    @property
    def hub(self) -> tuple[Exchange, ...]:
        """Hub API look-ups (model info, provider mapping)."""
        return tuple(e for e in self.exchanges if e.is_hub)

    @property
    def inference_exchanges(self) -> tuple[Exchange, ...]:
        """Everything but Hub look-ups: the inference call, polling, media downloads."""
        return tuple(e for e in self.exchanges if not e.is_hub)

    @property
    def inference(self) -> Exchange:
        """The (first) inference call."""
        calls = self.inference_exchanges
        return next((e for e in calls if e.request.method == "POST"), calls[0])

    @property
    def drifts(self) -> frozenset[Drift]:
        """Adaptations this cassette needs to replay against huggingface_hub 2.4.0 (known at load time)."""
        found = {e.drift for e in self.exchanges if e.drift}
        if _old_zero_shot(self.task, self.inference.response.body) is not None:
            found.add(Drift.ZERO_SHOT_FORMAT)
        return frozenset(found)

    @property
    def media(self) -> RecordedResponse | None:
        """The last recorded response that is itself an image or audio file, if any."""
        kinds = ("image/", "audio/")
        media = [e.response for e in self.inference_exchanges if e.response.content_type.startswith(kinds)]
        return media[-1] if media else None

    def recorded_json(self) -> Any:
        """The JSON body of the recorded inference request."""
        return self.inference.request.json()

    def recorded_input_bytes(self) -> bytes:
        """The media bytes the recorded inference request sent (raw body, or the base64 inside its JSON)."""
        body = self.inference.request.body
        if not body:
            raise ValueError(f"{self.name}: the inference request body was not recorded")
        try:
            payload = json.loads(body)
        except (UnicodeDecodeError, ValueError):
            return body
        return _decode_media(max(json_strings(payload), key=len, default=""), self.name)

    def recorded_input_media(self) -> MimeBytes:
        """``recorded_input_bytes()`` as ``MimeBytes`` typed from its magic bytes, as the tools pass media."""
        data = self.recorded_input_bytes()
        return MimeBytes(data, MIME_TYPES.get(sniff(data)))

    def media_bytes(self) -> bytes:
        """The recorded media response's bytes."""
        if self.media is None:
            raise ValueError(f"{self.name}: no image/audio response was recorded")
        return self.media.body


def json_strings(value: Any) -> Iterator[str]:
    """Every string inside a JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict | list):
        for item in value.values() if isinstance(value, dict) else value:
            yield from json_strings(item)


def _decode_media(text: str, name: str) -> bytes:
    encoded = text.split(";base64,", 1)[1] if text.startswith("data:") else text
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        data = b""
    if len(data) < 64:
        raise ValueError(f"{name}: the recorded request carries no base64 media")
    return data


def _old_zero_shot(task: str, body: bytes) -> list[dict[str, Any]] | None:
    """Today's shape of a recorded old-format zero-shot-classification body, or None."""
    if task != "zero-shot-classification":
        return None
    try:
        payload = json.loads(body)
    except ValueError:
        return None
    if not (isinstance(payload, dict) and {"labels", "scores"} <= payload.keys()):
        return None
    return [{"label": lb, "score": sc} for lb, sc in zip(payload["labels"], payload["scores"], strict=True)]


def _direct_base_url(provider: str, task: str) -> str | None:
    from huggingface_hub.inference._providers import PROVIDERS

    helper = PROVIDERS.get(provider, {}).get(task)  # type: ignore[call-overload]
    base = getattr(helper, "base_url", None)
    return None if base is None or base.startswith(ROUTER) else base.rstrip("/")


def _today(request: RecordedRequest, provider: str, task: str) -> tuple[str | None, Drift | None]:
    """The URL huggingface_hub 2.4.0 uses for a recorded request, when it differs."""
    old = _OLD_PIPELINE_PATH.fullmatch(request.path)
    if request.url.startswith(ROUTER + "/") and old:
        return f"{ROUTER}/hf-inference/models/{old['model']}/pipeline/{old['task']}", Drift.PIPELINE_PATH
    base = _direct_base_url(provider, task)
    if base and request.url.startswith(base + "/"):
        return f"{ROUTER}/{provider}{request.url[len(base) :]}", Drift.PROVIDER_HOST
    return None, None


def _exchange(index: int, raw: dict[str, Any], provider: str, task: str) -> Exchange:
    rq, rs = raw["request"], raw["response"]
    request = RecordedRequest(rq["method"].upper(), rq["uri"], _as_bytes(rq.get("body")))
    headers = tuple(
        (k, v)
        for k, values in (rs.get("headers") or {}).items()
        if k.lower() not in _DROPPED_HEADERS
        for v in values
    )
    response = RecordedResponse(int(rs["status"]["code"]), headers, _as_bytes(rs["body"].get("string")))
    today_url, drift = _today(request, provider, task)
    return Exchange(index, request, response, today_url, drift)


def resolve_name(name: str) -> str:
    """The cassette file stem for a full name, or for a unique part of one (e.g. ``"object_detection"``)."""
    stems = sorted(p.stem for p in CASSETTE_DIR.glob("*.yaml"))
    wanted = name.removesuffix(".yaml")
    if wanted in stems:
        return wanted
    found = [s for s in stems if wanted in s]
    if len(found) != 1:
        raise LookupError(f"{name!r} names {len(found)} cassettes in {CASSETTE_DIR}: {found or stems}")
    return found[0]


def _model_id(request: RecordedRequest) -> str | None:
    match = _MODEL_INFO_PATH.fullmatch(request.path) if request.url.startswith(HUB) else None
    return match["model"] if match else None


def _model_ids(exchanges: Iterable[Exchange]) -> list[str]:
    ids: list[str] = []
    for e in exchanges:
        location = e.response.header("location") if 300 <= e.response.status < 400 else None
        target = RecordedRequest("GET", urljoin(e.request.url, location), b"") if location else None
        for found in (_model_id(e.request), target and _model_id(target)):
            if found and found not in ids:
                ids.append(found)
    return ids


def _recorded_mapping(exchanges: Iterable[Exchange]) -> dict[str, Any]:
    mapping: dict[str, Any] = {}
    for e in exchanges:
        if _model_id(e.request) and e.response.content_type.startswith("application/json"):
            mapping.update(e.response.json().get("inferenceProviderMapping") or {})
    return mapping


def _provider_and_task(test: re.Match[str], raw: list[dict[str, Any]]) -> tuple[str, str]:
    if test["provider"]:
        return test["provider"], test["task"]
    urls = [r["request"]["uri"] for r in raw if r["request"]["uri"].startswith(ROUTER + "/")]
    provider = urlsplit(urls[0]).path.split("/")[1] if urls else "hf-inference"
    task = next((t for key, t in _TASK_BY_TEST if key in test["test"]), "unknown")
    return provider, task


def load_cassette(name: str) -> Cassette:
    """Load and describe one cassette, named in full or by a unique part of its name."""
    return _load(resolve_name(name))


@cache
def _load(stem: str) -> Cassette:
    """Load one cassette by file stem (cached: cassettes are read-only)."""
    with (CASSETTE_DIR / f"{stem}.yaml").open("rb") as f:
        raw = yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))["interactions"]
    test = _NAME.fullmatch(stem)
    if test is None:
        raise ValueError(f"unexpected cassette name {stem!r}")
    provider, task = _provider_and_task(test, raw)
    exchanges = tuple(_exchange(i, r, provider, task) for i, r in enumerate(raw))
    unrecorded = UNRECORDED.get(stem)
    ids = _model_ids(exchanges) or ([unrecorded.model] if unrecorded else [])
    mapping = _recorded_mapping(exchanges).get(provider)
    provider_id = mapping["providerId"] if mapping else unrecorded.provider_id if unrecorded else ids[0]
    return Cassette(
        stem, exchanges, provider, task, ids[0], tuple(ids), provider_id, bool(mapping), unrecorded
    )


@dataclass(frozen=True)
class Adaptation:
    """One adaptation applied while serving a request."""

    kind: Drift
    url: str
    detail: str


@dataclass(frozen=True)
class Served:
    """One request the replay answered: what the client sent and what it got."""

    method: str
    url: str
    body: bytes
    status: int
    cassette: str | None
    exchange: Exchange | None
    adaptation: Adaptation | None = None

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def is_inference(self) -> bool:
        return self.exchange is not None and not self.exchange.is_hub


@dataclass
class _Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    cassette: str | None = None
    exchange: Exchange | None = None
    adaptation: Adaptation | None = None


def _json_answer(payload: Any, **extra: Any) -> _Answer:
    return _Answer(200, [("content-type", "application/json")], json.dumps(payload).encode(), **extra)


class ReplayState:
    """Answers requests from loaded cassettes; shared by the sync and async transports (thread-safe)."""

    def __init__(self, cassettes: tuple[Cassette, ...], zero_shot: ZeroShotMode = "today") -> None:
        self.cassettes = cassettes
        self.zero_shot = zero_shot
        self.served: list[Served] = []
        self.adaptations: list[Adaptation] = []
        self.unmatched: list[str] = []
        self._plays: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    def respond(self, request: httpx2.Request, body: bytes) -> httpx2.Response:
        """Answer ``request`` from the cassettes, or raise ``UnmatchedRequestError``."""
        url = str(request.url)
        with self._lock:
            answer = self._answer(request.method, url)
            if answer is None:
                message = f"replay of {[c.name for c in self.cassettes]}: nothing recorded for {request.method} {url}"
                self.unmatched.append(message)
                raise UnmatchedRequestError(message)
            if answer.adaptation:
                self.adaptations.append(answer.adaptation)
            self.served.append(
                Served(
                    request.method,
                    url,
                    body,
                    answer.status,
                    answer.cassette,
                    answer.exchange,
                    answer.adaptation,
                )
            )
        return httpx2.Response(answer.status, headers=answer.headers, content=answer.body, request=request)

    def _answer(self, method: str, url: str) -> _Answer | None:
        query = _query(urlsplit(url).query)
        if url.startswith(HUB + "/api/agent-harnesses"):
            return _json_answer(EMPTY_HARNESS_REGISTRY)
        if method == "GET" and urlsplit(url).path == "/api/models":
            return self._search(url, query)
        model = _model_id(RecordedRequest(method, url, b""))
        if method == "GET" and model:
            return self._model_info(model, url, query)
        return self._recorded(method, url)

    def _recorded(self, method: str, url: str) -> _Answer | None:
        key = _key(url)
        candidates = [
            (c, e, e.drift if _key(e.request.url) != key else None)
            for c in self.cassettes
            for e in c.exchanges
            if e.request.method == method and key in (_key(e.request.url), e.today_url and _key(e.today_url))
        ]
        if not candidates:
            return None
        cassette, exchange, drift = self._pick(candidates)
        body, zero_shot = self._body(cassette, exchange)
        adaptation = _adaptation(drift, url, exchange) or zero_shot
        return _Answer(
            exchange.response.status,
            list(exchange.response.headers),
            body,
            cassette.name,
            exchange,
            adaptation,
        )

    def _pick(
        self, candidates: list[tuple[Cassette, Exchange, Drift | None]]
    ) -> tuple[Cassette, Exchange, Drift | None]:
        fresh = [c for c in candidates if not self._plays.get((c[0].name, c[1].index))]
        chosen = fresh[0] if fresh else candidates[-1]
        slot = (chosen[0].name, chosen[1].index)
        self._plays[slot] = self._plays.get(slot, 0) + 1
        return chosen

    def _body(self, cassette: Cassette, exchange: Exchange) -> tuple[bytes, Adaptation | None]:
        today = _old_zero_shot(cassette.task, exchange.response.body) if self.zero_shot == "today" else None
        if today is None:
            return exchange.response.body, None
        detail = (
            "recorded {sequence, labels, scores} served as today's [{label, score}] (same values, same order)"
        )
        return json.dumps(today).encode(), Adaptation(Drift.ZERO_SHOT_FORMAT, exchange.request.url, detail)

    def _model_info(self, model: str, url: str, query: tuple[tuple[str, str], ...]) -> _Answer | None:
        records = [(c, e) for c in self.cassettes for e in c.hub if _model_id(e.request) == model]
        exact = [(c, e, None) for c, e in records if e.request.query == query]
        if exact:
            cassette, exchange, _ = self._pick(exact)
            response = exchange.response
            return _Answer(response.status, list(response.headers), response.body, cassette.name, exchange)
        redirect = next(((c, e) for c, e in records if 300 <= e.response.status < 400), None)
        if redirect:
            return _redirect(*redirect, urlsplit(url).query)
        expand = [v for k, v in query if k == "expand"]
        composed = self._compose(model, expand)
        if composed is None:
            return None
        body, missing = composed
        kind = Drift.MAPPING_SYNTHESIZED if missing else Drift.MODEL_INFO_EXPAND
        detail = f"model_info({model!r}, expand={expand}) composed from the recorded model-info bodies"
        detail += f"; synthesized {missing}: {[body[k] for k in missing]}" if missing else ""
        return _json_answer(
            body, cassette=self._knowing(model)[0].name, adaptation=Adaptation(kind, url, detail)
        )

    def _search(self, url: str, query: tuple[tuple[str, str], ...]) -> _Answer | None:
        """``list_models(pipeline_tag=...)``: the loaded cassettes' models for that task (synthesized)."""
        task = dict(query).get("pipeline_tag")
        models = dict.fromkeys(c.model for c in self.cassettes if task in (None, c.task))
        expand = [v for k, v in query if k == "expand"]
        bodies = [composed[0] for m in models if (composed := self._compose(m, expand))]
        if not bodies:
            return None
        detail = f"model search synthesized from the loaded cassettes: {list(models)}"
        return _json_answer(bodies, adaptation=Adaptation(Drift.SEARCH_SYNTHESIZED, url, detail))

    def _knowing(self, model: str) -> list[Cassette]:
        return [c for c in self.cassettes if model in c.model_ids]

    def _compose(self, model: str, expand: list[str]) -> tuple[dict[str, Any], list[str]] | None:
        """A model-info body as the Hub returns it for ``expand`` (all recorded keys when empty), from the
        recorded model-info bodies; returns it with the keys that had to be synthesized."""
        knowing = self._knowing(model)
        if not knowing:
            return None
        recorded: dict[str, Any] = {}
        for e in sorted((e for c in knowing for e in c.hub if _model_id(e.request) == model), key=_has_query):
            recorded.update(e.response.json() if e.response.status == 200 else {})
        keys = expand or [k for k in recorded if k not in ("_id", "id")]
        body = {"_id": recorded["_id"]} if "_id" in recorded else {}
        body["id"] = recorded.get("id", model)
        missing = [k for k in keys if k not in recorded and k in _SYNTHESIZERS]
        body |= {k: recorded[k] for k in keys if k in recorded}
        body |= {k: _SYNTHESIZERS[k](knowing, model) for k in missing}
        return body, missing


def _has_query(exchange: Exchange) -> bool:
    return bool(exchange.request.query)


def _synth_mapping(cassettes: list[Cassette], model: str) -> dict[str, Any]:
    return {
        c.provider: {
            "status": "live",
            "providerId": model if c.provider == "hf-inference" else c.provider_id,
            "task": c.task,
        }
        for c in cassettes
    }


_SYNTHESIZERS = {
    "inferenceProviderMapping": _synth_mapping,
    "pipeline_tag": lambda cassettes, model: cassettes[0].task,
}


def _redirect(cassette: Cassette, exchange: Exchange, query: str) -> _Answer:
    location = exchange.response.header("location") or ""
    headers = [(k, v) for k, v in exchange.response.headers if k.lower() != "location"]
    headers.append(("location", f"{location}?{query}" if query and "?" not in location else location))
    adaptation = Adaptation(Drift.MODEL_INFO_EXPAND, exchange.request.url, f"recorded redirect kept ?{query}")
    return _Answer(
        exchange.response.status, headers, exchange.response.body, cassette.name, exchange, adaptation
    )


def _adaptation(drift: Drift | None, url: str, exchange: Exchange) -> Adaptation | None:
    if drift is None:
        return None
    return Adaptation(drift, url, f"served the body recorded at {exchange.request.url}")


def _key(url: str) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    parts = urlsplit(url)
    return parts.netloc.lower(), unquote(parts.path), _query(parts.query)


class ReplayTransport(httpx2.BaseTransport):
    """Sync httpx2 transport answering from a ``ReplayState``."""

    def __init__(self, state: ReplayState) -> None:
        self.state = state

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        return self.state.respond(request, request.read())


class AsyncReplayTransport(httpx2.AsyncBaseTransport):
    """Async httpx2 transport answering from a ``ReplayState``."""

    def __init__(self, state: ReplayState) -> None:
        self.state = state

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        return self.state.respond(request, await request.aread())


def clear_hf_caches() -> None:
    """Clear huggingface_hub's lru caches that would leak provider mappings and task checks between tests."""
    for module, name in _LRU_CACHES:
        function = getattr(importlib.import_module(module), name, None)
        if hasattr(function, "cache_clear"):
            function.cache_clear()


def _home_patches(home: Path) -> dict[str, str]:
    """huggingface_hub constants that point under the current HF_HOME, re-pointed under ``home``."""
    old = constants.HF_HOME
    return {
        name: str(home) + value[len(old) :]
        for name, value in vars(constants).items()
        if name.isupper() and isinstance(value, str) and (value == old or value.startswith(old + os.sep))
    }


@dataclass
class Replay:
    """Installs the replay into huggingface_hub for the cassettes ``names``; use as a context manager.

    ``model``, ``provider``, ``task``, ``request`` and ``response`` describe the first cassette's recorded
    inference call; ``served``, ``adaptations`` and ``unmatched`` say what happened during the replay.
    """

    names: tuple[str, ...]
    home: Path
    zero_shot: ZeroShotMode = "today"
    token: str = FAKE_TOKEN
    cassettes: tuple[Cassette, ...] = field(init=False)
    state: ReplayState = field(init=False)
    reported: bool = field(default=False, init=False)
    _stack: contextlib.ExitStack | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.names:
            raise ValueError("name at least one cassette")
        self.cassettes = tuple(load_cassette(n) for n in self.names)
        self.state = ReplayState(self.cassettes, self.zero_shot)

    @property
    def cassette(self) -> Cassette:
        return self.cassettes[0]

    @property
    def model(self) -> str:
        return self.cassette.model

    @property
    def provider(self) -> str:
        return self.cassette.provider

    @property
    def task(self) -> str:
        return self.cassette.task

    @property
    def request(self) -> RecordedRequest:
        return self.cassette.inference.request

    @property
    def response(self) -> RecordedResponse:
        return self.cassette.inference.response

    def recorded_json(self) -> Any:
        return self.cassette.recorded_json()

    def recorded_input_bytes(self) -> bytes:
        return self.cassette.recorded_input_bytes()

    def recorded_input_media(self) -> MimeBytes:
        return self.cassette.recorded_input_media()

    def media_bytes(self) -> bytes:
        return self.cassette.media_bytes()

    @property
    def served(self) -> list[Served]:
        return self.state.served

    @property
    def inference_calls(self) -> list[Served]:
        """Served requests that hit recorded inference traffic (not Hub look-ups)."""
        return [s for s in self.state.served if s.is_inference]

    @property
    def adaptations(self) -> list[Adaptation]:
        return self.state.adaptations

    @property
    def applied(self) -> set[Drift]:
        """Kinds of adaptation applied so far."""
        return {a.kind for a in self.state.adaptations}

    @property
    def unmatched(self) -> list[str]:
        return self.state.unmatched

    def start(self) -> Replay:
        """Point HF_HOME/HF_TOKEN at the sandbox, clear caches and install the replay clients."""
        if self._stack is not None:
            return self
        stack = contextlib.ExitStack()
        try:
            self._install(stack)
        except BaseException:
            stack.close()
            raise
        self._stack = stack
        return self

    def _install(self, stack: contextlib.ExitStack) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / ".agent_harnesses.json").write_text(json.dumps(EMPTY_HARNESS_REGISTRY))
        env = {"HF_HOME": str(self.home), "HF_TOKEN": self.token, "HF_HUB_OFFLINE": "0", "HF_ENDPOINT": HUB}
        stack.enter_context(mock.patch.dict(os.environ, env))
        patches = _home_patches(self.home) | {"ENDPOINT": HUB, "HF_HUB_OFFLINE": False}
        for name, value in patches.items():
            stack.enter_context(mock.patch.object(constants, name, value))
        clear_hf_caches()
        stack.callback(clear_hf_caches)
        previous = _http._GLOBAL_CLIENT_FACTORY, _http._GLOBAL_ASYNC_CLIENT_FACTORY
        stack.callback(set_async_client_factory, previous[1])
        stack.callback(set_client_factory, previous[0])
        set_client_factory(lambda: _client(ReplayTransport(self.state)))
        set_async_client_factory(lambda: _async_client(AsyncReplayTransport(self.state)))

    def stop(self) -> None:
        """Uninstall (idempotent)."""
        stack, self._stack = self._stack, None
        if stack is not None:
            stack.close()

    def check(self) -> None:
        """Raise ``UnmatchedRequestError`` if any request went unanswered."""
        if self.unmatched:
            self.reported = True
            raise UnmatchedRequestError("\n".join(self.unmatched))

    def __enter__(self) -> Replay:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
        if exc_type is None:
            self.check()


def _client(transport: httpx2.BaseTransport) -> httpx2.Client:
    """Same as huggingface_hub's ``default_client_factory``, over the replay transport."""
    hooks = {"request": [_http.hf_request_event_hook]}
    return httpx2.Client(transport=transport, event_hooks=hooks, follow_redirects=True, timeout=None)


def _async_client(transport: httpx2.AsyncBaseTransport) -> httpx2.AsyncClient:
    """Same as huggingface_hub's ``default_async_client_factory``, over the replay transport."""
    hooks = {"request": [_http.async_hf_request_event_hook], "response": [_http.async_hf_response_event_hook]}
    return httpx2.AsyncClient(transport=transport, event_hooks=hooks, follow_redirects=True, timeout=None)
