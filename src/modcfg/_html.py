"""HTML tables for notebooks: the one place the ``_repr_html_`` views of modcfg's objects make
their markup.

Invariants: every piece of text that comes from a catalog, a customer or a caller is escaped
(``html.escape``, quotes included), so a module labelled ``<script>`` shows as text and runs
nothing; a table shows at most ``max_rows`` rows and says how many it left out; styles are
inline, on the cells (notebooks, e-mails and sanitising viewers drop ``<style>`` blocks and
classes).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from html import escape

__all__ = ["MAX_ROWS", "Cell", "html_table"]

#: Rows a table shows by default before it says how many more there are.
MAX_ROWS = 40

#: A cell: a number or amount (right-aligned), None (empty), or anything else as its text.
Cell = object

_FONT = "font:12px sans-serif;padding:1px 8px"
_CAPTION = "font:bold 12px sans-serif;text-align:left;padding:2px 0"
_HEAD = f"{_FONT};text-align:left;border-bottom:1px solid #999"
_CELL = f"{_FONT};text-align:left;border-bottom:1px solid #eee"
_NUMBER = f"{_FONT};text-align:right;border-bottom:1px solid #eee"
_MORE = f"{_FONT};color:#666;font-style:italic"


def _cell(value: Cell, *, muted: bool = False) -> str:
    if value is None:
        return f"<td style='{_CELL}'></td>"
    colour = ";color:#999" if muted else ""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        text = f"{value:,}" if isinstance(value, int) else str(value)
        return f"<td style='{_NUMBER}{colour}'>{text}</td>"
    return f"<td style='{_CELL}{colour}'>{escape(str(value))}</td>"


def html_table(
    headers: Sequence[str],
    rows: Iterable[Sequence[Cell]],
    *,
    caption: str | None = None,
    max_rows: int = MAX_ROWS,
    total_rows: int | None = None,
    muted: Iterable[bool] | None = None,
) -> str:
    """An HTML table of ``rows`` under ``headers``, showing at most ``max_rows`` rows.

    ``rows`` is read only as far as ``max_rows`` + 1 (it may be a lazy iterator over a huge
    space); ``total_rows``, when known, says how many rows there are in all (the table then
    says how many it left out; else only that there are more). ``muted`` greys out the rows it
    marks (excluded options).

    >>> html_table(["slot", "module"], [["frame", "<b>oak</b>"]], caption="a & b")
    ... # doctest: +ELLIPSIS
    "<table><caption style=...>a &amp; b</caption>...&lt;b&gt;oak&lt;/b&gt;</td>...</table>"
    """
    head = "".join(f"<th style='{_HEAD}'>{escape(header)}</th>" for header in headers)
    body: list[str] = []
    flags = iter(muted) if muted is not None else iter(())
    more = False
    for row in rows:
        if len(body) == max_rows:
            more = True
            break
        grey = next(flags, False)
        body.append("<tr>" + "".join(_cell(value, muted=grey) for value in row) + "</tr>")
    left = None if total_rows is None else total_rows - len(body)
    if more or (left is not None and left > 0):
        text = "more rows" if left is None else f"{left:,} more row{'s' if left != 1 else ''}"
        body.append(f"<tr><td style='{_MORE}' colspan='{len(headers)}'>… {text}</td></tr>")
    title = "" if caption is None else f"<caption style='{_CAPTION}'>{escape(caption)}</caption>"
    return f"<table>{title}<tr>{head}</tr>{''.join(body)}</table>"
