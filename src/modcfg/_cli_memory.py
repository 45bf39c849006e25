"""``modcfg memory ...``: the customer memory from the command line (record, suggest,
recommend, export, forget, segments), each against the database of ``--db URL`` (or
``$MODCFG_MEMORY_DB``).

The commands ask :class:`~modcfg.memory.CustomerMemory` and print its answers: tables on the
terminal, JSON with ``--format json``; errors are :class:`~modcfg.ModcfgError` lines (exit
code 1), as everywhere in the CLI. SQLAlchemy is imported when a command runs, so the rest of
the CLI starts without it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ._artefact import configurator_of
from ._errors import NeedsError
from ._rows import parse_choices
from ._terminal import cell, console, quote_table, safe
from .model import load_needs

if TYPE_CHECKING:
    from .memory import CustomerMemory

__all__ = ["memory_app"]

memory_app = typer.Typer(
    name="memory",
    help="Remember consenting customers' orders; suggest their usual; export or forget them.",
    no_args_is_help=True,
)

DbOption = Annotated[
    str,
    typer.Option(
        "--db",
        envvar="MODCFG_MEMORY_DB",
        help="The database URL: sqlite:///memory.db or postgresql+psycopg://user@host/db.",
    ),
]
CustomerArg = Annotated[str, typer.Argument(help="The customer's opaque id.")]
CatalogArg = Annotated[
    str, typer.Argument(help="A catalog file (.yaml, .json, ...) or a bundled name (windows).")
]
FormatOption = Annotated[str, typer.Option("--format", "-f", help="table or json")]


def _open(url: str) -> CustomerMemory:
    from .memory import CustomerMemory

    return CustomerMemory(url)


def _say(text: str) -> None:
    """One line of text as written (never read as markup or escape sequences)."""
    console().print(safe(text), markup=False, highlight=False)


def _format(output: str) -> None:
    if output not in ("table", "json"):
        raise NeedsError(f"--format {output} is unknown; use table or json")


@memory_app.command()
def record(
    customer: CustomerArg,
    catalog: CatalogArg,
    choices: Annotated[list[str], typer.Argument(help="slot=module pairs (slot=a:2,b)")],
    db: DbOption,
    needs: Annotated[
        Path | None, typer.Option("--needs", "-n", help="A YAML/JSON file of the needs.")
    ] = None,
    consent: Annotated[  # noqa: FBT002 (a command-line flag)
        bool, typer.Option("--consent", help="The customer agreed to be remembered.")
    ] = False,
) -> None:
    """Record one order (priced from the catalog) for a customer who consented (--consent)."""
    cfg = configurator_of(catalog)
    wanted = load_needs(needs) if needs is not None else None
    quote = cfg.price(parse_choices(choices), wanted)
    with _open(db) as memory:
        order = memory.record(customer, quote, wanted, consent=consent, catalog=cfg)
    _say(f"recorded order {order} for {customer}: {quote.currency} {quote.total}")


@memory_app.command()
def suggest(
    customer: CustomerArg,
    catalog: CatalogArg,
    db: DbOption,
    k: Annotated[int, typer.Option("-k", min=1, help="how many")] = 3,
    output: FormatOption = "table",
) -> None:
    """The customer's usual on this catalog, or the nearest valid configurations, explained."""
    _format(output)
    cfg = configurator_of(catalog)
    with _open(db) as memory:
        found = memory.suggest(customer, cfg, k)
    if output == "json":
        rows = [
            {
                "quote": s.quote.to_dict(),
                "changes": [
                    {"slot": c.slot, "was": c.was, "now": c.now, "kind": c.kind, "why": c.reason}
                    for c in s.changes
                ],
            }
            for s in found
        ]
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    for rank, suggestion in enumerate(found, start=1):
        title = "the usual" if suggestion.is_usual else f"{suggestion.module_changes} changes"
        console().print(quote_table(suggestion.quote, f"#{rank}: {title}"))
        for change in suggestion.changes:
            _say(f"  {change}")


@memory_app.command()
def recommend(
    catalog: CatalogArg,
    slot: Annotated[str, typer.Argument(help="The slot to recommend a module for.")],
    choices: Annotated[
        list[str] | None, typer.Argument(help="The choices made so far: slot=module pairs.")
    ] = None,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            envvar="MODCFG_MEMORY_DB",
            help="Learn from the orders of this catalog stored in this database.",
        ),
    ] = None,
    sales: Annotated[
        Path | None,
        typer.Option("--sales", help="Learn from a sales history file instead (one sale a row)."),
    ] = None,
    output: FormatOption = "table",
) -> None:
    """The slot's still-possible modules, best first, learned from past orders or sales."""
    from .memory import Recommender

    _format(output)
    if (db is None) == (sales is None):
        raise NeedsError("give either --db URL (stored orders) or --sales FILE to learn from")
    cfg = configurator_of(catalog)
    if sales is not None:
        from .io import read_sales

        history: list[Mapping[str, Any]] = list(read_sales(sales, cfg.catalog))
    else:
        with _open(str(db)) as memory:
            name = cfg.catalog.name
            history = [o.configuration for o in memory.orders() if o.catalog == name]
    recommender = Recommender.fit(cfg, history)
    session = cfg.session()
    for chosen_slot, choice in parse_choices(choices or []).items():
        if isinstance(choice, Mapping):
            for module, quantity in choice.items():
                session.choose(chosen_slot, module, quantity)
        else:
            session.choose(chosen_slot, None if choice is None else str(choice))
    ranked = recommender.recommend(session, slot)
    if output == "json":
        rows = [{"module": module, "score": score} for module, score in ranked]
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    from rich.table import Table

    table = Table("module", "score")
    for module, score in ranked:
        table.add_row(cell(module), f"{score:.3f}")
    console().print(table)


@memory_app.command()
def export(customer: CustomerArg, db: DbOption) -> None:
    """Everything stored about the customer, as JSON."""
    with _open(db) as memory:
        sys.stdout.write(memory.export(customer) + "\n")


@memory_app.command()
def forget(customer: CustomerArg, db: DbOption) -> None:
    """Delete everything stored about the customer."""
    with _open(db) as memory:
        gone = memory.forget(customer)
    _say(f"forgot {customer}: {gone} orders deleted")


@memory_app.command()
def segments(
    db: DbOption,
    catalog: Annotated[
        str | None, typer.Argument(help="The catalog whose fit to measure (optional).")
    ] = None,
    output: FormatOption = "table",
) -> None:
    """Every customer's marketing quadrant (mass, frequency, customised), value and fit."""
    _format(output)
    cfg = configurator_of(catalog) if catalog else None
    with _open(db) as memory:
        rows = memory.segments(cfg)
    if output == "json":
        data = [
            {
                "customer_id": row.customer_id,
                "orders": row.orders,
                "yearly_value": str(row.yearly_value),
                "orders_per_year": row.orders_per_year,
                "fit": row.fit,
                "quadrant": row.quadrant,
            }
            for row in rows
        ]
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    from rich.table import Table

    table = Table("customer", "orders", "yearly value", "orders/year", "fit", "quadrant")
    for row in rows:
        table.add_row(
            cell(row.customer_id),
            str(row.orders),
            str(row.yearly_value),
            f"{row.orders_per_year:g}",
            f"{row.fit:.0%}",
            row.quadrant,
        )
    console().print(table)
