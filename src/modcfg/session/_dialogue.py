"""The terminal dialogue of ``modcfg configure``: commands, what each step shows, and input.

The first display shows every slot; after a step only the slots in which some option changed
status (chosen, implied, available, excluded) are shown again, under a one-line summary, so a
step on a catalog of hundreds of options prints a few lines. ``show`` prints everything.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .._errors import ModcfgError, NeedsError
from .._terminal import cell, int_text, quote_table, safe

if TYPE_CHECKING:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.input import Input
    from prompt_toolkit.output import Output

    from ..model import Catalog
    from ._session import Session
    from ._state import OptionState

__all__ = ["HELP", "Dialogue", "input_lines", "prompt_lines", "prompt_session", "terminal_message"]

HELP = """commands:
  SLOT=MODULE or choose SLOT MODULE [QUANTITY]   choose a module
  unchoose SLOT [MODULE]                          take a choice back
  undo | redo                                     step back or forward
  why SLOT MODULE                                 why a module is excluded
  done | finish                                   finish with the cheapest completion, once
                                                  every slot left open is optional
  complete [cheapest|preferred]                   fill every open slot and show the quote
  quote                                           the quote, once every slot is decided
  show [SLOT]                                     every slot (or one) again
  help | quit"""

#: What the session says of its Python method, in the dialogue's words.
_TERMINAL_WORDS = {"call complete()": "type `done` to finish with the cheapest completion"}

Statuses = dict[str, str]
#: Changed slots named in the summary line after a step (more are counted).
_NAMED = 8


class Dialogue:
    """One customer's dialogue on a :class:`Session` of ``catalog``, printing to ``console``."""

    def __init__(self, session: Session, catalog: Catalog, console: Console) -> None:
        self._session = session
        self._catalog = catalog
        self._console = console
        self._shown: dict[str, Statuses] = {}

    def start(self) -> None:
        """Show every slot and how to get help."""
        self.show()
        self._console.print("type 'help' for the commands, 'done' to finish")

    def run(self, lines: Iterator[str]) -> None:
        """Run the commands of ``lines`` until ``quit``, ``done`` or the end of input."""
        for line in lines:
            words = line.split()
            if not words:
                continue
            try:
                if not self.step(words):
                    break
            except (ModcfgError, ValueError) as exc:
                self._console.print(Text("error: " + terminal_message(exc)))

    def step(self, words: list[str]) -> bool:
        """Run one command; False when the dialogue ends."""
        session, command = self._session, words[0].lower()
        if command in ("quit", "exit", "q"):
            return False
        if command == "help":
            self._console.print(HELP, markup=False, highlight=False)
        elif command == "show" and len(words) <= 2:
            self.show(words[1] if len(words) == 2 else None)
        elif "=" in command and len(words) == 1:
            slot, _, module = words[0].partition("=")
            session.choose(slot, module or None)
            self.show_changes()
        elif command == "choose" and len(words) in (3, 4):
            session.choose(words[1], words[2], _quantity(words[3]) if len(words) == 4 else None)
            self.show_changes()
        elif command == "unchoose" and len(words) in (2, 3):
            session.unchoose(words[1], words[2] if len(words) == 3 else None)
            self.show_changes()
        elif command in ("undo", "redo") and len(words) == 1:
            (session.undo if command == "undo" else session.redo)()
            self.show_changes()
        elif command == "why" and len(words) == 3:
            self._console.print(Text(safe(session.why_not(words[1], words[2]), lines=True)))
        elif command in ("done", "finish") and len(words) == 1:
            return not self.finish()
        elif command == "complete" and len(words) <= 2:
            strategy = words[1] if len(words) == 2 else "cheapest"
            if strategy not in ("cheapest", "preferred"):
                raise NeedsError("complete takes 'cheapest' or 'preferred'")
            result = session.complete("preferred" if strategy == "preferred" else "cheapest")
            self._console.print(quote_table(result, "your configuration"))
        elif command == "quote" and len(words) == 1:
            self._console.print(quote_table(session.quote(), "your configuration"))
        else:
            self._console.print(Text(f"unknown command: {safe(' '.join(words))}\n{HELP}"))
        return True

    def finish(self) -> bool:
        """Complete with the cheapest completion when only optional slots are open; True
        when done, False (saying which slots still need a choice) otherwise."""
        state = self._session.state()
        slots = self._catalog.slots
        open_slots = [
            slot
            for slot, options in state.items()
            if slots[slot].cardinality.min > 0
            and not any(o.status in ("chosen", "implied") for o in options.values())
        ]
        if open_slots:
            if len(open_slots) == 1:
                modules = ", ".join(state.available(open_slots[0]))
                needing = f"{open_slots[0]} still needs a choice ({modules})"
            else:
                needing = f"{len(open_slots)} slots still need a choice: {', '.join(open_slots)}"
            self._console.print(
                Text(
                    f"{safe(needing)}; choose, or type `complete` to fill every open slot "
                    "with the cheapest"
                )
            )
            return False
        result = self._session.complete("cheapest")
        self._console.print(quote_table(result, "your configuration"))
        return True

    def show(self, slot: str | None = None) -> None:
        """Print every slot (or one), with the summary as the title."""
        state = self._session.state()
        if slot is not None and slot not in state:
            raise NeedsError(f"slot '{slot}' does not exist; type `show` for all of them")
        slots = list(state) if slot is None else [slot]
        rows = [(s, list(state[s])) for s in slots]
        self._remember(slots)
        self._console.print(self._table(rows, self._summary()))

    def show_changes(self) -> None:
        """Print the summary and the slots in which some option changed status: their open
        options and the ones just excluded (those excluded before stay out of the way)."""
        state = self._session.state()
        rows = []
        for slot, options in state.items():
            before = self._shown.get(slot)
            now = _statuses(options)
            if before == now:
                continue
            before = before or {}
            shown = [
                module
                for module, status in now.items()
                if status != "excluded" or before.get(module) != "excluded"
            ]
            rows.append((slot, shown))
        summary = self._summary()
        if not rows:
            self._console.print(Text(f"{summary}; no option changed status"))
            return
        changed = [slot for slot, _ in rows]
        self._remember(changed)
        names = ", ".join(changed) if len(changed) <= _NAMED else f"{len(changed)} slots"
        self._console.print(Text(f"{summary}; changed: {safe(names)}"))
        self._console.print(self._table(rows, None))

    def _remember(self, slots: list[str]) -> None:
        state = self._session.state()
        for slot in slots:
            self._shown[slot] = _statuses(state[slot])

    def _summary(self) -> str:
        state = self._session.state()
        count = f"{int_text(state.count, grouped=True)} configurations"
        if state.price_range is None:
            return count
        low, high = state.price_range
        return f"{count}, {state.currency} {low} - {high}"

    def _table(self, rows: list[tuple[str, list[str]]], title: str | None) -> Table:
        state = self._session.state()
        table = Table(title=None if title is None else cell(title))
        table.add_column("slot")
        table.add_column("module")
        table.add_column("status")
        table.add_column("completions", justify="right")
        table.add_column("from", justify="right")
        # one line per option: `why SLOT MODULE` tells the whole story
        table.add_column("why not", no_wrap=True, overflow="ellipsis")
        for slot, modules in rows:
            options = state[slot]
            for module in modules:
                option = options[module]
                price = "" if option.from_price is None else str(option.from_price)
                reason = option.reason if option.status == "excluded" else ""
                table.add_row(
                    cell(slot),
                    cell(module),
                    option.status,
                    int_text(option.count, grouped=True),
                    price,
                    cell(reason or ""),
                )
        return table


