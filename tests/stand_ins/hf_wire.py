"""Provider wire formats for the HF stand-in: hf-inference, fal-ai (sync and queue) and replicate.

Each provider turns its request body into a `Call` for the task engines, and the engine's answer into the
response that provider really sends (raw media, JSON, or JSON pointing at media URLs served by the stand-in).
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
import time
from collections.abc import Callable
from typing import Any

from tests.stand_ins import media
from tests.stand_ins.hf_call import Call, InputError, Media, b64decode
from tests.stand_ins.hf_tasks import TASKS

Reply = tuple[int, dict[str, str], bytes]
Store = Callable[[bytes, str], str]  # (data, content_type) -> public URL
Fetch = Callable[[str], bytes]  # URL (http(s) or data:) -> bytes

JSON = "application/json"
_ids = itertools.count(1)


def json_reply(status: int, body: Any, headers: dict[str, str] | None = None) -> Reply:
    return status, {"Content-Type": JSON, **(headers or {})}, json.dumps(body).encode()


def new_id(prefix: str = "") -> str:
    return f"{prefix}{next(_ids):06x}{time.monotonic_ns() % 0xFFFFFF:06x}"


# --- hf-inference ----------------------------------------------------------------------------------------


def hf_call(task: str, model: dict[str, Any], body: bytes, content_type: str, accept: str) -> Call:
    """Decode an hf-inference request: raw media bytes, or {"inputs": ..., "parameters": {...}, ...}."""
    spec = TASKS[task]
    call = Call(task=task, model=model, accept=accept or "*/*")
    is_json = "json" in content_type or (not content_type and body[:1] in (b"{", b"["))
    if not is_json:
        if spec.input not in ("image", "audio"):
            raise InputError(f"Task {task} expects a JSON body with `inputs`", 400)
        if not body:
            raise InputError("Empty request body", 400)
        call.media = body
        return call
    try:
        payload = json.loads(body or b"null")
    except ValueError:
        raise InputError("Invalid JSON body", 400) from None
    if not isinstance(payload, dict):
        raise InputError("The request body must be a JSON object", 400)
    parameters = payload.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise InputError("Input validation error: `parameters` must be an object")
    call.payload, call.inputs, call.parameters = payload, payload.get("inputs"), parameters
    if spec.input in ("image", "audio"):
        call.media = b64decode(payload.get("inputs", payload.get("image")), "inputs")
    return call


def hf_reply(call: Call, result: Any) -> Reply:
    if isinstance(result, Media):
        return 200, {"Content-Type": result.content_type}, result.data
    if call.task != "text-generation":
        return json_reply(200, result)
    if call.payload.get("stream"):
        tokens = result["details"]["tokens"]
        events = []
        for i, token in enumerate(tokens, 1):
            last = i == len(tokens)
            details = {k: result["details"][k] for k in ("finish_reason", "generated_tokens", "seed")}
            event = {"index": i, "token": token, "generated_text": result["generated_text"] if last else None,
                     "details": details if last else None}  # fmt: skip
            events.append(f"data:{json.dumps(event)}\n\n")
        return 200, {"Content-Type": "text/event-stream"}, "".join(events).encode()
    details = call.param("details")
    return json_reply(200, [result if details else {"generated_text": result["generated_text"]}])


# --- fal-ai ----------------------------------------------------------------------------------------------

FAL_QUEUE_TASKS = frozenset({"text-to-video", "image-to-video", "image-to-image", "image-segmentation"})
_FAL_INPUT = {
    "text-to-image": "prompt", "text-to-video": "prompt", "text-to-speech": "text",
    "automatic-speech-recognition": "audio_url", "image-to-video": "image_url", "image-to-image": "image_url",
    "image-segmentation": "image_url",
}  # fmt: skip


def fal_missing(field: str) -> InputError:
    detail = [{"loc": ["body", field], "msg": "field required", "type": "value_error.missing"}]
    return InputError(f"{field}: field required", 422, {"detail": detail})


def fal_call(task: str, model: dict[str, Any], body: bytes, fetch: Fetch) -> Call:
    try:
        payload = json.loads(body or b"null")
    except ValueError:
        raise InputError("Invalid JSON body", 400, {"detail": "Invalid JSON body"}) from None
    if not isinstance(payload, dict):
        raise InputError("Body must be an object", 422, {"detail": "Body must be an object"})
    key = _FAL_INPUT[task]
    value = payload.get(key)
    if not isinstance(value, str) or not value.strip():
        raise fal_missing(key)
    call = Call(task=task, model=model, payload=payload, inputs=value)
    if key.endswith("_url"):
        call.media = fetch(value)
    return call


def _image_meta(data: bytes) -> dict[str, Any]:
    width, height = media.image_size(data) or (0, 0)
    return {"width": width, "height": height, "content_type": media.sniff(data) or "image/png"}


def fal_result(call: Call, result: Any, store: Store) -> dict[str, Any]:
    seed = media.stable_int("seed", call.inputs) % 2**32
    if call.task in ("text-to-image", "image-to-image"):
        image = {"url": store(result.data, result.content_type), **_image_meta(result.data)}
        return {"images": [image], "timings": {"inference": 0.05}, "seed": seed, "has_nsfw_concepts": [False],
                "prompt": call.payload.get("prompt", "")}  # fmt: skip
    if call.task == "text-to-speech":
        url = store(result.data, result.content_type)
        return {"audio": {"url": url, "content_type": result.content_type, "file_name": url.rsplit("/", 1)[-1],
                          "file_size": len(result.data)}}  # fmt: skip
    if call.task == "automatic-speech-recognition":
        text = result["text"]
        return {"text": text, "chunks": [{"timestamp": [0.0, round(0.3 * len(text.split()), 2)], "text": text,
                "speaker": None}], "inferred_languages": ["en"], "diarization_segments": []}  # fmt: skip
    if call.task in ("text-to-video", "image-to-video"):
        url = store(result.data, result.content_type)
        return {"video": {"url": url, "content_type": "video/mp4", "file_name": url.rsplit("/", 1)[-1],
                          "file_size": len(result.data)}, "seed": seed}  # fmt: skip
    if call.task == "image-segmentation":
        segment = next((s for s in result if s["label"] not in ("sky", "grass", "paper")), result[0])
        mask = base64.b64decode(segment["mask"])
        return {"image": {"url": store(mask, "image/png"), **_image_meta(mask)}}
    raise InputError(f"fal-ai does not serve {call.task} here", 404, {"detail": "Not Found"})


class FalQueue:
    """fal's queue API: submit -> IN_QUEUE, poll .../status until COMPLETED, then GET the result."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.jobs: dict[str, dict[str, Any]] = {}
        self.polls_before_done = 1

    def clear(self) -> None:
        with self._lock:
            self.jobs.clear()

    @staticmethod
    def app_of(provider_id: str) -> str:
        """fal answers with the app's base path ("owner/app"), not the full model path."""
        return "/".join(provider_id.split("/")[:2])

    def submit(self, provider_id: str, result: dict[str, Any]) -> dict[str, Any]:
        request_id = new_id("fal-")
        base = f"https://queue.fal.run/{self.app_of(provider_id)}/requests/{request_id}"
        with self._lock:
            self.jobs[request_id] = {"result": result, "polls": 0, "base": base}
        return {"status": "IN_QUEUE", "request_id": request_id, "response_url": base,
                "status_url": f"{base}/status", "cancel_url": f"{base}/cancel", "logs": None, "metrics": {},
                "queue_position": 0}  # fmt: skip

    def status(self, request_id: str) -> Reply:
        with self._lock:
            job = self.jobs.get(request_id)
            if job is None:
                return json_reply(404, {"detail": "Request not found"})
            job["polls"] += 1
            done = job["polls"] >= self.polls_before_done
        status = "COMPLETED" if done else "IN_PROGRESS"
        return json_reply(200, {"status": status, "request_id": request_id, "response_url": job["base"],
                                "status_url": f"{job['base']}/status", "logs": None, "metrics": {},
                                "queue_position": 0})  # fmt: skip

    def result(self, request_id: str) -> Reply:
        with self._lock:
            job = self.jobs.get(request_id)
        if job is None:
            return json_reply(404, {"detail": "Request not found"})
        if job["polls"] < self.polls_before_done:
            return json_reply(400, {"detail": "Request is still in progress"})
        return json_reply(200, job["result"])


