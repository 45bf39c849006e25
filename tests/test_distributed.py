"""modcfg.distributed.export on a two-worker LocalCluster (threads, started once).

dask.distributed is imported when the cluster starts, not when this module is collected:
importing it installs tblib's exception pickling for the whole process, which changes how
other tests' exceptions pickle.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest

import modcfg

if importlib.util.find_spec("distributed") is None:
    pytest.skip("the distributed extra is not installed", allow_module_level=True)
parquet = pytest.importorskip("pyarrow.parquet")

import modcfg.distributed  # noqa: E402 - (imports dask only when exporting)


@pytest.fixture(scope="module")
def client() -> Iterator[object]:
    import distributed

    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def test_export_writes_every_row_once_and_resumes(client: object, tmp_path: Path) -> None:
    cfg = modcfg.compile("windows_pro")
    needs = modcfg.Needs(forbid=["frame.pvc"])
    told: list[tuple[int, int]] = []
    rows = modcfg.distributed.export(
        cfg, tmp_path, needs=needs, client=client, rows=4_000, progress=lambda *a: told.append(a)
    )
    assert rows == cfg.count(needs)
    assert told[-1] == (rows, rows)
    parts = sorted(tmp_path.glob("part-*.parquet"))
    assert len(parts) == len(cfg.partitions(needs, rows=4_000)) > 1
    table = parquet.read_table(parts)
    assert table.num_rows == rows
    seen = {tuple(row.values()) for row in table.to_pylist()}
    assert len(seen) == rows  # each configuration once
    # a lost file is written again; complete ones are kept as they are
    parts[1].unlink()
    kept = parts[0].stat().st_mtime_ns
    assert modcfg.distributed.export(cfg, tmp_path, needs=needs, client=client, rows=4_000) == rows
    assert parts[1].exists()
    assert parts[0].stat().st_mtime_ns == kept


def test_export_refuses_a_directory_of_another_feed(client: object, tmp_path: Path) -> None:
    cfg = modcfg.compile("credit_cards")
    assert modcfg.distributed.export(cfg, tmp_path, client=client) == 200
    with pytest.raises(modcfg.ModcfgError, match="another catalog or other needs"):
        modcfg.distributed.export(modcfg.compile("windows"), tmp_path, client=client)


def test_a_configurator_travels_as_its_catalog() -> None:
    import pickle

    cfg = modcfg.compile("windows")
    copy = pickle.loads(pickle.dumps(cfg))
    assert copy.count() == 1800
    assert copy.catalog == cfg.catalog
