"""The ``modcfg`` command line (typer + rich)."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import _configurator
from ._errors import ModcfgError, NeedsError
from ._session import Session
from .model import Catalog, Configuration, Needs, load_catalog, load_needs, save_catalog
from .price import Quote

__all__ = ["app", "main"]

app = typer.Typer(
    name="modcfg",
    help="Count, list, price and explain the configurations of a modular product catalog.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()

CatalogArg = Annotated[
    str, typer.Argument(help="A catalog file (.yaml, .json, ...) or a bundled name (windows).")
]
NeedsOption = Annotated[
    Path | None, typer.Option("--needs", "-n", help="A YAML/JSON file of the customer's needs.")
]

#: The example customer of ``modcfg demo`` (the same as examples/window_customer.yaml).
DEMO_NEEDS: dict[str, Any] = {
    "require": ["glass.triple"],
    "forbid": ["frame.pvc"],
    "conditions": ["glass.u_value <= 1.0"],
    "budget": "400",
    "quantity": 1,
    "prefer": {"frame.oak": 2, "picture.georgian": 1},
}


def _needs(path: Path | None) -> Needs | None:
    return load_needs(path) if path is not None else None


def _choice_text(choice: object) -> str:
    if choice is None:
        return "-"
    if isinstance(choice, Mapping):
        return ", ".join(f"{m} x{q}" for m, q in choice.items()) or "-"
    return str(choice)


def _summary(catalog: Catalog, count: int | None) -> Table:
    table = Table(title=f"{catalog.label or catalog.name} (version {catalog.version})")
    table.add_column("slot")
    table.add_column("cardinality")
    table.add_column("modules", justify="right")
    table.add_column("price range", justify="right")
    for slot in catalog.slots.values():
        prices = [module.price for module in slot.modules.values()]
        table.add_row(
            slot.title,
            str(slot.cardinality),
            str(len(slot.modules)),
            f"{catalog.currency} {min(prices)} - {max(prices)}",
        )
    table.caption = (
        f"{len(catalog.slots)} slots, {catalog.module_count} modules, {len(catalog.rules)} rules, "
        f"{len(catalog.prices)} price rules"
        + (f", {count:,} valid configurations" if count is not None else "")
    )
    return table


def _quote_table(result: Quote, title: str) -> Table:
    table = Table(title=title, show_footer=True)
    table.add_column("line", footer="total")
    table.add_column("reason")
    table.add_column("amount", justify="right", footer=f"{result.currency} {result.total}")
    for line in result.lines:
        table.add_row(line.label, line.reason, f"{line.amount}")
    return table


@app.command()
def check(
    catalog: CatalogArg,
    output: Annotated[str, typer.Option("--format", "-f", help="table or json")] = "table",
) -> None:
    """Validate a catalog, summarise it and check it: contradicting rules, dead and core
    modules, forced slots, redundant rules, price rules that never apply, the stated count.
    Only errors exit with 1 (dead modules of a model in another tool's format are warnings)."""
    if output not in ("table", "json"):
        raise NeedsError(f"--format {output} is unknown; use table or json")
    loaded = load_catalog(catalog)
    cfg = _configurator.compile(loaded)
    count = cfg.count()
    own_format = Path(catalog).suffix.lower() in ("", ".yaml", ".yml", ".json")
    findings = cfg.check(dead_modules="error" if own_format else "warning")
    errors = [f for f in findings if f.severity == "error"]
    if output == "json":
        print(
            json.dumps(
                {
                    "catalog": loaded.name,
                    "version": loaded.version,
                    "slots": len(loaded.slots),
                    "modules": loaded.module_count,
                    "rules": len(loaded.rules),
                    "count": count,
                    "expected_count": loaded.expected_count,
                    "ok": not errors,
                    "findings": [f.to_dict() for f in findings],
                },
                indent=2,
            )
        )
    else:
        console.print(_summary(loaded, count))
        if findings:
            table = Table(title="findings")
            for column in ("severity", "code", "where", "message"):
                table.add_column(column)
            for finding in findings:
                table.add_row(finding.severity, finding.code, finding.where, finding.message)
            console.print(table)
        else:
            console.print("no findings")
    if errors:
        raise typer.Exit(code=1)


@app.command()
def count(catalog: CatalogArg, needs: NeedsOption = None) -> None:
    """Print the exact number of valid configurations (for the needs, when given)."""
    cfg = _configurator.compile(load_catalog(catalog))
    console.print(cfg.count(_needs(needs)))


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )


