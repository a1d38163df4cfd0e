"""A loopback stand-in for the LangSmith API: captures the traces a real `langsmith.Client` sends.

Serves ``GET /info`` and the run-ingest endpoints on 127.0.0.1:

- ``POST /runs/multipart`` (multipart/form-data, optionally zstd- or gzip-compressed), what the client
  uses by default;
- ``POST /runs/batch``, ``POST /runs`` and ``PATCH /runs/{id}`` (JSON), the fallbacks.

Every request is kept as it arrived (`raw`) and decoded (`body`), so a test can scan every byte for
secrets, and `runs()` folds the creates and updates of each run into its final state. `down = True`
makes every endpoint answer 503 (an outage).
"""

from __future__ import annotations

import contextlib
import gzip
import json
import threading
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import zstandard

__all__ = ["CapturedRequest", "LangSmithStandIn"]


@dataclass(frozen=True)
class CapturedRequest:
    """One request: `raw` as sent (maybe compressed), `body` decompressed, `parts` decoded."""

    method: str
    path: str
    headers: dict[str, str]
    raw: bytes
    body: bytes
    parts: dict[str, Any] = field(default_factory=dict)


def decompress(data: bytes, encoding: str) -> bytes:
    """Undo the request's Content-Encoding (zstd frames may omit their size, so stream them)."""
    if encoding == "zstd":
        with zstandard.ZstdDecompressor().stream_reader(data) as reader:
            return reader.read()
    if encoding == "gzip":
        return gzip.decompress(data)
    return data


def multipart_parts(body: bytes, content_type: str) -> dict[str, Any]:
    """Decode a multipart/form-data body into {part name: JSON value (or bytes)}."""
    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    parts: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        try:
            parts[str(name)] = json.loads(payload)
        except ValueError:
            parts[str(name)] = payload
    return parts


def _json_parts(body: bytes, method: str, path: str) -> dict[str, Any]:
    """The JSON endpoints, expressed as multipart-style part names."""
    data = json.loads(body or b"{}")
    if path == "/runs/batch":
        return {f"{op}.{run['id']}": run for op in ("post", "patch") for run in data.get(op) or []}
    if method == "POST":
        return {f"post.{data['id']}": data}
    return {f"patch.{path.rsplit('/', 1)[-1]}": {**data, "id": path.rsplit("/", 1)[-1]}}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, stand_in: LangSmithStandIn, port: int) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.stand_in = stand_in


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def _handle(self, method: str) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        status, payload = self.server.stand_in._serve(method, self.path, dict(self.headers.items()), raw)
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        with contextlib.suppress(OSError):
            self.wfile.write(data)


class LangSmithStandIn:
    """The loopback LangSmith API and what it received. Thread-safe."""

    def __init__(self, *, zstd: bool = True, api_key: str | None = None, port: int = 0) -> None:
        """`zstd` advertises compressed ingestion in `/info`; `api_key` (if set) is required."""
        self.zstd = zstd
        self.port = port
        self.api_key = api_key
        self.down = False
        self.requests: list[CapturedRequest] = []
        self._lock = threading.Lock()
        self._server: _Server | None = None

    # --- lifecycle
    def __enter__(self) -> LangSmithStandIn:
        self._server = _Server(self, self.port)
        threading.Thread(target=self._server.serve_forever, name="langsmith-stand-in", daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        assert self._server is not None, "stand-in not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
        self.down = False

    # --- what was received
    def captured_bytes(self) -> bytes:
        """Every byte received (as sent and decompressed), headers excluded, for secret scans."""
        with self._lock:
            return b"\n".join(r.raw + b"\n" + r.body for r in self.requests)

    def runs(self) -> dict[str, dict[str, Any]]:
        """Each run's final state: its create, then its updates, folded together (by run id)."""
        runs: dict[str, dict[str, Any]] = {}
        with self._lock:
            parts = [(name, value) for r in self.requests for name, value in r.parts.items()]
        for name, value in parts:
            op, run_id, *key = name.split(".", 2)
            if op not in ("post", "patch"):
                continue
            run = runs.setdefault(run_id, {"id": run_id})
            if key:
                run[key[0]] = value
            else:
                run.update({k: v for k, v in value.items() if v is not None})
        return runs

    def tree(self, keys: tuple[str, ...] = ()) -> str:
        """The captured runs as an indented tree: name [run type], then the tags and the metadata `keys`
        each run adds to what its parent has."""
        runs = self.runs()
        children: dict[str | None, list[dict[str, Any]]] = {}
        for run in sorted(runs.values(), key=lambda r: r.get("dotted_order") or ""):
            parent = run.get("parent_run_id")
            children.setdefault(parent if parent in runs else None, []).append(run)
        lines: list[str] = []

        def walk(parent: str | None, depth: int, seen: dict[str, Any], seen_tags: set[str]) -> None:
            for run in children.get(parent, []):
                meta = (run.get("extra") or {}).get("metadata") or {}
                shown = {k: meta[k] for k in keys if k in meta and seen.get(k) != meta[k]}
                tags = {t for t in run.get("tags") or [] if ":step:" not in t}
                line = f"{'  ' * depth}{run.get('name')} [{run.get('run_type')}]"
                line += f" tags={sorted(tags - seen_tags)}" if tags - seen_tags else ""
                lines.append(line + (f" {json.dumps(shown)}" if shown else ""))
                walk(run["id"], depth + 1, {**seen, **meta}, seen_tags | tags)

        walk(None, 0, {}, set())
        return "\n".join(lines)

    # --- serving
    def _serve(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, Any]:
        headers = {k.lower(): v for k, v in headers.items()}
        path = path.split("?", 1)[0].rstrip("/")
        if self.down:
            return 503, {"detail": "Service Unavailable"}
        if self.api_key and headers.get("x-api-key") != self.api_key:
            return 401, {"detail": "Invalid API key"}
        if method == "GET" and path == "/info":
            return 200, self.info()
        body = decompress(raw, headers.get("content-encoding", ""))
        if method == "POST" and path == "/runs/multipart":
            parts = multipart_parts(body, headers["content-type"])
        elif (method == "POST" and path in ("/runs/batch", "/runs")) or (
            method == "PATCH" and path.startswith("/runs/")
        ):
            parts = _json_parts(body, method, path)
        else:
            return 404, {"detail": "Not Found"}
        with self._lock:
            self.requests.append(CapturedRequest(method, path, headers, raw, body, parts))
        return 202, {"message": "accepted"}

    def info(self) -> dict[str, Any]:
        return {
            "version": "0.10.0",
            "license_expiration_time": None,
            "batch_ingest_config": {
                "use_multipart_endpoint": True,
                "scale_up_qsize_trigger": 1000,
                "scale_up_nthreads_limit": 16,
                "scale_down_nempty_trigger": 4,
                "size_limit": 100,
                "size_limit_bytes": 20_971_520,
            },
            "instance_flags": {"zstd_compression_enabled": self.zstd},
        }
