"""The ``modcfg`` command line (typer + rich): check, count, list, best, price, configure,
diff, import, compile, demo, warm (in ``_cli_warm.py``), serve (in ``_cli_serve.py``) and the
customer memory's ``modcfg memory ...`` (in ``_cli_memory.py``).

Each command loads and compiles a catalog (or loads one compiled and saved by ``modcfg
compile``, a ``.modcfg`` file), asks the library and prints the answer; nothing here computes
configurations. What every command keeps to: answers go to stdout and messages to
stderr; catalog text is printed through :mod:`._terminal`, so it is never read as markup or
escape sequences; counts are printed exact at any size; ``list`` writes each row as it comes.
Exit codes: 0 on success, 1 for a :class:`~modcfg.ModcfgError` or a failed check, 2 when a time
limit passed, 130 on Ctrl-C.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from . import _configurator
from ._artefact import SUFFIX, configurator_of, is_compiled_file, load_compiled
from ._cli_common import (
    DEFAULT_TIME_LIMIT,
    LEAST_SECONDS,
    CatalogArg,
    NeedsOption,
    TimeLimitOption,
    compiled_within,
    limited,
    needs_of,
    print_error,
    seconds_of,
)
from ._cli_memory import memory_app
from ._cli_serve import serve
from ._cli_warm import warm
from ._errors import LimitExceeded, ModcfgError, NeedsError
from ._rows import RowWriter, parse_choices
from ._terminal import (
    catalog_table,
    console,
    findings_table,
    int_text,
    quote_table,
    result_title,
    safe,
)
from .model import Catalog, Needs, load_catalog, save_catalog
from .price import LineCache, quote

__all__ = ["app", "main"]

app = typer.Typer(
    name="modcfg",
    help="Count, list, price and explain the configurations of a modular product catalog.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(memory_app)
app.command()(serve)
app.command()(warm)

#: ``best``'s default k: the library's, so that ``modcfg best`` and ``cfg.best()`` agree.
BEST_K: int = inspect.signature(_configurator.Configurator.best).parameters["k"].default
#: Listing more configurations than this without --limit asks first, or needs --all.
LARGE_LISTING = 1_000_000
#: Rows between two updates of the progress bar.
_PROGRESS_EVERY = 1024

#: The example customer of ``modcfg demo`` (the same as examples/window_customer.yaml).
DEMO_NEEDS: dict[str, Any] = {
    "require": ["glass.triple"],
    "forbid": ["frame.pvc"],
    "conditions": ["glass.u_value <= 1.0"],
    "budget": "400",
    "quantity": 1,
    "prefer": {"frame.oak": 2, "picture.georgian": 1},
}


@contextmanager
def _progress(total: int | None) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr when stderr is a terminal and the rows go elsewhere."""
    if not sys.stderr.isatty() or sys.stdout.isatty():
        yield lambda done: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn("listing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
        redirect_stdout=False,
        redirect_stderr=False,
    )
    with bar:
        task = bar.add_task("listing", total=total)
        yield lambda done: bar.update(task, completed=done)


def _reader_gone() -> NoReturn:
    """The reader of stdout went away (``| head``): stop quietly, exit code 1."""
    # the interpreter flushes stdout at exit, which would fail again (no file descriptor, as
    # under a test runner: nothing will be flushed)
    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    raise typer.Exit(code=1)


