"""The command line: every command, its help, and one-line errors with a non-zero exit."""

from __future__ import annotations

import decimal
import json
import os
import select
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import IO

import pytest
from typer.testing import CliRunner

from modcfg.cli import app

runner = CliRunner()
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.parametrize(
    "command",
    ["check", "count", "list", "best", "price", "demo", "configure", "import", "compile", "diff"],
)
def test_every_command_has_help(command: str) -> None:
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output


def test_demo_shows_count_cheapest_and_best() -> None:
    result = runner.invoke(app, ["demo"])
    assert result.exit_code == 0, result.output
    assert "1,800" in result.output
    assert "The five cheapest windows" in result.output
    assert "Best three for a customer" in result.output
    assert result.output.count("#1:") == 2


def test_check_prints_summary() -> None:
    result = runner.invoke(app, ["check", "windows"])
    assert result.exit_code == 0, result.output
    assert "4 slots, 30 modules" in result.output


def test_check_json() -> None:
    result = runner.invoke(app, ["check", "credit_cards", "--format", "json"])
    assert json.loads(result.output)["count"] == 200


def test_count_with_needs() -> None:
    result = runner.invoke(
        app, ["count", "windows", "--needs", str(EXAMPLES / "window_customer.yaml")]
    )
    assert result.exit_code == 0
    assert int(result.output.strip()) > 0


def test_list_csv_in_price_order() -> None:
    result = runner.invoke(
        app, ["list", "windows", "--order", "price", "--limit", "4", "-f", "csv"]
    )
    lines = result.output.strip().splitlines()
    assert lines[0] == "frame,glass,grade,picture,total"
    totals = [float(line.rsplit(",", 1)[1]) for line in lines[1:]]
    assert len(totals) == 4
    assert totals == sorted(totals)


def test_price_and_best() -> None:
    result = runner.invoke(
        app, ["price", "windows", "frame=oak", "glass=triple", "grade=g1", "picture=plain"]
    )
    assert result.exit_code == 0
    assert "EUR 260.00" in result.output
    result = runner.invoke(app, ["best", "windows", "-k", "2"])
    assert "#2:" in result.output
    twice = _run("price", "windows", "frame=pvc", "frame=oak", "glass=triple", "picture=plain")
    assert twice.returncode == 1
    assert "slot 'frame' is given twice ('frame=oak')" in twice.stderr


def test_best_names_the_features_of_a_feature_model(tmp_path: Path) -> None:
    # slots of one module (a DIMACS variable) are named when chosen, left out when not
    model = tmp_path / "features.dimacs"
    names = "".join(f"c {n} Feature{n}\n" for n in range(1, 16))
    clauses = "".join(f"{n if n != 2 else -2} 0\n" for n in range(1, 16))  # all but Feature2
    model.write_text(names + "p cnf 15 15\n" + clauses, encoding="utf-8")
    result = runner.invoke(app, ["best", str(model), "-k", "1"])
    assert result.exit_code == 0
    title = " ".join(result.output.split("\u250f")[0].split())  # (the title above the table)
    assert title.startswith("#1: Feature1, Feature3, Feature4,")
    assert "Feature2," not in title
    assert title.endswith("Feature13 and 2 more")
    assert "selected" not in title


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from modcfg.cli import main; main()", *args],
        capture_output=True,
        text=True,
        check=False,
    )


def test_misspelt_reference_exits_non_zero_with_one_clear_line(tmp_path: Path) -> None:
    catalog = tmp_path / "bad.yaml"
    catalog.write_text(
        "catalog: bad\n"
        "slots:\n"
        "  frame: {modules: {oak: {}, pvc: {}}}\n"
        "  glass: {modules: {laminated: {}, float: {}}}\n"
        "rules:\n"
        "  - id: oak-laminated\n"
        "    requires: {if: frame.oak, then: [glass.lamnated]}\n",
        encoding="utf-8",
    )
    result = _run("check", str(catalog))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1
    assert "oak-laminated" in message
    assert "glass.lamnated" in message
    assert "did you mean 'glass.laminated'?" in message
    assert "line 6" in message


