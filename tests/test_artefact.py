"""Compiled catalogs saved and loaded back: the same answers, a clear error for any other file
or version."""

from __future__ import annotations

import io
import itertools
import json
import pickle
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import modcfg
from modcfg import _artefact

from . import oracle, strategies


@pytest.mark.parametrize("name", ["windows", "windows_pro", "bicycle", "credit_cards"])
def test_loaded_catalog_answers_as_the_saved_one(name: str, tmp_path: Path) -> None:
    cfg = modcfg.compile(name)
    loaded = modcfg.load_compiled(cfg.save(tmp_path / f"{name}.modcfg"))
    assert loaded.catalog == cfg.catalog
    assert loaded.count() == cfg.count()
    assert [r.total for r in loaded.best(k=3)] == [r.total for r in cfg.best(k=3)]
    slot = next(iter(cfg.catalog.slots.values()))
    module = next(iter(slot.modules))
    ours, theirs = cfg.session(), loaded.session()
    ours.choose(slot.id, module)
    theirs.choose(slot.id, module)
    assert theirs.state().count == ours.state().count


@pytest.mark.parametrize("name", ["windows", "bicycle", "credit_cards"])
def test_a_catalog_saves_whatever_was_asked_before(name: str, tmp_path: Path) -> None:
    # best(), streams and explanations derive search helpers on the tree (functions, every
    # row as a tuple); saving keeps none of them, so the file stays about the size of one
    # saved right after compiling
    fresh = modcfg.compile(name).save(tmp_path / "fresh.modcfg").stat().st_size
    cfg = modcfg.compile(name)
    cfg.best(k=2)
    list(itertools.islice(cfg.configurations(), 3))
    state = cfg.session().state()
    _ = [option.reason for options in state.values() for option in options.values()]
    path = cfg.save(tmp_path / "used.modcfg")
    assert path.stat().st_size < 1.1 * fresh
    loaded = modcfg.load_compiled(path)
    assert loaded.count() == cfg.count()
    assert [r.total for r in loaded.best(k=2)] == [r.total for r in cfg.best(k=2)]


@settings(max_examples=60, deadline=None)
@given(strategies.catalogs())
def test_loaded_random_catalog_counts_as_the_oracle(catalog: modcfg.Catalog) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = modcfg.compile(catalog).save(Path(folder) / "c.modcfg")
        assert modcfg.load_compiled(path).count() == oracle.count(catalog)


@st.composite
def integer_arrays(draw: st.DrawFn) -> np.ndarray:
    """Integer arrays of every width and byte order, their values within a random range of
    their type (small ones, which narrow, and any)."""
    dtype = np.dtype(draw(st.sampled_from(["i2", "i4", "i8", "u2", "u4", "u8", ">i8", ">u4"])))
    info = np.iinfo(dtype)
    low = draw(st.integers(int(info.min), int(info.max)))
    high = draw(st.integers(low, min(int(info.max), low + draw(st.sampled_from([1, 300, 2**40])))))
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=2, max_side=60))
    array: np.ndarray = draw(
        hnp.arrays(dtype, shape, elements=st.integers(low, high).map(dtype.type))
    )
    return array


@settings(max_examples=80, deadline=None)
@given(integer_arrays(), st.booleans(), st.booleans())
def test_integer_arrays_come_back_as_they_were_saved(
    array: np.ndarray, writeable: bool, fortran: bool
) -> None:
    """Large integer arrays are written narrowed and widened back: the same values, type,
    layout and writeable flag; one array held twice is still one array."""
    if fortran:
        array = np.asfortranarray(array)
    array.flags.writeable = writeable
    buffer = io.BytesIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_artefact, "_NARROW_FROM", 4)
        _artefact._Narrowing(buffer, protocol=5).dump((array, array))
    back, again = pickle.loads(buffer.getvalue())
    assert back is again
    assert back.dtype == array.dtype
    assert back.shape == array.shape
    assert np.array_equal(back, array)
    assert back.flags.writeable == writeable
    assert back.flags.f_contiguous == array.flags.f_contiguous


def test_a_tree_of_small_values_is_saved_narrowed(tmp_path: Path) -> None:
    # a bag's rows hold value indexes (0 or 1 for a feature): written as bytes, not int64
    cfg = modcfg.compile("bicycle")
    big = cfg.save(tmp_path / "b.modcfg")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_artefact, "_NARROW_FROM", 1 << 62)  # (nothing narrowed)
        wide = cfg.save(tmp_path / "wide.modcfg")
    assert big.stat().st_size < wide.stat().st_size
    loaded = modcfg.load_compiled(big)
    for ours, theirs in zip(loaded.compiled.tree.bags, cfg.compiled.tree.bags, strict=True):
        assert ours.values.dtype == theirs.values.dtype
        assert np.array_equal(ours.values, theirs.values)


