"""The published JSON Schema of the catalog file format.

It is generated from the models, so the schema and validation cannot drift apart; what the
schema cannot say (cross-references, expression syntax) is checked only when a catalog loads.
"""

from __future__ import annotations

from typing import Any

from ._catalog import Catalog

__all__ = ["catalog_schema"]


def catalog_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a catalog file, as pydantic generates it.

    >>> schema = catalog_schema()
    >>> schema["title"], "slots" in schema["properties"]
    ('Catalog', True)
    """
    schema = Catalog.model_json_schema(by_alias=True, mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema
