"""What all tools of one toolkit share: settings, the files, the model catalog, and where attempts run."""

from __future__ import annotations

from dataclasses import dataclass, field

from tools.files.artifacts import ArtifactStore
from tools.inference.local.models import LocalBackend
from tools.inference.models import LOCAL, Attempt, ModelCatalog
from tools.inference.router import Router
from tools.settings import HFSettings


@dataclass
class Backend:
    """Made once per toolkit; every tool of it holds the same one. It owns its worker pools (the router's
    offloaded calls, the local models' workers) and loaded local models: `close` or `aclose` lets them go."""

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

    def runner(self, attempt: Attempt) -> Router | LocalBackend:
        """Where `attempt` runs: on this machine for provider `local`, else on the HF router."""
        return self.local if attempt.provider == LOCAL else self.router

    def close(self) -> None:
        """Shut the worker pools and drop the loaded local models (pools are made again if used later)."""
        self.router.close()
        self.local.close()

    async def aclose(self) -> None:
        """`close`, and close the HTTP clients this event loop opened (also closed when the loop ends)."""
        await self.router.aclose()
        self.close()
