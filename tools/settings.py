"""Settings for the Hugging Face toolkit, one `pydantic-settings` class per component, read once from the
environment and `.env`.

Each field names its own environment variables (`setting(default, "NAME", "OLDER_NAME", ...)`: the first
one documented, the first one set wins; blank ones count as unset); real variables win over `.env`.
`HFSettings` (the toolkit) holds its own fields and the sections `local`, `mcp_server` and `mcp_client`;
`hugginggpt.agent.settings.AgentSettings` composes it with the agent's sections. Keyword overrides may name any field
of any section (`HFSettings(backend="local")`); an unknown one is a TypeError, as for a function.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Any, Literal, Self, get_args

from dotenv import dotenv_values
from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings.sources import DotenvType

DEFAULT_OUTPUT_DIR = Path("outputs")


def setting(default: Any, *env: str, **constraints: Any) -> Any:
    """A settings field read from the variables `env` (first set one wins; the first is documented)."""
    return Field(default, validation_alias=AliasChoices(*env), **constraints)


def section(cls: type[Settings]) -> Any:
    """A field holding a component's settings (read by that component's class)."""
    return Field(default_factory=cls)


def is_loopback(host: str) -> bool:
    """Whether a listening address keeps a server to this machine (127.0.0.0/8, ::1, localhost); a host
    name or "" (every interface) does not."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def read_environment(env_file: str | Path | None = ".env") -> dict[str, str]:
    """Merge `.env` (if present) under the process environment: real variables win."""
    merged: dict[str, str] = {}
    if env_file is not None and Path(env_file).is_file():
        merged.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    merged.update(os.environ)
    return merged


def split_pairs(value: Any) -> Any:
    """'a=1, b=2' -> {'a': '1', 'b': '2'} (pairs without '=' or a key are dropped); other values pass."""
    if isinstance(value, str):
        pairs = (p.partition("=") for p in value.split(","))
        return {k.strip(): v.strip() for k, sep, v in pairs if sep and k.strip()}
    return value


def split_commas(value: Any) -> Any:
    """'a, b,,c' -> ('a', 'b', 'c'); other values pass."""
    if isinstance(value, str):
        return tuple(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))
    return value


def is_secret(annotation: Any) -> bool:
    """Whether a field's type holds a secret (`SecretStr`, optional or not)."""
    return annotation is SecretStr or SecretStr in get_args(annotation)


class _OwnFields(PydanticBaseSettingsSource):
    """An environment source giving only these settings' own variables: sections read theirs (a
    variable named `LOCAL` or `WEB` is no section), and the rest of `.env` is not ours."""

    def __init__(self, source: PydanticBaseSettingsSource, own: set[str]) -> None:
        super().__init__(source.settings_cls)
        self.source, self.own = source, own

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self.source.get_field_value(field, field_name)

    def __call__(self) -> dict[str, Any]:
        return {k: v for k, v in self.source().items() if k in self.own}


