"""The agent's settings: the toolkit's (`HFSettings`) and the LLM, tracing, store and web sections, composed."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import SecretStr, field_validator

from hugginggpt.tools.settings import (
    HFSettings,
    Settings,
    is_loopback,
    section,
    setting,
    split_commas,
    split_pairs,
)

DEFAULT_LLM = "gpt-4.1-mini"
# A web thread's name, and a sign-in's user name (its namespace); never `.` or `..` (it names a folder).
THREAD_NAME = re.compile(r"^(?!\.\.?$)[\w.-]{1,64}$")


class MissingSetting(RuntimeError):
    """A required variable is not set (or is unusable); the message says which and how to set it."""


def logins(value: SecretStr) -> list[tuple[str, str]]:
    """`user:password,user:password` -> pairs; refused in one sentence that does not echo the value."""
    pairs = []
    for item in value.get_secret_value().split(","):
        user, sep, password = item.strip().partition(":")
        if not sep or not THREAD_NAME.match(user) or not password:
            raise MissingSetting(
                "HUGGINGGPT_WEB_AUTH is invalid: expected user:password pairs separated by commas"
                " (user names of letters, digits, _ . -)."
            )
        pairs.append((user, password))
    return pairs


class LLMSettings(Settings):
    """The chat model (any OpenAI-compatible Chat Completions server) and the agent's limits."""

    openai_api_key: SecretStr | None = setting(None, "OPENAI_API_KEY", description="Key of the LLM server.")
    openai_base_url: str | None = setting(
        None, "OPENAI_BASE_URL", description="An OpenAI-compatible server (Ollama, vLLM, ...)."
    )
    openai_model: str = setting(DEFAULT_LLM, "OPENAI_MODEL", description="A tool-calling chat model.")
    llm_timeout: float = setting(
        120.0, "HUGGINGGPT_LLM_TIMEOUT", gt=0, description="Seconds before one LLM call gives up."
    )
    tool_selection: Literal["auto", "all"] = setting(
        "auto",
        "HUGGINGGPT_TOOL_SELECTION",
        description="auto: offer each model call the tools the request needs; all: every tool.",
    )
    max_model_calls: int = setting(
        12, "HUGGINGGPT_MAX_MODEL_CALLS", ge=1, description="Model turns allowed per request."
    )
    max_tool_calls: int = setting(
        30, "HUGGINGGPT_MAX_TOOL_CALLS", ge=1, description="Tool calls allowed per request."
    )
    plan_streaming: bool = setting(
        True,
        "HUGGINGGPT_PLAN_STREAMING",
        description="Start run_plan steps while the model is still writing the plan.",
    )
    context_tokens: int = setting(
        100_000, "HUGGINGGPT_CONTEXT_TOKENS", ge=2_000, description="Summarise history beyond this."
    )
    # The LLM's part of the retry budget (README, "Retries"); the tools' part is in HFSettings.
    llm_retries: int = setting(
        3, "HUGGINGGPT_LLM_RETRIES", ge=0, le=10, description="Retries of one failed LLM call."
    )


class TracingSettings(Settings):
    """Tracing (LangSmith): off unless asked for; see agent/tracing.py."""

    langsmith_tracing: bool = setting(
        False, "LANGSMITH_TRACING", "LANGSMITH_TRACING_V2", "LANGCHAIN_TRACING_V2", description="Trace runs."
    )
    langsmith_api_key: SecretStr | None = setting(
        None, "LANGSMITH_API_KEY", "LANGCHAIN_API_KEY", description="LangSmith API key."
    )
    langsmith_project: str | None = setting(
        None, "LANGSMITH_PROJECT", "LANGCHAIN_PROJECT", description="Project the runs are filed under."
    )
    langsmith_endpoint: str | None = setting(
        None, "LANGSMITH_ENDPOINT", "LANGCHAIN_ENDPOINT", description="A self-hosted LangSmith's URL."
    )
    trace_flush_seconds: float = setting(
        3.0,
        "HUGGINGGPT_TRACE_FLUSH_SECONDS",
        ge=0,
        description="Longest wait at exit for queued traces to reach LangSmith.",
    )
    trace_tags: tuple[str, ...] = setting((), "HUGGINGGPT_TRACE_TAGS", description="Tags on every run.")
    trace_metadata: dict[str, str] = setting(
        {}, "HUGGINGGPT_TRACE_METADATA", description="key=value,... on every run."
    )

    @field_validator("trace_tags", mode="before")
    @classmethod
    def _split_tags(cls, value: Any) -> Any:
        return split_commas(value)

    @field_validator("trace_metadata", mode="before")
    @classmethod
    def _split_pairs(cls, value: Any) -> Any:
        return split_pairs(value)


