"""``modcfg warm``: everything a first command or query would otherwise compile, compiled at
install (``make demo`` runs it too): the engine's kernels into numba's disk cache, the parsers'
tables into modcfg's cache directory, and modcfg's modules into bytecode.
"""

from __future__ import annotations

import compileall
import time
from pathlib import Path
from typing import TYPE_CHECKING

from . import _configurator
from ._terminal import console
from .model import Catalog, bundled_catalogs, load_catalog

if TYPE_CHECKING:
    from .session._state import SessionState

__all__ = ["warm"]


def _read(state: SessionState) -> None:
    """Every option's count and status in ``state`` (a state computes them when read)."""
    for slot in state:
        for option in state[slot].values():
            _ = option.count, option.status


def warm() -> None:
    """Compile the engine's kernels into numba's disk cache, the parsers' tables into modcfg's
    cache directory and modcfg's modules into bytecode (run once after installing)."""
    from .engines.decomposition import compiled_from_now
    from .io._uvl_syntax import parse_uvl

    # Python writes no bytecode when PYTHONDONTWRITEBYTECODE is set (as in many container
    # images): every command would then compile modcfg's sources again before it starts. A
    # read-only installation (bytecode written by its installer) is left as it is.
    compileall.compile_dir(Path(__file__).parent, quiet=2)
    compiled_from_now()  # every pass compiled, whatever its size: each kernel is then cached
    start = time.perf_counter()
    parse_uvl("features\n    Product\n", "warm-up")
    for name in bundled_catalogs():
        cfg = _configurator.compile(load_catalog(name))
        cfg.count()
        cfg.best(k=3)
        session = cfg.session()
        slot = next(iter(cfg.catalog.slots.values()))
        session.choose(slot.id, next(iter(slot.modules)))
        _read(session.state())
    # a count beyond 64 bits takes the kernels' exact residue path
    wide = _configurator.compile(
        Catalog.model_validate(
            {
                "catalog": "wide",
                "slots": {f"s{i}": {"modules": {"a": {}, "b": {}, "c": {}}} for i in range(48)},
                "rules": [
                    {"id": f"r{i}", "excludes": [f"s{i}.a", f"s{i + 1}.a"]} for i in range(47)
                ],
            }
        )
    )
    # whether any configuration is left (a pass of flags only, as a session's check runs it)
    wide.compiled.base_query.restricted(0, frozenset({0})).feasible()
    wide.count()
    session = wide.session()  # and a session's residue passes: downward, per-option counts
    _read(session.state())
    session.choose("s0", "a")  # (a step's upward pass: along the changed path)
    _read(session.state())
    wide.compiled.base_query.worst_key()  # (what tells whether every key is one)
    console().print(f"kernels and parsers ready in {time.perf_counter() - start:.1f} s")