@app.command()
def check(
    catalog: CatalogArg,
    output: Annotated[str, typer.Option("--format", "-f", help="table or json")] = "table",
    time_limit: Annotated[
        float,
        typer.Option(
            "--time-limit",
            min=0,
            help="seconds spent looking for redundant rules (0: look at every rule)",
        ),
    ] = _configurator.REDUNDANCY_SECONDS,
) -> None:
    """Validate a catalog, summarise it and check it: contradicting rules, dead and core
    modules, forced slots, redundant rules, price rules that never apply, the stated count.
    Only errors exit with 1 (dead modules of a model in another tool's format are warnings)."""
    if output not in ("table", "json"):
        raise NeedsError(f"--format {output} is unknown; use table or json")
    cfg = configurator_of(catalog)
    loaded = cfg.catalog
    count = cfg.count()
    own_format = Path(catalog).suffix.lower() in ("", ".yaml", ".yml", ".json")
    findings = cfg.check(
        dead_modules="error" if own_format else "warning", time_limit=time_limit or None
    )
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
                    # exact: a count too long for an integer literal is written as text
                    "count": count if count < 10**4000 else int_text(count),
                    "expected_count": loaded.expected_count,
                    "ok": not errors,
                    "findings": [f.to_dict() for f in findings],
                },
                indent=2,
            )
        )
    else:
        console().print(catalog_table(loaded, count))
        if findings:
            console().print(findings_table(findings))
        else:
            console().print("no findings")
    if errors:
        raise typer.Exit(code=1)


@app.command()
def count(
    catalog: CatalogArg,
    needs: NeedsOption = None,
    time_limit: TimeLimitOption = DEFAULT_TIME_LIMIT,
) -> None:
    """Print the exact number of valid configurations (for the needs, when given)."""
    seconds = seconds_of(time_limit)
    cfg, left = compiled_within(catalog, seconds)
    with limited("counting", seconds):
        total = cfg.count(needs_of(needs), time_limit=left)
    sys.stdout.write(int_text(total) + "\n")


@app.command("list")
def list_(
    catalog: CatalogArg,
    needs: NeedsOption = None,
    order: Annotated[str | None, typer.Option(help="'price' for cheapest first")] = None,
    limit: Annotated[int | None, typer.Option(min=0, help="stop after N configurations")] = None,
    all_: Annotated[  # noqa: FBT002 (a command-line flag)
        bool,
        typer.Option("--all", help=f"list more than {LARGE_LISTING:,} configurations unasked"),
    ] = False,
    output: Annotated[
        str, typer.Option("--format", "-f", help="table, csv, json (an array) or jsonl")
    ] = "table",
    time_limit: Annotated[
        float | None,
        typer.Option(
            "--time-limit",
            min=0,
            help=f"seconds before giving up (default {DEFAULT_TIME_LIMIT:g}, or none with --all;"
            " 0: no limit)",
            show_default=False,
        ),
    ] = None,
) -> None:
    """List valid configurations as they are found, optionally cheapest first.

    Rows are written one at a time, so `| head` shows the first at once. Listing more than a
    million configurations without --limit asks first (or needs --all when not at a terminal).
    """
    if order not in (None, "price"):
        raise NeedsError(f"--order {order} is unknown; use --order price")
    if output not in ("table", "json", "jsonl", "csv"):
        raise NeedsError(f"--format {output} is unknown; use table, csv, json or jsonl")
    started = time.monotonic()
    asked = None if time_limit is None else seconds_of(time_limit)
    cfg, left = compiled_within(
        catalog, DEFAULT_TIME_LIMIT if time_limit is None and not all_ else asked
    )
    wanted = needs_of(needs)
    total: int | None
    try:  # (how many, to ask before a large listing and show progress; the listing tells too)
        total = cfg.count(wanted, time_limit=left)
    except LimitExceeded:  # too long or too wide to count first: list without knowing
        total = None
    if total == 0:
        from .explain import infeasible_error  # explanations load when one is needed

        raise infeasible_error(cfg, cfg.resolve(wanted))
    if limit is None and (total is None or total > LARGE_LISTING) and not all_:
        asked_at = time.monotonic()
        all_ = _confirm_listing(cfg.catalog.name, total, needs=wanted is not None)
        started += time.monotonic() - asked_at  # (the user's time to answer is not the work's)
    # the default limit is for a listing that should be quick; one asked for in full has none
    default = None if all_ else DEFAULT_TIME_LIMIT
    seconds = default if time_limit is None else asked
    writer = RowWriter(output, cfg.catalog, sys.stdout)
    resolved = cfg.resolve(wanted)
    lines_of: LineCache = {}  # module lines shared by the rows' quotes
    listing = None if seconds is None else seconds - (time.monotonic() - started)
    rows = cfg.configurations(
        wanted,
        order="price" if order else None,
        limit=limit,
        time_limit=None if listing is None else max(listing, LEAST_SECONDS),
    )
    shown = limit if total is None else total if limit is None else min(limit, total)
    try:
        with limited("listing", seconds, listing=True), _progress(shown) as advance:
            writer.begin()
            for done, row in enumerate(rows, start=1):
                # (valid by construction: priced without checking it again)
                writer.row(row, quote(cfg.catalog, row, resolved, lines_of=lines_of).total)
                if not done % _PROGRESS_EVERY:
                    advance(done)
            writer.end()
    except BrokenPipeError:
        _reader_gone()


