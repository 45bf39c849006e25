"""The methods of :class:`~modcfg.Configurator` about one configuration (a base class of it):
its quote, its bill of materials, what it breaks, and its degree of customization.

Invariants: a configuration is validated against the catalog first
(:meth:`~modcfg.model.Configuration.validated`), so each method reports a malformed one the
same way; what it breaks is read off the lowered rules the engines count with, so a
configuration :meth:`violations` accepts is one the engines count.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from typing import Any

from ._compiled import CompiledCatalog, NeedsLike
from ._errors import InfeasibleError, NeedsError
from ._reasons import Reason
from ._slot_breaks import SlotBreaks
from .model import (
    Catalog,
    Configuration,
    ConfigurationView,
    ResolvedNeeds,
    StockLevels,
    check_validity,
    evaluate,
    parse,
    truthy,
)
from .model._customization import degree_of, standard_of
from .price import BillOfMaterials, Quote, bill_of_materials, quote

__all__ = ["ConfigurationMethods"]


class ConfigurationMethods:
    """Quotes, bills of materials, violations and degrees of single configurations of
    :attr:`compiled`."""

    compiled: CompiledCatalog
    catalog: Catalog

    def price(self, configuration: Mapping[str, Any], needs: NeedsLike = None) -> Quote:
        """The quote of one configuration for the needs (InfeasibleError if it breaks a rule;
        CatalogError when ``Needs.today`` is outside the catalog's validity dates)."""
        resolved = self.compiled.resolve(needs)
        check_validity(self.catalog, resolved.needs)
        chosen = Configuration.validated(self.catalog, configuration)
        broken = self.violations(chosen, resolved, include_budget=False)
        if broken:
            raise InfeasibleError(
                "this configuration is not valid: " + "; ".join(map(str, broken)),
                rules=dict.fromkeys(reason.rule for reason in broken if reason.rule is not None),
                reasons=broken,
            )
        return quote(self.catalog, chosen, resolved, lines_of=self.compiled.quote_lines)

    def bill_of_materials(
        self,
        configuration: Mapping[str, Any],
        quantity: int = 1,
        *,
        needs: NeedsLike = None,
        stock: StockLevels | None = None,
    ) -> BillOfMaterials:
        """The parts ``quantity`` units of ``configuration`` need, aggregated, with the
        critical path, the delivery date and the production plan.

        ``stock`` (a mapping part id -> units, or a callback ``stock(part_id) -> units``)
        replaces the stock levels of ``needs.stock`` and of the catalog; ``needs`` gives the
        date (``today``) and the services whose lead time delays delivery.

        >>> import modcfg
        >>> cfg = modcfg.compile("windows_pro")
        >>> window = {"frame": "oak", "glass": "triple", "grade": "g1", "picture": "plain",
        ...           "size": "medium", "hardware": {}}
        >>> bom = cfg.bill_of_materials(window, 4, needs=modcfg.Needs(today="2026-11-02"))
        >>> bom["oak-profile"].quantity, bom.delivery_date, bom.postponement_point
        (24, datetime.date(2026, 11, 11), 'glazing')
        """
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise NeedsError(f"quantity {quantity!r} is not a number of units; give an int >= 1")
        chosen = Configuration.validated(self.catalog, configuration)
        resolved = self.compiled.resolve(needs)
        today = resolved.needs.today or date.today()
        days = max((service.lead_time_days for service in resolved.services), default=0)
        return bill_of_materials(
            self.catalog,
            [(chosen, quantity)],
            today=today,
            stock=resolved.needs.stock if stock is None else stock,
            service_days=days,
        )

    def violations(
        self,
        configuration: Mapping[str, Any],
        needs: NeedsLike | ResolvedNeeds = None,
        *,
        include_budget: bool = True,
    ) -> list[Reason]:
        """What a configuration breaks, as :class:`Reason` objects: the rules (kind ``"rule"``,
        printed ``"rule-id: message"``, or the id of a rule without a message), then the unmet
        needs (kind ``"need"``, printed ``"need: require glass.triple"``), one per text; empty
        when the configuration is valid for the needs.

        >>> import modcfg
        >>> cfg = modcfg.compile("windows_pro")
        >>> [str(reason) for reason in cfg.violations({"frame": "pvc", "glass": "triple",
        ...     "grade": "g1", "picture": "plain", "size": "small", "hardware": {}})]
        ['pvc-double-only: The 70 mm PVC profile is too shallow for triple glazing']
        """
        catalog = self.catalog
        chosen = Configuration.validated(catalog, configuration)
        resolved = needs if isinstance(needs, ResolvedNeeds) else self.compiled.resolve(needs)
        view = ConfigurationView(catalog, chosen)
        broken: list[Reason] = SlotBreaks(self.compiled, chosen).broken()
        if resolved is not None:
            refs = chosen.refs()
            for ref in resolved.require:
                if ref not in refs:
                    slot, _, module = ref.partition(".")
                    text = f"need: require {ref}"
                    broken.append(Reason("need", text, need="require", slot=slot, module=module))
            for ref in sorted(refs):
                excluded = resolved.excluded.get(ref)
                if excluded is not None:
                    broken.append(replace(excluded, text=f"need: {excluded.text}"))
            broken += [
                Reason("need", f"need: {text}", need="conditions")
                for text in resolved.conditions
                if not truthy(evaluate(parse(text), view))
            ]
            band = resolved.needs.degree
            if band is not None and resolved.standard is not None:
                degree = degree_of(catalog, chosen, resolved.standard)
                if not band.holds(degree):
                    text = f"need: {band.text} (degree {degree})"
                    broken.append(Reason("need", text, need="degree"))
            if include_budget and resolved.budget is not None:
                price = quote(catalog, chosen, resolved, lines_of=self.compiled.quote_lines).total
                if price > resolved.budget:
                    text = f"need: budget {resolved.budget} (total {price})"
                    broken.append(Reason("need", text, need="budget"))
        unique: dict[str, Reason] = {}  # one reason per text, as printed
        for reason in broken:
            unique.setdefault(reason.text, reason)
        return list(unique.values())

    def degree(self, configuration: Mapping[str, Any], needs: NeedsLike = None) -> int:
        """The degree of customization of a configuration: the summed ``degree_weight`` of
        the slots whose choice differs from the standard (the needs' purpose's standard when
        it has one, else the catalog's; NeedsError when the catalog names none)."""
        chosen = Configuration.validated(self.catalog, configuration)
        purpose = self.compiled.resolve(needs).needs.purpose if needs is not None else None
        standard = standard_of(self.catalog, purpose)
        return degree_of(self.catalog, chosen, standard)
