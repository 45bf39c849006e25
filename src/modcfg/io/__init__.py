"""Read and write the standard formats of configuration models.

Readers return ordinary :class:`~modcfg.Catalog` objects whose configurations are exactly the
model's configurations (so ``modcfg.compile(catalog).count()`` is the model's count):

- :func:`read_uvl`: UVL feature models (``.uvl``): every feature is a slot selected or not;
- :func:`read_dimacs`: DIMACS CNF formulas (``.dimacs``, ``.cnf``): every variable is a slot;
- :func:`read_xcsp`: XCSP 2.1 networks with extensional relations (``.xml``, ``.xcsp``): every
  variable is a slot of its values, every constraint a table;
- :func:`read_sales`: a sales history over a catalog, as partial configurations.

Writers export a catalog: :func:`write_dimacs` (one Boolean variable per module) and
:func:`write_uvl` (slots as features and groups, rules as constraints). What a format cannot
express raises :class:`~modcfg.CatalogError` naming the rule. Importing this package registers the
readers with :func:`modcfg.load_catalog`, which picks one by the file's suffix:

>>> import modcfg.io
>>> {"uvl", "dimacs", "cnf", "xml", "xcsp"} <= set(modcfg.model.FORMAT_READERS)
True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .._lazy import lazy_name
from ..model import FORMAT_READERS, Catalog

if TYPE_CHECKING:
    from ._dimacs import read_dimacs, write_dimacs
    from ._sales import read_sales
    from ._uvl import read_uvl
    from ._uvl_write import write_uvl
    from ._xcsp import read_xcsp

__all__ = ["read_dimacs", "read_sales", "read_uvl", "read_xcsp", "write_dimacs", "write_uvl"]

#: Where each public name lives: a reader's module loads when it is first used (a process that
#: reads one format does not import the parsers of the others).
_HOMES = {
    "read_dimacs": "_dimacs",
    "read_sales": "_sales",
    "read_uvl": "_uvl",
    "read_xcsp": "_xcsp",
    "write_dimacs": "_dimacs",
    "write_uvl": "_uvl_write",
}


def __getattr__(name: str) -> Any:
    return lazy_name(__name__, _HOMES, name, globals())


def _reader(name: str) -> Callable[..., Catalog]:
    """``name``'s reader, imported when a file of its format is first read."""

    def read(*args: Any, **kwargs: Any) -> Catalog:
        reader: Callable[..., Catalog] = __getattr__(name)
        return reader(*args, **kwargs)

    read.__name__ = read.__qualname__ = name
    read.__doc__ = f"Read a model with :func:`modcfg.io.{name}`."
    return read


FORMAT_READERS.update(
    {
        "uvl": _reader("read_uvl"),
        "xml": _reader("read_xcsp"),
        "xcsp": _reader("read_xcsp"),
        "cnf": _reader("read_dimacs"),
        "dimacs": _reader("read_dimacs"),
    }
)