def _confirm_listing(name: str, total: int | None, *, needs: bool) -> bool:
    """True when the user confirms listing ``total`` rows (None: too many to count first) at
    a terminal; else exit."""
    many = "too many configurations to count first"
    if total is not None:
        many = f"{int_text(total, grouped=True)} configurations"
    where = f"{safe(name)} has {many}" + (" for these needs" if needs else "")
    if not sys.stdin.isatty():
        raise NeedsError(f"{where}; pass --limit N to list the first N, or --all to list them all")
    if not typer.confirm(f"{where}. List them all?", err=True):
        raise typer.Exit(code=1)
    return True


@app.command()
def best(
    catalog: CatalogArg,
    needs: NeedsOption = None,
    k: Annotated[int, typer.Option("-k", min=1, help="how many")] = BEST_K,
    output: Annotated[str, typer.Option("--format", "-f", help="table or json")] = "table",
    time_limit: TimeLimitOption = DEFAULT_TIME_LIMIT,
) -> None:
    """Print the k best configurations for the needs, with their quotes."""
    if output not in ("table", "json"):
        raise NeedsError(f"--format {output} is unknown; use table or json")
    seconds = seconds_of(time_limit)
    cfg, left = compiled_within(catalog, seconds)
    with limited("the search for the best", seconds):
        quotes = cfg.best(needs_of(needs), k=k, time_limit=left)
    if output == "json":
        _print_json([result.to_dict() for result in quotes])
        return
    for rank, result in enumerate(quotes, start=1):
        console().print(quote_table(result, result_title(rank, result, cfg.catalog)))


def _print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


@app.command()
def price(
    catalog: CatalogArg,
    choices: Annotated[list[str], typer.Argument(help="slot=module pairs")],
    needs: NeedsOption = None,
    output: Annotated[str, typer.Option("--format", "-f", help="table or json")] = "table",
) -> None:
    """Price one configuration given as slot=module pairs (slot=a:2,b for quantities)."""
    if output not in ("table", "json"):
        raise NeedsError(f"--format {output} is unknown; use table or json")
    cfg = configurator_of(catalog)
    result = cfg.price(parse_choices(choices), needs_of(needs))
    if output == "json":
        _print_json(result.to_dict())
    else:
        console().print(quote_table(result, "quote"))


@app.command()
def configure(catalog: CatalogArg, needs: NeedsOption = None) -> None:
    """A guided dialogue: choose modules one at a time, ask why, finish, and get the quote.

    At a terminal the prompt has line editing and history; otherwise it reads one command a
    line from standard input. Type 'help' for the commands and 'done' to finish with the
    cheapest completion once only optional slots are left open.
    """
    cfg = configurator_of(catalog)
    from .session._dialogue import Dialogue, input_lines

    dialogue = Dialogue(cfg.session(needs_of(needs)), cfg.catalog, console())
    dialogue.start()
    dialogue.run(input_lines())