@app.command("list")
def list_(
    catalog: CatalogArg,
    needs: NeedsOption = None,
    order: Annotated[str | None, typer.Option(help="'price' for cheapest first")] = None,
    limit: Annotated[int | None, typer.Option(help="stop after N configurations")] = None,
    output: Annotated[str, typer.Option("--format", "-f", help="table, json or csv")] = "table",
) -> None:
    """List valid configurations, optionally cheapest first."""
    if order not in (None, "price"):
        raise NeedsError(f"--order {order} is unknown; use --order price")
    if output not in ("table", "json", "csv"):
        raise NeedsError(f"--format {output} is unknown; use table, json or csv")
    cfg = _configurator.compile(load_catalog(catalog))
    wanted = _needs(needs)
    slots = list(cfg.catalog.slots)
    with _progress() as bar:
        task = bar.add_task("listing", total=limit)

        def advance(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=limit or total)

        rows = list(
            cfg.configurations(
                wanted, order="price" if order else None, limit=limit, progress=advance
            )
        )
    _print_rows(cfg, rows, slots, wanted, output)


def _print_rows(
    cfg: _configurator.Configurator,
    rows: list[Configuration],
    slots: list[str],
    wanted: Needs | None,
    output: str,
) -> None:
    totals = [str(cfg.price(row, wanted).total) for row in rows]
    if output == "json":
        print(
            json.dumps(
                [
                    {**{s: _plain(row[s]) for s in slots}, "total": total}
                    for row, total in zip(rows, totals, strict=True)
                ],
                indent=2,
            )
        )
        return
    if output == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([*slots, "total"])
        for row, total in zip(rows, totals, strict=True):
            writer.writerow([_choice_text(row[s]) for s in slots] + [total])
        sys.stdout.write(buffer.getvalue())
        return
    table = Table()
    for slot in slots:
        table.add_column(slot)
    table.add_column(f"total ({cfg.catalog.currency})", justify="right")
    for row, total in zip(rows, totals, strict=True):
        table.add_row(*(_choice_text(row[s]) for s in slots), total)
    console.print(table)


def _plain(choice: object) -> object:
    return dict(choice) if isinstance(choice, Mapping) else choice


@app.command()
def best(
    catalog: CatalogArg,
    needs: NeedsOption = None,
    k: Annotated[int, typer.Option("-k", help="how many")] = 3,
) -> None:
    """Print the k best configurations for the needs, with their quotes."""
    cfg = _configurator.compile(load_catalog(catalog))
    for rank, result in enumerate(cfg.best(_needs(needs), k=k), start=1):
        console.print(_quote_table(result, _title(rank, result)))


def _title(rank: int, result: Quote) -> str:
    choices = ", ".join(_choice_text(c) for c in result.configuration.values())
    return f"#{rank}: {choices}"


@app.command()
def price(
    catalog: CatalogArg,
    choices: Annotated[list[str], typer.Argument(help="slot=module pairs")],
    needs: NeedsOption = None,
) -> None:
    """Price one configuration given as slot=module pairs."""
    cfg = _configurator.compile(load_catalog(catalog))
    chosen: dict[str, Any] = {}
    for pair in choices:
        slot, sep, module = pair.partition("=")
        if not sep:
            raise NeedsError(f"'{pair}' is not slot=module (e.g. frame=oak)")
        if ":" in module or "," in module:
            chosen[slot] = {
                name: int(q or 1)
                for name, _, q in (part.partition(":") for part in module.split(","))
            }
        else:
            chosen[slot] = module or None
    result = cfg.price(chosen, _needs(needs))
    console.print(_quote_table(result, "quote"))


_CONFIGURE_HELP = """commands:
  SLOT=MODULE or choose SLOT MODULE [QUANTITY]   choose a module
  unchoose SLOT [MODULE]                          take a choice back
  undo | redo                                     step back or forward
  why SLOT MODULE                                 why a module is excluded
  complete [cheapest|preferred]                   fill the open slots and show the quote
  quote                                           the quote, once every slot is decided
  show | help | quit"""


def _state_table(session: Session) -> Table:
    state = session.state()
    low, high = state.price_range or (None, None)
    table = Table(title=f"{state.count:,} configurations, {state.currency} {low} - {high}")
    table.add_column("slot")
    table.add_column("module")
    table.add_column("status")
    table.add_column("completions", justify="right")
    table.add_column("from", justify="right")
    table.add_column("why not")
    for slot, options in state.items():
        for module, option in options.items():
            price = "" if option.from_price is None else str(option.from_price)
            reason = option.reason if option.status == "excluded" else ""
            table.add_row(slot, module, option.status, f"{option.count:,}", price, reason or "")
    return table