def _quantity(word: str) -> int:
    if not word.isdigit():
        raise NeedsError(f"quantity '{word}' is not a whole number (choose SLOT MODULE 2)")
    return int(word)


def _statuses(options: Mapping[str, OptionState]) -> Statuses:
    return {module: option.status for module, option in options.items()}


def terminal_message(error: Exception) -> str:
    """An error's message in the dialogue's words, with control characters escaped."""
    text = str(error)
    for python, terminal in _TERMINAL_WORDS.items():
        text = text.replace(python, terminal)
    return safe(text, lines=True)


def prompt_session(
    *, input: Input | None = None, output: Output | None = None
) -> PromptSession[str]:
    """A prompt with line editing and a history of this dialogue's commands (on the
    terminal, unless ``input`` and ``output`` say otherwise)."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import InMemoryHistory

    return PromptSession(history=InMemoryHistory(), input=input, output=output)


def prompt_lines(prompt: PromptSession[str]) -> Iterator[str]:
    """The lines typed at ``prompt`` until end of input (Ctrl-D); Ctrl-C clears the line."""
    while True:
        try:
            yield prompt.prompt("> ")
        except KeyboardInterrupt:
            continue
        except EOFError:
            return


def input_lines() -> Iterator[str]:
    """Lines from the terminal with editing and history, or from standard input when it is
    not a terminal (a script, a pipe, a test)."""
    if sys.stdin.isatty() and sys.stdout.isatty():
        return prompt_lines(prompt_session())
    return iter(sys.stdin)
