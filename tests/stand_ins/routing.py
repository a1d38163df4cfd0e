"""Send all of huggingface_hub's HTTP traffic, and the toolkit's URL-input downloads, to the HF stand-in.

`route_hf_to(url)` installs httpx2 client factories (sync and async) whose transport rewrites every request's
scheme/host/port to the stand-in while keeping its path and query; the original host travels in the `Host`
header (httpx2 sets it from the original URL), which is how the stand-in tells the Hub, the router and media
hosts apart. The clients keep huggingface_hub's own event hooks, `follow_redirects=True` and `timeout=None`.
URL inputs (tools/files/downloads.py) get a plain client over the same transport: the address policy is still
checked on each URL before its request, but the connection itself goes to the stand-in (the connect-time
check is tested unrouted, in tests/test_url_inputs.py).
"""

from __future__ import annotations

from collections.abc import Callable

import httpx2
from huggingface_hub.utils import _http as hf_http

from hugginggpt.tools.files import downloads

_ROUTED_TO: str | None = None


def _target(url: httpx2.URL, base: httpx2.URL) -> httpx2.URL:
    return url.copy_with(scheme=base.scheme, host=base.host, port=base.port)


def _wire_request(request: httpx2.Request, base: httpx2.URL) -> httpx2.Request:
    # Same headers (Host included), body stream and extensions (timeouts); only the address changes.
    return httpx2.Request(
        request.method,
        _target(request.url, base),
        headers=request.headers,
        stream=request.stream,
        extensions=request.extensions,
    )


class StandInTransport(httpx2.HTTPTransport):
    """Sync transport that connects to the stand-in whatever the request's host."""

    def __init__(self, base_url: str) -> None:
        super().__init__(verify=False, trust_env=False)  # plain HTTP to loopback: no costly CA bundle load
        self.base = httpx2.URL(base_url)

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        return super().handle_request(_wire_request(request, self.base))


class AsyncStandInTransport(httpx2.AsyncHTTPTransport):
    """Async transport that connects to the stand-in whatever the request's host."""

    def __init__(self, base_url: str) -> None:
        super().__init__(verify=False, trust_env=False)  # plain HTTP to loopback: no costly CA bundle load
        self.base = httpx2.URL(base_url)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        return await super().handle_async_request(_wire_request(request, self.base))


def client_factory(base_url: str) -> Callable[[], httpx2.Client]:
    """A huggingface_hub client factory whose clients talk to the stand-in."""

    def factory() -> httpx2.Client:
        return httpx2.Client(
            transport=StandInTransport(base_url),
            event_hooks={"request": [hf_http.hf_request_event_hook]},
            follow_redirects=True,
            timeout=None,
            trust_env=False,
        )

    return factory


def async_client_factory(base_url: str) -> Callable[[], httpx2.AsyncClient]:
    """The async counterpart of `client_factory`."""

    def factory() -> httpx2.AsyncClient:
        return httpx2.AsyncClient(
            transport=AsyncStandInTransport(base_url),
            event_hooks={
                "request": [hf_http.async_hf_request_event_hook],
                "response": [hf_http.async_hf_response_event_hook],
            },
            follow_redirects=True,
            timeout=None,
            trust_env=False,
        )

    return factory


def download_client_factory(base_url: str) -> downloads.ClientFactory:
    """A factory of URL-input clients that talk to the stand-in (which plays the media hosts)."""

    def factory(allow_private: bool) -> httpx2.Client:
        return httpx2.Client(transport=StandInTransport(base_url), trust_env=False)

    return factory


def clear_hf_caches() -> None:
    """Forget what huggingface_hub cached about models, tasks and text-generation servers."""
    from huggingface_hub.inference import _common as inference_common
    from huggingface_hub.inference._providers import _common as providers_common
    from huggingface_hub.inference._providers import hf_inference

    providers_common._fetch_inference_provider_mapping.cache_clear()
    hf_inference._fetch_recommended_models.cache_clear()
    hf_inference._check_supported_task.cache_clear()
    inference_common._UNSUPPORTED_TEXT_GENERATION_KWARGS.clear()


def route_hf_to(url: str) -> None:
    """Route every huggingface_hub request (sync and async clients) to the stand-in at `url`."""
    global _ROUTED_TO
    hf_http.set_client_factory(client_factory(url))
    hf_http.set_async_client_factory(async_client_factory(url))
    downloads.set_client_factory(download_client_factory(url))
    clear_hf_caches()
    _ROUTED_TO = url


def unroute_hf() -> None:
    """Restore huggingface_hub's default clients and clear its caches."""
    global _ROUTED_TO
    hf_http.set_client_factory(hf_http.default_client_factory)
    hf_http.set_async_client_factory(hf_http.default_async_client_factory)
    downloads.set_client_factory(None)
    clear_hf_caches()
    _ROUTED_TO = None


def routed_to() -> str | None:
    """The stand-in URL huggingface_hub is routed to, if any."""
    return _ROUTED_TO