def _configure_step(session: Session, words: list[str]) -> bool:
    """Run one dialogue command; False when the dialogue ends."""
    command = words[0].lower()
    if command in ("quit", "exit", "q"):
        return False
    if command == "help":
        console.print(_CONFIGURE_HELP, markup=False)
    elif command == "show":
        console.print(_state_table(session))
    elif "=" in command and len(words) == 1:
        slot, _, module = words[0].partition("=")
        session.choose(slot, module or None)
        console.print(_state_table(session))
    elif command == "choose" and len(words) in (3, 4):
        session.choose(words[1], words[2], int(words[3]) if len(words) == 4 else 1)
        console.print(_state_table(session))
    elif command == "unchoose" and len(words) in (2, 3):
        session.unchoose(words[1], words[2] if len(words) == 3 else None)
        console.print(_state_table(session))
    elif command in ("undo", "redo") and len(words) == 1:
        (session.undo if command == "undo" else session.redo)()
        console.print(_state_table(session))
    elif command == "why" and len(words) == 3:
        console.print(str(session.why_not(words[1], words[2])))
    elif command == "complete" and len(words) <= 2:
        strategy = words[1] if len(words) == 2 else "cheapest"
        if strategy not in ("cheapest", "preferred"):
            raise NeedsError("complete takes 'cheapest' or 'preferred'")
        result = session.complete("preferred" if strategy == "preferred" else "cheapest")
        console.print(_quote_table(result, "your configuration"))
    elif command == "quote" and len(words) == 1:
        console.print(_quote_table(session.quote(), "your configuration"))
    else:
        console.print(f"unknown command: {' '.join(words)}\n{_CONFIGURE_HELP}", markup=False)
    return True


@app.command()
def configure(catalog: CatalogArg, needs: NeedsOption = None) -> None:
    """A guided dialogue: choose modules one at a time, ask why, complete, and get the quote.

    Reads one command a line from standard input (type 'help').
    """
    cfg = _configurator.compile(load_catalog(catalog))
    session = cfg.session(_needs(needs))
    console.print(_state_table(session))
    console.print("type 'help' for the commands")
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        try:
            if not _configure_step(session, words):
                break
        except (ModcfgError, ValueError) as exc:
            console.print(f"error: {exc}", markup=False, highlight=False)


@app.command("import")
def import_(
    source: Annotated[Path, typer.Argument(help="A UVL, DIMACS, XCSP, YAML or JSON model.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The .yaml or .json to write.")],
    source_format: Annotated[
        str | None, typer.Option("--format", help="uvl, dimacs, cnf, xcsp or xml (default: suffix)")
    ] = None,
) -> None:
    """Convert a model in another format into a modcfg catalog file."""
    catalog = load_catalog(source, format=source_format)
    written = save_catalog(catalog, output)
    console.print(
        f"wrote {written}: {len(catalog.slots)} slots, {catalog.module_count} modules, "
        f"{len(catalog.rules)} rules"
    )


@app.command()
def demo() -> None:
    """Show the bundled windows catalog: its count, the cheapest windows and a customer's best."""
    catalog = load_catalog("windows")
    cfg = _configurator.compile(catalog)
    console.print(_summary(catalog, cfg.count()))
    console.print(f"\n[bold]{cfg.count():,}[/bold] valid windows.\n")
    console.print("[bold]The five cheapest windows[/bold]")
    for rank, result in enumerate(cfg.best(k=5), start=1):
        console.print(_quote_table(result, _title(rank, result)))
    needs = Needs(**DEMO_NEEDS)
    console.print(
        "\n[bold]Best three for a customer[/bold] (triple glass, no PVC, U-value <= 1.0, "
        "budget EUR 400, prefers oak):"
    )
    console.print(f"{cfg.count(needs)} windows meet these needs.")
    for rank, result in enumerate(cfg.best(needs, k=3), start=1):
        console.print(_quote_table(result, _title(rank, result)))


def main(args: list[str] | None = None) -> None:
    """Run the CLI; a :class:`ModcfgError` prints one clear message and exits with 1."""
    try:
        app(args=args)
    except ModcfgError as exc:
        Console(stderr=True, highlight=False, soft_wrap=True).print(f"error: {exc}", markup=False)
        sys.exit(1)