class Settings(BaseSettings):
    """Frozen settings whose fields name their environment variables (see `setting`), and whose
    `section` fields hold other components' settings."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_ignore_empty=True,  # `HF_TOKEN=` in .env is unset, as in .env.example
        enable_decoding=False,  # lists and pairs are comma-separated text, split by validators
        extra="ignore",  # unknown keywords are refused by `__init__`
        frozen=True,
        validate_by_name=True,
        validate_by_alias=True,
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        own = {alias for info in cls.model_fields.values() for alias in _aliases(info)}
        return (init_settings, _OwnFields(env_settings, own), _OwnFields(dotenv_settings, own))

    @classmethod
    def sections(cls) -> dict[str, type[Settings]]:
        """Field -> the component settings class it holds."""
        return {
            name: info.annotation
            for name, info in cls.model_fields.items()
            if isinstance(info.annotation, type) and issubclass(info.annotation, Settings)
        }

    @classmethod
    def env_names(cls) -> dict[str, tuple[str, ...]]:
        """Field -> its environment variable names (the first is the documented one), sections included."""
        names: dict[str, tuple[str, ...]] = {}
        for name, info in cls.model_fields.items():
            if isinstance(info.validation_alias, AliasChoices):
                names[name] = tuple(str(n) for n in info.validation_alias.choices)
        for component in cls.sections().values():
            names.update(component.env_names())
        return names

    @classmethod
    def secret_env_names(cls) -> tuple[str, ...]:
        """Every variable that holds a secret (the fields typed `SecretStr`), sections included."""
        names = cls.env_names()
        secret = [n for n, info in cls.model_fields.items() if is_secret(info.annotation)]
        inner = (n for component in cls.sections().values() for n in component.secret_env_names())
        return (*(name for field in secret for name in names.get(field, ())), *inner)

    @classmethod
    def variable(cls, error: ValidationError) -> str:
        """The variable a settings error is about, as the user would set it (its documented name)."""
        loc = error.errors()[0]["loc"] if error.errors() else ()
        names = cls.env_names()
        known = {alias for aliases in names.values() for alias in aliases}
        for part in reversed([str(p) for p in loc]):
            if part in names:
                return names[part][0]
            if part in known:
                return part
        return str(loc[-1]) if loc else "a setting"

    @classmethod
    def from_env(cls, env_file: DotenvType | None = ".env", **overrides: Any) -> Self:
        """Build settings from `env_file` and the environment; keyword overrides (of any section) win."""
        data = cls._route(overrides)
        for name, component in cls.sections().items():
            given = data.get(name)
            if not isinstance(given, Settings):
                data[name] = component.from_env(env_file, **(given or {}))
        return cls(_env_file=env_file, **data)

    def __init__(self, **values: Any) -> None:
        unknown = [k for k in values if not k.startswith("_") and k not in self.known()]
        if unknown:
            raise TypeError(f"{type(self).__name__} has no setting {unknown[0]!r}")
        super().__init__(**values)

    @classmethod
    def known(cls) -> set[str]:
        """Every keyword these settings take: fields, their variables, sections and theirs."""
        names = {alias for name, info in cls.model_fields.items() for alias in (name, *_aliases(info))}
        return names.union(*(c.known() for c in cls.sections().values()))

    @model_validator(mode="before")
    @classmethod
    def _routed(cls, data: Any) -> Any:
        return cls._route(data) if isinstance(data, dict) else data

    @classmethod
    def _route(cls, data: dict[str, Any]) -> dict[str, Any]:
        """Move keywords naming a section's field into that section's."""
        routed = dict(data)
        for key in data:
            owner = None if key in cls.model_fields else cls.owner(key)
            if owner is not None:
                inner = routed.get(owner) or {}
                routed[owner] = {
                    **(dict(inner) if isinstance(inner, Settings) else inner),
                    key: routed.pop(key),
                }
        return routed

    @classmethod
    def owner(cls, key: str) -> str | None:
        """The section taking the keyword `key` (None: these settings' own, or none)."""
        return next((name for name, c in cls.sections().items() if key in c.known()), None)

    def secret_values(self) -> set[str]:
        """The secret values these settings hold, sections included (for redaction)."""
        found: set[str] = set()
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, Settings):
                found |= value.secret_values()
            elif isinstance(value, SecretStr) and value.get_secret_value():
                found.add(value.get_secret_value())
        return found


def _aliases(info: Any) -> tuple[str, ...]:
    alias = info.validation_alias
    return tuple(str(a) for a in alias.choices) if isinstance(alias, AliasChoices) else ()


