"""Hostile files and expressions end fast in an error that names the file and the limit.

Each case is a file crafted to exhaust time, memory or the interpreter's stack (an alias bomb,
a huge file, a number with a billion-digit exponent, nesting ten thousand deep, a clause of a
hundred thousand literals). Loading it must raise :class:`modcfg.CatalogError` (or
:class:`modcfg.NeedsError`) within a couple of seconds, under a memory ceiling.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest

import modcfg
import modcfg.io
from modcfg.model._expr import BoolOp
from modcfg.model._expr_parse import parse

from .limits import memory_ceiling

#: Seconds a hostile input may take to be refused (generous: the machine may be busy).
FAST = 3.0


@pytest.fixture(autouse=True, scope="module")
def _memory_ceiling() -> Iterator[None]:
    modcfg.load_catalog("windows")  # compile-time caches load before the ceiling
    with memory_ceiling():
        yield


def _catalog(rule: str = "", price: str = "'1.00'", extra: str = "") -> str:
    text = f"catalog: hostile\n{extra}slots:\n  s:\n    modules:\n      a: {{price: {price}}}\n"
    text += "      b: {price: '2.00'}\n"
    if rule:
        text += f"rules:\n  - id: r\n    formula: '{rule}'\n"
    return text


def _alias_bomb() -> str:
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 10)]
    return "\n".join(lines) + "\ncatalog: bomb\nslots: {s: {modules: {a: {}}}}\n"


def _wide_clause(literals: int) -> str:
    return f"p cnf {literals} 1\n" + " ".join(map(str, range(1, literals + 1))) + " 0\n"


SLOT = {"modules": {"a": {}}}
TINY = "catalog: x\nslots: {s: {modules: {a: {}}}}\n"

# (case id, file name, file text, words the message must contain)
HOSTILE: list[tuple[str, str, Callable[[], str], tuple[str, ...]]] = [
    ("alias-bomb", "bomb.yaml", _alias_bomb, ("alias",)),
    ("huge-exponent", "exp.yaml", lambda: _catalog(price="'1e999999999'"), ("digits",)),
    ("tiny-exponent", "tiny.yaml", lambda: _catalog(price="'1e-999999999'"), ("digits",)),
    ("5000-digit-int", "digits.yaml", lambda: _catalog(price="9" * 5000), ("digits",)),
    ("5000-digit-str", "digits2.yaml", lambda: _catalog(price=f"'{'9' * 5000}'"), ("digits",)),
    (
        "huge-attribute",
        "attr.yaml",
        lambda: _catalog().replace("{price: '1.00'}", "{attributes: {w: 1.0e+300}}"),
        ("digits",),
    ),
    ("100k-or", "or.yaml", lambda: _catalog(" or ".join(["s.a"] * 100_000)), ("operands",)),
    ("10k-not", "not.yaml", lambda: _catalog("not " * 10_000 + "s.a"), ("nested",)),
    ("10k-bang", "bang.yaml", lambda: _catalog("!" * 10_000 + "s.a"), ("nested",)),
    ("10k-implies", "imp.yaml", lambda: _catalog("s.a implies " * 10_000 + "s.a"), ("nested",)),
    ("10k-minus", "neg.yaml", lambda: _catalog("- " * 10_000 + "1 < 2"), ("nested",)),
    ("10k-parens", "par.yaml", lambda: _catalog("(" * 10_000 + "s.a" + ")" * 10_000), ("nested",)),
    ("long-number", "num.yaml", lambda: _catalog("s.a < " + "9" * 5000), ("digits",)),
    ("json-100k-deep", "deep.json", lambda: "[" * 100_000 + "]" * 100_000, ("nested",)),
    (
        "json-object-deep",
        "deep2.json",
        lambda: '{"catalog": "x", "slots": ' + '{"a":' * 50_000 + "1" + "}" * 50_001,
        ("nested",),
    ),
    ("yaml-deep", "deep.yaml", lambda: "catalog: x\nslots: " + "[" * 5_000 + "]" * 5_000, ()),
    ("json-5000-digits", "d.json", lambda: '{"catalog": "x", "v": ' + "9" * 5000 + "}", ("digit",)),
    ("impossible-date", "date.yaml", lambda: _catalog(extra="valid_from: 2027-02-30\n"), ("date",)),
    (
        "impossible-date-json",
        "date.json",
        lambda: json.dumps({"catalog": "x", "valid_from": "2027-02-30", "slots": {"s": SLOT}}),
        ("valid_from",),
    ),
    ("200k-variables", "vars.dimacs", lambda: "p cnf 200000 1\n1 0\n", ("variables",)),
    ("many-clauses", "clauses.cnf", lambda: "p cnf 2 900000000\n1 0\n", ("clauses",)),
    ("100k-literals", "wide.dimacs", lambda: _wide_clause(100_000), ("literals",)),
    ("minus-zero", "zero.dimacs", lambda: "p cnf 2 2\n1 -0 2 0\n1 0\n", ("-0",)),
    ("id-newline", "nl.yaml", lambda: TINY.replace("s:", '"s\\n":'), ("id",)),
    ("module-newline", "nl2.yaml", lambda: TINY.replace("a:", '"a\\n":'), ("id",)),
    ("currency-newline", "cur.yaml", lambda: 'currency: "EUR\\n"\n' + TINY, ("currency",)),
]  # fmt: skip


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("name", "text", "words"),
    [pytest.param(name, text, words, id=case) for case, name, text, words in HOSTILE],
)
def test_hostile_file_fails_fast_naming_file_and_limit(
    tmp_path: Path, name: str, text: Callable[[], str], words: tuple[str, ...]
) -> None:
    path = tmp_path / name
    path.write_text(text(), encoding="utf-8")
    started = time.process_time()
    with pytest.raises(modcfg.CatalogError) as info:
        modcfg.load_catalog(path)
    elapsed = time.process_time() - started
    message = str(info.value)
    assert str(path) in message, message
    for word in words:
        assert word in message, message
    assert elapsed < FAST, f"{elapsed:.1f} s: {message}"


@pytest.mark.timeout(60)
def test_a_huge_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    with path.open("wb") as file:
        file.truncate(50 * 1024**2)
    started = time.process_time()
    with pytest.raises(modcfg.CatalogError, match="MiB") as info:
        modcfg.load_catalog(path)
    assert str(path) in str(info.value)
    assert "max_bytes" in str(info.value)
    assert time.process_time() - started < FAST


@pytest.mark.timeout(60)
@pytest.mark.parametrize("suffix", [".yaml", ".json", ".uvl", ".dimacs", ".cnf", ".xml"])
def test_max_bytes_is_settable_for_every_format(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"model{suffix}"
    path.write_text(" " * 2000)
    with pytest.raises(modcfg.CatalogError, match="max_bytes") as info:
        modcfg.load_catalog(path, max_bytes=1000)
    assert str(path) in str(info.value)


def test_max_bytes_for_needs_and_direct_readers(tmp_path: Path) -> None:
    needs = tmp_path / "needs.yaml"
    needs.write_text("quantity: 2\n" + "#" * 2000 + "\n")
    assert modcfg.load_needs(needs).quantity == 2
    with pytest.raises(modcfg.NeedsError, match="max_bytes"):
        modcfg.load_needs(needs, max_bytes=1000)
    cnf = tmp_path / "f.cnf"
    cnf.write_text("c " + "x" * 2000 + "\np cnf 1 1\n1 0\n")
    assert len(modcfg.io.read_dimacs(cnf).slots) == 1
    with pytest.raises(modcfg.CatalogError, match="max_bytes"):
        modcfg.io.read_dimacs(cnf, max_bytes=1000)


@pytest.mark.timeout(30)
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_named_pipe_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "catalog.yaml"
    os.mkfifo(fifo)
    with pytest.raises(modcfg.CatalogError, match="not a regular file"):
        modcfg.load_catalog(fifo)
    with pytest.raises(modcfg.NeedsError, match="not a regular file"):
        modcfg.load_needs(fifo)


@pytest.mark.timeout(30)
@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero here")
@pytest.mark.parametrize("kind", ["yaml", "json", "dimacs", "uvl", "xcsp"])
def test_a_device_is_refused(kind: str) -> None:
    with pytest.raises(modcfg.CatalogError, match="not a regular file"):
        modcfg.load_catalog("/dev/zero", format=kind)


def _load_seconds(path: Path, text: str, runs: int = 1) -> tuple[float, modcfg.Catalog]:
    """CPU seconds to load ``text`` from ``path`` (the best of ``runs``) and the catalog.

    The collector is paused while it loads: a full collection costs what the whole test
    process's heap costs, not what the input does."""
    path.write_text(text)
    seconds = []
    for _ in range(runs):
        parse.cache_clear()
        with modcfg.collector_paused():
            started = time.process_time()
            catalog = modcfg.load_catalog(path)
            seconds.append(time.process_time() - started)
    return min(seconds), catalog


