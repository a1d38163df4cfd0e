"""A loopback stand-in of the Hugging Face Hub API, the inference router and the media hosts behind it.

One real HTTP/1.1 server (stdlib, threaded) serves every host huggingface_hub talks to; the routing transport
(`tests/stand_ins/routing.py`) sends all traffic here and keeps the original host in the `Host` header:

- `huggingface.co`: /api/models, /api/models/{id}, /api/tasks, /api/agent-harnesses, /api/whoami-v2
- `router.huggingface.co`: /hf-inference/models/{id}[/pipeline/{task}], /fal-ai/{app} (sync and queue),
  /replicate/v1/...; also the providers' own hosts (fal.run, queue.fal.run, api.replicate.com)
- any other host (v3.fal.media, replicate.delivery, images.example.com...): files from `add_file`, media the
  stand-in made, redirects from `add_redirect`.

Run `python -m tests.stand_ins.hf --port 8765` to serve it in the foreground.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import socket
import threading
import time
import traceback
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from tests.stand_ins import hf_hub, hf_wire, media
from tests.stand_ins.hf_catalog import DEFAULT_ALIASES, DEFAULT_CATALOG, model_entry
from tests.stand_ins.hf_faults import Fault, FaultPlan
from tests.stand_ins.hf_tasks import TASKS, InputError
from tests.stand_ins.hf_wire import Reply, json_reply

HUB_HOSTS = frozenset({"huggingface.co", "hf.co", "www.huggingface.co"})
ROUTER_HOST = "router.huggingface.co"
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
PROVIDER_HOSTS = {"fal.run": "fal-ai", "queue.fal.run": "fal-ai", "api.replicate.com": "replicate"}
MEDIA_HOST = {"fal-ai": "v3.fal.media", "replicate": "replicate.delivery", "hf-inference": "cdn-lfs.hf.co"}
_EXT = {"image/png": "png", "image/jpeg": "jpg", "audio/flac": "flac", "audio/wav": "wav", "video/mp4": "mp4"}
_BAD_GATEWAY_HTML = "<html>\r\n<head><title>{0} {1}</title></head>\r\n<body>\r\n<center><h1>{0} {1}</h1></center>\r\n</body>\r\n</html>\r\n"


@dataclass
class RecordedRequest:
    """A request the stand-in received (with what it understood of it, and the status it answered)."""

    method: str
    host: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    provider: str | None = None
    model: str | None = None
    task: str | None = None
    status: int | None = None
    fault: str | None = None

    @property
    def url(self) -> str:
        query = "&".join(f"{k}={v}" for k, values in self.query.items() for v in values)
        return f"https://{self.host}{self.path}" + (f"?{query}" if query else "")

    def json(self) -> Any:
        return json.loads(self.body)


MEET_SECONDS = 60.0  # how long a request waits for the others of a meeting (a bound, never the measure)


@dataclass
class _Answer:
    reply: Reply | None  # None: reset the connection
    wait: float = 0.0


class HFStandIn:
    """The stand-in server; see the module docstring. Start with `start()` or use as a context manager."""

    def __init__(
        self,
        catalog: dict[str, list[dict[str, Any]]] | None = None,
        aliases: dict[str, str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self._defaults = copy.deepcopy(catalog if catalog is not None else DEFAULT_CATALOG)
        self._default_aliases = dict(aliases if aliases is not None else DEFAULT_ALIASES)
        self._bind = (host, port)
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._together = threading.Condition()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.faults = FaultPlan()
        self.fal = hf_wire.FalQueue()
        self.timeout_fault_seconds = 3.0
        self.harnesses: dict[str, Any] = {"standardEnvVars": ["AI_AGENT", "AGENT"], "harnesses": {}}
        self.reset()

    # --- lifecycle --------------------------------------------------------------------------------------

    def start(self) -> Self:
        if self._server is None:
            handler = type("Handler", (_Handler,), {"stand_in": self})
            server = ThreadingHTTPServer(self._bind, handler)
            server.daemon_threads = True
            self._server = server
            self._wake.clear()
            self._thread = threading.Thread(
                target=server.serve_forever, args=(0.05,), name="hf-stand-in", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._wake.set()
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the HF stand-in is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def reset(self) -> None:
        """Forget faults, latency, recorded requests, files and queue jobs; restore the catalog."""
        with self._lock:
            self.catalog: dict[str, list[dict[str, Any]]] = copy.deepcopy(self._defaults)
            self.aliases: dict[str, str] = dict(self._default_aliases)
            self.requests: list[RecordedRequest] = []
            self.files: dict[str, tuple[bytes, str]] = {}
            self.redirects: dict[str, tuple[str, int]] = {}
        self.faults.reset()
        self.fal.clear()
        _clear_client_caches()
        self.fal.polls_before_done = 1
        with self._together:
            self._meet: tuple[int, set[str] | None] | None = None
            self._held: set[str] = set()
            self._arrived = 0
            self.together = 0  # the most inference requests of a meeting held at once
            self._together.notify_all()
        # Wake handlers sleeping in a `timeout` fault or a latency from the previous test.
        self._wake.set()
        self._wake = threading.Event()

    # --- faults and latency -----------------------------------------------------------------------------

    @property
    def latency(self) -> float:
        return self.faults.latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        self.faults.set_latency(seconds)

    def set_latency(
        self,
        seconds: float,
        *,
        task: str | None = None,
        model: str | None = None,
        provider: str | None = None,
    ) -> None:
        """Delay inference answers (global if no filter is given; the largest matching delay wins)."""
        self.faults.set_latency(seconds, task=task, model=model, provider=provider)

    def meet(self, count: int, *tasks: str) -> None:
        """Hold inference requests (of `tasks`, or all) until `count` of them are in flight together, or
        for at most MEET_SECONDS; `together` then says how many met. Concurrency is shown by an event,
        not by a clock: calls made one after another never meet, however fast the machine is."""
        with self._together:
            self._meet, self._arrived, self.together = (count, set(tasks) or None), 0, 0

    def hold(self, *tasks: str) -> None:
        """Hold inference requests of `tasks` until `release()` (or for at most MEET_SECONDS): a call
        that is still running when something else happens, whatever the machine's speed."""
        with self._together:
            self._held = set(tasks)

    def release(self) -> None:
        with self._together:
            self._held = set()
            self._together.notify_all()

    def _join_meeting(self, record: RecordedRequest) -> None:
        with self._together:
            if record.provider is not None and record.method == "POST" and record.task in self._held:
                task = record.task
                self._together.wait_for(lambda: task not in self._held, MEET_SECONDS)
            if self._meet is None or record.provider is None or record.method != "POST":
                return
            count, tasks = self._meet
            if tasks is not None and record.task not in tasks:
                return
            self._arrived += 1
            self.together = max(self.together, self._arrived)
            self._together.notify_all()
            self._together.wait_for(lambda: self._meet is None or self._arrived >= count, MEET_SECONDS)

    def add_fault(
        self,
        kind: str,
        *,
        model: str | None = None,
        task: str | None = None,
        provider: str | None = None,
        times: int | str | None = "default",
        seconds: float | None = None,
        status: int | None = None,
    ) -> Fault:
        """Script a fault for the next matching inference calls (`times=None`: forever; see FAULT_KINDS)."""
        return self.faults.add(
            kind, model=model, task=task, provider=provider, times=times, seconds=seconds, status=status
        )

    def set_fault_rate(
        self,
        rate: float,
        seed: int = 0,
        kinds: list[str] | tuple[str, ...] | None = None,
        only_first_attempt: bool = False,
    ) -> None:
        """Fail a seeded, deterministic fraction of inference calls with one of `kinds`."""
        self.faults.set_rate(rate, seed, kinds, only_first_attempt)

    # --- catalog helpers --------------------------------------------------------------------------------

    def model(self, model_id: str) -> dict[str, Any] | None:
        with self._lock:
            return hf_hub.find(self.catalog, self.aliases.get(model_id, model_id))

    def models(self, task: str, provider: str | None = None) -> list[dict[str, Any]]:
        """Models of `task` (most liked first), optionally only those live on `provider`."""
        ranked = sorted(self.catalog.get(task, []), key=lambda m: -m["likes"])
        return [m for m in ranked if provider is None or provider in hf_hub.live_providers(m)]

    def add_model(self, task: str, model_id: str, **fields: Any) -> dict[str, Any]:
        """Add a model (see `hf_catalog.model_entry` for the fields: likes, downloads, providers...)."""
        fields.setdefault("likes", 1)
        fields.setdefault("downloads", 10)
        entry = model_entry(model_id, task, **fields)
        with self._lock:
            self.remove_model(model_id)
            self.catalog.setdefault(task, []).append(entry)
        return entry

    def remove_model(self, model_id: str) -> None:
        with self._lock:
            for task, models in self.catalog.items():
                self.catalog[task] = [m for m in models if m["id"] != model_id]

    def set_mapping(
        self, model_id: str, provider: str, status: str = "live", provider_id: str | None = None
    ) -> None:
        """Add or change a provider mapping of a model (status: live, staging or error)."""
        with self._lock:
            entry = self.model(model_id)
            if entry is None:
                raise KeyError(model_id)
            mapping = entry.setdefault("inferenceProviderMapping", {})
            old = mapping.get(provider, {})
            mapping[provider] = {
                "status": status,
                "providerId": provider_id or old.get("providerId") or model_id,
                "task": old.get("task") or entry["pipeline_tag"],
            }

    def remove_mapping(self, model_id: str, provider: str) -> None:
        with self._lock:
            entry = self.model(model_id)
            if entry is not None:
                entry.get("inferenceProviderMapping", {}).pop(provider, None)

    # --- files, redirects, records ----------------------------------------------------------------------

    @staticmethod
    def _key(url: str) -> str:
        parts = urlsplit(url if "://" in url else f"https://{url}")
        return f"{(parts.hostname or '').lower()}{parts.path or '/'}" + (
            f"?{parts.query}" if parts.query else ""
        )

    def add_file(self, url: str, data: bytes, content_type: str | None = None) -> str:
        """Serve `data` at `url` (any host); the type is sniffed if not given. Returns the url."""
        with self._lock:
            self.files[self._key(url)] = (
                data,
                content_type or media.sniff(data) or "application/octet-stream",
            )
        return url

    def add_redirect(self, url: str, location: str, status: int = 302) -> None:
        with self._lock:
            self.redirects[self._key(url)] = (location, status)

    def store(self, data: bytes, content_type: str, provider: str = "fal-ai") -> str:
        """Keep generated media and return the provider-style URL that serves it."""
        host = MEDIA_HOST.get(provider, "v3.fal.media")
        name = hf_wire.new_id()
        url = f"https://{host}/files/stand-in/{name}/output.{_EXT.get(content_type, 'bin')}"
        return self.add_file(url, data, content_type)

    def inference_requests(
        self, *, task: str | None = None, model: str | None = None, provider: str | None = None
    ) -> list[RecordedRequest]:
        """Inference POSTs (router or provider hosts), optionally filtered."""
        with self._lock:
            found = [r for r in self.requests if r.method == "POST" and r.provider is not None]
        return [
            r
            for r in found
            if (task is None or r.task == task)
            and (model is None or r.model == model)
            and (provider is None or r.provider == provider)
        ]

    # --- dispatch ---------------------------------------------------------------------------------------

    def handle(self, record: RecordedRequest) -> _Answer:
        with self._lock:
            self.requests.append(record)
            redirect = self.redirects.get(self._key(record.url))
        if redirect is not None:
            return _Answer((redirect[1], {"Location": redirect[0], "Content-Length": "0"}, b""))
        host = record.host
        if host in HUB_HOSTS or (host in LOOPBACK and record.path.startswith("/api/")):
            return _Answer(self._hub(record))
        if host == ROUTER_HOST or host in LOOPBACK:
            provider, _, rest = record.path.lstrip("/").partition("/")
            return self._provider(record, provider, "/" + rest)
        if host in PROVIDER_HOSTS:
            return self._provider(record, PROVIDER_HOSTS[host], record.path, direct_host=host)
        return _Answer(self._file(record))

    def _file(self, record: RecordedRequest) -> Reply:
        with self._lock:
            found = self.files.get(self._key(record.url)) or self.files.get(
                self._key(record.url.split("?")[0])
            )
        if found is None:
            return 404, {"Content-Type": "text/plain"}, b"Not Found"
        return 200, {"Content-Type": found[1], "Accept-Ranges": "bytes"}, found[0]

    def _hub(self, record: RecordedRequest) -> Reply:
        path, query = record.path.rstrip("/"), record.query
        if record.method not in ("GET", "HEAD"):
            return json_reply(405, {"error": "Method not allowed"})
        if path == "/api/models":
            with self._lock:
                return json_reply(200, hf_hub.list_models(self.catalog, query))
        if path.startswith("/api/models/"):
            model_id = path[len("/api/models/") :].split("/revision/")[0]
            if model_id in self.aliases:
                query_string = record.url.partition("?")[2]
                location = f"/api/models/{self.aliases[model_id]}" + (
                    f"?{query_string}" if query_string else ""
                )
                text = f"Temporary Redirect. Redirecting to {location}"
                return 307, {"Location": location, "Content-Type": "text/plain; charset=utf-8"}, text.encode()
            with self._lock:
                entry = hf_hub.find(self.catalog, model_id)
                if entry is not None:
                    return json_reply(200, hf_hub.render(entry, query.get("expand", []), listing=False))
            headers = {"X-Error-Code": "RepoNotFound", "X-Error-Message": "Repository not found"}
            return json_reply(404, {"error": "Repository not found"}, headers)
        if path == "/api/tasks":
            with self._lock:
                return json_reply(200, hf_hub.recommended(self.catalog))
        if path == "/api/agent-harnesses":
            return json_reply(200, self.harnesses)
        if path == "/api/whoami-v2":
            if not record.headers.get("authorization", "").startswith("Bearer hf_"):
                return json_reply(401, {"error": "Invalid credentials in Authorization header"})
            return json_reply(200, {"type": "user", "id": "stand-in", "name": "stand-in-user", "orgs": [],
                                    "auth": {"type": "access_token", "accessToken": {"role": "read"}}})  # fmt: skip
        return json_reply(404, {"error": "Sorry, we can't find the page you are looking for."})

    # --- router ------------------------------------------------------------------------------------------

    def _provider(self, record: RecordedRequest, provider: str, path: str, direct_host: str = "") -> _Answer:
        record.provider = provider if record.method == "POST" else None
        if provider == "fal-ai" and record.method == "GET" and "/requests/" in path:
            request_id = path.split("/requests/", 1)[1].split("/")[0]
            return _Answer(
                self.fal.status(request_id) if path.endswith("/status") else self.fal.result(request_id)
            )
        if record.method != "POST":
            return _Answer(json_reply(405, {"error": "Method not allowed"}))
        if not record.headers.get("authorization", "").startswith(("Bearer hf_", "Key ", "Bearer r8_")):
            return _Answer(json_reply(401, {"error": "Invalid credentials in Authorization header"}))
        located = self._locate(provider, path, record)
        if isinstance(located[0], int):
            return _Answer(located)  # type: ignore[arg-type]
        entry, task, provider_id = located  # type: ignore[misc]
        record.model, record.task = entry["id"], task
        return self._infer(record, provider, entry, task, provider_id, queue="queue" in direct_host)

    def _locate(
        self, provider: str, path: str, record: RecordedRequest
    ) -> tuple[dict[str, Any], str, str] | Reply:
        """(catalog entry, task, provider model id) for an inference POST, or an error reply."""
        with self._lock:
            if provider == "hf-inference":
                rest = path.removeprefix("/models/")
                if rest == path:
                    return json_reply(404, {"error": "Not Found"})
                model_id, _, pipeline = rest.partition("/pipeline/")
                model_id = self.aliases.get(model_id, model_id)
                record.model = model_id
                entry = hf_hub.find(self.catalog, model_id)
                if entry is None or provider not in (entry.get("inferenceProviderMapping") or {}):
                    return json_reply(404, {"error": "Model not found"})
                task = pipeline or entry["pipeline_tag"]
                if task not in TASKS:
                    return json_reply(400, {"error": f"Task {task} is not supported"})
                return entry, task, model_id
            if provider == "fal-ai":
                wanted = path.strip("/")
            elif provider == "replicate":
                if path == "/v1/predictions":
                    try:
                        wanted = ":" + str(json.loads(record.body).get("version"))
                    except (ValueError, AttributeError):
                        return json_reply(400, {"detail": "Invalid JSON body"})
                else:
                    wanted = path.removeprefix("/v1/models/").removesuffix("/predictions")
            else:
                return json_reply(404, {"error": f"Provider {provider} is not served by the stand-in"})
            for entry in hf_hub.iter_models(self.catalog):
                mapping = (entry.get("inferenceProviderMapping") or {}).get(provider)
                pid = mapping and mapping["providerId"]
                if pid and (pid == wanted or (wanted.startswith(":") and pid.endswith(wanted))):
                    return entry, mapping["task"], pid
            return json_reply(404, {"detail": f"Application '{wanted}' not found"})

    def _infer(
        self, record: RecordedRequest, provider: str, entry: dict[str, Any], task: str, pid: str, queue: bool
    ) -> _Answer:
        fault = self.faults.pick(entry["id"], task, provider, record.body)
        record.fault = fault.kind if fault else None
        wait = self.faults.latency_for(entry["id"], task, provider)
        if fault and fault.kind == "timeout":
            wait += fault.seconds if fault.seconds is not None else self.timeout_fault_seconds
        if fault and fault.kind not in ("timeout", "malformed", "truncated"):
            return _Answer(_fault_reply(fault.kind, fault.status, entry["id"], provider), wait=wait)
        status = (entry.get("inferenceProviderMapping") or {}).get(provider, {}).get("status")
        if status == "error":
            message = f"Model {entry['id']} is currently unavailable on {provider} (failed health check)"
            return _Answer(json_reply(503, {"error": message}), wait=wait)
        stored: list[str] = []  # media URLs made for this answer (fal, replicate)
        truncate = bool(fault and fault.kind == "truncated")
        try:
            reply = self._compute(record, provider, entry, task, pid, queue, truncate, stored)
        except InputError as error:
            reply = json_reply(error.status, error.body)
        # A truncated answer with media URLs has its media cut (above), not the JSON pointing at them.
        if (
            fault
            and fault.kind in ("malformed", "truncated")
            and reply[0] == 200
            and not (truncate and stored)
        ):
            reply = _spoil(reply, fault.kind)
        headers = {"x-compute-type": "cpu", "x-compute-time": "0.012", "x-sha": entry.get("sha", ""),
                   "x-request-id": hf_wire.new_id("Root=1-")}  # fmt: skip
        return _Answer((reply[0], {**headers, **reply[1]}, reply[2]), wait=wait)

    def _compute(
        self,
        record: RecordedRequest,
        provider: str,
        entry: dict[str, Any],
        task: str,
        pid: str,
        queue: bool,
        truncate: bool,
        stored: list[str],
    ) -> Reply:
        def store(data: bytes, content_type: str) -> str:
            url = self.store(data[: max(1, len(data) // 3)] if truncate else data, content_type, provider)
            stored.append(url)
            return url

        engine = TASKS[task].engine
        if provider == "hf-inference":
            ctype, accept = record.headers.get("content-type", ""), record.headers.get("accept", "")
            call = hf_wire.hf_call(task, entry, record.body, ctype, accept)
            return hf_wire.hf_reply(call, engine(call))
        if provider == "replicate":
            call = hf_wire.replicate_call(task, entry, record.body, self._fetch)
            return json_reply(201, hf_wire.replicate_result(call, engine(call), store, pid))
        call = hf_wire.fal_call(task, entry, record.body, self._fetch)
        result = hf_wire.fal_result(call, engine(call), store)
        if queue or record.query.get("_subdomain") == ["queue"] or task in hf_wire.FAL_QUEUE_TASKS:
            return json_reply(200, self.fal.submit(pid, result))
        return json_reply(200, result)

    def _fetch(self, url: str) -> bytes:
        """What a provider downloads for an input URL: data: URLs, or files the stand-in serves."""
        if url.startswith("data:"):
            return hf_wire.b64decode(url, "url")
        with self._lock:
            found = self.files.get(self._key(url))
        if found is None:
            detail = [
                {
                    "loc": ["body", "url"],
                    "msg": f"Failed to download the file: {url}",
                    "type": "file_download_error",
                }
            ]
            raise InputError(f"Failed to download {url}", 422, {"detail": detail})
        return found[0]

    def wait(self, seconds: float) -> None:
        """Sleep, but wake up early on `reset()` or `stop()`."""
        if seconds > 0:
            self._wake.wait(seconds)


def _clear_client_caches() -> None:
    """huggingface_hub caches provider mappings forever: forget them with the catalog they came from."""
    try:
        from tests.stand_ins.routing import clear_hf_caches
    except ImportError:  # pragma: no cover - serving without huggingface_hub installed
        return
    clear_hf_caches()


def _fault_reply(kind: str, status: int | None, model_id: str, provider: str) -> Reply | None:
    if kind == "reset":
        return None
    if kind == "loading":
        return json_reply(503, {"error": f"Model {model_id} is currently loading", "estimated_time": 20.0})
    if kind == "rate_limit":
        reset_at = str(int(time.time()) + 1)
        headers = {"Retry-After": "1", "RateLimit": '"api";r=0;t=1', "RateLimit-Policy": '"fixed window";"api";q=1000;w=300',
                   "X-RateLimit-Limit": "1000", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset_at}  # fmt: skip
        message = (
            "Rate limit reached. You reached free usage limit (reset hourly). Please subscribe to a plan."
        )
        return json_reply(429, {"error": message}, headers)
    if kind == "not_found":
        return json_reply(404, {"error": "Model not found"})
    if kind == "server_error":
        return json_reply(
            500, {"error": "There was an inference error: CUDA error: device-side assert triggered"}
        )
    if kind == "bad_gateway":
        code = status or 502
        title = "Bad Gateway" if code == 502 else "Gateway Time-out"
        return code, {"Content-Type": "text/html"}, _BAD_GATEWAY_HTML.format(code, title).encode()
    if kind == "dead_provider":
        return json_reply(502, {"error": f"Bad Gateway: the inference provider {provider} did not respond"})
    raise ValueError(kind)


def _spoil(reply: Reply, kind: str) -> Reply:
    status, headers, body = reply
    is_json = "json" in headers.get("Content-Type", "") or "event-stream" in headers.get("Content-Type", "")
    if kind == "truncated" or is_json:
        return status, headers, body[: max(1, len(body) // 3)] if len(body) > 1 else b"{"
    html = b"<html><body><h1>Service temporarily unavailable</h1></body></html>"
    return status, {**headers, "Content-Type": "text/html; charset=utf-8"}, html


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "hf-stand-in/1.0"
    stand_in: HFStandIn

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        host = (self.headers.get("Host") or "").lower()
        host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host.strip("[]")
        headers = {k.lower(): v for k, v in self.headers.items()}
        record = RecordedRequest(
            self.command,
            host,
            parts.path,
            parse_qs(parts.query, keep_blank_values=True),
            headers,
            self._read_body(),
        )
        try:
            answer = self.stand_in.handle(record)
        except Exception as error:  # a stand-in bug: say so loudly, in the response
            answer = _Answer(
                json_reply(500, {"error": f"stand-in bug: {error!r}", "trace": traceback.format_exc()})
            )
        self.stand_in._join_meeting(record)
        self.stand_in.wait(answer.wait)
        if answer.reply is None:
            record.status = 0
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        status, reply_headers, body = answer.reply
        record.status = status
        try:
            self.send_response(status)
            for name, value in reply_headers.items():
                if name.lower() != "content-length":
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            # Headers and body in one write: two small writes meet Nagle + delayed ACK (40 ms a request).
            self._headers_buffer.append(b"\r\n" + (body if self.command != "HEAD" else b""))
            self.flush_headers()
        except OSError:
            self.close_connection = True

    do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = do_PATCH = _serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the HF stand-in in the foreground.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args(argv)
    with HFStandIn(host=args.host, port=args.port) as stand_in:
        print(f"HF stand-in serving on {stand_in.url}", flush=True)
        print(
            f"Route a process to it: PYTHONPATH=tests/stand_ins/route_hf HUGGINGGPT_TEST_HF_URL={stand_in.url}"
        )
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
