"""LLM and agent settings, extending the toolkit's settings (one object for everything)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field, SecretStr

from tools.settings import HFSettings

DEFAULT_LLM = "gpt-4.1-mini"


class MissingSetting(RuntimeError):
    """A required variable is not set; the message says which and how to set it."""


class AgentSettings(HFSettings):
    """Toolkit settings plus the chat model (any OpenAI-compatible Chat Completions server)."""

    ENV: ClassVar[dict[str, tuple[str, ...]]] = {
        "openai_api_key": ("OPENAI_API_KEY",),
        "openai_base_url": ("OPENAI_BASE_URL",),
        "openai_model": ("OPENAI_MODEL",),
        "llm_timeout": ("HUGGINGGPT_LLM_TIMEOUT",),
        "max_model_calls": ("HUGGINGGPT_MAX_MODEL_CALLS",),
        "max_tool_calls": ("HUGGINGGPT_MAX_TOOL_CALLS",),
        "context_tokens": ("HUGGINGGPT_CONTEXT_TOKENS",),
        "retry_delay": ("HUGGINGGPT_RETRY_DELAY",),
    }

    openai_api_key: SecretStr | None = Field(default=None, description="OPENAI_API_KEY.")
    openai_base_url: str | None = Field(default=None, description="OPENAI_BASE_URL (Ollama, vLLM, ...).")
    openai_model: str = Field(default=DEFAULT_LLM, description="OPENAI_MODEL: a tool-calling chat model.")
    llm_timeout: float = Field(default=120.0, gt=0, description="Seconds before one LLM call gives up.")
    max_model_calls: int = Field(default=12, ge=1, description="Model turns allowed per request.")
    max_tool_calls: int = Field(default=30, ge=1, description="Tool calls allowed per request.")
    context_tokens: int = Field(default=100_000, ge=2_000, description="Summarise history beyond this.")
    retry_delay: float = Field(
        default=1.0, ge=0, le=60, description="Seconds before retrying a failed LLM or tool call (doubling)."
    )

    @property
    def checkpoint_path(self) -> Path:
        """The SQLite file holding conversations."""
        return self.output_dir / "conversations.sqlite"

    def require_keys(self) -> None:
        """Raise `MissingSetting` naming the first missing key and how to set it."""
        for value, name, where in (
            (self.openai_api_key, "OPENAI_API_KEY", "your OpenAI (or compatible server's) API key"),
            (self.hf_token, "HF_TOKEN", "a Hugging Face token from https://huggingface.co/settings/tokens"),
        ):
            if value is None:
                raise MissingSetting(
                    f"{name} is not set: put {name}=<{where}> in .env (see .env.example) or export it."
                )
