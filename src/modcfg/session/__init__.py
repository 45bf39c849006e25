"""Interactive sessions: one customer's choices on a compiled catalog, step by step, with
every option's status, count and from-price, saved and restored as signed documents."""

from ._session import Session
from ._state import OptionState, SessionState

__all__ = ["OptionState", "Session", "SessionState"]