class StoreSettings(Settings):
    """The conversation store (agent/store.py)."""

    database_url: SecretStr | None = setting(
        None,
        "HUGGINGGPT_DATABASE_URL",
        description="postgresql:// URL of the conversation store (default: SQLite in the output folder).",
    )
    thread_wait: float = setting(
        120.0,
        "HUGGINGGPT_THREAD_WAIT",
        ge=0,
        le=86_400,
        description="Seconds a turn waits while another turn runs on the same thread.",
    )


class WebSettings(Settings):
    """The web UI, and the served agent (`make serve`: the whole server, its MCP and A2A routes included)."""

    web_host: str = setting("127.0.0.1", "GRADIO_SERVER_NAME", description="Address the web UI listens on.")
    web_port: int = setting(
        7860, "GRADIO_SERVER_PORT", ge=1, le=65535, description="Port the web UI listens on."
    )
    web_auth: SecretStr | None = setting(
        None,
        "HUGGINGGPT_WEB_AUTH",
        description="Web UI sign-ins, user:password[,user:password...]; needed beyond loopback.",
    )
    serve_token: SecretStr | None = setting(
        None,
        "HUGGINGGPT_SERVE_TOKEN",
        description="Bearer token every request to `make serve` must carry; needed beyond loopback.",
    )

    def web_sign_in(self, host: str) -> list[tuple[str, str]]:
        """The web UI's (user, password) pairs for listening on `host`; empty when sign-in is off.

        Raises `MissingSetting` for an address beyond loopback without them: anyone who can reach it
        could use the keys and read every conversation.
        """
        pairs = logins(self.web_auth) if self.web_auth else []
        if not pairs and not is_loopback(host):
            raise MissingSetting(
                f"refusing to listen on {host or 'every interface'} without sign-in: set HUGGINGGPT_WEB_AUTH"
                "=user:password (comma-separated pairs) in .env, or listen on 127.0.0.1."
            )
        return pairs


class AgentSettings(Settings):
    """The toolkit's settings and the agent's sections; keyword overrides may name any field of any
    section (`AgentSettings(openai_model=..., timeout=...)`)."""

    toolkit: HFSettings = section(HFSettings)
    llm: LLMSettings = section(LLMSettings)
    tracing: TracingSettings = section(TracingSettings)
    store: StoreSettings = section(StoreSettings)
    web: WebSettings = section(WebSettings)

    @property
    def checkpoint_path(self) -> Path:
        """The SQLite file holding conversations."""
        return self.toolkit.output_dir / "conversations.sqlite"

    def require_keys(self) -> None:
        """Raise `MissingSetting` naming the first missing key and how to set it."""
        for value, name, where in (
            (self.llm.openai_api_key, "OPENAI_API_KEY", "your OpenAI (or compatible server's) API key"),
            (
                self.toolkit.hf_token,
                "HF_TOKEN",
                "a Hugging Face token from https://huggingface.co/settings/tokens",
            ),
        ):
            local = name == "HF_TOKEN" and self.toolkit.local.backend == "local"  # local: no HF calls
            if value is None and not local:
                raise MissingSetting(
                    f"{name} is not set: put {name}=<{where}> in .env (see .env.example) or export it."
                )
