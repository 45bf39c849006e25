"""Fuzzing every input modcfg reads: each ends in a ModcfgError or a right answer, fast and small.

A seeded corpus of bad inputs is made from the bundled catalogs (as YAML and as JSON text) and
from small models of every other format: keys deleted, values of the wrong type, huge numbers,
deep nesting, text cut short, unicode and control characters, oversized headers and clauses.
Needs are fuzzed as dicts and as files. Hypothesis adds random text on top.

Every input must either load (and then compile and count, on small catalogs) or raise a
:class:`modcfg.ModcfgError`; any other exception, a hang or an allocation beyond the memory
ceiling fails the test. The whole module runs under ``RLIMIT_AS`` (current size + 3 GiB).
"""

from __future__ import annotations

import copy
import inspect
import json
import random
import textwrap
import time
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import modcfg
import modcfg.io

from .limits import memory_ceiling
from .test_io import BOX, DIMACS, SANDWICH, SHOP, XCSP

#: CPU seconds one input may take, loading, compiling and counting included.
SECONDS = 5.0
#: Catalogs larger than this are only loaded, not compiled.
COMPILE_MODULES = 120


@pytest.fixture(autouse=True, scope="module")
def _memory_ceiling() -> Iterator[None]:
    # kernels and caches load before the ceiling, then everything runs under it
    modcfg.compile(modcfg.load_catalog("windows")).count()
    with memory_ceiling():
        yield


# -- answers ------------------------------------------------------------------------------------


def _count(catalog: modcfg.Catalog, needs: modcfg.Needs | None = None) -> int:
    configurator = modcfg.compile(catalog)
    if "time_limit" in inspect.signature(configurator.count).parameters:
        return configurator.count(needs, time_limit=SECONDS)
    return configurator.count(needs)


def _answers(load: Callable[[], object], what: str) -> None:
    """``load()`` gives a usable result or a ModcfgError, within the time limit."""
    started = time.process_time()
    try:
        result = load()
        if isinstance(result, modcfg.Catalog) and result.module_count <= COMPILE_MODULES:
            assert _count(result) >= 0
    except modcfg.ModcfgError as exc:
        message = str(exc)
    else:
        message = "answered"
    assert message, what
    elapsed = time.process_time() - started
    assert elapsed < SECONDS, f"{what} took {elapsed:.1f} s"


# -- mutations ----------------------------------------------------------------------------------

HOSTILE_VALUES: list[Any] = [
    None,
    True,
    0,
    -1,
    1.5,
    "",
    "x",
    [],
    {},
    "9" * 60,
    10**80,
    "1e999999999",
    "-1e-999999999",
    "NaN",
    "Infinity",
    "2027-02-30",
    "frame.oak\n",
    "glass.\x00",
    "\u202e\ufeff\U0001f600",
    "a" * 5000,
    "not " * 300 + "frame.oak",
    " or ".join(["frame.oak"] * 3000),
    ["x"] * 50,
    {"a": {"b": {"c": None}}},
]
_TEXT_NOISE = [
    "\x00",
    "\x07",
    "\x1b[31m",
    "\u2028",
    "\ufffd",
    "\U0001f600",
    "\t",
    "\r",
    "&a ",
    "*a",
]


def _locations(data: Any) -> list[tuple[Any, Any]]:
    """Every (container, key) pair of nested data, found without recursion."""
    found: list[tuple[Any, Any]] = []
    stack = [data]
    while stack:
        item = stack.pop()
        pairs = item.items() if isinstance(item, dict) else enumerate(item)
        for key, value in pairs:
            found.append((item, key))
            if isinstance(value, dict | list):
                stack.append(value)
    return found


def _nest(value: Any, depth: int, rng: random.Random) -> Any:
    for _ in range(depth):
        value = [value] if rng.random() < 0.5 else {"k": value}
    return value


def _mutate_data(data: Any, rng: random.Random) -> Any:
    data = copy.deepcopy(data)
    container, key = rng.choice(_locations(data))
    kind = rng.randrange(4)
    if kind == 0:
        del container[key]
    elif kind == 1:
        container[key] = copy.deepcopy(rng.choice(HOSTILE_VALUES))
    elif kind == 2:
        container[key] = _nest(container[key], rng.choice((10, 100, 400)), rng)
    else:
        container[key] = str(container[key]) + rng.choice(_TEXT_NOISE)
    return data


