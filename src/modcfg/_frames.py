"""pandas DataFrames for the ``to_pandas()`` views of modcfg's objects.

pandas is optional (``pip install 'modcfg[notebook]'``, or pandas alone) and imported here
when a table is first asked for, never by ``import modcfg``. Invariants: money stays
``decimal.Decimal`` and counts stay exact Python ints, each in a column of dtype ``object``
(a float or int64 column would round amounts or overflow past 2**63); a column of text stays
text; no table is built past its row limit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from ._errors import ModcfgError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["data_frame", "require_pandas"]


def require_pandas() -> None:
    """Nothing when pandas is installed, else a :class:`~modcfg.ModcfgError` saying how to
    install it."""
    try:
        import pandas  # noqa: F401
    except ImportError:
        raise ModcfgError(
            "to_pandas() needs pandas, which is not installed: pip install 'modcfg[notebook]' "
            "(or pip install pandas)"
        ) from None


def data_frame(
    columns: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    exact: Iterable[str] = (),
) -> pd.DataFrame:
    """A DataFrame of ``rows`` under ``columns``; the ``exact`` columns (money, counts) keep
    their Python objects (dtype ``object``), the others take pandas' usual dtypes.

    >>> frame = data_frame(["slot", "count"], [("frame", 2**70)], exact=["count"])
    >>> frame["count"][0] == 2**70, frame["count"].dtype
    (True, dtype('O'))
    """
    require_pandas()
    import pandas as pd

    listed = list(zip(*rows, strict=True)) or [() for _ in columns]
    keep = set(exact)
    data = {
        name: pd.Series(list(values), dtype=object if name in keep else None)
        for name, values in zip(columns, listed, strict=True)
    }
    return pd.DataFrame(data, columns=list(columns))
