"""Configurations written as rows, one at a time: a plain table, CSV, a JSON array or JSON lines.

Each row is written and flushed as it comes, in memory that does not grow with the number of
rows: ``modcfg list`` streams spaces of any size, and a reader such as ``head`` sees the first
rows at once. The table is plain text whose column widths come from the catalog (the longest
module id of each slot), so it needs no look at the rows ahead.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import TextIO

from ._errors import NeedsError
from .model import Catalog, Configuration

__all__ = ["RowWriter", "choice_text", "parse_choices"]

#: The widest a multi-select slot's column gets (longer choices push the row out).
_MAX_WIDTH = 40


def choice_text(choice: object) -> str:
    """A slot's choice as text: the module id, ``-`` for none, ``a x2, b x1`` for quantities."""
    if choice is None:
        return "-"
    if isinstance(choice, Mapping):
        return ", ".join(f"{m} x{q}" for m, q in choice.items()) or "-"
    return str(choice)


def parse_choices(pairs: list[str]) -> dict[str, object]:
    """``slot=module`` pairs as choices (``slot=a:2,b`` for quantities, ``slot=`` for none).

    >>> parse_choices(["frame=oak", "hardware=lock:2,handle", "picture="])
    {'frame': 'oak', 'hardware': {'lock': 2, 'handle': 1}, 'picture': None}
    """
    chosen: dict[str, object] = {}
    for pair in pairs:
        slot, sep, module = pair.partition("=")
        if not sep:
            raise NeedsError(f"'{pair}' is not slot=module (e.g. frame=oak)")
        if slot in chosen:
            raise NeedsError(
                f"slot '{slot}' is given twice ('{pair}'); give each slot once, its modules "
                "together for a multi-select slot (hardware=lock:2,handle)"
            )
        if ":" in module or "," in module:
            parts = [part.partition(":") for part in module.split(",")]
            if not all((q or "1").isdigit() for _, _, q in parts):
                raise NeedsError(f"'{pair}' has a quantity that is not a whole number (a:2,b)")
            chosen[slot] = {name: int(q or 1) for name, _, q in parts}
        else:
            chosen[slot] = module or None
    return chosen


def _plain(choice: object) -> object:
    return dict(choice) if isinstance(choice, Mapping) else choice


class RowWriter:
    """Writes configurations and their totals to ``out`` in ``output`` format
    (``table``, ``csv``, ``json`` or ``jsonl``): :meth:`begin`, :meth:`row` per row, :meth:`end`.
    """

    def __init__(self, output: str, catalog: Catalog, out: TextIO) -> None:
        self._output = output
        self._slots = list(catalog.slots)
        self._out = out
        self._csv = csv.writer(out, lineterminator="\n")
        self._rows = 0
        self._total_header = f"total ({catalog.currency})"
        self._widths = [_width(catalog, slot) for slot in self._slots]
        self._total_width = max(len(self._total_header), 10)

    def begin(self) -> None:
        """Write the header (for table and csv) or the opening of the JSON array."""
        if self._output == "csv":
            self._csv.writerow([*self._slots, "total"])
        elif self._output == "table":
            self._line(self._slots, self._total_header)
            self._line(["-" * w for w in self._widths], "-" * self._total_width)
        elif self._output == "json":
            self._out.write("[")
        self._out.flush()

    def row(self, row: Configuration, total: Decimal) -> None:
        """Write one configuration with its total, and flush."""
        if self._output == "csv":
            self._csv.writerow([*(choice_text(row[s]) for s in self._slots), str(total)])
        elif self._output == "table":
            self._line([choice_text(row[s]) for s in self._slots], str(total))
        else:
            text = json.dumps({**{s: _plain(row[s]) for s in self._slots}, "total": str(total)})
            if self._output == "json":
                text = ("\n  " if not self._rows else ",\n  ") + text
            else:
                text += "\n"
            self._out.write(text)
        self._rows += 1
        self._out.flush()

    def end(self) -> None:
        """Close the JSON array."""
        if self._output == "json":
            self._out.write("\n]\n" if self._rows else "]\n")
            self._out.flush()

    def _line(self, cells: list[str], total: str) -> None:
        padded = (text.ljust(width) for text, width in zip(cells, self._widths, strict=True))
        self._out.write("  ".join([*padded, total.rjust(self._total_width)]) + "\n")


def _width(catalog: Catalog, slot_id: str) -> int:
    slot = catalog.slots[slot_id]
    if slot.single:
        longest = max(len(module) for module in slot.modules)
    else:
        entries = sorted(
            (len(f"{m} x{module.max_quantity}") for m, module in slot.modules.items()),
            reverse=True,
        )
        longest = min(_MAX_WIDTH, sum(entries[: slot.cardinality.max]) + 2 * len(entries) - 2)
    return max(len(slot_id), longest, 1)
