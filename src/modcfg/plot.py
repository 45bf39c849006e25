"""Plots of a catalog's configurations with matplotlib (``pip install 'modcfg[plot]'``).

Each function takes what a :class:`~modcfg.Configurator` computed and returns a matplotlib
:class:`~matplotlib.figure.Figure`: made without ``pyplot``, so no global figure state is
touched and no window opens; a notebook shows the figure it gets, a script saves it with
``figure.savefig(path)``. matplotlib is imported when a plot is first drawn, never by
``import modcfg``.

>>> import modcfg
>>> import modcfg.plot
>>> figure = modcfg.plot.price_distribution(modcfg.compile("windows").price_distribution())
>>> figure.axes[0].get_xlabel()
'total (EUR)'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._errors import ModcfgError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ._results import ModuleShares, PriceDistribution

__all__ = ["module_shares", "price_distribution"]

#: Bars a module-share plot shows at most (the first modules in catalog order).
MAX_BARS = 40


def _axes(ax: Axes | None, size: tuple[float, float]) -> Axes:
    """``ax``, or the axes of a new figure of ``size`` inches (without pyplot)."""
    if ax is not None:
        return ax
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ModcfgError(
            "plots need matplotlib, which is not installed: pip install 'modcfg[plot]'"
        ) from None
    return Figure(figsize=size, layout="constrained").add_subplot()


def _figure(ax: Axes) -> Figure:
    figure = ax.get_figure()
    while figure is not None and figure.get_figure() is not figure:  # a subfigure: its root
        figure = figure.get_figure()
    if figure is None:  # pragma: no cover - every Axes matplotlib makes has a figure
        raise ModcfgError("these axes belong to no figure; pass axes made by matplotlib")
    return figure  # type: ignore[return-value]


def price_distribution(
    distribution: PriceDistribution,
    *,
    bins: int = 60,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """A histogram of the exact number of configurations by quote total (``bins`` bars at
    most), with the median total marked; drawn on ``ax`` when given, else on a new figure.
    Returns the figure."""
    if bins < 1:
        raise ModcfgError(f"bins={bins}: give at least 1 bar")
    ax = _axes(ax, (7.0, 3.6))
    totals = [float(total) for total in distribution]
    counts = [float(count) for count in distribution.values()]
    if totals:
        ax.hist(totals, bins=min(bins, len(totals)), weights=counts, color="#4c72b0")
        median = distribution.quantile(0.5)
        ax.axvline(float(median), color="#c44e52", linestyle="--", linewidth=1)
        ax.annotate(
            f"median {distribution.currency} {median}",
            (float(median), 1),
            xycoords=("data", "axes fraction"),
            xytext=(4, -12),
            textcoords="offset points",
            color="#c44e52",
            fontsize=9,
        )
    ax.set_xlabel(f"total ({distribution.currency})")
    ax.set_ylabel("configurations")
    ax.set_title(title or f"{distribution.catalog}: {distribution.count:,} configurations by total")
    return _figure(ax)


def module_shares(
    shares: ModuleShares,
    *,
    max_bars: int = MAX_BARS,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Horizontal bars: each module's share of the valid configurations (in %), coloured by
    slot, the first ``max_bars`` modules in catalog order; drawn on ``ax`` when given, else
    on a new figure. Returns the figure."""
    if max_bars < 1:
        raise ModcfgError(f"max_bars={max_bars}: give at least 1 bar")
    rows = [
        (slot, module, float(shares.share(slot, module)) * 100)
        for slot, modules in shares.items()
        for module in modules
    ]
    shown = rows[:max_bars]
    ax = _axes(ax, (7.0, 1.0 + 0.22 * len(shown)))
    slots = list(dict.fromkeys(slot for slot, _, _ in shown))
    palette = [f"C{index % 10}" for index in range(len(slots))]
    colour = dict(zip(slots, palette, strict=True))
    positions = list(range(len(shown)))
    ax.barh(
        positions,
        [share for _, _, share in shown],
        color=[colour[slot] for slot, _, _ in shown],
    )
    ax.set_yticks(positions, [f"{slot}.{module}" for slot, module, _ in shown], fontsize=8)
    ax.invert_yaxis()  # catalog order, top to bottom
    ax.set_xlim(0, 100)
    ax.set_xlabel("share of valid configurations (%)")
    left = f" (first {len(shown)} of {len(rows)} modules)" if len(rows) > len(shown) else ""
    ax.set_title(title or f"{shares.catalog}: {shares.total:,} configurations{left}")
    return _figure(ax)
