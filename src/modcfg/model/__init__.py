"""Catalog and needs models (internal layer; import the public names from ``modcfg``)."""

from ._base import to_decimal
from ._catalog import Cardinality, Catalog, Module, Slot
from ._configuration import Configuration, ConfigurationView, Quantities
from ._expr import Expr, evaluate, parse, truthy
from ._loading import (
    DEFAULT_MAX_BYTES,
    FORMAT_READERS,
    bundled_catalogs,
    catalog_from_data,
    load_catalog,
    load_needs,
    read_file,
    read_text,
)
from ._needs import Needs, ResolvedNeeds
from ._pricing import PaymentTerm, PriceRule, Purpose, Service, Tier
from ._rules import ConstraintRule, ExcludesRule, RequiresRule, Rule, TableRule
from ._saving import catalog_to_data, save_catalog
from ._schema import catalog_schema

__all__ = [
    "DEFAULT_MAX_BYTES",
    "FORMAT_READERS",
    "Cardinality",
    "Catalog",
    "Configuration",
    "ConfigurationView",
    "ConstraintRule",
    "ExcludesRule",
    "Expr",
    "Module",
    "Needs",
    "PaymentTerm",
    "PriceRule",
    "Purpose",
    "Quantities",
    "RequiresRule",
    "ResolvedNeeds",
    "Rule",
    "Service",
    "Slot",
    "TableRule",
    "Tier",
    "bundled_catalogs",
    "catalog_from_data",
    "catalog_schema",
    "catalog_to_data",
    "evaluate",
    "load_catalog",
    "load_needs",
    "parse",
    "read_file",
    "read_text",
    "save_catalog",
    "to_decimal",
    "truthy",
]