def _grows_linearly(small: float, large: float, factor: int) -> bool:
    """Whether ``large`` (an input ``factor`` times longer) took at most twice linear time.

    A ratio, not a bound in seconds: a slow or busy machine scales both, and a quadratic
    algorithm multiplies the time by ``factor**2``.
    """
    return large < 2 * factor * small + 0.05


@pytest.mark.timeout(120)
def test_long_or_chains_parse_in_linear_time(tmp_path: Path) -> None:
    path = tmp_path / "or.yaml"
    small, _ = _load_seconds(path, _catalog(" or ".join(["s.a"] * 5_000)), runs=2)
    large, catalog = _load_seconds(path, _catalog(" or ".join(["s.a"] * 20_000)), runs=2)
    assert _grows_linearly(small, large, 4), f"5,000 operands: {small:.2f} s, 20,000: {large:.2f} s"
    expr = parse(catalog.rules[0].constraint)
    assert isinstance(expr, BoolOp)
    assert len(expr.operands) == 20_000


@pytest.mark.timeout(120)
def test_a_wide_clause_reads_in_linear_time(tmp_path: Path) -> None:
    path = tmp_path / "wide.dimacs"
    small, _ = _load_seconds(path, _wide_clause(5_000), runs=2)
    large, catalog = _load_seconds(path, _wide_clause(20_000), runs=2)
    assert _grows_linearly(small, large, 4), f"5,000 literals: {small:.2f} s, 20,000: {large:.2f} s"
    assert len(catalog.slots) == 20_000
    with pytest.raises(modcfg.CatalogError, match="literals"):
        modcfg.io.read_dimacs(path, max_clause_literals=10_000)


