"""Customer memory: what past sales teach about the next customer.

:class:`Recommender` learns from a sales history which modules customers pick given their
other choices, and ranks a session's still-possible modules for a slot, best first.
"""

from ._recommend import Recommender

__all__ = ["Recommender"]
