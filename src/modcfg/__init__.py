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
from ._feeds import Partition
from ._reasons import Reason
from ._sampling import Covering
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
from .price import Quote, QuoteLine
from .session._session import Session
from .session._state import OptionState, SessionState

__all__ = [
    "Catalog",
    "CatalogError",
    "CatalogNotFoundError",
    "Configuration",
    "Configurator",
    "ConsentError",
    "Covering",
    "Finding",
    "InfeasibleError",
    "LimitExceeded",
    "MemoryStoreError",
    "ModcfgError",
    "Needs",
    "NeedsError",
    "OptionState",
    "Partition",
    "Quantities",
    "Quote",
    "QuoteLine",
    "Reason",
    "Relaxation",
    "Session",
    "SessionState",
    "SignatureError",
    "bundled_catalogs",
    "catalog_schema",
    "collector_paused",
    "compile",
    "load_catalog",
    "load_needs",
    "save_catalog",
]
__version__ = "0.1.0"
