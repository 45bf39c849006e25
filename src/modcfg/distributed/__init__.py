"""Product feeds on a Dask cluster: the space split into exactly counted partitions, each
written to its own Parquet file by a worker (the ``distributed`` extra).

>>> import modcfg.distributed
>>> modcfg.distributed.__all__
['export']
"""

from ._export import export

__all__ = ["export"]
