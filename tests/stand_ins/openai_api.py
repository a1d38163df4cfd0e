"""A loopback OpenAI Chat Completions stand-in: real HTTP/1.1, real wire format, scriptable replies.

Serves ``POST /v1/chat/completions`` (JSON, or SSE when ``stream: true``), ``GET /v1/models`` and
``GET /v1/models/{id}`` on 127.0.0.1.  What the "model" says comes from, in order:

1. the queue filled by `OpenAIStandIn.script` (one turn per completion, any conversation);
2. the first rule registered with `OpenAIStandIn.on_user` whose pattern matches the latest user
   message (a stateless plan, so concurrent conversations never mix);
3. `OpenAIStandIn.fallback` (by default a text answer saying nothing matched).

Faults (`add_fault`, `set_fault_rate`) and `latency` apply to chat completions only; streams can be paced
(`tokens_per_second`: one token, ~4 characters of tool-call arguments, per chunk) and held
(`before_chunk`, called on the server thread before each chunk is sent; raising `CutStream` there hangs
up mid-stream, a connection lost after partial output). Like the real API,
it refuses (HTTP 400) a history whose assistant tool calls are not each answered by the tool messages right
after them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import random
import re
import secrets
import select
import socket
import string
import struct
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from tests.stand_ins.scripts import (
    FallbackTurn,
    Plan,
    PlanOnce,
    Reply,
    Request,
    Rule,
    Turn,
    echo_fallback,
    offered_tools,
    to_reply,
)

__all__ = ["DEFAULT_API_KEY", "FAULT_KINDS", "CutStream", "OpenAIStandIn", "RecordedRequest", "StandInError"]

DEFAULT_API_KEY = "sk-test-stand-in-0123456789abcdef"
FAULT_KINDS = ("rate_limit", "server_error", "overloaded", "timeout", "reset", "bad_key")
RETRYABLE_FAULTS = ("rate_limit", "server_error", "overloaded")
DEFAULT_MODELS = ("gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "gpt-4.1", "gpt-5-mini", "gpt-5", "gpt-3.5-turbo")
_ALNUM = string.ascii_letters + string.digits
_KEYS_URL = "https://platform.openai.com/account/api-keys"


def _rand(n: int, alphabet: str = _ALNUM) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class RecordedRequest:
    """One HTTP request as the stand-in saw it (``headers`` keys are lower-case)."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    fault: str | None = None
    at: float = field(default_factory=time.time)

    @property
    def json(self) -> Any:
        return self.body


