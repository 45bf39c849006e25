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

from ..model import FORMAT_READERS
from ._dimacs import read_dimacs, write_dimacs
from ._sales import read_sales
from ._uvl import read_uvl
from ._uvl_write import write_uvl
from ._xcsp import read_xcsp

__all__ = ["read_dimacs", "read_sales", "read_uvl", "read_xcsp", "write_dimacs", "write_uvl"]

FORMAT_READERS.update(
    {
        "uvl": read_uvl,
        "xml": read_xcsp,
        "xcsp": read_xcsp,
        "cnf": read_dimacs,
        "dimacs": read_dimacs,
    }
)
