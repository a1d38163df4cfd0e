"""LangSmith tracing: off unless asked for, and then through a client that never sends secrets or bytes.

Turn it on with the standard variables (environment or `.env`): `LANGSMITH_TRACING=true` and
`LANGSMITH_API_KEY`, optionally `LANGSMITH_PROJECT` and `LANGSMITH_ENDPOINT` (the older `LANGCHAIN_*`
names work too). `build_agent` then gives its agent a tracer of its own (`agent_tracer`), whose
`langsmith.Client` sends every run of that agent (its model calls, its tools) through the anonymizer; it
changes nothing for the rest of the process. The entry points (the CLI, the web UI) also call
`install_tracing`: the process-wide part (LangSmith's global client and switch, the exit flush).

The anonymizer covers inputs, outputs, metadata and errors. LangSmith also keeps a model run's
`serialized` description as is; LangChain chat models serialize their keys as references, not values.

At an entry point's exit, queued traces get `HUGGINGGPT_TRACE_FLUSH_SECONDS` to reach LangSmith, and no
more: the client's background threads are daemons, so an unreachable LangSmith cannot hold the process
while they retry.
"""

from __future__ import annotations

import atexit
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import langsmith
from langchain_core.runnables import RunnableConfig
from langchain_core.tracers.base import BaseTracer
from langchain_core.tracers.langchain import LangChainTracer

from hugginggpt.agent.settings import AgentSettings
from hugginggpt.tools.redaction import Redactor
from hugginggpt.tools.settings import read_environment
from hugginggpt.tools.upstream import daemon_langsmith_client

logger = logging.getLogger(__name__)

MAX_LIST = 64  # longer lists of numbers (embeddings, masks) are summarised
BASE64_BLOB = re.compile(r"[A-Za-z0-9+/_\-\r\n]{512,}={0,2}")  # no spaces: never prose
DATA_URI = re.compile(r"data:[\w.+/-]*(;[\w=.-]+)*;base64,")


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
    return {v for v in values | settings.secret_values() if v}


def scrubber(secrets: Iterable[str]) -> Callable[[Any], Any]:
    """The client's anonymizer: hide bulky values, then redact (`hugginggpt.tools.redaction.Redactor`) known secrets
    and secret-shaped strings. One function, because a client with an anonymizer ignores its
    `hide_inputs`/`hide_outputs`."""
    redact = Redactor(secrets)
    return lambda data: redact(hide_bulky(data))


def flush_within(client: langsmith.Client, seconds: float) -> None:
    """Give `client`'s queued traces at most `seconds` to reach LangSmith."""
    client.flush(timeout=max(0.0, seconds))


def tracing_client(settings: AgentSettings) -> langsmith.Client:
    """A LangSmith client for the configured endpoint and key, with the scrubbing anonymizer."""
    key = settings.tracing.langsmith_api_key
    return daemon_langsmith_client()(
        api_url=settings.tracing.langsmith_endpoint,
        api_key=key.get_secret_value() if key else None,
        anonymizer=scrubber(known_secrets(settings)),
    )


def agent_tracer(settings: AgentSettings) -> LangChainTracer | None:
    """If tracing is asked for, a tracer for one agent's runs, sending through `tracing_client`.

    None when it is not, or when it cannot be (a warning says why). Never raises, and never touches
    LangSmith's process-wide settings; once made, LangSmith errors stay in the client's background thread.
    """
    if not settings.tracing.langsmith_tracing:
        return None
    endpoint = settings.tracing.langsmith_endpoint
    if settings.tracing.langsmith_api_key is None and (endpoint is None or "smith.langchain.com" in endpoint):
        logger.warning("LANGSMITH_TRACING is true but LANGSMITH_API_KEY is not set: tracing stays off.")
        return None
    try:
        client = tracing_client(settings)
    except Exception as error:  # e.g. no API key for the hosted service
        logger.warning("LangSmith tracing is off: %s", error)
        return None
    return LangChainTracer(client=client, project_name=settings.tracing.langsmith_project)


def install_tracing(settings: AgentSettings) -> LangChainTracer | None:
    """The process-wide part, for entry points only (the CLI, the web UI): `agent_tracer`'s client becomes
    LangSmith's global one (so any run of the process is scrubbed), tracing asked for but unusable is
    switched off for the process, and at exit queued traces get HUGGINGGPT_TRACE_FLUSH_SECONDS. Returns
    the tracer, to pass to `build_agent(callbacks=...)`."""
    tracer = agent_tracer(settings)
    if tracer is None:
        if settings.tracing.langsmith_tracing:
            langsmith.configure(enabled=False)
        return None
    if settings.tracing.langsmith_project:
        langsmith.configure(
            client=tracer.client, enabled=True, project_name=settings.tracing.langsmith_project
        )
    else:
        langsmith.configure(client=tracer.client, enabled=True)
    # registered after the client's own exit handler, so it runs first
    atexit.register(flush_within, tracer.client, settings.tracing.trace_flush_seconds)
    return tracer


def tracers_of(agent: Any) -> list[LangChainTracer]:
    """The LangSmith tracers an agent from `build_agent` was given or made."""
    callbacks = (getattr(agent, "config", None) or {}).get("callbacks") or []
    return [handler for handler in callbacks if isinstance(handler, LangChainTracer)]


def close_tracing(agent: Any, flush: bool = True) -> None:
    """Stop the agent's tracers' clients (sending what is queued first, if asked)."""
    for tracer in tracers_of(agent):
        tracer.client.cleanup(timeout=None if flush else 0)  # stops its background threads


def reset_tracing() -> None:
    """Forget LangSmith's process-wide client and switch (what `install_tracing` set)."""
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