class StandInError(Exception):
    """An HTTP error in OpenAI's ``{"error": {...}}`` format."""

    def __init__(
        self,
        status: int,
        message: str,
        type_: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.headers = status, headers or {}
        self.payload = {"error": {"message": message, "type": type_, "param": param, "code": code}}


# --------------------------------------------------------------------------- wire format


def _usage(request: Request, reply: Reply) -> dict[str, Any]:
    prompt = math.ceil(len(_dumps(request.get("messages", [])) + _dumps(request.get("tools") or [])) / 4)
    out = (reply.text or "") + "".join(c.name + _dumps(c.args) for c in reply.tool_calls)
    completion = max(1, math.ceil(len(out) / 4))
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _tool_call_json(call_id: str, name: str, args: Any) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": _dumps(args)}}


@dataclass
class _Completion:
    """One completion being answered: ids fixed up front so JSON and SSE agree."""

    request: Request
    reply: Reply
    id: str = field(default_factory=lambda: "chatcmpl-" + _rand(29))
    created: int = field(default_factory=lambda: int(time.time()))
    fingerprint: str = field(default_factory=lambda: "fp_" + secrets.token_hex(5))
    call_ids: list[str] = field(default_factory=list)
    report_usage: bool = True  # False: like a server that never reports usage (ignores stream_options)
    token_chars: int = 6  # characters of tool-call arguments per streamed chunk

    def __post_init__(self) -> None:
        self.call_ids = [c.id or "call_" + _rand(24) for c in self.reply.tool_calls]
        self.usage = _usage(self.request, self.reply)

    @property
    def usage_sent(self) -> bool:
        """Whether this completion reports its usage (always in JSON; in a stream when asked)."""
        if not self.report_usage:
            return False
        opts = self.request.get("stream_options") or {}
        return not self.request.get("stream") or bool(opts.get("include_usage"))

    @property
    def model(self) -> str:
        return str(self.request.get("model"))

    def _head(self, obj: str) -> dict[str, Any]:
        return {"id": self.id, "object": obj, "created": self.created, "model": self.model}

    def to_json(self) -> dict[str, Any]:
        calls = zip(self.call_ids, self.reply.tool_calls, strict=True)
        message: dict[str, Any] = {"role": "assistant", "content": self.reply.text}
        if self.reply.tool_calls:
            message["tool_calls"] = [_tool_call_json(i, c.name, c.args) for i, c in calls]
        message |= {"refusal": None, "annotations": []}
        choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": self.reply.finish_reason}
        tail = {"usage": self.usage} if self.usage_sent else {}
        tail["service_tier"] = "default"
        return {
            **self._head("chat.completion"),
            "choices": [choice],
            **tail,
            "system_fingerprint": self.fingerprint,
        }

    def chunks(self) -> Iterator[dict[str, Any]]:
        """``chat.completion.chunk`` objects in the order OpenAI streams them."""
        opts = self.request.get("stream_options") or {}
        usage, obfuscate = self.usage_sent, opts.get("include_obfuscation", True)
        for delta, finish in self._deltas():
            yield self._chunk(
                [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}], usage, obfuscate
            )
        if usage:
            last = self._chunk([], usage, obfuscate)
            yield last | {"usage": self.usage}

    def _chunk(self, choices: list[dict[str, Any]], usage: bool, obfuscate: bool) -> dict[str, Any]:
        chunk = {**self._head("chat.completion.chunk"), "service_tier": "default"}
        chunk |= {"system_fingerprint": self.fingerprint, "choices": choices}
        if usage:
            chunk["usage"] = None
        if obfuscate:
            chunk["obfuscation"] = _rand(secrets.randbelow(12) + 2)
        return chunk

    def _deltas(self) -> Iterator[tuple[dict[str, Any], str | None]]:
        reply = self.reply
        first: dict[str, Any] = {"role": "assistant", "content": "" if reply.text is not None else None}
        first["refusal"] = None
        pieces = list(reply.pieces or _text_pieces(reply.text or ""))
        calls = list(zip(self.call_ids, reply.tool_calls, strict=True))
        if not pieces and calls:  # OpenAI puts the first call's header in the role chunk
            first["tool_calls"] = [self._call_head(0, *calls[0])]
        yield first, None
        for piece in pieces:
            yield {"content": piece}, None
        for index, (call_id, call) in enumerate(calls):
            if index or pieces:
                yield {"tool_calls": [self._call_head(index, call_id, call)]}, None
            for frag in _arg_pieces(_dumps(call.args), self.token_chars):
                yield {"tool_calls": [{"index": index, "function": {"arguments": frag}}]}, None
        yield {}, reply.finish_reason

    @staticmethod
    def _call_head(index: int, call_id: str, call: Any) -> dict[str, Any]:
        head = {"index": index, "id": call_id, "type": "function"}
        return head | {"function": {"name": call.name, "arguments": ""}}


def _text_pieces(text: str) -> list[str]:
    """Word-ish pieces with their leading whitespace, the way tokens stream."""
    return re.findall(r"\s*\S+\s*$|\s*\S+", text) or ([text] if text else [])


def _arg_pieces(arguments: str, size: int = 6) -> list[str]:
    return [arguments[i : i + size] for i in range(0, len(arguments), size)] or [""]


class CutStream(Exception):
    """Raised by `before_chunk` to hang up before that chunk (the client has what was sent so far)."""


