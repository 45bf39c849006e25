"""Feed export throughput: a generated catalog of about 10^8 configurations exported to Parquet
on a 2-worker and a 1-worker dask LocalCluster (rows/s per worker, by wall time and by the
workers' CPU time, Parquet size, the scaling ratio), and single-core batch throughput on
Renault medium and the bicycle (rows per CPU second, the median of a few runs).

The machine's load average is printed with each table: on a shared machine, wall-time rates
fall with the load while CPU-time rates mostly do not.

    python benchmarks/feed.py [--slots 12 --modules 5 --rules 10] [--skip-export]
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import modcfg
import modcfg.distributed
from benchmarks.generate import generate_catalog

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def batch_rate(cfg: modcfg.Configurator, limit: int, runs: int = 5) -> tuple[int, float]:
    """Rows and rows per CPU second of cfg.batches() (the first ``limit`` rows; the median of
    ``runs`` runs)."""
    next(cfg.batches(size=1024))  # compiled kernels and the plan, outside the timing
    gc.collect()  # the garbage of compiling the catalog, outside the timing
    rates = []
    for _ in range(runs):
        rows = 0
        start = time.process_time()
        for batch in cfg.batches():
            rows += batch.num_rows
            if rows >= limit:
                break
        rates.append(rows / (time.process_time() - start))
    return rows, statistics.median(rates)


def _warm_up() -> None:
    """Import and compile on a worker before the timing (a tiny feed, deleted after)."""
    with tempfile.TemporaryDirectory() as directory:
        modcfg.compile("windows").to_parquet(Path(directory) / "w.parquet")


def export_run(cfg: modcfg.Configurator, workers: int, rows: int) -> tuple[int, float, float, int]:
    """Rows written, wall seconds, the workers' CPU seconds (all of them) and Parquet bytes of
    one export on ``workers`` workers."""
    from distributed import Client, LocalCluster

    target = Path(tempfile.mkdtemp(prefix="feed-"))
    try:
        with (
            LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
            ) as cluster,
            Client(cluster) as client,  # type: ignore[no-untyped-call]
        ):
            client.run(_warm_up)
            cpu = client.run(time.process_time)
            start = time.perf_counter()
            written = modcfg.distributed.export(cfg, target, client=client, rows=rows)
            seconds = time.perf_counter() - start
            used = sum(client.run(time.process_time)[w] - cpu[w] for w in cpu)
        size = sum(p.stat().st_size for p in target.glob("*.parquet"))
        return written, seconds, used, size
    finally:
        shutil.rmtree(target, ignore_errors=True)


def load() -> str:
    """The machine's load averages (1, 5, 15 minutes) and its cores."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} cores"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--slots", type=int, default=12)
    parser.add_argument("--modules", type=int, default=5)
    parser.add_argument("--rules", type=int, default=10)
    parser.add_argument("--partition-rows", type=int, default=4_000_000)
    parser.add_argument("--skip-export", action="store_true")
    args = parser.parse_args()
    print(f"batches, one core ({load()})\n")
    print("| model | rows | rows/s per core (batches) |")
    print("|---|---:|---:|")
    models = [("bicycle", modcfg.compile("bicycle"))]
    renault = SHARED / "renault" / "medium.xml"
    if renault.exists():
        models.append(("renault medium", modcfg.compile(modcfg.load_catalog(renault))))
    for name, cfg in models:
        rows, rate = batch_rate(cfg, 20_000_000)
        print(f"| {name} | {rows:,} | {rate:,.0f} |")
    if args.skip_export:
        return
    cfg = modcfg.compile(generate_catalog(args.slots, args.modules, args.rules, 1))
    print(f"\nexport of {cfg.catalog.name}: {cfg.count():,} configurations\n")
    print(
        "| workers | rows | seconds | rows/s per worker | rows per worker CPU second | "
        "Parquet MB | bytes/row | load average at the end |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---|")
    results = {}
    for workers in (2, 1):
        written, seconds, used, size = export_run(cfg, workers, args.partition_rows)
        results[workers] = written / seconds
        print(
            f"| {workers} | {written:,} | {seconds:.1f} | {written / seconds / workers:,.0f} | "
            f"{written / used:,.0f} | {size / 1e6:,.1f} | {size / written:.2f} | "
            f"{load().split(' on ')[0].removeprefix('load average ')} |",
            flush=True,
        )
    print(f"\nscaling, 2 workers over 1 (wall time): {results[2] / results[1]:.2f}x")


if __name__ == "__main__":
    main()
