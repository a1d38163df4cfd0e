"""What all tools of one toolkit share: settings, the files, the model catalog, where attempts run, and the
sessions with other MCP servers."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hugginggpt.tools.files.artifacts import ArtifactStore
from hugginggpt.tools.inference.local.models import LocalBackend
from hugginggpt.tools.inference.models import LOCAL, Attempt, ModelCatalog
from hugginggpt.tools.inference.router import Router
from hugginggpt.tools.settings import HFSettings

if TYPE_CHECKING:
    from hugginggpt.tools.mcp_client.sessions import Sessions


@dataclass
class Backend:
    """Made once per toolkit; every tool of it holds the same one. It owns its worker pools (the router's
    offloaded calls, the local models' workers), loaded local models and MCP sessions (the servers its
    foreign tools call): `close` or `aclose` lets them go."""

    settings: HFSettings
    store: ArtifactStore = field(init=False)
    catalog: ModelCatalog = field(init=False)
    router: Router = field(init=False)
    local: LocalBackend = field(init=False)

    def __post_init__(self) -> None:
        self.store = ArtifactStore(self.settings)
        self.catalog = ModelCatalog(self.settings)
        self.router = Router(self.settings)
        self.local = LocalBackend(self.settings)
        self._sessions: Sessions | None = None  # not a field: its type loads only when servers are set
        self._lock = threading.Lock()

    @property
    def sessions(self) -> Sessions:
        """The sessions with other MCP servers, made on first use (the mcp client loads only then)."""
        with self._lock:
            if self._sessions is None:
                from hugginggpt.tools.mcp_client.sessions import Sessions

                self._sessions = Sessions()
            return self._sessions

    def runner(self, attempt: Attempt) -> Router | LocalBackend:
        """Where `attempt` runs: on this machine for provider `local`, else on the HF router."""
        return self.local if attempt.provider == LOCAL else self.router

    def close(self) -> None:
        """Shut the worker pools, drop the loaded local models and stop the MCP servers (each is made or
        started again if used later)."""
        self.router.close()
        self.local.close()
        if self._sessions is not None:
            self._sessions.close()

    async def aclose(self) -> None:
        """`close`, and close the HTTP clients this event loop opened (also closed when the loop ends)."""
        await self.router.aclose()
        if self._sessions is not None:
            await self._sessions.aclose()  # off this loop: stopping a stdio server takes a moment
        self.close()