# --------------------------------------------------------------------------- HTTP layer


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, stand_in: OpenAIStandIn) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.stand_in = stand_in

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hanging up (pool closes, resets, timeouts) are normal; report anything else."""
        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "openai-stand-in/1.0"
    timeout = 30  # idle keep-alive connections are closed after this
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.stand_in._connections.add(self.connection)

    def finish(self) -> None:
        self.server.stand_in._connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def _handle(self) -> None:
        started = time.monotonic()
        try:
            self.server.stand_in._serve(self, started)
        except StandInError as err:
            self.send_json(err.status, err.payload, started, err.headers)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    # --- helpers used by OpenAIStandIn._serve
    def read_body(self) -> bytes:
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length else b""

    def _common_headers(self, started: float, extra: dict[str, str] | None = None) -> None:
        self.send_header("x-request-id", "req_" + secrets.token_hex(16))
        self.send_header("openai-version", "2020-10-01")
        self.send_header("openai-organization", "stand-in-org")
        self.send_header("openai-processing-ms", str(int((time.monotonic() - started) * 1000)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)

    def send_json(
        self, status: int, payload: Any, started: float, headers: dict[str, str] | None = None
    ) -> None:
        data = _dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self._common_headers(started, headers)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def start_sse(self, started: float) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream; charset=utf-8")
        self.send_header("transfer-encoding", "chunked")
        self.send_header("cache-control", "no-cache")
        self._common_headers(started)
        self.end_headers()
        self.wfile.flush()

    def send_event(self, data: str) -> None:
        payload = f"data: {data}\n\n".encode()
        self.wfile.write(f"{len(payload):x}\r\n".encode() + payload + b"\r\n")
        self.wfile.flush()

    def end_sse(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def drop(self) -> None:
        """Hang up without a response (SO_LINGER 0, so the close ends in a TCP RST)."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    def client_gone(self) -> bool:
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True


# --------------------------------------------------------------------------- the stand-in