def test_unknown_catalog_name_is_one_line() -> None:
    result = _run("count", "windowz")
    assert result.returncode == 1
    assert "did you mean 'windows'?" in result.stderr
    assert "Traceback" not in result.stderr


def test_import_converts_and_round_trips(tmp_path: Path) -> None:
    uvl = tmp_path / "phone.uvl"
    uvl.write_text(
        "features\n    Phone\n        optional\n            GPS\n            Camera\n"
        "constraints\n    GPS => Camera\n",
        encoding="utf-8",
    )
    output = tmp_path / "phone.yaml"
    result = runner.invoke(app, ["import", str(uvl), "-o", str(output)])
    assert result.exit_code == 0, result.output
    assert "3 slots, 3 modules" in " ".join(result.output.split())  # wrapped at any width
    result = runner.invoke(app, ["count", str(output)])
    assert result.output.strip() == "3"


def test_a_catalog_compiled_once_serves_every_command(tmp_path: Path) -> None:
    """``modcfg compile`` saves a compiled catalog; every command that takes a catalog reads
    the .modcfg file as one, without compiling again, and answers as from the catalog."""
    import modcfg
    import modcfg._configurator
    from modcfg.web._serve import _load

    saved = tmp_path / "bicycle.modcfg"
    result = runner.invoke(app, ["compile", "bicycle", str(saved)])
    assert result.exit_code == 0, result.output
    assert "202,516,600 configurations" in " ".join(result.output.split())

    def compile_again(*args: object, **kwargs: object) -> None:
        raise AssertionError("a compiled catalog is loaded, not compiled again")

    commands = (["count"], ["best", "-k", "2"], ["check", "--format", "json"])
    expected = [runner.invoke(app, [name, "bicycle", *rest]) for name, *rest in commands]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(modcfg._configurator, "compile", compile_again)
        for (name, *rest), theirs in zip(commands, expected, strict=True):
            ours = runner.invoke(app, [name, str(saved), *rest])
            assert ours.exit_code == theirs.exit_code == 0, ours.output
            assert ours.output == theirs.output
        served = _load(str(saved))
        assert isinstance(served, modcfg.Configurator)
        assert served.count() == 202_516_600
    diff = runner.invoke(app, ["diff", str(saved), "bicycle"])  # (which counts both anew)
    assert diff.exit_code == 0, diff.output
    assert diff.output == runner.invoke(app, ["diff", "bicycle", "bicycle"]).output
    wrong = _run("compile", "bicycle", str(tmp_path / "bicycle.bin"))
    assert wrong.returncode == 1
    assert "Traceback" not in wrong.stderr
    assert "name the file bicycle.modcfg" in " ".join(wrong.stderr.split())
    with pytest.raises(modcfg.CatalogError, match=r"is a compiled catalog .*modcfg\.load_compiled"):
        modcfg.load_catalog(saved)


@pytest.mark.parametrize("name", ["windows", "windows_pro", "credit_cards", "bicycle"])
def test_saved_catalogs_load_back_identical(tmp_path: Path, name: str) -> None:
    import modcfg

    catalog = modcfg.load_catalog(name)
    for suffix in (".yaml", ".json"):
        path = modcfg.save_catalog(catalog, tmp_path / f"{name}{suffix}")
        assert modcfg.load_catalog(path) == catalog


@pytest.mark.parametrize("name", ["windows", "windows_pro", "credit_cards", "bicycle"])
def test_pydantic_json_dumps_load_back_identical(name: str) -> None:
    import json

    import modcfg
    from modcfg.model import catalog_from_data

    catalog = modcfg.load_catalog(name)
    data = json.loads(json.dumps(catalog.model_dump(by_alias=True, mode="json")))
    assert catalog_from_data(data) == catalog


