"""Fuzzing the readers: truncated, corrupted and random inputs raise CatalogError and nothing else.

Each reader gets seeded mutations of real models (when the shared data is present) and of the
small hand-written examples of ``test_io.py``: cut short, bytes replaced by characters that mean
something in its syntax, spans deleted, lines duplicated or swapped. A reader may accept a mutant
(many are still well formed) but may only ever fail with :class:`modcfg.CatalogError`.
"""

from __future__ import annotations

import random
import tempfile
import textwrap
import traceback
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import modcfg
import modcfg.io

from .test_io import BOX, DIMACS, SANDWICH, SHOP, XCSP

Reader = Callable[[Path], object]

_SYMBOLS = [
    *'"\'<>/|&!=()[]{}.,:;-+*0123456789 \t\n\r%cpx\x00\xff\u00e9',
    "=>", "<=>", "..", "\n\t", "\n    ", "0\n", "-1", "<!--", "]]>", "&amp;", "/*", "//",
]  # fmt: skip


def _mutate(data: bytes, rng: random.Random) -> bytes:
    """One random corruption of a file's bytes."""
    if not data:
        return rng.choice(_SYMBOLS).encode()
    kind = rng.randrange(6)
    position = rng.randrange(len(data))
    if kind == 0:  # cut short
        return data[:position]
    if kind == 1:  # replace a byte
        return data[:position] + rng.choice(_SYMBOLS).encode("utf-8") + data[position + 1 :]
    if kind == 2:  # insert something meaningful
        return data[:position] + rng.choice(_SYMBOLS).encode("utf-8") + data[position:]
    if kind == 3:  # delete a span
        return data[:position] + data[position + rng.randint(1, 40) :]
    lines = data.split(b"\n")
    first, second = rng.randrange(len(lines)), rng.randrange(len(lines))
    if kind == 4:  # duplicate a line
        lines.insert(second, lines[first])
    else:  # swap two lines
        lines[first], lines[second] = lines[second], lines[first]
    return b"\n".join(lines)


def _only_catalog_errors(reader: Reader, path: Path, what: str) -> None:
    try:
        reader(path)
    except modcfg.CatalogError as exc:
        named = exc.path
    except Exception:  # the point of the test: anything else is a bug
        pytest.fail(f"{what} raised something other than CatalogError:\n{traceback.format_exc()}")
    else:
        return
    assert named == str(path), f"{what}: the error does not name the file"


def _fuzz(
    reader: Reader, original: bytes, suffix: str, folder: Path, *, rounds: int, seed: int
) -> None:
    rng = random.Random(seed)
    path = folder / f"mutant{suffix}"
    for round_number in range(rounds):
        data = original
        for _ in range(rng.choice((1, 1, 2, 3))):
            data = _mutate(data, rng)
        path.write_bytes(data)
        _only_catalog_errors(reader, path, f"seed {seed}, round {round_number}")


def _tiny_catalog(folder: Path) -> modcfg.Catalog:
    (folder / "tiny.xml").write_text(textwrap.dedent(XCSP).lstrip("\n"), encoding="utf-8")
    return modcfg.io.read_xcsp(folder / "tiny.xml")


SMALL = [
    ("uvl", modcfg.io.read_uvl, SANDWICH, ".uvl"),
    ("uvl", modcfg.io.read_uvl, SHOP, ".uvl"),
    ("uvl", modcfg.io.read_uvl, BOX, ".uvl"),
    ("dimacs", modcfg.io.read_dimacs, DIMACS, ".dimacs"),
    ("xcsp", modcfg.io.read_xcsp, XCSP, ".xml"),
]


@pytest.mark.parametrize(("kind", "reader", "text", "suffix"), SMALL)
def test_small_files(tmp_path: Path, kind: str, reader: Reader, text: str, suffix: str) -> None:
    original = textwrap.dedent(text).lstrip("\n").encode()
    _fuzz(reader, original, suffix, tmp_path, rounds=300, seed=len(text))


def test_small_sales(tmp_path: Path) -> None:
    catalog = _tiny_catalog(tmp_path)

    def reader(path: Path) -> object:
        return modcfg.io.read_sales(path, catalog)

    _fuzz(reader, b"opt a b\n-1 2 0\n0 0 1\n\n0 1 2\n", ".txt", tmp_path, rounds=300, seed=7)


REAL = [
    ("uvl/ovm_RFW.uvl", modcfg.io.read_uvl, 80),
    ("uvl/berkeleydb.uvl", modcfg.io.read_uvl, 60),
    ("uvl/axTLS.uvl", modcfg.io.read_uvl, 60),
    ("dimacs/e_shop.dimacs", modcfg.io.read_dimacs, 40),
    ("dimacs/bank.dimacs", modcfg.io.read_dimacs, 40),
    ("renault/medium.xml", modcfg.io.read_xcsp, 30),
]


@pytest.mark.parametrize(("name", "reader", "rounds"), REAL, ids=[name for name, _, _ in REAL])
def test_real_files(
    shared_data: Path, tmp_path: Path, name: str, reader: Reader, rounds: int
) -> None:
    original = (shared_data / name).read_bytes()
    _fuzz(reader, original, Path(name).suffix, tmp_path, rounds=rounds, seed=len(name))


def test_real_sales(shared_data: Path, tmp_path: Path) -> None:
    catalog = modcfg.io.read_xcsp(shared_data / "renault" / "medium.xml")
    head = b"\n".join((shared_data / "renault" / "medium_sales.txt").read_bytes().split(b"\n")[:40])

    def reader(path: Path) -> object:
        return modcfg.io.read_sales(path, catalog)

    _fuzz(reader, head, ".txt", tmp_path, rounds=100, seed=11)


READERS: list[tuple[str, Reader]] = [
    (".uvl", modcfg.io.read_uvl),
    (".dimacs", modcfg.io.read_dimacs),
    (".xml", modcfg.io.read_xcsp),
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    reader=st.sampled_from(READERS),
    data=st.one_of(
        st.binary(max_size=120),
        st.lists(st.sampled_from([*_SYMBOLS, "features", "constraints", "a", "B"]), max_size=40)
        .map("".join)
        .map(str.encode),
    ),
)
def test_random_input(reader: tuple[str, Reader], data: bytes) -> None:
    suffix, read = reader
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"random{suffix}"
        path.write_bytes(data)
        _only_catalog_errors(read, path, f"input {data!r}")