def test_moderate_nesting_still_parses(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text(_catalog("not " * 50 + "(" * 50 + "s.a" + ")" * 50))
    assert len(modcfg.load_catalog(path).rules) == 1


@pytest.fixture
def big_prices(tmp_path: Path) -> modcfg.Configurator:
    """Two slots whose unit price has 31 digits (more than the default decimal context)."""
    path = tmp_path / "big.yaml"
    path.write_text(
        "catalog: big\nslots:\n"
        "  s: {modules: {a: {price: '12345678901234567890123456789.01'}}}\n"
        "  t: {modules: {b: {price: '1.01'}}}\n"
    )
    return modcfg.compile(modcfg.load_catalog(path))


def test_totals_above_ten_to_the_28_keep_every_digit(big_prices: modcfg.Configurator) -> None:
    configurator = big_prices
    quote = configurator.price({"s": "a", "t": "b"}, modcfg.Needs(quantity=1000))
    assert quote.total == Decimal("12345678901234567890123456790020.00")
    assert quote.unit_price == Decimal("12345678901234567890123456790.02")


def test_impossible_dates_in_needs() -> None:
    with pytest.raises(modcfg.NeedsError, match="deliver_by"):
        modcfg.Needs(deliver_by="2027-02-30")


def test_impossible_date_in_a_needs_file(tmp_path: Path) -> None:
    path = tmp_path / "needs.yaml"
    path.write_text("deliver_by: 2027-02-30\n")
    with pytest.raises(modcfg.NeedsError, match="date") as info:
        modcfg.load_needs(path)
    assert str(path) in str(info.value)


def test_needs_refs_with_a_trailing_newline_fail() -> None:
    with pytest.raises(modcfg.NeedsError):
        modcfg.Needs(require=["glass.triple\n"])


def test_bundled_catalogs_load_within_the_limits() -> None:
    for name in modcfg.bundled_catalogs():
        assert modcfg.load_catalog(name).slots


def test_a_few_aliases_still_load(tmp_path: Path) -> None:
    path = tmp_path / "alias.yaml"
    path.write_text(
        "catalog: alias\nslots:\n  s:\n    modules:\n"
        "      a: &base {price: '1.00', attributes: {w: 2}}\n      b: *base\n"
    )
    catalog = modcfg.load_catalog(path)
    assert catalog.slots["s"].modules["b"].price == Decimal("1.00")


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("price.yaml", _catalog(price=f"'{'x' * 1_000_000}'")),
        ("id.yaml", TINY.replace("a:", f"{'?' * 1_000_000}:")),
        ("token.cnf", "p cnf 1 1\n" + "x" * 1_000_000 + " 0\n"),
        ("header.cnf", "p cnf " + "x" * 1_000_000 + "\n"),
    ],
    ids=["price", "id", "dimacs-token", "dimacs-header"],
)
def test_messages_stay_short_whatever_the_input(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(modcfg.CatalogError) as info:
        modcfg.load_catalog(path)
    assert len(str(info.value)) < 1000, str(info.value)[:300]


def test_budgets_above_ten_to_the_28_compare_every_digit(big_prices: modcfg.Configurator) -> None:
    configurator = big_prices
    total = Decimal("12345678901234567890123456790.02")
    assert configurator.count(modcfg.Needs(budget=str(total))) == 1
    assert configurator.count(modcfg.Needs(budget=str(total - Decimal("0.01")))) == 0


def test_preference_weights_beyond_64_bits_are_refused() -> None:
    cfg = modcfg.compile("windows")
    with pytest.raises(modcfg.NeedsError, match="prefer"):
        cfg.best(modcfg.Needs(prefer={"frame.oak": 2**63}), k=1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("frame", 3), "named by its id, a string such as 'pvc'"),
        ((None, "oak"), "a slot is named by its id"),
        (("frame", "oak", 1.5), "quantity 1.5 of 'frame.oak' is not a whole number"),
        (("frame", "oak", True), "is not a whole number"),
    ],
)
def test_a_choice_of_the_wrong_type_says_what_to_give(
    args: tuple[object, ...], message: str
) -> None:
    session = modcfg.compile("windows").session()
    with pytest.raises(modcfg.NeedsError, match=message):
        session.choose(*args)  # type: ignore[arg-type]
    assert session.choices == {}


def test_money_given_as_a_float_names_the_field_once() -> None:
    with pytest.raises(modcfg.NeedsError) as caught:
        modcfg.Needs.from_data({"budget": 1000.5})
    assert str(caught.value).startswith("needs, budget: 1000.5 is a float")