class OpenAIStandIn:
    """The loopback server plus its script, faults and request log.  Thread-safe."""

    def __init__(
        self,
        api_key: str | None = DEFAULT_API_KEY,
        *,
        models: Sequence[str] = DEFAULT_MODELS,
        timeout_hold: float = 60.0,
    ) -> None:
        """``api_key=None`` accepts any bearer key; ``timeout_hold`` caps how long a
        ``timeout`` fault holds a request (it ends early once the client hangs up)."""
        self.api_key = api_key
        self.models = list(models)
        self.timeout_hold = timeout_hold
        self.requests: list[RecordedRequest] = []
        self.errors: list[str] = []  # exceptions raised by script callables (reply: HTTP 400)
        self.usage_sent: list[dict[str, Any]] = []  # the usage objects completions reported, in order
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._release = threading.Event()
        self.reset()

    # --- lifecycle
    def start(self) -> OpenAIStandIn:
        if self._server is None:
            self._server = _Server(self)
            self._thread = threading.Thread(
                target=self._server.serve_forever, name="openai-stand-in", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
        for conn in list(self._connections):
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> OpenAIStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("stand-in not started")
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def reset(self) -> None:
        """Forget requests, script, rules, faults and latency; release held ``timeout`` requests."""
        with self._lock:
            self.requests.clear()
            self.errors.clear()
            self.usage_sent.clear()
            self._queue: deque[Turn] = deque()
            self._rules: list[Rule] = []
            self._faults: deque[str] = deque()
            self._fault_rate = 0.0
            self._fault_kinds: tuple[str, ...] = RETRYABLE_FAULTS
            self._rng = random.Random(0)
            self._only_first_attempt, self._attempts = False, set[str]()
            self._release.set()
            self._release = threading.Event()
        self.latency = 0.0  # seconds before each completion (streams: before the first chunk)
        self.chunk_delay = 0.0  # seconds between stream chunks
        self.report_usage = True  # False: completions never report their token usage (some servers)
        self.tokens_per_second = 0.0  # > 0: stream one token (~4 characters of arguments) at this pace
        self.before_chunk: Callable[[dict[str, Any]], None] | None = None  # called before each chunk is sent
        self.retry_after = 0.05  # seconds, sent as retry-after (ceil) and retry-after-ms on 429
        self.fallback: FallbackTurn = echo_fallback

    # --- scripting
    def script(self, turns: Sequence[Turn] | Turn) -> None:
        """Queue turns, one per chat completion (whatever the conversation).

        A list is a list of turns; to queue one turn of parallel calls, wrap it: ``[[call, call]]``.
        """
        items = list(turns) if isinstance(turns, list | tuple) else [turns]
        with self._lock:
            self._queue.extend(items)

    @property
    def pending(self) -> int:
        """Scripted turns not yet played."""
        return len(self._queue)

    def on_user(
        self, pattern: str | re.Pattern[str], plan: Plan | PlanOnce | Sequence[Turn], flags: int = re.I
    ) -> Rule:
        """Play ``plan`` (``[step, ..., final answer]``) for conversations whose latest user
        message matches ``pattern`` (``re.search``); first registered rule wins."""
        rule = Rule(re.compile(pattern, flags) if isinstance(pattern, str) else pattern, Plan.of(plan))
        with self._lock:
            self._rules.append(rule)
        return rule

    # --- faults
    def add_fault(self, kind: str, times: int = 1) -> None:
        """Make the next ``times`` chat completions fail with ``kind`` (see `FAULT_KINDS`)."""
        self._check_kind(kind)
        with self._lock:
            self._faults.extend([kind] * times)

    def set_fault_rate(
        self,
        rate: float,
        seed: int | None = 0,
        kinds: Sequence[str] = RETRYABLE_FAULTS,
        only_first_attempt: bool = False,
    ) -> None:
        """Fail each chat completion with probability ``rate``, kind drawn from ``kinds`` (seeded).

        With ``only_first_attempt`` a request whose body was seen before (a client's retry) is never
        failed, so a client that retries once always gets through, however the requests interleave."""
        for kind in kinds:
            self._check_kind(kind)
        with self._lock:
            self._fault_rate, self._fault_kinds, self._rng = rate, tuple(kinds), random.Random(seed)
            self._only_first_attempt, self._attempts = only_first_attempt, set()

    @staticmethod
    def _check_kind(kind: str) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}")

    def _take_fault(self, raw: bytes) -> str | None:
        with self._lock:
            if self._faults:
                return self._faults.popleft()
            if self._only_first_attempt:
                key = hashlib.sha1(raw).hexdigest()
                if key in self._attempts:
                    return None
                self._attempts.add(key)
            if self._fault_rate and self._rng.random() < self._fault_rate:
                return self._rng.choice(self._fault_kinds)
        return None

    # --- inspection
    @property
    def chat_requests(self) -> list[dict[str, Any]]:
        """JSON bodies of all ``POST /v1/chat/completions`` requests, in arrival order."""
        with self._lock:
            return [r.body for r in self.requests if r.path.endswith("/chat/completions")]

    @property
    def last_request(self) -> RecordedRequest:
        with self._lock:
            return self.requests[-1]

    # --- request handling (runs on server threads)
    def _serve(self, h: _Handler, started: float) -> None:
        raw = h.read_body()
        path = urlsplit(h.path).path.rstrip("/")
        headers = {k.lower(): v for k, v in h.headers.items()}
        body = _parse_body(raw)
        route = _route(h.command, path)
        if route is None:
            self._record(h.command, path, headers, body, None)
            raise StandInError(404, f"Invalid URL ({h.command} {path})")
        auth_error = self._auth_error(headers.get("authorization", ""))
        fault = self._take_fault(raw) if route == "chat" and auth_error is None else None
        self._record(h.command, path, headers, body, fault)
        if auth_error:
            raise auth_error
        if route == "models":
            h.send_json(200, {"object": "list", "data": [self._model(m) for m in self.models]}, started)
        elif route.startswith("model:"):
            h.send_json(200, self._model_or_404(route[6:]), started)
        elif route == "responses":
            raise StandInError(
                404, "stand-in serves only Chat Completions, not the Responses API (/v1/responses)"
            )
        else:
            self._chat(h, body, fault, started)

    def _record(self, method: str, path: str, headers: dict[str, str], body: Any, fault: str | None) -> None:
        with self._lock:
            self.requests.append(RecordedRequest(method, path, headers, body, fault))

    def _auth_error(self, header: str) -> StandInError | None:
        key = header[7:].strip() if header.lower().startswith("bearer ") else ""
        if not key:
            msg = (
                "You didn't provide an API key. You need to provide your API key in an Authorization header "
                f"using Bearer auth (i.e. Authorization: Bearer YOUR_KEY). You can obtain an API key from {_KEYS_URL}."
            )
            return StandInError(401, msg)
        if self.api_key is not None and key != self.api_key:
            return _bad_key(key)
        return None

    def _model(self, name: str) -> dict[str, Any]:
        return {"id": name, "object": "model", "created": 1686935002, "owned_by": "system"}

    def _model_or_404(self, name: str) -> dict[str, Any]:
        if name not in self.models:
            msg = f"The model `{name}` does not exist or you do not have access to it."
            raise StandInError(404, msg, code="model_not_found")
        return self._model(name)

    def _chat(self, h: _Handler, body: Any, fault: str | None, started: float) -> None:
        _validate_chat(body)
        if fault:
            self._inject(h, fault, body)
            return
        completion = _Completion(
            body,
            self._reply(body),
            report_usage=self.report_usage,
            token_chars=4 if self.tokens_per_second else 6,
        )
        if completion.usage_sent:  # recorded before it is sent, so a client never sees it first
            with self._lock:
                self.usage_sent.append(completion.usage)
        if not body.get("stream"):
            self._sleep(self.latency)
            h.send_json(200, completion.to_json(), started)
            return
        h.start_sse(started)
        self._sleep(self.latency)
        pace = 1 / self.tokens_per_second if self.tokens_per_second else self.chunk_delay
        for i, chunk in enumerate(completion.chunks()):
            self._sleep(pace if i else 0)
            if self.before_chunk is not None:
                try:
                    self.before_chunk(chunk)
                except CutStream:
                    h.drop()
                    return
            h.send_event(_dumps(chunk))
        h.send_event("[DONE]")
        h.end_sse()

    def _reply(self, body: Request) -> Reply:
        try:
            reply = self._choose(body)
        except Exception as exc:
            self.errors.append("".join(traceback.format_exception(exc)))
            msg = f"stand-in script failed: {type(exc).__name__}: {exc}"
            raise StandInError(400, msg, "stand_in_error", "script_error") from exc
        _check_reply(reply, body)
        return reply

    def _choose(self, body: Request) -> Reply:
        with self._lock:
            turn = self._queue.popleft() if self._queue else None
            rules = list(self._rules)
        if turn is not None:
            return to_reply(turn, body)
        for rule in rules:
            if (reply := rule.reply(body)) is not None:
                return reply
        return to_reply(self.fallback, body)

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._release.wait(seconds)

    def _inject(self, h: _Handler, fault: str, body: Request) -> None:
        if fault == "reset":
            h.drop()
        elif fault == "timeout":
            self._hold(h)
            h.close_connection = True
        else:
            raise _fault_error(fault, str(body.get("model")), self.retry_after)

    def _hold(self, h: _Handler) -> None:
        release, deadline = self._release, time.monotonic() + self.timeout_hold
        while time.monotonic() < deadline and not release.wait(0.05):
            if h.client_gone():
                return


