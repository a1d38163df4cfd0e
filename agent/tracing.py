"""LangSmith tracing: off unless asked for, and then through a client that never sends secrets or bytes.

Turn it on with the standard variables (environment or `.env`): `LANGSMITH_TRACING=true` and
`LANGSMITH_API_KEY`, optionally `LANGSMITH_PROJECT` and `LANGSMITH_ENDPOINT` (the older `LANGCHAIN_*`
names work too). `configure_tracing` then installs one `langsmith.Client` as the process-wide client, so
every LangChain run (the agent, its model calls, its tools) is sent through its anonymizer.

The anonymizer covers inputs, outputs, metadata and errors. LangSmith also keeps a model run's
`serialized` description as is; LangChain chat models serialize their keys as references, not values.

At exit, queued traces get `HUGGINGGPT_TRACE_FLUSH_SECONDS` to reach LangSmith, and no more: the client's
background threads are daemons, so an unreachable LangSmith cannot hold the process while they retry.
"""

from __future__ import annotations

import atexit
import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import langsmith
from langchain_core.runnables import RunnableConfig
from langchain_core.tracers.base import BaseTracer
from langsmith.anonymizer import DEFAULT_SECRET_RULES, StringNodeRule, create_anonymizer

from agent.settings import AgentSettings
from tools.settings import read_environment
from tools.upstream import daemon_langsmith_client

logger = logging.getLogger(__name__)

REDACTED = "[redacted]"
# Shapes of keys this project handles, on top of langsmith's own rules (which miss e.g. `sk-test-...`).
SECRET_SHAPES: list[StringNodeRule] = [
    {"pattern": re.compile(r"\bhf_[A-Za-z0-9]{16,}"), "replace": REDACTED},
    {"pattern": re.compile(r"\bsk-[A-Za-z0-9_-]{16,}"), "replace": REDACTED},
]
MAX_LIST = 64  # longer lists of numbers (embeddings, masks) are summarised
BASE64_BLOB = re.compile(r"[A-Za-z0-9+/_\-\r\n]{512,}={0,2}")  # no spaces: never prose
DATA_URI = re.compile(r"data:[\w.+/-]*(;[\w=.-]+)*;base64,")
_clients: dict[tuple[Any, ...], langsmith.Client] = {}
_exit_flush_seconds = 3.0


def hide_bulky(data: Any) -> Any:
    """Replace media bytes (base64 strings, data URIs) and long number lists by a short note."""
    if isinstance(data, dict):
        return {key: hide_bulky(value) for key, value in data.items()}
    if isinstance(data, list):
        if len(data) > MAX_LIST and all(isinstance(v, int | float) for v in data):
            return f"[{len(data)} numbers omitted]"
        return [hide_bulky(value) for value in data]
    if isinstance(data, str) and (DATA_URI.match(data) or BASE64_BLOB.fullmatch(data)):
        return f"[{len(data)} characters of binary data omitted]"
    return data


def known_secrets(settings: AgentSettings, env: Mapping[str, str] | None = None) -> set[str]:
    """The secret values in use: the settings' secrets and every secret variable in the environment."""
    env = read_environment() if env is None else env
    values = {env.get(name, "").strip() for name in AgentSettings.secret_env_names()}
    return {v for v in values | settings.secret_values() if len(v) >= 8}


def scrubber(secrets: Iterable[str]) -> Callable[[Any], Any]:
    """The client's anonymizer: hide bulky values, then redact known secrets and secret-shaped strings.

    One function, because a client with an anonymizer ignores its `hide_inputs`/`hide_outputs`.
    Exact values go first, so no rule can leave a partly redacted key behind.
    """
    exact: list[StringNodeRule] = [
        {"pattern": re.compile(re.escape(s)), "replace": REDACTED}
        for s in sorted(secrets, key=len, reverse=True)
    ]
    redact = create_anonymizer([*exact, *DEFAULT_SECRET_RULES, *SECRET_SHAPES], max_depth=64)
    return lambda data: redact(hide_bulky(data))