def test_configure_dialogue_from_scripted_input() -> None:
    script = "\n".join(
        [
            "help",
            "frame=pvc",
            "why glass triple",
            "choose glass triple",
            "choose glass double",
            "undo",
            "redo",
            "unchoose glass",
            "nonsense words",
            "complete",
            "quit",
        ]
    )
    result = runner.invoke(app, ["configure", "windows_pro"], input=script + "\n")
    assert result.exit_code == 0, result.output
    output = result.output
    assert "complete [cheapest|preferred]" in output
    assert "glass.triple is not possible with your choice frame.pvc" in output
    assert "error:" in output  # choosing the excluded triple glazing is refused
    assert "unknown command: nonsense words" in output
    assert "your configuration" in output
    assert "EUR 354.00" in output


# -- dependable under real use -----------------------------------------------------------------

PYTHON_CLI = [sys.executable, "-c", "from modcfg.cli import main; main()"]


def _write_json(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _read_lines(stream: IO[bytes], count: int, deadline: float) -> list[bytes]:
    """Up to ``count`` lines from a pipe, giving up at ``deadline`` (time.monotonic())."""
    lines: list[bytes] = []
    buffer = b""
    while len(lines) < count and time.monotonic() < deadline:
        ready, _, _ = select.select([stream], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        chunk = os.read(stream.fileno(), 65536)
        if not chunk:
            break
        buffer += chunk
        *complete, buffer = buffer.split(b"\n")
        lines.extend(complete)
    return lines[:count]


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc for memory")
def test_list_streams_rows_in_constant_memory_and_stops_quietly_when_the_pipe_closes() -> None:
    # bicycle has 202,516,600 configurations: the first rows come at once, memory stays flat,
    # and a reader that stops early (`| head -3`) ends the listing without a traceback
    with subprocess.Popen(
        [*PYTHON_CLI, "list", "bicycle", "--all", "-f", "csv"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as process:
        assert process.stdout is not None
        assert process.stderr is not None
        try:
            first = _read_lines(process.stdout, 3, time.monotonic() + 90)
            assert len(first) == 3
            assert first[0].startswith(b"frame,")
            started = _rss_kb(process.pid)
            more = _read_lines(process.stdout, 20_000, time.monotonic() + 120)
            assert len(more) == 20_000
            assert _rss_kb(process.pid) - started < 100_000
            process.stdout.close()
            process.wait(timeout=30)
            errors = process.stderr.read().decode()
            assert "Traceback" not in errors
            assert "BrokenPipe" not in errors
        finally:
            process.kill()


def test_list_above_a_million_rows_needs_all_when_not_asked_at_a_terminal() -> None:
    result = subprocess.run(
        [*PYTHON_CLI, "list", "bicycle", "-f", "csv"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert "202,516,600" in result.stderr
    assert "--all" in result.stderr
    assert "--limit" in result.stderr


def test_list_json_is_streamed_as_an_array_and_as_lines() -> None:
    result = runner.invoke(
        app, ["list", "windows", "--order", "price", "--limit", "3", "-f", "json"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [set(row) for row in rows] == [{"frame", "glass", "grade", "picture", "total"}] * 3
    result = runner.invoke(
        app, ["list", "windows", "--order", "price", "--limit", "3", "-f", "jsonl"]
    )
    assert result.exit_code == 0, result.output
    assert [json.loads(line) for line in result.output.splitlines()] == rows


def test_list_table_streams_a_plain_aligned_table() -> None:
    result = runner.invoke(app, ["list", "windows", "--order", "price", "--limit", "3"])
    assert result.exit_code == 0, result.output
    header, rule, *rows = result.output.splitlines()
    assert header.split() == ["frame", "glass", "grade", "picture", "total", "(EUR)"]
    assert set(rule.replace(" ", "")) == {"-"}
    assert len(rows) == 3
    assert len({len(row) for row in [header, *rows]}) == 1  # aligned columns


def test_list_negative_limit_is_refused() -> None:
    result = runner.invoke(app, ["list", "windows", "--limit", "-5"])
    assert result.exit_code == 2
    assert "greater than or equal to 0" in result.output


def test_list_with_needs_nothing_meets_explains_on_stderr_and_exits_1(tmp_path: Path) -> None:
    needs = _write_json(tmp_path / "needs.json", {"require": ["frame.pvc", "frame.oak"]})
    result = _run("list", "windows", "--needs", str(needs))
    assert result.returncode == 1
    assert result.stdout == ""
    assert "frame.pvc" in result.stderr
    assert "Traceback" not in result.stderr


def test_list_time_limit_stops_with_exit_2() -> None:
    result = subprocess.run(
        # (3 s: the bicycle compiles within it on a loaded machine, its 202 million rows do not
        # stream within it)
        [*PYTHON_CLI, "list", "bicycle", "--all", "--time-limit", "3", "-f", "csv"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 2
    assert "listing passed the time limit of 3 s; raise --time-limit" in result.stderr
    assert "Traceback" not in result.stderr


def test_time_limit_option_and_default_on_count_list_best() -> None:
    for command in ("count", "list", "best"):
        result = runner.invoke(app, [command, "--help"])
        assert "--time-limit" in result.output
        assert "60" in result.output


def test_best_default_k_is_the_library_default() -> None:
    import modcfg

    expected = len(modcfg.compile(modcfg.load_catalog("windows")).best())
    result = runner.invoke(app, ["best", "windows"])
    assert result.exit_code == 0, result.output
    assert result.output.count("#") == expected == 10


def test_best_and_price_as_json() -> None:
    result = runner.invoke(app, ["best", "windows", "-k", "2", "--format", "json"])
    assert result.exit_code == 0, result.output
    quotes = json.loads(result.output)
    assert len(quotes) == 2
    assert isinstance(quotes[0]["total"], str)
    assert Decimal(quotes[0]["total"]) <= Decimal(quotes[1]["total"])
    assert set(quotes[0]["configuration"]) == {"frame", "glass", "grade", "picture"}
    assert {"label", "amount", "reason"} <= set(quotes[0]["lines"][0])
    result = runner.invoke(
        app,
        [
            "price",
            "windows",
            "frame=oak",
            "glass=triple",
            "grade=g1",
            "picture=plain",
            "-f",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    priced = json.loads(result.output)
    assert priced["total"] == "260.00"
    assert priced["configuration"]["frame"] == "oak"


def test_price_json_maps_multi_select_slots_to_quantities() -> None:
    import modcfg

    catalog = modcfg.load_catalog("bicycle")
    slot = next(s for s in catalog.slots.values() if not s.single)
    result = runner.invoke(app, ["best", "bicycle", "-k", "1", "-f", "json"])
    assert result.exit_code == 0, result.output
    assert isinstance(json.loads(result.output)[0]["configuration"][slot.id], dict)


def test_count_prints_a_count_of_thousands_of_digits(tmp_path: Path) -> None:
    # 15,000 independent two-way slots: 2**15000, 4,516 digits (beyond Python's default
    # int-to-str limit of 4,300)
    slots = {
        f"s{i}": {"modules": {"a": {"price": "1.00"}, "b": {"price": "2.00"}}}
        for i in range(15_000)
    }
    catalog = _write_json(tmp_path / "huge.json", {"catalog": "huge", "slots": slots})
    result = _run("count", str(catalog))
    assert result.returncode == 0, result.stderr
    digits = result.stdout.strip()
    expected = format(decimal.Context(prec=5000).create_decimal(2**15000), "f")
    assert digits == expected


def test_int_text_is_exact_beyond_the_conversion_limit() -> None:
    from modcfg._terminal import int_text

    assert int_text(0) == "0"
    assert int_text(-1234567, grouped=True) == "-1,234,567"
    big = 7**9000 + 12345
    context = decimal.Context(prec=20000)
    assert int_text(big) == format(context.create_decimal(big), "f")
    assert int_text(10**5000, grouped=True) == "100" + ",000" * 1666


def _ansi_catalog(tmp_path: Path) -> Path:
    return _write_json(
        tmp_path / "ansi.json",
        {
            "catalog": "ansi",
            "label": "Shop \u001b[2J[/]",
            "slots": {
                "frame": {
                    "label": "Frame \u001b[31m",
                    "modules": {
                        "oak": {"label": "Oak \u001b[31mred[/bold]\u0007", "price": "10.00"},
                        "pine": {"label": "Pine\u202e", "price": "5.00"},
                    },
                }
            },
        },
    )


def test_control_characters_in_catalog_text_are_escaped(tmp_path: Path) -> None:
    catalog = str(_ansi_catalog(tmp_path))
    for args in (
        ["best", catalog, "-k", "2"],
        ["price", catalog, "frame=oak"],
        ["list", catalog],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, (args, result.output, result.exception)
        assert "\u001b" not in result.output
        assert "\u0007" not in result.output
        assert "\u202e" not in result.output
    result = runner.invoke(app, ["price", catalog, "frame=oak"])
    assert "Oak \\x1b[31mred[/bold]\\x07" in result.output
    result = runner.invoke(app, ["configure", catalog], input="why frame pine\nframe=oak\nquit\n")
    assert result.exit_code == 0, result.output
    assert "\u001b" not in result.output


def _dialogue_catalog(tmp_path: Path) -> Path:
    return _write_json(
        tmp_path / "dialogue.json",
        {
            "catalog": "dialogue",
            "slots": {
                "alpha": {"modules": {"ax": {"price": "1.00"}, "ay": {"price": "2.00"}}},
                "beta": {"modules": {"bp": {"price": "1.00"}, "bq": {"price": "2.00"}}},
                "gamma": {
                    "cardinality": "optional",
                    "modules": {"gr": {"price": "3.00"}},
                },
                "delta": {"modules": {"du": {"price": "4.00"}, "dv": {"price": "1.00"}}},
            },
            "rules": [{"id": "rule-one", "excludes": ["alpha.ax", "beta.bq"]}],
        },
    )


def test_configure_reprints_only_the_slots_that_changed(tmp_path: Path) -> None:
    catalog = str(_dialogue_catalog(tmp_path))
    result = runner.invoke(app, ["configure", catalog], input="alpha=ax\n")
    assert result.exit_code == 0, result.output
    output = result.output
    assert output.count("dv") == 1  # delta's options kept their status: shown once, at first
    assert output.count("bq") == 2  # beta's bq became excluded: shown again
    assert "12 configurations" in output  # the first display's summary
    assert "4 configurations" in output  # the summary line after the step
    result = runner.invoke(app, ["configure", catalog], input="alpha=ax\nshow\n")
    assert result.output.count("dv") == 2  # show prints everything
    result = runner.invoke(app, ["configure", catalog], input="alpha=ax\ndelta=du\n")
    assert result.output.count("bq") == 2  # excluded before: not shown again
    assert result.output.count("dv") == 2  # excluded now: shown
    assert "changed: delta" in result.output


def test_configure_done_finishes_with_the_cheapest_completion_when_only_optional_slots_remain(
    tmp_path: Path,
) -> None:
    catalog = str(_dialogue_catalog(tmp_path))
    result = runner.invoke(
        app, ["configure", catalog], input="help\nalpha=ax\ndone\ndelta=du\ndone\n"
    )
    assert result.exit_code == 0, result.output
    output = result.output
    assert "done" in output.split("commands:", 1)[1]  # the help names it
    assert "delta still needs a choice" in output  # the first done: delta is open
    assert "your configuration" in output
    assert "EUR 6.00" in output  # ax + bp + du, and no gamma


def test_configure_speaks_the_terminal_words(tmp_path: Path) -> None:
    catalog = str(_dialogue_catalog(tmp_path))
    result = runner.invoke(app, ["configure", catalog], input="quote\n")
    assert result.exit_code == 0, result.output
    assert "complete()" not in result.output
    assert "type `done` to finish with the cheapest completion" in result.output


def test_configure_prompt_has_line_editing_and_history() -> None:
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    from modcfg.session._dialogue import prompt_lines, prompt_session

    with create_pipe_input() as keys:
        lines = prompt_lines(prompt_session(input=keys, output=DummyOutput()))
        keys.send_text("lpha=ay\x7fx\x01a\r")  # edited: backspace, then home (Ctrl-A)
        assert next(lines) == "alpha=ax"
        keys.send_text("\x1b[A\r")  # up: the line before, from the history
        assert next(lines) == "alpha=ax"


def test_warm_compiles_the_kernels() -> None:
    import dataclasses
    import importlib.util

    import modcfg.cli
    from modcfg.engines.decomposition._kernels import kernels

    bytecode = Path(importlib.util.cache_from_source(modcfg.cli.__file__))
    bytecode.unlink(missing_ok=True)
    result = runner.invoke(app, ["warm"])
    assert result.exit_code == 0, result.output
    assert "kernels and parsers ready" in result.output
    assert bytecode.exists()  # (even where PYTHONDONTWRITEBYTECODE is set)
    compiled = kernels()  # every pass was compiled (or loaded from the cache): none is left
    unused = [
        f.name for f in dataclasses.fields(compiled) if not getattr(compiled, f.name).signatures
    ]
    assert not unused


def test_a_limit_other_than_time_says_its_own_reason(tmp_path: Path) -> None:
    """A budget over twenty slots of cent prices that leaves too many distinct totals is
    refused in about a second, long before the time limit: the error gives that reason, not
    the time limit."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks.generate import generate_catalog  # (twenty slots of cent prices)

    catalog = generate_catalog(20, 6, 40, 20)
    path = tmp_path / "gen20.json"
    path.write_text(json.dumps(catalog.model_dump(by_alias=True, mode="json")))
    needs = _write_json(tmp_path / "needs.json", {"budget": "427.65"})  # 30 % above the cheapest
    result = _run("count", str(path), "--needs", str(needs))
    assert result.returncode == 2
    assert "partial sums" in result.stderr
    assert "time limit" not in result.stderr


def test_list_lists_what_is_too_wide_to_count_first(tmp_path: Path) -> None:
    """Cent prices over twenty slots and a budget a quarter above the cheapest: counting
    first is refused (too many partial sums), and `list --limit` lists the cheapest anyway."""
    import modcfg

    from .test_sums_scale import cent_pairs_data

    catalog = _write_json(tmp_path / "cents.json", cent_pairs_data())
    cfg = modcfg.compile(modcfg.load_catalog(catalog))
    budget = (cfg.best(k=1)[0].total * Decimal("1.25")).quantize(Decimal("0.01"))
    with pytest.raises(modcfg.LimitExceeded):
        cfg.count(modcfg.Needs(budget=budget))
    needs = _write_json(tmp_path / "needs.json", {"budget": str(budget)})
    result = _run("list", str(catalog), "--needs", str(needs), "--limit", "10", "-f", "jsonl")
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 10


def test_the_time_to_confirm_a_large_listing_is_not_the_listings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A listing over the confirmation threshold asks first at a terminal; the time the user
    takes to answer does not count against ``--time-limit``."""
    import modcfg.cli

    def slow_yes(*_: object, **__: object) -> bool:  # (a user who answers after 1.5 s)
        time.sleep(1.5)
        return True

    monkeypatch.setattr(modcfg.cli, "LARGE_LISTING", 100)  # (windows has 1,800)
    monkeypatch.setattr(modcfg.cli, "_confirm_listing", slow_yes)
    result = runner.invoke(app, ["list", "windows", "--format", "csv", "--time-limit", "1"])
    assert result.exit_code == 0, result.output
    assert len(result.stdout.strip().splitlines()) == 1 + 1800  # (the header, then every row)


def test_commands_run_without_pydantic_plugins_unless_asked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A command turns pydantic's plugin search off while it runs (it reads every installed
    package's entry points), and leaves a setting of the user's as it is."""
    import modcfg.cli

    seen: list[str | None] = []
    monkeypatch.setattr(modcfg.cli, "app", lambda args: seen.append(os.environ.get(_PLUGINS)))
    monkeypatch.delenv(_PLUGINS, raising=False)
    modcfg.cli.main(["count", "windows"])
    assert seen == ["__all__"]
    assert _PLUGINS not in os.environ
    monkeypatch.setenv(_PLUGINS, "logfire")
    modcfg.cli.main(["count", "windows"])
    assert seen[-1] == "logfire"
    assert os.environ[_PLUGINS] == "logfire"


_PLUGINS = "PYDANTIC_DISABLE_PLUGINS"