def test_real_model_round_trip(shared_data: Path, tmp_path: Path) -> None:
    cfg = modcfg.compile(shared_data / "renault" / "medium.xml")
    path = cfg.save(tmp_path / "renault.modcfg")
    assert path.stat().st_size < (shared_data / "renault" / "medium.xml").stat().st_size
    assert modcfg.load_compiled(path).count() == 278_744


def test_another_version_is_refused_with_the_fix(tmp_path: Path) -> None:
    path = modcfg.compile("windows").save(tmp_path / "w.modcfg")
    raw = path.read_bytes()
    header = json.dumps({"format": _artefact.FORMAT, "modcfg": "0.0.1", "catalog": "windows"})
    magic, _, rest = raw.partition(b"\n")
    _, _, body = rest.partition(b"\n")
    path.write_bytes(magic + b"\n" + header.encode() + b"\n" + body)
    with pytest.raises(modcfg.CatalogError, match=r"compiled by modcfg 0\.0\.1 .* compile the"):
        modcfg.load_compiled(path)


def test_other_files_are_refused(tmp_path: Path) -> None:
    text = tmp_path / "windows.yaml"
    text.write_text("catalog: windows\n")
    with pytest.raises(modcfg.CatalogError, match="not a compiled catalog"):
        modcfg.load_compiled(text)
    with pytest.raises(modcfg.CatalogError, match="no such compiled catalog"):
        modcfg.load_compiled(tmp_path / "absent.modcfg")
    cut = tmp_path / "cut.modcfg"
    cut.write_bytes(modcfg.compile("windows").save(tmp_path / "w.modcfg").read_bytes()[:-40])
    with pytest.raises(modcfg.CatalogError, match="damaged"):
        modcfg.load_compiled(cut)


def test_a_file_is_read_a_piece_at_a_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # loading inflates the file a chunk at a time: with tiny chunks, every read of the
    # unpickler spans several of them, and a file cut anywhere is refused
    monkeypatch.setattr(_artefact, "_CHUNK", 7)
    cfg = modcfg.compile("bicycle")
    raw = cfg.save(tmp_path / "b.modcfg").read_bytes()
    assert modcfg.load_compiled(tmp_path / "b.modcfg").count() == cfg.count()
    cut = tmp_path / "cut.modcfg"
    for end in (len(raw) // 3, len(raw) // 2, len(raw) - 1):
        cut.write_bytes(raw[:end])
        with pytest.raises(modcfg.CatalogError, match="damaged"):
            modcfg.load_compiled(cut)


def test_saving_to_a_folder_or_an_unwritable_place_says_so_and_leaves_no_file(
    tmp_path: Path,
) -> None:
    cfg = modcfg.compile("windows")
    with pytest.raises(modcfg.CatalogError, match="is a folder; give the path of the file"):
        cfg.save(tmp_path)
    with pytest.raises(modcfg.CatalogError, match="cannot write the compiled catalog"):
        cfg.save(tmp_path / "no-such-folder" / "windows.modcfg")
    target = tmp_path / "windows.modcfg"
    cfg.save(target)
    before = target.read_bytes()
    cfg.save(target)  # replaced whole
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["windows.modcfg"]
    with pytest.raises(modcfg.CatalogError, match="cannot read the compiled catalog"):
        modcfg.load_compiled(tmp_path)


def test_a_catalog_with_exclusion_chains_counts_the_same_when_loaded(tmp_path: Path) -> None:
    # clauses and cliques of exclusions become chains in the tree, which must know the
    # problem's own constraints again in the process that loads it
    names = [f"s{i}" for i in range(12)]
    # at most one slot takes x: pairwise exclusions, which become one at-most-one chain
    chain = [
        {"id": f"one-x-{a}-{b}", "formula": f"not ({a}.x and {b}.x)"}
        for a, b in itertools.combinations(names, 2)
    ]
    catalog = modcfg.Catalog.model_validate(
        {
            "catalog": "clauses",
            "slots": {s: {"modules": {"x": {}, "y": {}, "z": {}}} for s in names},
            "rules": chain,
        }
    )
    cfg = modcfg.compile(catalog)
    loaded = modcfg.load_compiled(cfg.save(tmp_path / "clauses.modcfg"))
    assert loaded.count() == cfg.count()
    needs = modcfg.Needs(require=["s3.y"])
    assert loaded.count(needs) == cfg.count(needs)