def flush_at_exit() -> None:
    """Give queued traces at most HUGGINGGPT_TRACE_FLUSH_SECONDS, in all, to reach LangSmith."""
    deadline = time.monotonic() + _exit_flush_seconds
    for client in list(_clients.values()):
        client.flush(timeout=max(0.0, deadline - time.monotonic()))


def tracing_client(settings: AgentSettings) -> langsmith.Client:
    """A LangSmith client for the configured endpoint and key, with the scrubbing anonymizer."""
    key = settings.tracing.langsmith_api_key
    return daemon_langsmith_client()(
        api_url=settings.tracing.langsmith_endpoint,
        api_key=key.get_secret_value() if key else None,
        anonymizer=scrubber(known_secrets(settings)),
    )


def configure_tracing(settings: AgentSettings) -> langsmith.Client | None:
    """If tracing is asked for, trace every run in this process through `tracing_client`.

    Does nothing when it is not. Never raises: a client that cannot be made turns tracing off with a
    warning, and once made, LangSmith errors stay in its background thread.
    """
    if not settings.tracing.langsmith_tracing:
        return None
    endpoint = settings.tracing.langsmith_endpoint
    if settings.tracing.langsmith_api_key is None and (endpoint is None or "smith.langchain.com" in endpoint):
        logger.warning("LANGSMITH_TRACING is true but LANGSMITH_API_KEY is not set: tracing stays off.")
        langsmith.configure(enabled=False)
        return None
    key = (endpoint, settings.tracing.langsmith_api_key, frozenset(known_secrets(settings)))
    try:
        client = _clients.get(key) or _clients.setdefault(key, tracing_client(settings))
    except Exception as error:  # e.g. no API key for the hosted service
        logger.warning("LangSmith tracing is off: %s", error)
        langsmith.configure(enabled=False)
        return None
    global _exit_flush_seconds
    _exit_flush_seconds = settings.tracing.trace_flush_seconds
    atexit.unregister(flush_at_exit)  # registered (again) after the client's own handler, so it runs first
    atexit.register(flush_at_exit)
    if settings.tracing.langsmith_project:
        langsmith.configure(client=client, enabled=True, project_name=settings.tracing.langsmith_project)
    else:
        langsmith.configure(client=client, enabled=True)
    return client


def reset_tracing(flush: bool = True) -> None:
    """Stop and forget the configured clients (flushing them first, if asked) and langsmith's settings."""
    for client in _clients.values():
        client.cleanup(timeout=None if flush else 0)  # stops its background threads
    _clients.clear()
    langsmith.configure(client=None, enabled=None, project_name=None)


def root_config(name: str, llm_model: str | None, settings: AgentSettings) -> RunnableConfig:
    """Run config naming the root run after the agent, with the chat model in its metadata.

    `HUGGINGGPT_TRACE_TAGS=a,b` and `HUGGINGGPT_TRACE_METADATA=key=value,...` label every run (e.g. for
    an experiment); the CLI's `--tag` and `--metadata` add to them per command.
    """
    metadata = {**settings.tracing.trace_metadata, "agent": name, "llm_model": llm_model}
    return {
        "run_name": name,
        "tags": list(dict.fromkeys([name, *settings.tracing.trace_tags])),
        "metadata": metadata,
    }


def annotate_graph_run(callbacks: Any, metadata: dict[str, Any]) -> None:
    """Add `metadata` to the traced run of the graph a node runs in (`callbacks`: the node's), so it is sent
    when the graph's run ends. Does nothing when tracing is off; never raises."""
    try:
        for handler in getattr(callbacks, "handlers", None) or []:
            if not isinstance(handler, BaseTracer):
                continue
            run = handler.run_map.get(str(callbacks.parent_run_id))
            while run is not None and "langgraph_node" in (run.extra or {}).get("metadata", {}):
                run = handler.run_map.get(str(run.parent_run_id))  # from the node up to its graph
            if run is not None:
                run.add_metadata(metadata)
    except Exception:  # tracing must never break a turn
        logger.debug("could not annotate the graph run", exc_info=True)
