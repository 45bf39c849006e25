"""Outcomes a peer reports instead of an answer."""

from __future__ import annotations

__all__ = ["PeerTimeout", "TooLarge", "Unsupported"]


class Unsupported(Exception):
    """The peer has no way to answer this job (shown as ``n/a``)."""


class TooLarge(Exception):
    """The job is out of the peer's reach by construction, e.g. a full scan of 10^15 tuples."""


class PeerTimeout(Exception):
    """The peer's own time limit (a solver limit or a deadline check) was hit."""