class LocalSettings(Settings):
    """Local inference (README, "Local models"): off unless asked for; needs the `local` extra."""

    backend: Literal["router", "local", "hybrid"] = setting(
        "router",
        "HUGGINGGPT_BACKEND",
        description="router: HF only; local: this machine only; hybrid: local first, then the router.",
    )
    local_models: dict[str, str] = setting(
        {}, "HUGGINGGPT_LOCAL_MODELS", description="task=Hub id or folder,... run on this machine."
    )
    local_download: bool = setting(
        False, "HUGGINGGPT_LOCAL_DOWNLOAD", description="Download a local model missing from the HF cache."
    )
    local_workers: int = setting(
        0, "HUGGINGGPT_LOCAL_WORKERS", ge=0, le=64, description="Threads running local models (0: per core)."
    )
    local_device: str = setting(
        "auto",
        "HUGGINGGPT_LOCAL_DEVICE",
        pattern=r"^(auto|cpu|mps|cuda(:\d+)?)$",
        description="Where local models run: auto, cpu, cuda, cuda:1, mps.",
    )

    @field_validator("backend", "local_device", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("local_models", mode="before")
    @classmethod
    def _local_models(cls, value: Any) -> Any:
        from hugginggpt.tools.inference.local.tasks import (
            LOCAL_TASKS,  # data only; imported here to keep settings first
        )
        from hugginggpt.tools.tasks.table import task_id

        pairs = split_pairs(value)
        if not isinstance(pairs, dict):
            return pairs
        models: dict[str, str] = {}
        for task, model in pairs.items():
            key = task_id(str(task))
            if key not in LOCAL_TASKS:
                raise ValueError(
                    f"'{task}' is not a task that runs locally; those are {', '.join(LOCAL_TASKS)}"
                )
            models[key] = str(model).strip()
        return models


class MCPServerSettings(Settings):
    """The MCP server (tools/mcp): `python -m hugginggpt.tools.mcp` / `hugginggpt-mcp`."""

    mcp_host: str = setting(
        "127.0.0.1", "HUGGINGGPT_MCP_HOST", description="Address the MCP HTTP server binds."
    )
    mcp_port: int = setting(
        8765, "HUGGINGGPT_MCP_PORT", ge=1, le=65535, description="Port of the MCP HTTP server."
    )
    mcp_token: SecretStr | None = setting(
        None, "HUGGINGGPT_MCP_TOKEN", description="Bearer token every MCP HTTP request must carry."
    )
    mcp_allowed_origins: tuple[str, ...] = setting(
        (), "HUGGINGGPT_MCP_ALLOWED_ORIGINS", description="Browser origins the MCP HTTP server accepts."
    )
    mcp_allowed_hosts: tuple[str, ...] = setting(
        (), "HUGGINGGPT_MCP_ALLOWED_HOSTS", description="Host names the MCP HTTP server answers to."
    )
    mcp_inline_mb: float = setting(
        2.0, "HUGGINGGPT_MCP_INLINE_MB", ge=0, description="Largest file inlined in an MCP result, in MB."
    )
    mcp_progress_seconds: float = setting(
        5.0, "HUGGINGGPT_MCP_PROGRESS_SECONDS", gt=0, description="Seconds between MCP progress notices."
    )

    @field_validator("mcp_allowed_origins", "mcp_allowed_hosts", mode="before")
    @classmethod
    def _split_commas(cls, value: Any) -> Any:
        return split_commas(value)

    @property
    def mcp_inline_bytes(self) -> int:
        return int(self.mcp_inline_mb * 1024 * 1024)

    def mcp_bearer(self) -> str | None:
        """The MCP server's bearer token as plain text, for the HTTP check only."""
        return self.mcp_token.get_secret_value() if self.mcp_token else None


class MCPClientSettings(Settings):
    """Other MCP servers whose tools join the toolkit (tools/mcp_client)."""

    mcp_servers: Path | None = setting(
        None, "HUGGINGGPT_MCP_SERVERS", description='JSON file of other MCP servers ({"mcpServers": ...}).'
    )
    mcp_call_timeout: float = setting(
        120.0, "HUGGINGGPT_MCP_CALL_TIMEOUT", gt=0, description="Seconds one call of another server may take."
    )


class HFSettings(Settings):
    """Everything the toolkit needs to reach Hugging Face and to read and write files, with its local
    models, its MCP server and the other MCP servers it uses as sections."""

    hf_token: SecretStr | None = setting(
        None,
        "HF_TOKEN",
        "HUGGINGFACEHUB_API_TOKEN",
        "HUGGING_FACE_HUB_TOKEN",
        description="Hugging Face token.",
    )
    provider: str = setting(
        "auto", "HUGGINGGPT_PROVIDER", description="Inference provider; 'auto' picks a live one."
    )
    timeout: float = setting(
        120.0, "HUGGINGGPT_TIMEOUT", gt=0, description="Seconds before one inference call gives up."
    )
    download_timeout: float = setting(
        60.0, "HUGGINGGPT_DOWNLOAD_TIMEOUT", gt=0, description="Seconds a URL input may take, in all."
    )
    output_dir: Path = setting(
        DEFAULT_OUTPUT_DIR, "HUGGINGGPT_OUTPUT_DIR", description="Where made files are written."
    )
    allowed_dirs: tuple[Path, ...] = setting(
        (), "HUGGINGGPT_ALLOWED_DIRS", description="Folders media inputs may be read from."
    )
    allow_private_urls: bool = setting(
        False, "HUGGINGGPT_ALLOW_PRIVATE_URLS", description="Allow URLs on private/loopback addresses."
    )
    max_input_mb: float = setting(
        25.0, "HUGGINGGPT_MAX_INPUT_MB", gt=0, description="Largest media input accepted, in MB."
    )
    # The retry budget of one tool call (README, "Retries"): attempts x (1 + rate-limit retries), all of it
    # again `tool_retries` times when every failure was passing (by the agent's ToolRetryMiddleware, or by
    # run_plan for its steps).
    max_attempts: int = setting(
        3, "HUGGINGGPT_MAX_ATTEMPTS", ge=1, le=10, description="Models/providers tried per call."
    )
    rate_limit_retries: int = setting(
        2, "HUGGINGGPT_RATE_LIMIT_RETRIES", ge=0, le=10, description="Retries of one model after HTTP 429."
    )
    max_retry_wait: float = setting(
        30.0, "HUGGINGGPT_MAX_RETRY_WAIT", ge=0, description="Longest wait before a rate-limit retry, in s."
    )
    tool_retries: int = setting(
        1,
        "HUGGINGGPT_TOOL_RETRIES",
        ge=0,
        le=5,
        description="Retries of a tool call whose failures all pass.",
    )
    retry_delay: float = setting(
        1.0,
        "HUGGINGGPT_RETRY_DELAY",
        ge=0,
        le=60,
        description="Seconds before retrying a failed LLM or tool call (doubling).",
    )
    max_plan_steps: int = setting(
        12, "HUGGINGGPT_MAX_PLAN_STEPS", ge=1, le=100, description="Most steps one run_plan call may have."
    )
    model_cache_seconds: float = setting(
        600.0, "HUGGINGGPT_MODEL_CACHE_SECONDS", ge=0, description="How long Hub model lists are kept."
    )
    local: LocalSettings = section(LocalSettings)
    mcp_server: MCPServerSettings = section(MCPServerSettings)
    mcp_client: MCPClientSettings = section(MCPClientSettings)

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

    @property
    def hf_requests_per_attempt(self) -> int:
        """The most HF requests one model attempt makes (the first try and its rate-limit retries)."""
        return 1 + self.rate_limit_retries

    @property
    def hf_requests_per_tool_call(self) -> int:
        """The most HF inference requests one tool call can make, its retries included."""
        return self.max_attempts * self.hf_requests_per_attempt * (1 + self.tool_retries)

    def token(self) -> str | None:
        """The HF token as plain text, for the client only."""
        return self.hf_token.get_secret_value() if self.hf_token else None