def _mutate_text(text: str, rng: random.Random) -> str:
    if not text:
        return rng.choice(_TEXT_NOISE)
    position = rng.randrange(len(text))
    kind = rng.randrange(4)
    if kind == 0:
        return text[:position]
    if kind == 1:
        return text[:position] + rng.choice(_TEXT_NOISE) + text[position:]
    if kind == 2:
        return text[:position] + text[position + rng.randint(1, 60) :]
    return text[:position] + "[" * 3000 + text[position:]


def _yaml(data: Any) -> str:
    """Block-style YAML, or JSON (which YAML reads too) when the data nests too deep to dump."""
    try:
        return yaml.safe_dump(data, allow_unicode=True)
    except RecursionError:
        return json.dumps(data)


def _plain(value: Any) -> Any:
    """YAML data as JSON-ready data (dates and numbers as text)."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, bool | int | str) or value is None:
        return value
    return str(value)


def _bundled() -> list[tuple[str, str, Any]]:
    folder = resources.files("modcfg") / "catalogs"
    result = []
    for name in modcfg.bundled_catalogs():
        text = (folder / f"{name}.yaml").read_text(encoding="utf-8")
        result.append((name, text, _plain(yaml.safe_load(text))))
    return result


BUNDLED = _bundled()


def _catalog_corpus() -> list[tuple[str, str, str]]:
    """(case id, suffix, text): 160 mutants of the bundled catalogs, as YAML and JSON."""
    rng = random.Random(20261205)
    cases = []
    for number in range(160):
        name, text, data = BUNDLED[number % len(BUNDLED)]
        style = number % 4
        if style == 0:
            mutant, suffix = _mutate_text(text, rng), ".yaml"
        elif style == 1:
            mutant, suffix = _yaml(_mutate_data(data, rng)), ".yaml"
        elif style == 2:
            mutant, suffix = json.dumps(_mutate_data(data, rng)), ".json"
        else:
            mutant, suffix = _mutate_text(json.dumps(data, indent=1), rng), ".json"
        cases.append((f"{name}-{number}", suffix, mutant))
    return cases


def _model_corpus() -> list[tuple[str, str, str]]:
    """(case id, suffix, text): mutants of small UVL, DIMACS and XCSP models, plus outsized ones."""
    rng = random.Random(7)
    small = [("uvl", SANDWICH), ("uvl", SHOP), ("uvl", BOX), ("dimacs", DIMACS), ("xml", XCSP)]
    cases = []
    for number in range(60):
        suffix, text = small[number % len(small)]
        mutant = textwrap.dedent(text).lstrip("\n")
        for _ in range(rng.choice((1, 2, 3))):
            mutant = _mutate_text(mutant, rng)
        cases.append((f"{suffix}-{number}", f".{suffix}", mutant))
    wide = " ".join(str(literal) for literal in range(1, 60_001))
    cases += [
        ("dimacs-many-variables", ".dimacs", "p cnf 10000000 1\n1 0\n"),
        ("dimacs-many-clauses", ".cnf", "p cnf 3 1000000000\n1 0\n"),
        ("dimacs-wide-clause", ".cnf", f"p cnf 60000 1\n{wide} 0\n"),
        ("dimacs-minus-zero", ".cnf", "p cnf 2 1\n-0 1 0\n"),
        ("dimacs-huge-literal", ".cnf", "p cnf 2 1\n" + "9" * 5000 + " 0\n"),
        ("uvl-deep", ".uvl", "features\n" + "".join("  " * i + f"f{i}\n" for i in range(3000))),
        ("uvl-long-constraint", ".uvl", "features\n  a\nconstraints\n  " + "a | " * 20_000 + "a"),
        ("uvl-deep-constraint", ".uvl", "features\n  a\nconstraints\n  " + "!" * 5000 + "a"),
        ("xcsp-deep", ".xml", "<a>" * 5000 + "</a>" * 5000),
        ("xcsp-entity", ".xml", '<!DOCTYPE a [<!ENTITY x "xxxxxxxxxx">]><a>&x;&x;&x;</a>'),
    ]  # fmt: skip
    return cases


CORPUS = _catalog_corpus() + _model_corpus()


def test_the_corpus_is_large_enough() -> None:
    assert len(CORPUS) + len(NEEDS_CORPUS) >= 200


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("suffix", "text"), [pytest.param(s, t, id=c) for c, s, t in CORPUS])
def test_corpus_file(tmp_path: Path, suffix: str, text: str) -> None:
    path = tmp_path / f"input{suffix}"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    _answers(lambda: modcfg.load_catalog(path), f"{path.name}: {text[:80]!r}")


@pytest.mark.timeout(120)
@pytest.mark.parametrize("suffix", [".yaml", ".json", ".uvl", ".dimacs", ".xml"])
def test_oversized_files(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"big{suffix}"
    with path.open("wb") as file:
        file.truncate(64 * 1024**2)
    with pytest.raises(modcfg.CatalogError, match="max_bytes"):
        modcfg.load_catalog(path)


# -- needs --------------------------------------------------------------------------------------

VALID_NEEDS: dict[str, Any] = {
    "require": ["glass.triple"],
    "forbid": ["frame.pvc"],
    "budget": "900",
    "quantity": 4,
    "deliver_by": "2027-03-01",
    "today": "2027-01-01",
    "region": "EU",
    "purpose": "passive-house",
    "frequency": "one-off",
    "prefer": {"frame.oak": 2},
    "conditions": ["glass.u_value <= 1"],
}


def _needs_corpus() -> list[tuple[str, dict[str, Any]]]:
    rng = random.Random(11)
    cases = []
    for number in range(60):
        needs = _mutate_data(VALID_NEEDS, rng)
        if number % 3 == 0:
            needs = _mutate_data(needs, rng)
        cases.append((f"needs-{number}", needs))
    return cases


NEEDS_CORPUS = _needs_corpus()


@pytest.fixture(scope="module")
def windows() -> modcfg.Catalog:
    return modcfg.load_catalog("windows")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def _needs_answer(windows: modcfg.Catalog, load: Callable[[], modcfg.Needs], what: str) -> None:
    """The needs load and count on ``windows``, or end in a ModcfgError, in time."""
    _answers(lambda: _count(windows, load()), what)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("data", [pytest.param(d, id=c) for c, d in NEEDS_CORPUS])
def test_needs_dict(windows: modcfg.Catalog, data: dict[str, Any]) -> None:
    _needs_answer(windows, lambda: modcfg.Needs(**data), repr(data)[:200])


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("suffix", "data"),
    [pytest.param(".json" if i % 2 else ".yaml", d, id=c) for i, (c, d) in enumerate(NEEDS_CORPUS)],
)
def test_needs_file(
    tmp_path: Path, windows: modcfg.Catalog, suffix: str, data: dict[str, Any]
) -> None:
    path = tmp_path / f"needs{suffix}"
    text = json.dumps(data) if suffix == ".json" else _yaml(data)
    path.write_text(_mutate_text(text, random.Random(len(text))), encoding="utf-8")
    _needs_answer(windows, lambda: modcfg.load_needs(path), path.read_text()[:200])


# -- random text --------------------------------------------------------------------------------

_SYNTAX = st.sampled_from(
    ["catalog: x\n", "slots:\n", "  s:\n", "    modules:\n", "      a: {price: '1'}\n", "{", "}",
     "[", "]", ": ", "- ", "&a ", "*a ", "!!python/object ", "'", '"', "\n", "  ", "9" * 40,
     "1e9999", "2027-02-30", "\x00", "\u00e9", "\U0001f600", "rules: [{id: r, formula: ", "not "]
)  # fmt: skip


@pytest.mark.timeout(300)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    suffix=st.sampled_from([".yaml", ".json", ".uvl", ".dimacs", ".xml"]),
    text=st.one_of(st.text(max_size=300), st.lists(_SYNTAX, max_size=40).map("".join)),
)
def test_random_text(folder: Path, suffix: str, text: str) -> None:
    path = folder / f"random{suffix}"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    _answers(lambda: modcfg.load_catalog(path), f"{suffix}: {text[:120]!r}")


@pytest.mark.timeout(300)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.dictionaries(
        st.sampled_from([*VALID_NEEDS, "other"]),
        st.one_of(
            st.sampled_from(HOSTILE_VALUES),
            st.text(max_size=30),
            st.integers(),
            st.lists(st.text(max_size=12), max_size=4),
            st.dictionaries(st.text(max_size=12), st.integers(), max_size=3),
        ),
        max_size=5,
    )
)
def test_random_needs(windows: modcfg.Catalog, data: dict[str, Any]) -> None:
    _needs_answer(windows, lambda: modcfg.Needs(**data), repr(data)[:200])