@app.command()
def diff(old: CatalogArg, new: CatalogArg) -> None:
    """Print what changed from catalog OLD to NEW: modules added, retired and repriced, rules
    added, removed, changed and renamed, and the configurations counted before and after."""
    from .orders import diff_catalogs

    sys.stdout.write(str(diff_catalogs(_catalog(old), _catalog(new))) + "\n")


def _catalog(source: str) -> Catalog:
    """The catalog of a catalog file, a compiled catalog or a bundled name."""
    if is_compiled_file(source):
        return load_compiled(source).catalog
    return load_catalog(source)


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
    console().print(
        f"wrote {written}: {len(catalog.slots)} slots, {catalog.module_count} modules, "
        f"{len(catalog.rules)} rules"
    )


@app.command("compile")
def compile_(
    catalog: CatalogArg,
    output: Annotated[
        Path, typer.Argument(help=f"The compiled catalog to write (a {SUFFIX} file).")
    ],
    time_limit: TimeLimitOption = DEFAULT_TIME_LIMIT,
) -> None:
    """Compile a catalog once and save it, for the other commands and 'modcfg serve' to load
    without compiling again (in this modcfg version)."""
    if not is_compiled_file(output):
        raise NeedsError(
            f"the commands tell a compiled catalog by its {SUFFIX} ending: name the file "
            f"{output.stem}{SUFFIX}"
        )
    seconds = seconds_of(time_limit)
    start = time.monotonic()
    cfg, left = compiled_within(catalog, seconds)
    with limited("counting", seconds):
        total = cfg.count(time_limit=left)
    written = cfg.save(output)
    console().print(
        f"wrote {written}: {int_text(total, grouped=True)} configurations, compiled and saved "
        f"in {time.monotonic() - start:.2f} s"
    )


@app.command()
def demo() -> None:
    """Show the bundled windows catalog: its count, the cheapest windows and a customer's best."""
    catalog = load_catalog("windows")
    cfg = _configurator.compile(catalog)
    console().print(catalog_table(catalog, cfg.count()))
    console().print(f"\n[bold]{int_text(cfg.count(), grouped=True)}[/bold] valid windows.\n")
    console().print("[bold]The five cheapest windows[/bold]")
    for rank, result in enumerate(cfg.best(k=5), start=1):
        console().print(quote_table(result, result_title(rank, result, cfg.catalog)))
    needs = Needs(**DEMO_NEEDS)
    console().print(
        "\n[bold]Best three for a customer[/bold] (triple glass, no PVC, U-value <= 1.0, "
        "budget EUR 400, prefers oak):"
    )
    console().print(f"{cfg.count(needs)} windows meet these needs.")
    for rank, result in enumerate(cfg.best(needs, k=3), start=1):
        console().print(quote_table(result, result_title(rank, result, cfg.catalog)))


@contextmanager
def _without_pydantic_plugins() -> Iterator[None]:
    """Pydantic plugins off while a command runs, unless ``PYDANTIC_DISABLE_PLUGINS`` is set:
    looking for them reads the entry points of every installed package when a command
    validates its first catalog (40-50 ms of each command in a virtual environment of 140
    packages), and no command needs one."""
    if "PYDANTIC_DISABLE_PLUGINS" in os.environ:
        yield
        return
    os.environ["PYDANTIC_DISABLE_PLUGINS"] = "__all__"
    try:
        yield
    finally:
        os.environ.pop("PYDANTIC_DISABLE_PLUGINS", None)


def main(args: list[str] | None = None) -> None:
    """Run the CLI; a :class:`ModcfgError` prints one clear message and exits with 1 (2 for
    a passed limit); Ctrl-C stops quietly with 130."""
    try:
        with _without_pydantic_plugins():
            app(args=args)
    except LimitExceeded as exc:
        print_error(str(exc))
        sys.exit(2)
    except ModcfgError as exc:
        print_error(str(exc))
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
