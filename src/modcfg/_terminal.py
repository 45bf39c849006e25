"""Text for a terminal: catalog text made harmless, integers of any size as digits, and the
tables and titles the commands print.

Catalog labels, messages and names are data from whoever wrote the catalog: printed raw, an
escape sequence in them could clear the screen or recolour what follows, and square brackets
would be read as rich markup. :func:`safe` shows every control character as an escape
(``\\x1b``), and :func:`cell` makes a rich ``Text`` that is never parsed as markup.

Python refuses to turn an int of more than 4,300 digits into a string (a guard against slow
conversions); counts of configurations pass that easily, so :func:`int_text` converts in
chunks instead of switching the guard off for the whole process.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from typing import TYPE_CHECKING

from ._rows import choice_text
from .price import Quote

if TYPE_CHECKING:
    from collections.abc import Sequence

    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from .explain import Finding
    from .model import Catalog

__all__ = [
    "catalog_table",
    "cell",
    "findings_table",
    "int_text",
    "quote_table",
    "result_title",
    "safe",
]

#: Format characters that reorder or hide text (bidirectional overrides and isolates).
_HIDING = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

#: Digits converted at a time, well below the interpreter's limit on int-to-str conversion.
_CHUNK_DIGITS = 1000
_CHUNK = 10**_CHUNK_DIGITS


def safe(text: object, *, lines: bool = False) -> str:
    """``text`` with its control characters shown as escapes (``lines``: keep newlines).

    >>> safe("Oak \\x1b[31m")
    'Oak \\\\x1b[31m'
    >>> safe("two\\nlines", lines=True)
    'two\\nlines'
    """
    text = str(text)
    if text.isprintable():
        return text
    return "".join(_escape(char) if _harmful(char, lines=lines) else char for char in text)


def _harmful(char: str, *, lines: bool) -> bool:
    if char.isprintable() or (lines and char == "\n"):
        return False
    return char in _HIDING or unicodedata.category(char) in ("Cc", "Zl", "Zp")


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


@cache
def console() -> Console:
    """The console commands print to (standard output; rich is imported on first use, so a
    command that prints plain lines does not wait for it)."""
    from rich.console import Console

    return Console()


def cell(text: object) -> Text:
    """A rich ``Text`` of ``safe(text)``: shown as written, never read as markup."""
    from rich.text import Text

    return Text(safe(text))


def int_text(number: int, *, grouped: bool = False) -> str:
    """The exact decimal digits of ``number``, of any size (``grouped``: with commas).

    >>> int_text(1234567, grouped=True)
    '1,234,567'
    """
    if number < 0:
        return "-" + int_text(-number, grouped=grouped)
    chunks: list[str] = []
    while number >= _CHUNK:
        number, low = divmod(number, _CHUNK)
        chunks.append(str(low).zfill(_CHUNK_DIGITS))
    digits = str(number) + "".join(reversed(chunks))
    if not grouped:
        return digits
    head = len(digits) % 3 or 3
    return ",".join([digits[:head], *(digits[i : i + 3] for i in range(head, len(digits), 3))])


def quote_table(result: Quote, title: str) -> Table:
    """A quote as a table: one row per line with its reason, and the total as the footer."""
    from rich.table import Table

    table = Table(title=cell(title), show_footer=True)
    table.add_column("line", footer="total")
    table.add_column("reason")
    table.add_column("amount", justify="right", footer=f"{result.currency} {result.total}")
    for line in result.lines:
        table.add_row(cell(line.label), cell(line.reason), f"{line.amount}")
    return table


def catalog_table(catalog: Catalog, count: int | None) -> Table:
    """A catalog's slots, their cardinalities, modules and price ranges, with its totals
    (and its number of valid configurations, when known) as the caption."""
    from rich.table import Table

    table = Table(title=cell(f"{catalog.label or catalog.name} (version {catalog.version})"))
    table.add_column("slot")
    table.add_column("cardinality")
    table.add_column("modules", justify="right")
    table.add_column("price range", justify="right")
    for slot in catalog.slots.values():
        prices = [module.price for module in slot.modules.values()]
        table.add_row(
            cell(slot.title),
            str(slot.cardinality),
            str(len(slot.modules)),
            f"{catalog.currency} {min(prices)} - {max(prices)}",
        )
    table.caption = (
        f"{len(catalog.slots)} slots, {catalog.module_count} modules, {len(catalog.rules)} rules, "
        f"{len(catalog.prices)} price rules"
        + (f", {int_text(count, grouped=True)} valid configurations" if count is not None else "")
    )
    return table


def findings_table(findings: Sequence[Finding]) -> Table:
    """``check``'s findings, one a row; the ids and messages are folded, never cut (piped
    output is 80 columns wide)."""
    from rich.table import Table

    table = Table(title="findings")
    table.add_column("severity", no_wrap=True)
    for column in ("code", "where", "message"):
        table.add_column(column, overflow="fold")
    for finding in findings:
        table.add_row(finding.severity, finding.code, cell(finding.where), cell(finding.message))
    return table


#: The choices a result's title names at most (the quote below it lists every one).
_TITLE_CHOICES = 12


def result_title(rank: int, result: Quote, catalog: Catalog) -> str:
    """``#rank:`` and the configuration's choices: the module of each slot (``-`` for none);
    a slot of a single module (a feature of a feature model) by its own name when chosen, and
    not at all when not."""
    words = []
    for slot, choice in result.configuration.items():
        if len(catalog.slots[slot].modules) == 1:
            if choice is not None and choice != {}:
                words.append(slot)
        else:
            words.append(choice_text(choice))
    more = len(words) - _TITLE_CHOICES
    shown = ", ".join(words[:_TITLE_CHOICES] if more > 1 else words) or "nothing chosen"
    return f"#{rank}: {shown}" + (f" and {more} more" if more > 1 else "")
