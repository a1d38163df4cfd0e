"""How the MCP server is reached: stdio (a client starts it), or streamable HTTP at `/mcp` with the
checks a network service needs: loopback by default, a bearer token beyond it, Host and Origin checks."""

from __future__ import annotations

import asyncio
import hmac
import logging
from typing import Any

from mcp.server import Server
from mcp.server.stdio import stdio_server
from mcp.server.transport_security import TransportSecuritySettings
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from hugginggpt.tools.settings import HFSettings, is_loopback

MCP_PATH = "/mcp"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
ANY_ADDRESS = ("0.0.0.0", "::", "")
STOP_GRACE_SECONDS = 2  # on a stop signal, calls still running after this are cancelled (not waited out)


class BindRefused(ValueError):
    """The HTTP server may not listen there as configured."""


def check_bind(host: str, settings: HFSettings) -> None:
    """Beyond loopback every request must carry the bearer token: refuse to start without one."""
    if not is_loopback(host) and not settings.mcp_server.mcp_bearer():
        raise BindRefused(
            f"listening on {host or 'every address'} needs HUGGINGGPT_MCP_TOKEN set (every request must"
            " then send it as a bearer token); without one, listen on 127.0.0.1"
        )


def transport_security(host: str, settings: HFSettings) -> TransportSecuritySettings:
    """DNS-rebinding protection (the SDK's): the Host header must name this server and a browser's
    Origin must be a loopback page or one allowed by HUGGINGGPT_MCP_ALLOWED_ORIGINS."""
    names = [*LOOPBACK_NAMES, *settings.mcp_server.mcp_allowed_hosts]
    if host not in ANY_ADDRESS and not is_loopback(host):
        names.append(f"[{host}]" if ":" in host else host)
    origins = [f"{scheme}://{name}" for scheme in ("http", "https") for name in LOOPBACK_NAMES]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[*names, *(f"{name}:*" for name in names)],
        allowed_origins=[
            *origins,
            *(f"{origin}:*" for origin in origins),
            *settings.mcp_server.mcp_allowed_origins,
        ],
    )


class BearerToken:
    """ASGI middleware: every HTTP request needs `Authorization: Bearer <token>` (401 otherwise)."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scheme, _, given = Headers(scope=scope).get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), self.token):
                refused = JSONResponse(
                    {"error": "invalid_token", "error_description": "a valid bearer token is required"},
                    status_code=401,
                    headers={"WWW-Authenticate": 'Bearer realm="hugginggpt-mcp"'},
                )
                await refused(scope, receive, send)
                return
        await self.app(scope, receive, send)


def http_app(server: Server[Any], settings: HFSettings, host: str) -> ASGIApp:
    """The streamable HTTP app at /mcp, token-checked when a token is set (required beyond loopback)."""
    check_bind(host, settings)
    # A data: URI of the largest accepted input, as base64, plus room for the rest of the message.
    body_limit = settings.max_input_bytes * 4 // 3 + 1024 * 1024
    app: ASGIApp = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        transport_security=transport_security(host, settings),
        host=host,
        max_request_body_size=body_limit,
    )
    token = settings.mcp_server.mcp_bearer()
    return BearerToken(app, token) if token else app


class CallsCancelledOnStop(logging.Filter):
    """uvicorn logs a request it cancels after the stop's grace as an ASGI error: here it is what was
    asked for (a call in flight cancelled by a stop signal), so that record is dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        while error is not None:
            if isinstance(error, asyncio.CancelledError):
                return False
            error = error.__cause__ or error.__context__
        return True


async def serve_http(server: Server[Any], settings: HFSettings, host: str, port: int) -> None:
    import uvicorn

    config = uvicorn.Config(
        http_app(server, settings, host),
        host=host,
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=STOP_GRACE_SECONDS,
    )
    logging.getLogger("uvicorn.error").addFilter(CallsCancelledOnStop())
    await uvicorn.Server(config).serve()


async def serve_stdio(server: Server[Any]) -> None:
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())
