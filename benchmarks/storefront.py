"""The storefront load test: 50 concurrent clients x 40 steps against ``modcfg serve`` (two
uvicorn workers) on loopback, per catalog: windows_pro, the bicycle and Renault medium.

Each client starts a session, then makes choices as a customer clicking the page does: an
available module of a slot still open (undo when nothing is open), one request per step, no
think time (the worst case: every client always has a request in flight). Reported: the
p50/p95/p99 latency of a step, steps per second, and errors (any answer but 200; the clients
only pick options the state shows available, so a refusal is a bug). ``--think S`` gives each
client a think time between its clicks (exponential, mean ``S`` seconds, seeded), as customers
on a page have, and spreads the clients' arrivals over one think time: the load of that many
shoppers rather than of that many requests always in flight. ``--profile`` runs the same
steps in this process under cProfile and prints where a step's time goes.

    python benchmarks/storefront.py [--clients 50 --steps 40 --workers 2 --think 0] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import random
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
KEY = "a benchmark key of 32 characters"


def catalogs() -> list[tuple[str, str]]:
    """(name shown, catalog source) of the catalogs measured (Renault when the data is there)."""
    found = [("windows_pro", "windows_pro"), ("bicycle", "bicycle")]
    renault = SHARED / "renault" / "medium.xml"
    if renault.exists():
        found.append(("renault medium", str(renault)))
    else:
        print(f"(Renault medium skipped: {renault} is absent)", file=sys.stderr)
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def next_step(state: dict[str, Any], rng: random.Random) -> tuple[str, dict[str, Any]]:
    """The next request of a customer in this state: a choice in an open slot, else undo."""
    open_slots = [
        slot
        for slot in state["slots"]
        if not any(o["status"] in ("chosen", "implied") for o in slot["options"])
        and any(o["status"] == "available" for o in slot["options"])
    ]
    if not open_slots or state["count"] == "1":
        return "undo", {}
    slot = rng.choice(open_slots)
    module = rng.choice([o["module"] for o in slot["options"] if o["status"] == "available"])
    return "choose", {"slot": slot["slot"], "module": module}


async def client(
    http: httpx.AsyncClient,
    name: str,
    steps: int,
    seed: int,
    think: float,
    latencies: list[float],
    errors: list[str],
) -> None:
    rng = random.Random(seed)
    if think:  # shoppers arrive over one think time, not all in the same instant
        await asyncio.sleep(rng.uniform(0, think))
    async with http:
        path = "sessions"
        body: dict[str, Any] = {}
        session: dict[str, Any] | None = None
        for _ in range(steps):
            if session is not None:
                body = {**body, "session": session}
            start = time.perf_counter()
            response = await http.post(f"/catalogs/{name}/{path}", json=body)
            latencies.append(time.perf_counter() - start)
            if response.status_code != 200:
                errors.append(f"{path} {response.status_code}: {response.text[:200]}")
                return
            data = response.json()
            session = data["session"]
            path, body = next_step(data["state"], rng)
            if think:
                await asyncio.sleep(rng.expovariate(1 / think))


async def load(
    base: str, name: str, clients: int, steps: int, think: float
) -> tuple[list[float], list[str]]:
    latencies: list[float] = []
    errors: list[str] = []
    # each shopper's HTTP client is made before the load starts: making one loads the TLS
    # trust store (about 0.1 s of this process's event loop), and made on arrival they held up
    # the other shoppers' requests, which showed as a tail of 1-4 s that was not the server's
    https = [httpx.AsyncClient(base_url=base, timeout=60) for _ in range(clients)]
    await asyncio.gather(
        *(
            client(http, name, steps, seed, think, latencies, errors)
            for seed, http in enumerate(https)
        )
    )
    return latencies, errors


def serve(source: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    key_file = Path(os.environ.get("TMPDIR", "/tmp")) / f"storefront-bench-{port}.key"
    key_file.write_text(KEY)
    command = [
        sys.executable,
        "-c",
        "from modcfg.cli import main; main()",
        "serve",
        source,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--key-file",
        str(key_file),
    ]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL)


def wait_until_ready(
    base: str, process: subprocess.Popen[bytes], workers: int, *, polled: float = 0.5
) -> str:
    """The catalog's URL name, once every worker answers (each compiles the catalog); the
    server is asked every ``polled`` seconds until it listens."""
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("modcfg serve stopped")
        try:
            listed = httpx.get(f"{base}/catalogs", timeout=120).json()
            name: str = listed[0]["name"]
            for _ in range(8 * workers):  # reach (and warm) every worker's sessions
                httpx.post(f"{base}/catalogs/{name}/sessions", json={}, timeout=120)
            return name
        except httpx.TransportError:
            time.sleep(polled)
    raise RuntimeError("modcfg serve did not answer within 600 s")


def measure(source: str, clients: int, steps: int, workers: int, think: float) -> dict[str, Any]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = serve(source, port, workers)
    try:
        name = wait_until_ready(base, process, workers)
        start = time.perf_counter()
        latencies, errors = asyncio.run(load(base, name, clients, steps, think))
        elapsed = time.perf_counter() - start
    finally:
        process.terminate()
        process.wait(timeout=60)
    quantiles = statistics.quantiles(latencies, n=100)
    return {
        "steps": len(latencies),
        "p50": quantiles[49] * 1000,
        "p95": quantiles[94] * 1000,
        "p99": quantiles[98] * 1000,
        "throughput": len(latencies) / elapsed,
        "errors": len(errors),
        "first_error": errors[0] if errors else "",
    }


def profile(source: str, steps: int) -> None:
    """Where a step's time goes, in this process (no HTTP): cProfile of the service calls."""
    import modcfg
    from modcfg.web._service import Storefront

    cfg = modcfg.compile(modcfg.load_catalog(source))
    store = Storefront(
        {cfg.catalog.name: cfg},
        signing_key=KEY.encode(),
        memory=None,
        solver_seconds=60,
        retry_after=1,
    )
    name = cfg.catalog.name
    rng = random.Random(0)
    view = store.start(name, None, None)
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for _ in range(steps):
        data = json.loads(json.dumps(view))
        path, body = next_step(data["state"], rng)
        if path == "undo":
            view = store.undo(name, data["session"])
        else:
            view = store.choose(name, data["session"], body["slot"], body["module"], 1)
    profiler.disable()
    per_step = (time.perf_counter() - started) / steps * 1000
    print(f"\n{source}: {per_step:.1f} ms per step in-process (with the profiler on)")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(18)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--think", type=float, default=0.0, help="mean seconds between a client's clicks (0)"
    )
    parser.add_argument("--profile", action="store_true", help="profile the steps in-process")
    options = parser.parse_args()
    if options.profile:
        for _, source in catalogs():
            profile(source, options.steps)
        return
    print(f"load average before: {os.getloadavg()[0]:.2f} (on {os.cpu_count()} cores)")
    print(
        f"{options.clients} clients x {options.steps} steps, {options.workers} uvicorn workers, "
        f"think time {options.think} s (mean), loopback"
    )
    print("| catalog | steps | p50 ms | p95 ms | p99 ms | steps/s | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for shown, source in catalogs():
        row = measure(source, options.clients, options.steps, options.workers, options.think)
        print(
            f"| {shown} | {row['steps']} | {row['p50']:.1f} | {row['p95']:.1f} | "
            f"{row['p99']:.1f} | {row['throughput']:.0f} | {row['errors']} |",
            flush=True,
        )
        if row["first_error"]:
            print(f"  first error: {row['first_error']}", file=sys.stderr)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
