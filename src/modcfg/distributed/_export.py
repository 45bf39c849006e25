"""``export``: a whole feed written by the workers of a dask.distributed cluster.

The feed is a directory: ``_feed.json`` (the manifest: the catalog's name and fingerprint, the
needs, every partition with its exact rows) and one ``part-NNNNN.parquet`` per partition. The
partitions come from exact counts (see :meth:`modcfg.Configurator.partitions`), so each file's
row count is known before it is written; a file appears whole or not at all. Exporting again
into the same directory skips the files already complete: an export that failed half-way
resumes where it stopped. At the end the rows of all files are added up and checked against
the exact count.

The configurator is sent to the workers once (``Client.scatter``, broadcast); it travels as
its catalog and is compiled on arrival, once per worker process.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .._errors import ModcfgError
from .._feeds import Partition, require

if TYPE_CHECKING:
    from .._compiled import NeedsLike
    from .._configurator import Configurator

__all__ = ["export"]

MANIFEST = "_feed.json"
#: Configurations per partition when the caller gives no ``rows=``.
DEFAULT_ROWS = 2_000_000
Progress = Callable[[int, int], None]


def _part_name(partition: Partition) -> str:
    return f"part-{partition.index:05d}.parquet"


def _fingerprint(cfg: Configurator) -> str:
    text = cfg.catalog.model_dump_json()
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _needs_json(needs: NeedsLike) -> Any:
    if needs is None:
        return None
    if hasattr(needs, "model_dump"):
        return needs.model_dump(mode="json", exclude_defaults=True)
    return json.loads(json.dumps(needs, default=str))


def _manifest(cfg: Configurator, needs: NeedsLike, parts: list[Partition]) -> dict[str, Any]:
    return {
        "catalog": cfg.catalog.name,
        "fingerprint": _fingerprint(cfg),
        "needs": _needs_json(needs),
        "rows": sum(part.rows for part in parts),
        "partitions": [
            {"index": p.index, "rows": p.rows, "prefixes": [list(map(list, x)) for x in p.prefixes]}
            for p in parts
        ],
    }


def _partitions_of(manifest: dict[str, Any]) -> list[Partition]:
    return [
        Partition(
            entry["index"],
            tuple(tuple((var, value) for var, value in prefix) for prefix in entry["prefixes"]),
            entry["rows"],
        )
        for entry in manifest["partitions"]
    ]


def _plan_parts(
    cfg: Configurator, directory: Path, needs: NeedsLike, rows: int
) -> tuple[list[Partition], int]:
    """The partitions of the feed in ``directory`` (those of its manifest when it has one for
    the same catalog and needs, so an export resumes) and the total rows."""
    path = directory / MANIFEST
    if path.exists():
        manifest = json.loads(path.read_text())
        if manifest["fingerprint"] != _fingerprint(cfg) or manifest["needs"] != _needs_json(needs):
            raise ModcfgError(
                f"{directory} holds a feed of another catalog or other needs "
                f"(catalog {manifest['catalog']!r}); export into an empty directory, or "
                "delete that one"
            )
        return _partitions_of(manifest), int(manifest["rows"])
    parts = cfg.partitions(needs, rows=rows)
    manifest = _manifest(cfg, needs, parts)
    partial = directory / f".{MANIFEST}.partial"
    partial.write_text(json.dumps(manifest))
    os.replace(partial, path)
    return parts, int(manifest["rows"])


def _rows_in(path: Path) -> int | None:
    """The rows of a complete Parquet file (None when it is missing)."""
    if not path.exists():
        return None
    parquet = require("pyarrow.parquet", "feed")
    rows: int = parquet.read_metadata(path).num_rows
    return rows


def write_partition(
    cfg: Configurator, directory: str, needs: NeedsLike, partition: Partition
) -> int:
    """Write one partition's file (on a worker); its rows, checked against the partition."""
    path = Path(directory) / _part_name(partition)
    written = cfg.to_parquet(path, needs, partition=partition)
    if written != partition.rows:
        path.unlink(missing_ok=True)
        raise ModcfgError(
            f"partition {partition.index} gave {written:,} rows where {partition.rows:,} were "
            "counted; the catalog or modcfg differs between the client and this worker"
        )
    return written


def export(
    cfg: Configurator,
    path: str | os.PathLike[str],
    *,
    needs: NeedsLike = None,
    client: Any = None,
    rows: int = DEFAULT_ROWS,
    progress: Progress | Literal["bar"] | None = None,
) -> int:
    """Write the feed of ``cfg`` (for the ``needs``) into the directory ``path`` on a
    dask.distributed cluster and return the number of rows written.

    ``client``: a ``distributed.Client`` (None: the current one, else a LocalCluster started
    for this export and closed after). ``rows``: configurations per partition (one Parquet
    file each). ``progress(rows_done, rows_total)`` is told as files complete;
    ``progress="bar"`` shows a progress bar on the terminal. Files already complete in
    ``path`` (an earlier export that stopped) are kept, not written again.
    """
    distributed = require("distributed", "distributed")
    directory = Path(path)
    directory.mkdir(parents=True, exist_ok=True)
    parts, total = _plan_parts(cfg, directory, needs, rows)
    todo = [part for part in parts if _rows_in(directory / _part_name(part)) != part.rows]
    done = total - sum(part.rows for part in todo)
    owned = None
    if client is None:
        try:
            client = distributed.get_client()
        except ValueError:  # no client yet: a local cluster for this export
            owned = client = distributed.Client(distributed.LocalCluster())
    try:
        tell = _reporter(progress, total)
        tell(done)
        if todo:
            shipped = client.scatter(cfg, broadcast=True)
            futures = [
                client.submit(write_partition, shipped, str(directory), needs, part, pure=False)
                for part in todo
            ]
            for future in distributed.as_completed(futures):
                done += future.result()
                tell(done)
    finally:
        if owned is not None:
            owned.close()
            owned.cluster.close()
    written = sum(_rows_in(directory / _part_name(part)) or 0 for part in parts)
    if written != total:
        raise ModcfgError(
            f"the feed in {directory} has {written:,} rows where {total:,} were counted; "
            "export again into the same directory to finish it"
        )
    return written


def _reporter(progress: Progress | Literal["bar"] | None, total: int) -> Callable[[int], None]:
    """A function told the rows done so far."""
    if progress is None:
        return lambda _done: None
    if progress != "bar":
        report = progress
        return lambda done: report(done, total)
    from rich.progress import Progress as Bar

    bar = Bar(transient=True)
    task = bar.add_task("feed rows", total=total)
    bar.start()

    def tell(done: int) -> None:
        bar.update(task, completed=done)
        if done >= total:
            bar.stop()

    return tell
