"""The ASGI app factory: FastAPI routes over :class:`Storefront`, the page, the caps.

Invariants: no solver work runs in the event loop: each request's work runs in a worker thread
(at most ``Limits.workers`` at once) and the request is answered 503 with ``Retry-After`` when
that work would run past ``Limits.solver_seconds`` (the sessions also carry the cap as their
own time limit, so the library stops work under budgets by itself); the OpenAPI schema depends
only on this module, never on which catalogs are served, so it is stable between deployments.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import anyio
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from .._errors import NeedsError
from ._models import (
    CatalogInfo,
    CheckoutRequest,
    CheckoutResponse,
    ChoiceRequest,
    CompleteRequest,
    CompleteResponse,
    Problem,
    QuoteView,
    RecommendationsView,
    RecommendRequest,
    RelaxationsRequest,
    RelaxationsView,
    SessionRequest,
    SessionView,
    StartRequest,
    UnchooseRequest,
    WhyNotView,
)
from ._problems import BodyLimit, install_handlers, solver_cap
from ._service import Storefront

if TYPE_CHECKING:
    from .._configurator import Configurator
    from ..memory import CustomerMemory
    from ..model import Catalog
    from ..session._saved import SigningKey

__all__ = ["API_VERSION", "Limits", "create_app"]

T = TypeVar("T")

#: The version of the HTTP API (the OpenAPI schema's ``info.version``).
API_VERSION = "1.0"

_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "content": {"application/problem+json": {}}, "description": text}
    for status, text in (
        (403, "The session document was tampered with or signed with another key."),
        (404, "The catalog is not served here."),
        (409, "The choice or needs leave no valid configuration (with the ways out)."),
        (413, "The request body is over the size cap."),
        (422, "A request field is invalid (named in 'field')."),
        (503, "The request would run past the solver time cap (see Retry-After)."),
    )
}


@dataclass(frozen=True)
class Limits:
    """The caps a storefront puts on each request.

    ``body_bytes``: the largest request body accepted (413 beyond); ``solver_seconds``: the
    longest a request may compute (503 with ``Retry-After: retry_after`` beyond);
    ``workers``: how many requests compute at once (the others wait, within their cap).
    """

    body_bytes: int = 1_000_000
    solver_seconds: float = 5.0
    retry_after: int = 1
    workers: int = 8

    def __post_init__(self) -> None:
        if self.body_bytes < 1_024:
            raise NeedsError(f"Limits.body_bytes={self.body_bytes}: allow at least 1024 bytes")
        if not self.solver_seconds > 0:
            raise NeedsError(f"Limits.solver_seconds={self.solver_seconds}: must be positive")
        if self.retry_after < 1 or self.workers < 1:
            raise NeedsError("Limits.retry_after and Limits.workers must be at least 1")


def _configurators(
    catalogs: Mapping[str, Configurator | Catalog | str] | Iterable[Configurator | Catalog | str],
) -> dict[str, Configurator]:
    """Each catalog compiled, by the name its URLs use (the mapping's key, or its own name).

    A server runs long: its passes run compiled from the first, so that loading them happens
    here, at start-up, and no customer's request waits for it (a new process otherwise runs
    its first small passes as plain Python, see ``docs/limits.md``)."""
    from .._configurator import Configurator, compile
    from ..engines.decomposition import compiled_from_now

    compiled_from_now()

    items: Iterable[tuple[str | None, Any]]
    if isinstance(catalogs, Mapping):
        items = catalogs.items()
    else:
        items = ((None, source) for source in catalogs)
    result: dict[str, Configurator] = {}
    for key, source in items:
        cfg = source if isinstance(source, Configurator) else compile(source)
        name = key if key is not None else cfg.catalog.name
        if name in result:
            raise NeedsError(
                f"two catalogs are named '{name}'; pass a mapping name -> catalog to serve both"
            )
        result[name] = cfg
    if not result:
        raise NeedsError("create_app needs at least one catalog to serve")
    return result


def create_app(
    catalogs: Mapping[str, Configurator | Catalog | str] | Iterable[Configurator | Catalog | str],
    memory: CustomerMemory | None = None,
    *,
    signing_key: SigningKey,
    limits: Limits | None = None,
) -> FastAPI:
    """A FastAPI app serving ``catalogs`` (configurators, catalogs or bundled names; a
    mapping gives their URL names) to storefront clients, and the configurator page at ``/``.

    Sessions live in the client as documents signed with ``signing_key`` (bytes, or a mapping
    key id -> bytes whose last entry signs and any verifies: rotate keys by adding a new last
    one and dropping the old one once its sessions have expired). ``memory`` remembers the
    orders of consenting customers at checkout, and its orders teach the recommendations.
    Mount the app in a backend with ``backend.mount("/configure", app)``.

    Every catalog's count and a new session's first state are computed here, at start-up, so
    no customer's first request waits for them. A backend that builds its app once and then
    serves for long can call ``gc.freeze()`` after it (as ``modcfg serve`` does): the garbage
    collector's full passes then skip what start-up made.
    """
    limits = limits or Limits()
    if not signing_key:
        raise NeedsError("signing_key is empty: give the secret bytes sessions are signed with")
    store = Storefront(
        _configurators(catalogs),
        signing_key=signing_key,
        memory=memory,
        solver_seconds=limits.solver_seconds,
        retry_after=limits.retry_after,
    )
    store.warm()
    app = FastAPI(
        title="modcfg storefront",
        version=API_VERSION,
        description="Configure products of modcfg catalogs: sessions held by the client, "
        "exact counts (strings of digits), prices as decimal strings.",
        responses=_ERRORS,
    )
    install_handlers(app)
    app.add_middleware(BodyLimit, limit=limits.body_bytes)
    limiter = anyio.CapacityLimiter(limits.workers)

    async def run(work: Callable[[], T]) -> T:
        """``work()`` in a worker thread, or a 503 problem past the solver cap."""
        with anyio.move_on_after(limits.solver_seconds):
            # an abandoned call finishes in its thread (the session's own time limit ends it)
            return await anyio.to_thread.run_sync(work, limiter=limiter, abandon_on_cancel=True)
        raise solver_cap(limits.retry_after)

    app.include_router(_routes(store, run))
    _page(app)
    return app


class _Runner(Protocol):
    """Runs a call of the store in a worker thread (see :func:`create_app`)."""

    async def __call__(self, work: Callable[[], T]) -> T: ...


def _routes(store: Storefront, run: _Runner) -> APIRouter:
    router = APIRouter()

    async def as_json(work: Callable[[], dict[str, Any]]) -> Response:
        """``work()``'s answer (a session's view, already JSON data) sent as it is."""
        return JSONResponse(await run(work))

    @router.get("/catalogs", response_model=list[CatalogInfo], tags=["catalogs"])
    async def list_catalogs() -> list[CatalogInfo]:
        """The catalogs served: name, version, currency and exact count (a string)."""
        return await run(store.list_catalogs)

    @router.post("/catalogs/{name}/sessions", response_model=SessionView, tags=["sessions"])
    async def start(name: str, body: StartRequest) -> Response:
        """Start a session for the needs (a returning customer's id adds suggestions)."""
        return await as_json(lambda: store.start(name, body.needs, body.customer))

    @router.post("/catalogs/{name}/state", response_model=SessionView, tags=["sessions"])
    async def state(name: str, body: SessionRequest) -> Response:
        """The session's state: every option's status, count and from-price."""
        return await as_json(lambda: store.state(name, body.session))

    @router.post("/catalogs/{name}/choose", response_model=SessionView, tags=["sessions"])
    async def choose(name: str, body: ChoiceRequest) -> Response:
        """Choose a module for a slot (409 with the explanation when it is excluded)."""
        return await as_json(
            lambda: store.choose(name, body.session, body.slot, body.module, body.quantity)
        )

    @router.post("/catalogs/{name}/unchoose", response_model=SessionView, tags=["sessions"])
    async def unchoose(name: str, body: UnchooseRequest) -> Response:
        """Take back a slot's choice."""
        return await as_json(lambda: store.unchoose(name, body.session, body.slot, body.module))

    @router.post("/catalogs/{name}/undo", response_model=SessionView, tags=["sessions"])
    async def undo(name: str, body: SessionRequest) -> Response:
        """Go back one step."""
        return await as_json(lambda: store.undo(name, body.session))

    @router.post("/catalogs/{name}/why-not", response_model=WhyNotView, tags=["explanations"])
    async def why_not(name: str, body: ChoiceRequest) -> WhyNotView:
        """Why an option is excluded: a minimal set of the customer's choices and needs."""
        return await run(
            lambda: store.why_not(name, body.session, body.slot, body.module, body.quantity)
        )

    @router.post(
        "/catalogs/{name}/relaxations", response_model=RelaxationsView, tags=["explanations"]
    )
    async def relaxations(name: str, body: RelaxationsRequest) -> RelaxationsView:
        """Whether needs are feasible; if not, the clash and the ways out, best first."""
        return await run(lambda: store.relaxations(name, body.needs))

    @router.post(
        "/catalogs/{name}/recommendations",
        response_model=RecommendationsView,
        tags=["sessions"],
    )
    async def recommendations(name: str, body: RecommendRequest) -> RecommendationsView:
        """A slot's still-possible modules, best first (learned from remembered orders)."""
        return await run(lambda: store.recommend(name, body.session, body.slot))

    @router.post("/catalogs/{name}/complete", response_model=CompleteResponse, tags=["orders"])
    async def complete(name: str, body: CompleteRequest) -> Response:
        """Fill every open slot (cheapest or preferred) and quote it."""
        return await as_json(lambda: store.complete(name, body.session, body.strategy))

    @router.post("/catalogs/{name}/quote", response_model=QuoteView, tags=["orders"])
    async def quote(name: str, body: SessionRequest) -> QuoteView:
        """The quote of a complete session (422 naming the open slots otherwise)."""
        return await run(lambda: store.quote(name, body.session))

    @router.post("/catalogs/{name}/checkout", response_model=CheckoutResponse, tags=["orders"])
    async def checkout(name: str, body: CheckoutRequest) -> CheckoutResponse:
        """The final quote; with the customer's consent the order is remembered."""
        return await run(
            lambda: store.checkout(name, body.session, body.customer, consent=body.consent)
        )

    return router


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath("static", name).read_text(encoding="utf-8")


def _page(app: FastAPI) -> None:
    """The configurator page (``/``) and its script and style, served from package data."""
    types = {"page.js": "text/javascript", "page.css": "text/css"}

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def page(request: Request) -> HTMLResponse:
        root = html.escape(request.scope.get("root_path", ""), quote=True)
        return HTMLResponse(_asset("page.html").replace("{{ROOT}}", root))

    @app.get("/static/{name}", include_in_schema=False)
    async def static(name: str) -> Response:
        if name not in types:
            return Response(status_code=404)
        return Response(_asset(name), media_type=types[name])
