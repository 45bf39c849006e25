"""Lark parsers whose grammar analysis is kept in the user's cache directory.

Building an LALR parser from its grammar takes 80-100 ms, every new process, before the first
expression or UVL file is read. Lark can keep the analysed tables in a file and load them
again in a few milliseconds; the file starts with a hash of the grammar and options, so a
changed grammar or Lark version builds and writes the tables anew. The files live in
``$MODCFG_CACHE_DIR``, else ``$XDG_CACHE_HOME/modcfg``, else ``~/.cache/modcfg`` (made
readable by the user only). Where no such directory can be made, parsers are built without a
cache, as before: the cache changes only the time of the first parse, never a result.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from lark import Lark

__all__ = ["cache_dir", "cached_lark"]


def cache_dir() -> Path | None:
    """The directory modcfg keeps derived files in, made if missing (None if it cannot be)."""
    given = os.environ.get("MODCFG_CACHE_DIR")
    if given:
        path = Path(given)
    else:
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        path = Path(base) / "modcfg"
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return None
    return path if os.access(path, os.W_OK) else None


def cached_lark(name: str, grammar: str, **options: Any) -> Lark:
    """An LALR parser of ``grammar``, its tables loaded from (or saved to) the cache file
    ``name`` (a plain ``Lark(grammar, parser="lalr", **options)`` without a cache)."""
    folder = cache_dir()
    cache: str | bool = False if folder is None else str(folder / f"{name}.lark")
    return Lark(grammar, parser="lalr", cache=cache, **options)
