"""What the commands of ``modcfg`` (:mod:`modcfg.cli`) share: the catalog, needs and time limit
arguments, the catalog compiled within the command's time limit, and errors and passed limits
as one line on stderr."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ._artefact import configurator_of
from ._errors import LimitExceeded, TimeLimitExceeded
from ._terminal import safe
from .model import Needs, load_needs

if TYPE_CHECKING:
    from ._configurator import Configurator

__all__ = [
    "DEFAULT_TIME_LIMIT",
    "LEAST_SECONDS",
    "CatalogArg",
    "NeedsOption",
    "TimeLimitOption",
    "compiled_within",
    "limited",
    "needs_of",
    "print_error",
    "seconds_of",
]

CatalogArg = Annotated[
    str,
    typer.Argument(
        help="A catalog file (.yaml, .json, ...), a compiled catalog (.modcfg, see 'modcfg "
        "compile') or a bundled name (windows)."
    ),
]
NeedsOption = Annotated[
    Path | None, typer.Option("--needs", "-n", help="A YAML/JSON file of the customer's needs.")
]

#: Seconds a command works before giving up (LimitExceeded, exit code 2); 0 means no limit.
DEFAULT_TIME_LIMIT = 60.0
#: What a query is given when compiling took (about) all of the time limit: it answers if it
#: can without searching, else says that the limit passed.
LEAST_SECONDS = 0.001
TimeLimitOption = Annotated[
    float, typer.Option("--time-limit", min=0, help="seconds before giving up (0: no limit)")
]


def needs_of(path: Path | None) -> Needs | None:
    """The needs in ``path``, when given."""
    return load_needs(path) if path is not None else None


def seconds_of(time_limit: float) -> float | None:
    """A ``--time-limit`` as the library takes it (0: None, no limit)."""
    return time_limit or None


def compiled_within(catalog: str, seconds: float | None) -> tuple[Configurator, float | None]:
    """The catalog compiled within ``seconds`` (its own refusal says why, when it passes
    them), or loaded when compiled already, and the seconds left for the command's query."""
    start = time.monotonic()
    cfg = configurator_of(catalog, time_limit=seconds)
    if seconds is None:
        return cfg, None
    return cfg, max(seconds - (time.monotonic() - start), LEAST_SECONDS)


@contextmanager
def limited(doing: str, seconds: float | None, *, listing: bool = False) -> Iterator[None]:
    """Turn a limit hit into one line on stderr and exit code 2: the command's time limit
    when it has passed, else the limit's own words (a budget over too many distinct totals)."""
    try:
        yield
    except LimitExceeded as refused:
        if seconds is None or not isinstance(refused, TimeLimitExceeded):
            print_error(str(refused))
            raise typer.Exit(code=2) from None
        more = " or pass --limit N" if listing else ""
        print_error(
            f"{doing} passed the time limit of {seconds:g} s; raise --time-limit (0: none){more}"
        )
        raise typer.Exit(code=2) from None


def print_error(message: str) -> None:
    """``message`` as one ``error:`` line on stderr, its control characters escaped."""
    from rich.console import Console
    from rich.text import Text

    Console(stderr=True, highlight=False, soft_wrap=True).print(
        Text("error: " + safe(message, lines=True))
    )
