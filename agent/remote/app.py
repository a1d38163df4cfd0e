"""The agent's own routes inside LangGraph's API server (`langgraph.json` `http.app`): the whole agent
as one MCP tool at /mcp and as an A2A agent at /a2a/hugginggpt (card at /.well-known/agent-card.json),
the media its turns made at /files/{key}/{name}, and with HUGGINGGPT_SERVE_TOKEN a bearer token on
every route of the server (LangGraph applies a custom app's middleware to all of them)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from hugginggpt.agent.remote.a2a_agent import a2a_routes
from hugginggpt.agent.remote.mcp_tool import AgentTool
from hugginggpt.agent.remote.turns import FILES_PATH, RemoteAgent
from hugginggpt.agent.settings import AgentSettings
from hugginggpt.tools.mcp.transports import LOOPBACK_NAMES, MCP_PATH, BearerToken

OPEN_PATHS = ("/ok",)  # the health check stays open (it says nothing)


class ServeToken(BearerToken):
    """The MCP server's bearer check, on every route but the health check."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("path") in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def package_version() -> str:
    try:
        return version("hugginggpt-langchain")
    except PackageNotFoundError:
        return "0"


def loopback_only() -> TransportSecuritySettings:
    """Without a token the server stays on loopback (hugginggpt.agent.serve refuses otherwise): answer only to
    loopback Host names and pages (the MCP SDK's DNS-rebinding check)."""
    origins = [f"{scheme}://{name}" for scheme in ("http", "https") for name in LOOPBACK_NAMES]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[*LOOPBACK_NAMES, *(f"{name}:*" for name in LOOPBACK_NAMES)],
        allowed_origins=[*origins, *(f"{origin}:*" for origin in origins)],
    )


def files_route(remote: RemoteAgent) -> Route:
    async def serve_file(request: Request) -> Response:
        path = remote.shelf.get(request.path_params["key"])
        if path is None or path.name != request.path_params["name"]:
            return JSONResponse({"error": "no such file: only files made by this server's turns are served"},
                                status_code=404)  # fmt: skip
        return FileResponse(path)

    return Route(f"{FILES_PATH}/{{key}}/{{name}}", serve_file, methods=["GET"])


def build_app(settings: AgentSettings | None = None, *, model: Any = None, tools: Any = None) -> Starlette:
    """The Starlette app LangGraph's server mounts; `model`/`tools` go to `build_agent` (tests)."""
    settings = settings or AgentSettings.from_env()
    remote = RemoteAgent(settings, model=model, tools=tools)
    server = AgentTool(remote).server()
    token = settings.web.serve_token.get_secret_value() if settings.web.serve_token else None
    app = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False)
        if token  # every request carries the token: a rebound browser page cannot
        else loopback_only(),
        host="127.0.0.1",
        custom_starlette_routes=[*a2a_routes(remote, package_version()), files_route(remote)],
    )
    run_sessions = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: Starlette) -> AsyncIterator[None]:
        try:
            async with run_sessions(app_):
                yield
        finally:
            await remote.aclose()

    app.router.lifespan_context = lifespan
    if token:
        app.user_middleware.insert(0, Middleware(ServeToken, token=token))
    return app


app = build_app()
