"""modcfg: a configurator engine for mass customization.

Load a catalog of pre-built modules, compile it, and count, enumerate, price and explain the
valid configurations for one customer's needs.

Every public name is exported here and listed in ``__all__``; the subpackages and their
modules are internal, and their names may change between releases.

>>> import modcfg
>>> cfg = modcfg.compile(modcfg.load_catalog("windows"))
>>> cfg.count()
1800
"""

from ._collector import collector_paused
from ._configurator import Configurator, compile
from ._errors import (
    CatalogError,
    CatalogNotFoundError,
    ConsentError,
    InfeasibleError,
    LimitExceeded,
    MemoryStoreError,
    ModcfgError,
    NeedsError,
    Relaxation,
    SignatureError,
)
from ._ranking import Blend
from ._reasons import Reason
from ._variety import Variety
from .explain import Finding
from .model import (
    Catalog,
    Configuration,
    Needs,
    Quantities,
    bundled_catalogs,
    catalog_schema,
    load_catalog,
    load_needs,
    save_catalog,
)
from .orders import (
    CatalogDiff,
    LineQuote,
    Order,
    OrderLine,
    OrderQuote,
    OrderRule,
    OrderSession,
    OrderState,
    diff_catalogs,
)
from .price import BillOfMaterials, BomLine, PathStep, ProductionStep, Quote, QuoteLine
from .session._migrate import MigrationChange
from .session._session import Session
from .session._state import OptionState, SessionState

__all__ = [
    "BillOfMaterials",
    "Blend",
    "BomLine",
    "Catalog",
    "CatalogDiff",
    "CatalogError",
    "CatalogNotFoundError",
    "Configuration",
    "Configurator",
    "ConsentError",
    "Finding",
    "InfeasibleError",
    "LimitExceeded",
    "LineQuote",
    "MemoryStoreError",
    "MigrationChange",
    "ModcfgError",
    "Needs",
    "NeedsError",
    "OptionState",
    "Order",
    "OrderLine",
    "OrderQuote",
    "OrderRule",
    "OrderSession",
    "OrderState",
    "PathStep",
    "ProductionStep",
    "Quantities",
    "Quote",
    "QuoteLine",
    "Reason",
    "Relaxation",
    "Session",
    "SessionState",
    "SignatureError",
    "Variety",
    "bundled_catalogs",
    "catalog_schema",
    "collector_paused",
    "compile",
    "diff_catalogs",
    "load_catalog",
    "load_needs",
    "save_catalog",
]
__version__ = "0.1.0"
