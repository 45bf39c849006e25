"""Customer memory: remember what each consenting customer bought, suggest their usual, and
keep the privacy duties that come with it (consent, export, forget, retention, encryption).

>>> import modcfg
>>> from modcfg.memory import CustomerMemory
>>> memory = CustomerMemory("sqlite://")          # or sqlite:///memory.db, postgresql+psycopg://
>>> cfg = modcfg.compile("windows")
>>> _ = memory.record("c-1", cfg.best(k=1)[0], consent=True, catalog=cfg)
>>> [str(s.quote.total) for s in memory.suggest("c-1", cfg, k=1)]
['100.00']

Needs SQLAlchemy and Alembic (``pip install 'modcfg[memory]'``); encrypted profiles need
``cryptography``, PostgreSQL ``psycopg``, :meth:`Segments.to_pandas` pandas.
"""

from .._errors import ConsentError, MemoryStoreError
from ._profile import CustomerProfile, StoredOrder
from ._segments import Segment, Segments
from ._store import CustomerMemory
from ._suggest import Change, Suggestion

# The value recommender learned from sales (issue 17, point 5) is exported from here too:
# from ._recommend import Recommender

__all__ = [
    "Change",
    "ConsentError",
    "CustomerMemory",
    "CustomerProfile",
    "MemoryStoreError",
    "Segment",
    "Segments",
    "StoredOrder",
    "Suggestion",
]
