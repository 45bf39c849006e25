"""The peers: the tools a user would otherwise reach for, each behind one small interface.

Every peer takes a modcfg :class:`~modcfg.Catalog`; all but ``modcfg`` itself start from the
same finite-domain translation (:class:`Problem`).
"""

from __future__ import annotations

import importlib

from ._base import Peer, StepAnswer
from ._errors import PeerTimeout, TooLarge, Unsupported
from ._problem import Problem, Query

__all__ = [
    "PEERS",
    "Peer",
    "PeerTimeout",
    "Problem",
    "Query",
    "StepAnswer",
    "TooLarge",
    "Unsupported",
    "peer_class",
]

#: Peer name -> (module, class), in the order of the report's columns.
PEERS = {
    "modcfg": ("modcfg_engine", "Modcfg"),
    "itertools": ("itertools_scan", "ItertoolsScan"),
    "cp-sat": ("cpsat", "CpSat"),
    "python-constraint": ("python_constraint", "PythonConstraint"),
    "dd-cudd": ("bdd", "Bdd"),
    "pysat": ("pysat_enum", "PySat"),
    "networkx-dp": ("treedp", "TreeDP"),
    "ganak": ("ganak", "Ganak"),
}


def peer_class(name: str) -> type[Peer]:
    """The peer class of ``name`` (imported on demand: each peer pulls in its own tool)."""
    module, attribute = PEERS[name]
    peer: type[Peer] = getattr(importlib.import_module(f"{__name__}.{module}"), attribute)
    return peer
