"""Shared pieces of the customer memory tests: catalog versions, and a throwaway PostgreSQL
server started from the postgres binaries when they are installed."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

import modcfg

#: Where Debian puts the PostgreSQL server binaries (newest version first).
POSTGRES_BIN = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


def windows_data() -> dict[str, Any]:
    """The bundled windows catalog as file data."""
    path = Path(modcfg.__file__).parent / "catalogs" / "windows.yaml"
    data: dict[str, Any] = yaml.safe_load(path.read_text("utf-8"))
    return data


def windows_v2() -> modcfg.Catalog:
    """The next version of the windows catalog: frosted glass and the sunburst picture
    retired, and a new rule: no triple glazing in a PVC frame."""
    data = windows_data()
    data["version"] = "2027.1"
    data.pop("expected_count")
    del data["slots"]["glass"]["modules"]["frosted"]
    del data["slots"]["picture"]["modules"]["sunburst"]
    data["rules"] = [
        {
            "id": "pvc-no-triple",
            "excludes": ["frame.pvc", "glass.triple"],
            "message": "PVC frames cannot carry triple glazing",
        }
    ]
    return modcfg.Catalog.model_validate(data)


def _tool(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for folder in POSTGRES_BIN:
        if (folder / name).is_file():
            return str(folder / name)
    return None


def postgres_missing() -> str | None:
    """Why no throwaway PostgreSQL server can run here (None when it can)."""
    if _tool("initdb") is None or _tool("pg_ctl") is None:
        return "the PostgreSQL server binaries (initdb, pg_ctl) are not installed"
    if os.geteuid() == 0 and (shutil.which("runuser") is None or _uid("postgres") is None):
        return "running as root, and there is no 'postgres' user to run the server as"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install 'psycopg[binary]')"
    return None


def _uid(user: str) -> int | None:
    import pwd

    try:
        return pwd.getpwnam(user).pw_uid
    except KeyError:
        return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def postgres_server(folder: Path) -> Iterator[str]:
    """Start a PostgreSQL server with its data in ``folder`` on a free port of 127.0.0.1
    (socket in ``folder`` too), yield its URL, and stop it. PostgreSQL refuses to run as
    root: as root, the server runs as the ``postgres`` user."""
    as_user: list[str] = []
    if os.geteuid() == 0:
        as_user = ["runuser", "-u", "postgres", "--"]
        uid = _uid("postgres")
        os.chown(folder, uid or 0, -1)
        for parent in (folder, *folder.parents):
            if parent == Path(parent.anchor):
                break
            parent.chmod(parent.stat().st_mode | 0o711)  # the server user walks the path
    data, log = folder / "data", folder / "server.log"
    initdb, pg_ctl = _tool("initdb"), _tool("pg_ctl")
    assert initdb is not None
    assert pg_ctl is not None
    subprocess.run(
        [*as_user, initdb, "-D", str(data), "-U", "modcfg", "--auth=trust", "-E", "UTF8", "-N"],
        check=True,
        capture_output=True,
    )
    port = _free_port()
    options = f"-h 127.0.0.1 -p {port} -k {folder} -F -c fsync=off"
    subprocess.run(
        [*as_user, pg_ctl, "-D", str(data), "-l", str(log), "-o", options, "-w", "start"],
        check=True,
        capture_output=True,
    )
    try:
        url = f"postgresql+psycopg://modcfg@127.0.0.1:{port}/postgres"
        _wait_until_up(url)
        yield url
    finally:
        subprocess.run(
            [*as_user, pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"],
            check=False,
            capture_output=True,
        )


def _wait_until_up(url: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    deadline = time.monotonic() + 20
    try:
        while True:
            try:
                with engine.connect() as connection:
                    connection.execute(sa.text("SELECT 1"))
                return
            except sa.exc.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
    finally:
        engine.dispose()
