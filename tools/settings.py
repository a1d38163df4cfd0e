"""Settings for the Hugging Face toolkit, read once from the environment and `.env`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Self

from dotenv import dotenv_values
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

DEFAULT_OUTPUT_DIR = Path("outputs")


def read_environment(env_file: str | Path | None = ".env") -> dict[str, str]:
    """Merge `.env` (if present) under the process environment: real variables win."""
    merged: dict[str, str] = {}
    if env_file is not None and Path(env_file).is_file():
        merged.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    merged.update(os.environ)
    return merged


def first_value(env: Mapping[str, str], *names: str) -> str | None:
    for name in names:
        value = env.get(name, "").strip()
        if value:
            return value
    return None


class HFSettings(BaseModel):
    """Everything the toolkit needs to reach Hugging Face and to read and write files."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ENV: ClassVar[dict[str, tuple[str, ...]]] = {
        "hf_token": ("HF_TOKEN", "HUGGINGFACEHUB_API_TOKEN", "HUGGING_FACE_HUB_TOKEN"),
        "provider": ("HUGGINGGPT_PROVIDER",),
        "timeout": ("HUGGINGGPT_TIMEOUT",),
        "output_dir": ("HUGGINGGPT_OUTPUT_DIR",),
        "allowed_dirs": ("HUGGINGGPT_ALLOWED_DIRS",),
        "allow_private_urls": ("HUGGINGGPT_ALLOW_PRIVATE_URLS",),
        "max_input_mb": ("HUGGINGGPT_MAX_INPUT_MB",),
        "max_attempts": ("HUGGINGGPT_MAX_ATTEMPTS",),
        "model_cache_seconds": ("HUGGINGGPT_MODEL_CACHE_SECONDS",),
    }

    hf_token: SecretStr | None = Field(default=None, description="HF_TOKEN (or HUGGINGFACEHUB_API_TOKEN).")
    provider: str = Field(default="auto", description="Inference provider; 'auto' picks a live one.")
    timeout: float = Field(default=120.0, gt=0, description="Seconds before one inference call gives up.")
    output_dir: Path = Field(default=DEFAULT_OUTPUT_DIR, description="Where made files are written.")
    allowed_dirs: tuple[Path, ...] = Field(default=(), description="Folders media inputs may be read from.")
    allow_private_urls: bool = Field(default=False, description="Allow URLs on private/loopback addresses.")
    max_input_mb: float = Field(default=25.0, gt=0, description="Largest media input accepted, in MB.")
    max_attempts: int = Field(default=3, ge=1, le=10, description="Models/providers tried per call.")
    model_cache_seconds: float = Field(default=600.0, ge=0, description="How long Hub model lists are kept.")

    @field_validator("allowed_dirs", mode="before")
    @classmethod
    def _split_dirs(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(Path(p) for p in value.split(os.pathsep) if p.strip())
        return value

    @field_validator("provider")
    @classmethod
    def _provider_lower(cls, value: str) -> str:
        return value.strip().lower() or "auto"

    @property
    def input_dirs(self) -> tuple[Path, ...]:
        """Resolved folders media inputs may come from (default: current folder and output folder)."""
        dirs = self.allowed_dirs or (Path.cwd(),)
        return tuple(dict.fromkeys(p.expanduser().resolve() for p in (*dirs, self.output_dir)))

    @property
    def max_input_bytes(self) -> int:
        return int(self.max_input_mb * 1024 * 1024)

    def token(self) -> str | None:
        """The HF token as plain text, for the client only."""
        return self.hf_token.get_secret_value() if self.hf_token else None

    @classmethod
    def env_names(cls) -> dict[str, tuple[str, ...]]:
        """Field -> environment variable names (first is the documented one), this class and its bases."""
        names: dict[str, tuple[str, ...]] = {}
        for klass in reversed(cls.__mro__):
            names.update(vars(klass).get("ENV", {}))
        return names

    @classmethod
    def from_env(cls, env_file: str | Path | None = ".env", **overrides: Any) -> Self:
        """Build settings from `.env` and the environment; keyword overrides win."""
        env = read_environment(env_file)
        found = {field: first_value(env, *names) for field, names in cls.env_names().items()}
        return cls(**{**{k: v for k, v in found.items() if v is not None}, **overrides})
