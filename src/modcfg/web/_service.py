"""The storefront's work, one blocking call per request: restore the client's session, apply
the request, and build the response (the server runs these in worker threads, under a deadline).

Invariants: a session is only ever rebuilt from a document this server signed (with one of its
keys) for the catalog in the URL, and checked against that catalog's current version (a
document of an older version is migrated, or refused naming what no longer exists); every
response that changes a session carries the newly signed document; a library error becomes a
:class:`ProblemError` naming the request field at fault.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from .._cache import WeighedCache
from .._errors import InfeasibleError, ModcfgError
from ..model import Needs
from ._models import (
    CatalogInfo,
    CheckoutResponse,
    Recommendation,
    RecommendationsView,
    RelaxationsView,
    SuggestionView,
    WhyNotView,
)
from ._problems import ProblemError, from_library
from ._views import quote_view, relaxation_view, state_view, why_not_view

if TYPE_CHECKING:
    from .._configurator import Configurator
    from ..memory import CustomerMemory, Recommender
    from ..session import Session
    from ..session._saved import SigningKey

__all__ = ["Storefront"]

T = TypeVar("T")

#: How many options the session states the storefront keeps (as response data, over all
#: catalogs) show in all: a state's data takes about 1 KB per option (a 1,272-feature model's,
#: 1.2 MB), so about 256 MB.
STATES_KEPT = 262_144
#: How long a recommender learned from the memory's orders is reused (seconds).
RECOMMENDER_SECONDS = 60.0


class Storefront:
    """The catalogs a storefront serves, its signing keys, solver cap and customer memory."""

    def __init__(
        self,
        catalogs: Mapping[str, Configurator],
        *,
        signing_key: SigningKey,
        memory: CustomerMemory | None,
        solver_seconds: float,
        retry_after: int,
    ) -> None:
        self.catalogs = dict(catalogs)
        self.signing_key = signing_key
        self.memory = memory
        self.solver_seconds = solver_seconds
        self.retry_after = retry_after
        self._counts: dict[str, int] = {}
        self._recommenders: dict[str, tuple[float, Recommender | None]] = {}
        self._lock = threading.Lock()
        self._states: WeighedCache[tuple[str, str, str], dict[str, Any]] = WeighedCache(
            STATES_KEPT, _options
        )

    def warm(self) -> None:
        """Compute what every catalog shows first, at start-up: its count and a new session's
        first state (every option's count; seconds on a catalog whose rules are entangled),
        and load what its first explanation needs (the solver, the rules ready to
        propagate), so that no customer's first request waits for them. A catalog whose first
        state does not fit in the solver cap is left to its first request, which answers as
        any other."""
        from ..engines.cpsat._cores import load_solver

        load_solver()
        for name, cfg in self.catalogs.items():
            cfg.compiled.propagator  # noqa: B018 (built now, kept by the compiled catalog)
            try:
                self.start(name, None, None)
            except ProblemError:
                continue
        self.list_catalogs()

    # -- helpers ----------------------------------------------------------------------------

    def configurator(self, name: str) -> Configurator:
        found = self.catalogs.get(name)
        if found is None:
            known = ", ".join(sorted(self.catalogs)) or "none"
            raise ProblemError(
                404, f"catalog '{name}' is not served here; the catalogs are: {known}", field="name"
            )
        return found

    def guarded(self, call: Callable[[], T], field: str | None = None) -> T:
        """``call()``, with library errors as problems about ``field``."""
        try:
            return call()
        except ModcfgError as error:
            raise from_library(error, field, self.retry_after) from None

    def restore(self, name: str, document: Mapping[str, Any]) -> Session:
        """The session of a signed document (403 when tampered, 422 naming its path)."""
        from ..session import Session

        cfg = self.configurator(name)
        return self.guarded(
            lambda: Session.from_dict(
                cfg, document, signing_key=self.signing_key, time_limit=self.solver_seconds
            ),
            "session",
        )

    def view(self, name: str, session: Session) -> dict[str, Any]:
        """The session's signed document and its state, as the JSON data of
        :class:`SessionView`.

        States are kept by catalog, needs and choices (the same for every customer who made
        them: every first state, every state an undo returns to); a kept state is immutable.
        """
        cfg = self.configurator(name)
        document = session.to_dict(signing_key=self.signing_key)
        key = (name, json.dumps(document["needs"], sort_keys=True), repr(document["choices"]))
        shown = self._states.get(key)
        if shown is None:
            state = self.guarded(session.state)
            shown = self.guarded(lambda: state_view(cfg.catalog, session, state))
            self._states[key] = shown
        state_data = {**shown, "can_undo": bool(document.get("undo"))}
        return {"session": document, "state": state_data, "suggestions": []}

    # -- operations -------------------------------------------------------------------------

    def list_catalogs(self) -> list[CatalogInfo]:
        infos = []
        for name, cfg in self.catalogs.items():
            with self._lock:
                count = self._counts.get(name)
            if count is None:
                count = self.guarded(cfg.count)
                with self._lock:
                    self._counts[name] = count
            catalog = cfg.catalog
            infos.append(
                CatalogInfo(
                    name=name,
                    label=catalog.label or catalog.name,
                    version=catalog.version,
                    currency=catalog.currency,
                    count=str(count),
                    slots=len(catalog.slots),
                )
            )
        return infos

    def start(
        self, name: str, needs: Mapping[str, Any] | None, customer: str | None
    ) -> dict[str, Any]:
        cfg = self.configurator(name)
        wanted = None if needs is None else self.guarded(lambda: Needs.from_data(needs), "needs")
        session = self.guarded(lambda: cfg.session(wanted, time_limit=self.solver_seconds), "needs")
        view = self.view(name, session)
        if customer is None or self.memory is None:
            return view
        suggestions = self._suggestions(cfg, customer)
        return {**view, "suggestions": [s.model_dump(mode="json") for s in suggestions]}

    def _suggestions(self, cfg: Configurator, customer: str) -> list[SuggestionView]:
        memory = self.memory
        if memory is None:  # pragma: no cover - checked by the caller
            return []
        if not any(
            o.catalog == cfg.catalog.name
            for o in self.guarded(lambda: memory.orders(customer), "customer")
        ):
            return []
        found = self.guarded(lambda: memory.suggest(customer, cfg, k=3), "customer")
        return [
            SuggestionView(quote=quote_view(s.quote), changes=[str(c) for c in s.changes])
            for s in found
        ]

    def choose(
        self,
        name: str,
        document: Mapping[str, Any],
        slot: str,
        module: str | None,
        quantity: int | None,
    ) -> dict[str, Any]:
        session = self.restore(name, document)
        self._check_choice(name, slot, module)
        # (a module in any quantity, or one unit of it, is never wrong in itself: a refusal
        # then concerns the module)
        field = "module" if quantity in (None, 1) else "quantity"
        self.guarded(lambda: session.choose(slot, module, quantity), field)
        return self.view(name, session)

    def _check_choice(self, name: str, slot: str, module: str | None) -> None:
        """A clear problem naming ``slot`` or ``module`` when the catalog has no such one."""
        from .._errors import did_you_mean

        slots = self.configurator(name).catalog.slots
        if slot not in slots:
            raise ProblemError(
                422, f"slot '{slot}' does not exist{did_you_mean(slot, slots)}", field="slot"
            )
        modules = slots[slot].modules
        if module is not None and module not in modules:
            raise ProblemError(
                422,
                f"slot '{slot}' has no module '{module}'{did_you_mean(module, modules)}",
                field="module",
            )

    def unchoose(
        self, name: str, document: Mapping[str, Any], slot: str, module: str | None
    ) -> dict[str, Any]:
        session = self.restore(name, document)
        self._check_choice(name, slot, module)
        self.guarded(lambda: session.unchoose(slot, module), "slot")
        return self.view(name, session)

    def undo(self, name: str, document: Mapping[str, Any]) -> dict[str, Any]:
        session = self.restore(name, document)
        self.guarded(session.undo, "session")
        return self.view(name, session)

    def state(self, name: str, document: Mapping[str, Any]) -> dict[str, Any]:
        return self.view(name, self.restore(name, document))

    def why_not(
        self,
        name: str,
        document: Mapping[str, Any],
        slot: str,
        module: str | None,
        quantity: int | None,
    ) -> WhyNotView:
        session = self.restore(name, document)
        self._check_choice(name, slot, module)
        found = self.guarded(lambda: session.why_not(slot, module, quantity=quantity), "quantity")
        return why_not_view(found)

    def relaxations(self, name: str, needs: Mapping[str, Any]) -> RelaxationsView:
        cfg = self.configurator(name)
        wanted = self.guarded(lambda: Needs.from_data(needs), "needs")
        try:
            cfg.session(wanted, time_limit=self.solver_seconds)
        except InfeasibleError as error:
            return RelaxationsView(
                feasible=False,
                count="0",
                conflict=list(error.conflict),
                relaxations=relaxation_view(error.relaxations),
            )
        except ModcfgError as error:
            raise from_library(error, "needs", self.retry_after) from None
        count = self.guarded(lambda: cfg.count(wanted, time_limit=self.solver_seconds), "needs")
        return RelaxationsView(feasible=True, count=str(count), conflict=[], relaxations=[])

    def recommend(self, name: str, document: Mapping[str, Any], slot: str) -> RecommendationsView:
        session = self.restore(name, document)
        self._check_choice(name, slot, None)
        recommender = self._recommender(name)
        if recommender is not None:
            ranked = self.guarded(lambda: recommender.recommend(session, slot), "slot")
            source = "sales" if slot in recommender.slots else "completions"
        else:
            options = self.guarded(session.state)[slot]
            possible = [m for m, o in options.items() if o.status != "excluded"]
            total = sum(options[m].count for m in possible)
            ranked = sorted(
                ((m, options[m].count / total if total else 0.0) for m in possible),
                key=lambda pair: -pair[1],
            )
            source = "completions"
        return RecommendationsView(
            slot=slot,
            source=source,
            modules=[Recommendation(module=m, score=score) for m, score in ranked],
        )

    def _recommender(self, name: str) -> Recommender | None:
        """A recommender learned from the memory's orders of the catalog (None without a
        memory or orders), learned again after a checkout or :data:`RECOMMENDER_SECONDS`."""
        if self.memory is None:
            return None
        with self._lock:
            cached = self._recommenders.get(name)
        now = time.monotonic()
        if cached is not None and now - cached[0] < RECOMMENDER_SECONDS:
            return cached[1]
        from ..memory import Recommender

        cfg = self.configurator(name)
        catalog = cfg.catalog
        sales = [
            order.configuration
            for order in self.guarded(self.memory.orders)
            if order.catalog == catalog.name and order.catalog_version == catalog.version
        ]
        learned = self.guarded(lambda: Recommender.fit(cfg, sales)) if sales else None
        with self._lock:
            self._recommenders[name] = (now, learned)
        return learned

    def complete(self, name: str, document: Mapping[str, Any], strategy: Any) -> dict[str, Any]:
        session = self.restore(name, document)
        quote = self.guarded(lambda: session.complete(strategy), "strategy")
        view = self.view(name, session)
        return {**view, "quote": quote_view(quote).model_dump(mode="json")}

    def quote(self, name: str, document: Mapping[str, Any]) -> Any:
        session = self.restore(name, document)
        return quote_view(self.guarded(session.quote, "session"))

    def checkout(
        self, name: str, document: Mapping[str, Any], customer: str | None, *, consent: bool
    ) -> CheckoutResponse:
        session = self.restore(name, document)
        quote = self.guarded(session.quote, "session")
        order_id = None
        if consent and self.memory is not None:
            if customer is None:
                raise ProblemError(
                    422, "consent was given but no customer id: send 'customer'", field="customer"
                )
            memory = self.memory
            order_id = self.guarded(
                lambda: memory.record(
                    customer, quote, session.needs, consent=True, catalog=self.catalogs[name]
                ),
                "customer",
            )
            with self._lock:
                self._recommenders.pop(name, None)
        return CheckoutResponse(
            quote=quote_view(quote), remembered=order_id is not None, order_id=order_id
        )


def _options(state: Mapping[str, Any]) -> int:
    """How many options a state's data shows (its weight in the kept states)."""
    return 1 + sum(len(slot["options"]) for slot in state["slots"])
