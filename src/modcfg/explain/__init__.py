"""Explanations: minimal conflicts and ranked relaxations (internal layer)."""

from ._conflict import NeedItem, infeasible_error, need_items

__all__ = ["NeedItem", "infeasible_error", "need_items"]