# --- replicate -------------------------------------------------------------------------------------------

_REPLICATE_INPUT = {
    "text-to-image": "prompt", "text-to-video": "prompt", "text-to-speech": "text", "image-to-image": "image",
    "automatic-speech-recognition": "audio",
}  # fmt: skip


def replicate_call(task: str, model: dict[str, Any], body: bytes, fetch: Fetch) -> Call:
    try:
        payload = json.loads(body or b"null")
    except ValueError:
        raise InputError("Invalid JSON body", 400, {"detail": "Invalid JSON body"}) from None
    given = payload.get("input") if isinstance(payload, dict) else None
    key = _REPLICATE_INPUT.get(task)
    if key is None:
        raise InputError(f"replicate does not serve {task} here", 404, {"detail": "Not found"})
    value = given.get(key) if isinstance(given, dict) else None
    if not isinstance(value, str) or not value.strip():
        detail = f"input: {key} is required"
        raise InputError(detail, 422, {"title": "Input validation failed", "detail": detail, "status": 422,
                                       "invalid_fields": [{"type": "required", "field": "input", "description":
                                                           f"{key} is required"}]})  # fmt: skip
    call = Call(task=task, model=model, payload=given, inputs=value)  # type: ignore[arg-type]
    if key in ("image", "audio"):
        call.media = fetch(value)
    return call


def replicate_result(call: Call, result: Any, store: Store, provider_id: str) -> dict[str, Any]:
    if isinstance(result, Media):
        url = store(result.data, result.content_type)
        output: Any = [url] if call.task in ("text-to-image", "image-to-image") else url
    else:
        output = {"transcription": result["text"], "segments": [], "detected_language": "english"}
    pid = new_id("r")
    model, _, version = provider_id.partition(":")
    api = f"https://api.replicate.com/v1/predictions/{pid}"
    return {"id": pid, "model": model, "version": version or "hidden", "input": call.payload, "logs": "",
            "output": output, "data_removed": False, "error": None, "status": "succeeded",
            "created_at": "2025-02-13T15:49:24.1Z",
            "urls": {"cancel": f"{api}/cancel", "get": api, "stream": f"https://stream.replicate.com/v1/files/{pid}"}}  # fmt: skip
