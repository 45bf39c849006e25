"""Compiled catalogs saved to a file and loaded back without compiling again.

A storefront that serves a large catalog loads it at every start: reading the model and
compiling it (lowering the rules to tables, decomposing, filling the bags) is work done once
and saved with :meth:`modcfg.Configurator.save`; :func:`modcfg.load_compiled` reads it back.

The file is a short header and the compiled data. The header names the format and the modcfg
version that wrote it; the data is a zlib-compressed pickle of the catalog, its domains, its
lowered problem and its tree (NumPy arrays as raw buffers), or, for a catalog the compiled
engine answers, that engine's circuit, or, for a catalog with wide clauses set aside, the
tree of its other rules. Invariants:

- A file loads only in the modcfg version that wrote it (the data is modcfg's internal
  layout): any other version, or a file that is not a compiled catalog, raises
  :class:`~modcfg.CatalogError` saying how to make a new one. Nothing else is tried.
- Loading unpickles: like every pickle, load only files your own build wrote, never one
  received from someone else.
- What is loaded answers every query exactly as the configurator that was saved.
"""

from __future__ import annotations

import json
import os
import pickle
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

from ._compiled import CompiledCatalog
from ._errors import CatalogError
from ._version import __version__

if TYPE_CHECKING:
    from ._configurator import Configurator

__all__ = ["FORMAT", "load_compiled", "save_compiled"]

#: The artefact's layout version; raised whenever what is pickled changes shape.
FORMAT = 3
_MAGIC = b"modcfg-compiled\n"
#: zlib's fastest level: the data is mostly small integers and shrinks several times anyway.
_LEVEL = 1


def save_compiled(cfg: Configurator, path: str | os.PathLike[str]) -> Path:
    """Write ``cfg``'s compiled catalog to ``path``; returns the path written."""
    target = Path(path)
    if target.is_dir():
        raise CatalogError(
            "is a folder; give the path of the file to write, such as "
            f"{target / (cfg.catalog.name + '.modcfg')}",
            path=str(target),
        )
    header = json.dumps({"format": FORMAT, "modcfg": __version__, "catalog": cfg.catalog.name})
    data = pickle.dumps((cfg.catalog, cfg.compiled.lowered()), protocol=5)
    # written whole or not at all: a reader never sees half a file, an old file stays intact
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        partial.write_bytes(_MAGIC + header.encode() + b"\n" + zlib.compress(data, _LEVEL))
        os.replace(partial, target)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise CatalogError(
            f"cannot write the compiled catalog: {error.strerror or error}; check that the "
            "folder exists and is writable",
            path=str(target),
        ) from None
    return target


def load_compiled(path: str | os.PathLike[str]) -> Configurator:
    """The configurator saved in ``path`` by :meth:`~modcfg.Configurator.save`.

    >>> import modcfg, tempfile, pathlib
    >>> file = pathlib.Path(tempfile.mkdtemp()) / "bicycle.modcfg"
    >>> _ = modcfg.compile("bicycle").save(file)
    >>> modcfg.load_compiled(file).count() == modcfg.compile("bicycle").count()
    True
    """
    from ._configurator import Configurator

    source = Path(path)
    try:
        raw = source.read_bytes()
    except FileNotFoundError:
        raise CatalogError(
            "no such compiled catalog; save one with Configurator.save(path)", path=str(source)
        ) from None
    except OSError as error:
        raise CatalogError(
            f"cannot read the compiled catalog: {error.strerror or error}", path=str(source)
        ) from None
    if not raw.startswith(_MAGIC):
        raise CatalogError(
            "not a compiled catalog (Configurator.save writes them); to read a catalog file "
            "use modcfg.load_catalog",
            path=str(source),
        )
    line, _, body = raw[len(_MAGIC) :].partition(b"\n")
    try:
        header = json.loads(line)
    except ValueError:
        header = None
    if not isinstance(header, dict):
        raise CatalogError("the compiled catalog's header is damaged", path=str(source))
    if header.get("format") != FORMAT or header.get("modcfg") != __version__:
        raise CatalogError(
            f"this catalog was compiled by modcfg {header.get('modcfg')} (format "
            f"{header.get('format')}); this is modcfg {__version__} (format {FORMAT}): compile "
            "the catalog again and save it with this version",
            path=str(source),
        )
    try:
        catalog, lowered = pickle.loads(zlib.decompress(body))
    except (zlib.error, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        raise CatalogError(
            "the compiled catalog is damaged (cut short or changed); save it again",
            path=str(source),
        ) from None
    return Configurator(catalog, compiled=CompiledCatalog(catalog, lowered=lowered))
