"""One clear sentence for errors that end a request (the LLM unreachable, bad settings...)."""

from __future__ import annotations

import sqlite3
import sys

import openai
from pydantic import ValidationError

from hugginggpt.agent.settings import AgentSettings, MissingSetting
from hugginggpt.agent.store import StoreError
from hugginggpt.tools.inference.errors import InputRefused, OutputNotSaved
from hugginggpt.tools.text import invalid_setting, one_line, shorten

ENV_NAMES = {field: names[0] for field, names in AgentSettings.env_names().items()}  # documented names


def _llm_message(error: openai.APIStatusError) -> str:
    body = error.body if isinstance(error.body, dict) else {}
    inner = body.get("error", body) if isinstance(body, dict) else {}
    message = inner.get("message") if isinstance(inner, dict) else None
    return one_line(message or error.message)


def describe_error(error: BaseException) -> str:
    """A sentence a user can act on; never includes secrets or a traceback."""
    if isinstance(
        error, MissingSetting | InputRefused | OutputNotSaved | StoreError
    ):  # already one sentence saying what to do
        return str(error)
    if isinstance(error, openai.AuthenticationError):
        return "the LLM server refused OPENAI_API_KEY (HTTP 401); check the key in .env."
    if isinstance(error, openai.NotFoundError):
        return f"the LLM server does not know that model ({_llm_message(error)}); check OPENAI_MODEL."
    if isinstance(error, openai.RateLimitError):
        return "the LLM server kept rate-limiting requests (HTTP 429); wait a little and try again."
    if isinstance(error, openai.APITimeoutError | TimeoutError):  # TimeoutError: a stream gone silent
        waited = getattr(error, "timeout_s", None)
        silent = f" for {waited:g} s" if isinstance(waited, int | float) else ""
        return (
            f"the LLM server sent nothing{silent}, longer than HUGGINGGPT_LLM_TIMEOUT allows; a slow or"
            " self-hosted model may need a higher HUGGINGGPT_LLM_TIMEOUT (see README, Self-hosted models)."
        )
    if isinstance(error, openai.APIConnectionError):
        return "could not reach the LLM server; check OPENAI_BASE_URL and the network."
    if isinstance(error, openai.APIStatusError):
        return f"the LLM server answered HTTP {error.status_code}: {_llm_message(error)}."
    if isinstance(error, ValidationError):
        return invalid_setting(error, AgentSettings.variable(error))
    if _is_postgres_error(error):
        cause = one_line(error) or type(error).__name__
        return (
            f"the conversation store in PostgreSQL could not be used ({cause}); "
            "check HUGGINGGPT_DATABASE_URL and that the server is running."
        )
    if isinstance(error, sqlite3.Error):
        return f"the conversation store could not be used ({error}); check HUGGINGGPT_OUTPUT_DIR."
    return f"unexpected error ({type(error).__name__}: {shorten(str(error), 200)}); run with --verbose for details."


def _is_postgres_error(error: BaseException) -> bool:
    psycopg = sys.modules.get("psycopg")  # loaded only when HUGGINGGPT_DATABASE_URL is used
    return psycopg is not None and isinstance(error, psycopg.Error)
