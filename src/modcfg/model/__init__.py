"""The catalog and needs models: what a catalog and a customer's needs are, as validated data.

This package owns the data users write: :class:`Catalog` (slots, modules, rules, price rules,
services, payment terms, purposes), :class:`Needs`, :class:`Configuration`, the expression
language of conditions and constraints, and reading and writing the YAML/JSON file format. It
evaluates one configuration at a time and nothing more: counting, enumerating and pricing live
in the packages above it, and it imports none of them (only :mod:`modcfg._errors`, and
:mod:`modcfg._memory` for showing sizes).

Invariants: model objects are immutable, and they are built only through validation, so a
:class:`Catalog` that exists has unique ids, references that resolve and expressions that
parse; every problem found on the way is a :class:`~modcfg.CatalogError` (a
:class:`~modcfg.NeedsError` for needs) that names where. Users import the public names from
``modcfg``; the rest of the library imports from here.
"""

from ._base import to_decimal
from ._catalog import Cardinality, Catalog, Module, Slot
from ._configuration import Configuration, ConfigurationView, Quantities
from ._expr import (
    Arith,
    BoolOp,
    Compare,
    Count,
    Expr,
    InList,
    Lit,
    Neg,
    Not,
    Num,
    Ref,
    Total,
    evaluate,
    truthy,
)
from ._expr_parse import parse
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
from ._needs import Needs, ResolvedNeeds, check_validity, day
from ._pricing import PRICE_RULE_KINDS, PaymentTerm, PriceRule, Purpose, Service, Tier
from ._production import Part, PartKind, Stage, StockLevels, module_ready_days, stock_of
from ._rules import (
    RULE_KINDS,
    AtMostOneOfRule,
    ClauseLiteral,
    ConstraintRule,
    ExcludesRule,
    RequiresRule,
    Rule,
    TableRule,
)
from ._saving import catalog_to_data, save_catalog
from ._schema import catalog_schema
from ._validate import expression_problem

__all__ = [
    "DEFAULT_MAX_BYTES",
    "FORMAT_READERS",
    "PRICE_RULE_KINDS",
    "RULE_KINDS",
    "Arith",
    "AtMostOneOfRule",
    "BoolOp",
    "Cardinality",
    "Catalog",
    "ClauseLiteral",
    "Compare",
    "Configuration",
    "ConfigurationView",
    "ConstraintRule",
    "Count",
    "ExcludesRule",
    "Expr",
    "InList",
    "Lit",
    "Module",
    "Needs",
    "Neg",
    "Not",
    "Num",
    "Part",
    "PartKind",
    "PaymentTerm",
    "PriceRule",
    "Purpose",
    "Quantities",
    "Ref",
    "RequiresRule",
    "ResolvedNeeds",
    "Rule",
    "Service",
    "Slot",
    "Stage",
    "StockLevels",
    "TableRule",
    "Tier",
    "Total",
    "bundled_catalogs",
    "catalog_from_data",
    "catalog_schema",
    "catalog_to_data",
    "check_validity",
    "day",
    "evaluate",
    "expression_problem",
    "load_catalog",
    "load_needs",
    "module_ready_days",
    "parse",
    "read_file",
    "read_text",
    "save_catalog",
    "stock_of",
    "to_decimal",
    "truthy",
]
