"""Compiled catalogs saved to a file and loaded back without compiling again.

A storefront that serves a large catalog loads it at every start: reading the model and
compiling it (lowering the rules to tables, decomposing, filling the bags) is work done once
and saved with :meth:`modcfg.Configurator.save`; :func:`modcfg.load_compiled` reads it back.

The file is a short header and the compiled data. The header names the format and the modcfg
version that wrote it; the data is a zlib-compressed pickle of the catalog, its domains, its
lowered problem and its tree (NumPy arrays as raw buffers), or, for a catalog the compiled
engine answers, that engine's circuit, or, for a catalog with wide clauses set aside, the
tree of its other rules, its terms' own trees and its counts. Large integer arrays (a bag's
rows of feature values, row indexes) are written in the narrowest integer type that holds
their values and widened back to their own type when loaded: the decision-making model's
trees (its relaxed rules' and its terms') take 376 MB as they are held and 77 MB narrowed,
10.9 MB in the file; inflating them was most of a load.
Invariants:

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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np

from ._compiled import CompiledCatalog
from ._errors import CatalogError
from ._version import __version__

if TYPE_CHECKING:
    from ._configurator import Configurator

__all__ = [
    "FORMAT",
    "SUFFIX",
    "check_compiled",
    "configurator_of",
    "is_compiled_file",
    "load_compiled",
    "save_compiled",
]

#: The artefact's layout version; raised whenever what is pickled changes shape.
FORMAT = 5
#: The file name ending of a compiled catalog, by which the command line and ``modcfg
#: serve`` tell one from a catalog file.
SUFFIX = ".modcfg"
_MAGIC = b"modcfg-compiled\n"
#: zlib's fastest level: the data is mostly small integers and shrinks several times anyway.
_LEVEL = 1
#: Bytes of the file inflated at a time when loading.
_CHUNK = 1 << 20
#: The longest header line read (a longer one is damaged).
_HEADER_BYTES = 4096
#: Integer arrays of at least this many entries are written narrowed (see the module).
_NARROW_FROM = 1024


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
    data = (cfg.catalog, cfg.compiled.lowered())
    # written whole or not at all: a reader never sees half a file, an old file stays intact
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        with partial.open("wb") as file:
            file.write(_MAGIC + header.encode() + b"\n")
            # compressed as it is pickled: the uncompressed pickle (several times the file,
            # hundreds of MB for a large tree) is never held whole
            deflating = _Deflating(file)
            _Narrowing(deflating, protocol=5).dump(data)
            deflating.close()
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
    source = Path(path)
    with _opened(source) as file:
        return _load(file, source)


def is_compiled_file(source: str | os.PathLike[str]) -> bool:
    """Whether ``source`` names a compiled catalog: a file name ending in :data:`SUFFIX`."""
    return os.fspath(source).lower().endswith(SUFFIX)


def configurator_of(source: str, *, time_limit: float | None = None) -> Configurator:
    """The configurator of ``source``: a compiled catalog (see :func:`is_compiled_file`)
    loaded, else a catalog file or bundled name loaded and compiled within ``time_limit``
    seconds (None: no limit)."""
    from ._configurator import compile as compiled
    from .model import load_catalog

    if is_compiled_file(source):
        return load_compiled(source)
    return compiled(load_catalog(source), time_limit=time_limit)


def check_compiled(path: str | os.PathLike[str]) -> None:
    """Raise the :class:`~modcfg.CatalogError` that :func:`load_compiled` would raise on
    ``path`` for a missing file, a file that is no compiled catalog or one of another modcfg
    version, reading its header only."""
    source = Path(path)
    with _opened(source) as file:
        _header(file, source)


@contextmanager
def _opened(source: Path) -> Iterator[BinaryIO]:
    """``source`` open for reading: a missing or unreadable file (when opened or read in the
    block) is a :class:`~modcfg.CatalogError`."""
    try:
        with source.open("rb") as file:
            yield file
    except FileNotFoundError:
        raise CatalogError(
            "no such compiled catalog; save one with Configurator.save(path)", path=str(source)
        ) from None
    except OSError as error:
        raise CatalogError(
            f"cannot read the compiled catalog: {error.strerror or error}", path=str(source)
        ) from None


def _load(file: BinaryIO, source: Path) -> Configurator:
    from ._configurator import Configurator

    _header(file, source)
    try:
        inflating = _Inflating(file)
        catalog, lowered = pickle.load(inflating)
        inflating.finish()
    except (zlib.error, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        raise CatalogError(
            "the compiled catalog is damaged (cut short or changed); save it again",
            path=str(source),
        ) from None
    return Configurator(catalog, compiled=CompiledCatalog(catalog, lowered=lowered))


def _header(file: BinaryIO, source: Path) -> None:
    """Read a compiled catalog's header: :class:`~modcfg.CatalogError` for anything but one
    that this modcfg version wrote."""
    if file.read(len(_MAGIC)) != _MAGIC:
        raise CatalogError(
            "not a compiled catalog (Configurator.save writes them); to read a catalog file "
            "use modcfg.load_catalog",
            path=str(source),
        )
    line = file.readline(_HEADER_BYTES)
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


class _Narrowing(pickle.Pickler):
    """A pickler that writes each large integer array in the narrowest integer type that
    holds its values, to be widened back to its own type by :func:`_widened` on loading."""

    def reducer_override(self, obj: object) -> Any:
        if type(obj) is not np.ndarray or obj.size < _NARROW_FROM:
            return NotImplemented
        dtype = obj.dtype
        if dtype.kind not in "iu" or dtype.itemsize == 1:
            return NotImplemented
        low, high = obj.min(), obj.max()
        narrow = np.promote_types(np.min_scalar_type(low), np.min_scalar_type(high))
        if narrow.kind not in "iu" or narrow.itemsize >= dtype.itemsize:
            return NotImplemented  # (a uint64 beside a negative value promotes to float64)
        widen = _widened if obj.flags.writeable else _widened_read_only
        return widen, (obj.astype(narrow), dtype.str)


def _widened(narrow: np.ndarray, dtype: str) -> np.ndarray:
    """An array written narrowed by :class:`_Narrowing`, in its own type again."""
    return narrow.astype(dtype)


def _widened_read_only(narrow: np.ndarray, dtype: str) -> np.ndarray:
    """:func:`_widened`, for an array that was read-only."""
    array = narrow.astype(dtype)
    array.flags.writeable = False
    return array


class _Deflating:
    """A binary file that compresses what is written to it (``close`` writes the rest)."""

    def __init__(self, file: BinaryIO) -> None:
        self._file = file
        self._zlib = zlib.compressobj(_LEVEL)

    def write(self, data: bytes | memoryview | pickle.PickleBuffer) -> int:
        self._file.write(self._zlib.compress(data))
        with memoryview(data) as view:  # (pickle hands large arrays over as PickleBuffers)
            return view.nbytes

    def close(self) -> None:
        self._file.write(self._zlib.flush())


class _Inflating:
    """The decompressed bytes of the rest of a binary file, read as pickle reads them:
    inflated a megabyte of the file at a time, never whole."""

    def __init__(self, file: BinaryIO) -> None:
        self._file = file
        self._zlib = zlib.decompressobj()
        self._buffer = bytearray()
        self._ended = False

    def _fill(self, size: int) -> None:
        """Inflate until ``size`` bytes are buffered or the data ends (each call inflates
        at most what is asked, so a run of zeros never swells the buffer past it)."""
        while len(self._buffer) < size and not self._ended:
            data = self._zlib.unconsumed_tail or self._file.read(_CHUNK)
            if data:
                self._buffer += self._zlib.decompress(data, max(size - len(self._buffer), _CHUNK))
            else:
                self._buffer += self._zlib.flush()
                self._ended = True
                if not self._zlib.eof:
                    raise EOFError("the compressed data is cut short")

    def read(self, size: int = -1) -> bytes:
        self._fill(size if size >= 0 else 1 << 62)
        taken = len(self._buffer) if size < 0 else min(size, len(self._buffer))
        with memoryview(self._buffer) as view:
            data = bytes(view[:taken])
        del self._buffer[:taken]
        return data

    def readinto(self, target: bytearray | memoryview) -> int:
        self._fill(len(target))
        taken = min(len(target), len(self._buffer))
        with memoryview(self._buffer) as view:
            target[:taken] = view[:taken]
        del self._buffer[:taken]
        return taken

    def finish(self) -> None:
        """Check that the data ends here, whole (up to its checksum): else EOFError."""
        self._fill(len(self._buffer) + 1)
        if self._buffer:
            raise EOFError("data beyond the pickle")

    def readline(self, size: int = -1) -> bytes:
        while b"\n" not in self._buffer and not self._ended:
            self._fill(len(self._buffer) + 1)
        end = self._buffer.find(b"\n")
        length = len(self._buffer) if end < 0 else end + 1
        return self.read(length if size < 0 else min(size, length))
