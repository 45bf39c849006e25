"""``modcfg serve``: the storefront app (:mod:`modcfg.web`) on uvicorn, on 127.0.0.1 unless told.

FastAPI and uvicorn come with the ``web`` extra; without them the command says how to install
them and exits with 1, and the rest of the CLI never imports them.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from ._errors import NeedsError

__all__ = ["serve"]


def serve(
    catalogs: Annotated[
        list[str] | None,
        typer.Argument(
            help="Catalog files, compiled catalogs (.modcfg) or bundled names to serve "
            "(default: every bundled)."
        ),
    ] = None,
    host: Annotated[str, typer.Option(help="The address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="The port.")] = 8000,
    key_file: Annotated[
        Path | None,
        typer.Option(
            "--key-file",
            help="The session signing secret, or lines 'key-id: secret' (the last signs). "
            "Without it a random key is made: sessions end when the server stops.",
        ),
    ] = None,
    memory: Annotated[
        str | None,
        typer.Option("--memory-db", envvar="MODCFG_MEMORY_DB", help="A customer memory URL."),
    ] = None,
    workers: Annotated[int, typer.Option(min=1, help="uvicorn worker processes.")] = 1,
    solver_seconds: Annotated[
        float, typer.Option(min=0.001, help="The most a request may compute (503 beyond).")
    ] = 5.0,
    body_bytes: Annotated[
        int, typer.Option(min=1024, help="The largest request body accepted (413 beyond).")
    ] = 1_000_000,
    openapi: Annotated[  # noqa: FBT002 (a command-line flag)
        bool, typer.Option("--openapi", help="Print the OpenAPI schema and exit.")
    ] = False,
) -> None:
    """Serve catalogs to storefront clients over HTTP, with the configurator page at /."""
    try:
        import uvicorn

        from .web._serve import (
            ENVIRONMENT,
            STARTUP_FAILURE,
            app_from_environment,
            check_sources,
            read_keys,
        )
    except ImportError:
        raise NeedsError(
            "modcfg serve needs FastAPI and uvicorn: pip install 'modcfg[web]'"
        ) from None
    from .model import bundled_catalogs

    sources = [str(Path(s).resolve()) if Path(s).exists() else s for s in catalogs or ()]
    settings = {
        "catalogs": sources or bundled_catalogs(),
        "memory": memory,
        "solver_seconds": solver_seconds,
        "body_bytes": body_bytes,
        "key_file": None if key_file is None else str(key_file.resolve()),
        "key": secrets.token_hex(32),
    }
    if key_file is not None:
        read_keys(key_file)  # a bad key file is reported before any worker starts
    if workers > 1:  # (one worker reports its own; several would each fail the same way)
        check_sources(sources)
    if openapi:
        os.environ[ENVIRONMENT] = json.dumps(settings)
        schema = app_from_environment().openapi()
        sys.stdout.write(json.dumps(schema, indent=2, sort_keys=True) + "\n")
        return
    with tempfile.TemporaryDirectory() as folder:
        # a worker that cannot start says why and leaves this file (see serving_app)
        failed = Path(folder) / "failed"
        os.environ[ENVIRONMENT] = json.dumps({**settings, "failed": str(failed)})
        try:
            uvicorn.run(
                "modcfg.web._serve:serving_app",
                factory=True,
                host=host,
                port=port,
                workers=workers,
                log_level="warning",
            )
        except SystemExit as stopped:  # (one worker: its failed start, said already)
            if stopped.code != STARTUP_FAILURE:
                raise
            raise typer.Exit(code=1) from None
        if failed.exists():  # (several: the supervisor stopped when the first failed)
            raise typer.Exit(code=1)
