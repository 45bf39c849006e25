"""Sales histories: one sold product per line, as (partial) configurations of a catalog.

The first line names the variables (slots) the history records; each following line gives one
value per named variable, separated by blanks. Names and values are matched against the catalog
by label first, then by id, so a history written for an XCSP model (``v1 v2 ...`` and values such
as ``-1``) reads against the catalog :func:`~modcfg.io.read_xcsp` made of that model.

A sale records only some slots, so each sale is a :class:`~modcfg.Configuration` holding just the
listed slots (``slot id -> module id``). Blank lines are skipped.
"""

from __future__ import annotations

from pathlib import Path

from .._errors import CatalogError, did_you_mean
from ..model import DEFAULT_MAX_BYTES, Catalog, Configuration, Slot, read_text

__all__ = ["read_sales"]


def read_sales(
    path: str | Path, catalog: Catalog, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> list[Configuration]:
    """Read a sales history; each sale is a Configuration of the slots the header names.

    Files larger than ``max_bytes`` are refused with a :class:`~modcfg.CatalogError`.

    >>> import tempfile, pathlib
    >>> from modcfg.model import Catalog
    >>> catalog = Catalog.model_validate({"catalog": "car", "slots": {
    ...     "v0": {"modules": {"v0": {"label": "0"}, "v1": {"label": "1"}}}}})
    >>> file = pathlib.Path(tempfile.mkdtemp()) / "sales.txt"
    >>> _ = file.write_text("v0\\n1\\n0\\n")
    >>> [dict(sale) for sale in read_sales(file, catalog)]
    [{'v0': 'v1'}, {'v0': 'v0'}]
    """
    display = str(path)
    text = read_text(path, max_bytes=max_bytes)
    slots_by_name: dict[str, Slot] = {}
    for slot in catalog.slots.values():
        slots_by_name.setdefault(slot.id, slot)
    for slot in catalog.slots.values():
        if slot.label:
            slots_by_name[slot.label] = slot
    header: list[Slot] | None = None
    lookups: list[dict[str, str]] = []
    sales: list[Configuration] = []
    for number, line in enumerate(text.splitlines(), start=1):
        values = line.split()
        if not values:
            continue
        if header is None:
            header = []
            for name in values:
                found = slots_by_name.get(name)
                if found is None:
                    raise CatalogError(
                        f"the header names '{name}', which is no slot of catalog "
                        f"'{catalog.name}'{did_you_mean(name, slots_by_name)}",
                        path=display,
                        line=number,
                    )
                if any(known.id == found.id for known in header):
                    raise CatalogError(
                        f"the header names '{name}' twice", path=display, line=number
                    )
                header.append(found)
                lookups.append(_module_names(found))
            continue
        if len(values) != len(header):
            raise CatalogError(
                f"the sale has {len(values)} values but the header names {len(header)} slots",
                path=display,
                line=number,
            )
        choices: dict[str, str] = {}
        for slot, lookup, value in zip(header, lookups, values, strict=True):
            module = lookup.get(value)
            if module is None:
                raise CatalogError(
                    f"'{value}' is no value of slot '{slot.id}' (its values: "
                    f"{', '.join(sorted(lookup))})",
                    path=display,
                    line=number,
                )
            choices[slot.id] = module
        sales.append(Configuration(choices))
    if header is None:
        raise CatalogError("the sales file is empty; its first line names the slots", path=display)
    return sales


def _module_names(slot: Slot) -> dict[str, str]:
    names = {module_id: module_id for module_id in slot.modules}
    for module_id, module in slot.modules.items():
        if module.label:
            names[module.label] = module_id
    return names