# --------------------------------------------------------------------------- request checks and errors


def _route(method: str, path: str) -> str | None:
    if method == "POST" and path == "/v1/chat/completions":
        return "chat"
    if method == "POST" and path == "/v1/responses":
        return "responses"
    if method == "GET" and path == "/v1/models":
        return "models"
    if method == "GET" and path.startswith("/v1/models/"):
        return "model:" + unquote(path[len("/v1/models/") :])
    return None


def _parse_body(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return _UNPARSABLE


_UNPARSABLE = object()


def _validate_chat(body: Any) -> None:
    if body is _UNPARSABLE or not isinstance(body, dict):
        msg = (
            "We could not parse the JSON body of your request. (HINT: This likely means you aren't using "
            "your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not "
            "valid JSON.)"
        )
        raise StandInError(400, msg)
    if not body.get("model"):
        raise StandInError(400, "you must provide a model parameter")
    if "messages" not in body:
        raise StandInError(400, "Missing required parameter: 'messages'.", code="missing_required_parameter")
    if not body["messages"]:
        msg = "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead."
        raise StandInError(400, msg, code="empty_array", param="messages")
    _check_tool_answers(body["messages"])


def _check_tool_answers(messages: list[Any]) -> None:
    """As the real API does: each tool call of an assistant message is answered by the tool messages right
    after it, and each tool message answers such a call (else HTTP 400, in OpenAI's words)."""
    pending: list[str] = []
    for index, message in enumerate(messages):
        role = message.get("role") if isinstance(message, dict) else None
        if role == "tool":
            if message.get("tool_call_id") not in pending:
                msg = (
                    "Invalid parameter: messages with role 'tool' must be a response to a preceeding "
                    "message with 'tool_calls'."
                )
                raise StandInError(400, msg, param=f"messages.[{index}].role")
            pending.remove(message["tool_call_id"])
            continue
        if pending:
            raise _unanswered(pending, index)
        calls = message.get("tool_calls") if role == "assistant" else None
        pending = [c.get("id") for c in calls or [] if isinstance(c, dict)]
    if pending:
        raise _unanswered(pending, len(messages) - 1)


def _unanswered(ids: list[str], index: int) -> StandInError:
    msg = (
        "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
        f"'tool_call_id'. The following tool_call_ids did not have response messages: {', '.join(ids)}"
    )
    return StandInError(400, msg, param=f"messages.[{index}].role")


def _check_reply(reply: Reply, body: Request) -> None:
    """A real model can only call tools it was offered, one at a time if asked to."""
    if not reply.tool_calls:
        return
    offered = offered_tools(body)
    unknown = [c.name for c in reply.tool_calls if c.name not in offered]
    if unknown:
        msg = f"stand-in script called tools not offered in the request: {unknown} (offered: {offered})"
        raise StandInError(400, msg, "stand_in_error", "script_error")
    if body.get("parallel_tool_calls") is False and len(reply.tool_calls) > 1:
        msg = f"stand-in script made {len(reply.tool_calls)} calls but the request set parallel_tool_calls=false"
        raise StandInError(400, msg, "stand_in_error", "script_error")


def _bad_key(key: str) -> StandInError:
    masked = key[:3] + "*" * max(len(key) - 7, 0) + key[-4:] if len(key) > 7 else "*" * len(key)
    msg = f"Incorrect API key provided: {masked}. You can find your API key at {_KEYS_URL}."
    return StandInError(401, msg, code="invalid_api_key")


def _fault_error(kind: str, model: str, retry_after: float) -> StandInError:
    if kind == "bad_key":
        return _bad_key("sk-test-revoked-key")
    if kind == "rate_limit":
        msg = (
            f"Rate limit reached for {model} in organization stand-in-org on requests per min (RPM): "
            f"Limit 3, Used 3, Requested 1. Please try again in {retry_after:g}s. "
            "Visit https://platform.openai.com/account/rate-limits to learn more."
        )
        headers = {
            "retry-after": str(max(1, math.ceil(retry_after))),
            "retry-after-ms": str(max(0, round(retry_after * 1000))),
            "x-ratelimit-limit-requests": "3",
            "x-ratelimit-remaining-requests": "0",
            "x-ratelimit-reset-requests": f"{retry_after:g}s",
        }
        return StandInError(429, msg, "requests", "rate_limit_exceeded", headers=headers)
    if kind == "overloaded":
        return StandInError(
            503, "The engine is currently overloaded, please try again later.", "server_error"
        )
    msg = "The server had an error while processing your request. Sorry about that!"
    return StandInError(500, msg, "server_error")
