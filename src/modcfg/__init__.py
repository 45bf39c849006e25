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

from typing import TYPE_CHECKING, Any

from ._collector import collector_paused
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
    TimeLimitExceeded,
)
from ._lazy import lazy_name
from ._reasons import Reason
from ._version import __version__ as __version__

if TYPE_CHECKING:
    from ._artefact import load_compiled
    from ._configurator import Configurator, compile
    from ._feeds import Partition
    from ._ranking import Blend
    from ._results import ConfigurationStream, ModuleShares, PriceDistribution, Quotes
    from ._sampling import Covering
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

#: The public names whose modules are imported on first use (module ``__getattr__``, PEP 562),
#: so that ``import modcfg`` costs little: a command line tool or a web worker that only loads
#: a catalog never imports the engines, and nothing imports numba or OR-Tools before it
#: computes with them.
_LAZY = {
    "BillOfMaterials": "price",
    "Blend": "_ranking",
    "BomLine": "price",
    "Catalog": "model",
    "CatalogDiff": "orders",
    "Configuration": "model",
    "ConfigurationStream": "_results",
    "Covering": "_sampling",
    "Configurator": "_configurator",
    "Finding": "explain",
    "LineQuote": "orders",
    "MigrationChange": "session._migrate",
    "ModuleShares": "_results",
    "Needs": "model",
    "OptionState": "session._state",
    "Order": "orders",
    "OrderLine": "orders",
    "OrderQuote": "orders",
    "OrderRule": "orders",
    "OrderSession": "orders",
    "OrderState": "orders",
    "Partition": "_feeds",
    "PathStep": "price",
    "PriceDistribution": "_results",
    "ProductionStep": "price",
    "Quantities": "model",
    "Quote": "price",
    "QuoteLine": "price",
    "Quotes": "_results",
    "Session": "session._session",
    "SessionState": "session._state",
    "Variety": "_variety",
    "bundled_catalogs": "model",
    "catalog_schema": "model",
    "compile": "_configurator",
    "diff_catalogs": "orders",
    "load_catalog": "model",
    "load_compiled": "_artefact",
    "load_needs": "model",
    "save_catalog": "model",
}


def __getattr__(name: str) -> Any:
    return lazy_name(__name__, _LAZY, name, globals())


def __dir__() -> list[str]:
    return sorted({*(name for name in globals() if name.startswith("_")), *__all__})


__all__ = [
    "BillOfMaterials",
    "Blend",
    "BomLine",
    "Catalog",
    "CatalogDiff",
    "CatalogError",
    "CatalogNotFoundError",
    "Configuration",
    "ConfigurationStream",
    "Configurator",
    "ConsentError",
    "Covering",
    "Finding",
    "InfeasibleError",
    "LimitExceeded",
    "LineQuote",
    "MemoryStoreError",
    "MigrationChange",
    "ModcfgError",
    "ModuleShares",
    "Needs",
    "NeedsError",
    "OptionState",
    "Order",
    "OrderLine",
    "OrderQuote",
    "OrderRule",
    "OrderSession",
    "OrderState",
    "Partition",
    "PathStep",
    "PriceDistribution",
    "ProductionStep",
    "Quantities",
    "Quote",
    "QuoteLine",
    "Quotes",
    "Reason",
    "Relaxation",
    "Session",
    "SessionState",
    "SignatureError",
    "TimeLimitExceeded",
    "Variety",
    "bundled_catalogs",
    "catalog_schema",
    "collector_paused",
    "compile",
    "diff_catalogs",
    "load_catalog",
    "load_compiled",
    "load_needs",
    "save_catalog",
]
