"""Writing catalogs back to the YAML/JSON file format (the inverse of loading).

:func:`catalog_to_data` gives the file format's plain data, money as strings and defaults left
out, so loading what :func:`save_catalog` wrote gives back an equal catalog. Numeric attributes
are written as numbers (a float when they have a fraction, so at most 17 significant digits of
one survive the round trip).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .._errors import CatalogError
from ._catalog import Catalog

__all__ = ["catalog_to_data", "save_catalog"]


def _keyed(items: dict[str, Any]) -> dict[str, Any]:
    return {key: {k: v for k, v in item.items() if k != "id"} for key, item in items.items()}


def catalog_to_data(catalog: Catalog) -> dict[str, Any]:
    """The catalog as plain data in the file format (money as strings, defaults left out).

    >>> from modcfg import load_catalog
    >>> data = catalog_to_data(load_catalog("credit_cards"))
    >>> data["catalog"], list(data["slots"])
    ('credit_cards', ['rate', 'fee', 'design'])
    """
    data: dict[str, Any] = catalog.model_dump(by_alias=True, mode="json", exclude_defaults=True)
    data = {"catalog": data.pop("catalog"), **data}
    for slot_id, slot in catalog.slots.items():
        out = data["slots"][slot_id]
        out.pop("id", None)
        cardinality = slot.cardinality
        if cardinality.kind == "exactly_one":
            out.pop("cardinality", None)
        elif cardinality.kind == "optional":
            out["cardinality"] = "optional"
        else:
            out["cardinality"] = {"min": cardinality.min, "max": cardinality.max}
        out["modules"] = _keyed(out["modules"])
    for rule in data.get("rules", []):
        rule.pop("kind", None)
    for key in ("services", "payment_terms", "parts", "stages"):
        if key in data:
            data[key] = _keyed(data[key])
    return data


def save_catalog(catalog: Catalog, path: str | Path) -> Path:
    """Write ``catalog`` to ``path`` as YAML (``.yaml``/``.yml``) or JSON (``.json``)."""
    target = Path(path)
    data = catalog_to_data(catalog)
    suffix = target.suffix.lower()
    if suffix in (".yaml", ".yml"):
        import yaml  # (imported where it is used: most processes never write YAML)

        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    elif suffix == ".json":
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    else:
        raise CatalogError(
            f"cannot write {target}: give the output a .yaml, .yml or .json suffix",
            path=str(target),
        )
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CatalogError(f"cannot write {target}: {exc.strerror}", path=str(target)) from None
    return target
