"""``modcfg serve``'s app, built in each uvicorn worker from the environment the command sets.

uvicorn starts its workers as new processes that import the app by name, so the command passes
what they need (catalogs, key file, memory URL, caps) in ``MODCFG_SERVE_*`` variables and every
worker builds the same app; all workers sign with the same keys, so any worker accepts any
session.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .._collector import freeze_start_up
from .._errors import ModcfgError, NeedsError
from .._terminal import safe
from ._app import Limits, create_app

if TYPE_CHECKING:
    from fastapi import FastAPI

    from .._configurator import Configurator
    from ..model import Catalog
    from ..session._saved import SigningKey

__all__ = [
    "ENVIRONMENT",
    "STARTUP_FAILURE",
    "app_from_environment",
    "check_sources",
    "read_keys",
    "serving_app",
]

ENVIRONMENT = "MODCFG_SERVE"


def read_keys(path: Path) -> SigningKey:
    """The signing keys of a key file: one secret, or lines ``key-id: secret`` (the last one
    signs; every one verifies, so a rotation adds a line and later drops the oldest)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise NeedsError(f"cannot read the key file {path}: {error.strerror}") from None
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        raise NeedsError(f"the key file {path} is empty; write a long random secret in it")
    if len(lines) == 1 and ":" not in lines[0]:
        secret = lines[0].encode()
        _check_length(secret, path)
        return secret
    keys: dict[str, bytes] = {}
    for number, line in enumerate(lines, start=1):
        kid, colon, secret_text = line.partition(":")
        if not colon or not kid.strip() or not secret_text.strip():
            raise NeedsError(
                f"{path}, line {number}: write one secret alone, or lines 'key-id: secret'"
            )
        keys[kid.strip()] = secret_text.strip().encode()
        _check_length(keys[kid.strip()], path)
    return keys


def _check_length(secret: bytes, path: Path) -> None:
    if len(secret) < 16:
        raise NeedsError(
            f"a secret in the key file {path} is {len(secret)} bytes long; use at least 16 "
            "random bytes (python -c 'import secrets; print(secrets.token_hex(32))')"
        )


def app_from_environment() -> FastAPI:
    """The app ``modcfg serve`` described in ``MODCFG_SERVE`` (JSON)."""
    settings = json.loads(os.environ[ENVIRONMENT])
    if settings.get("key_file"):
        keys = read_keys(Path(settings["key_file"]))
    else:
        keys = bytes.fromhex(settings["key"])
    memory = None
    if settings.get("memory"):
        from ..memory import CustomerMemory

        memory = CustomerMemory(settings["memory"])
    limits = Limits(body_bytes=settings["body_bytes"], solver_seconds=settings["solver_seconds"])
    catalogs = [_load(source) for source in settings["catalogs"]]
    return create_app(catalogs, memory, signing_key=keys, limits=limits)


#: The exit code by which a uvicorn worker tells its supervisor that it could not start (the
#: app would fail the same way in every new worker): the supervisor then stops the server
#: rather than start worker after worker.
STARTUP_FAILURE = 3


def serving_app() -> FastAPI:
    """The app of :func:`app_from_environment`, for a uvicorn worker that serves it: what its
    start-up made lives as long as the worker, so the collector's full passes skip it. A
    catalog the worker cannot load or compile is said in one line on stderr, and the worker
    exits with :data:`STARTUP_FAILURE` (leaving the file the settings name as ``failed``,
    when they do)."""
    try:
        app = app_from_environment()
    except ModcfgError as error:
        sys.stderr.write(f"error: {safe(str(error), lines=True)}\n")
        failed = json.loads(os.environ[ENVIRONMENT]).get("failed")
        if failed:  # (for modcfg serve, which exits with 1 once the supervisor stops)
            Path(failed).touch()
        sys.exit(STARTUP_FAILURE)
    freeze_start_up()
    return app


def check_sources(sources: list[str]) -> None:
    """Raise the :class:`~modcfg.ModcfgError` that serving ``sources`` would meet in every
    worker on loading them: each catalog file or bundled name is loaded, and each compiled
    catalog's header read (it names the modcfg version that can load it)."""
    from .._artefact import check_compiled, is_compiled_file
    from ..model import load_catalog

    for source in sources:
        if is_compiled_file(source):
            check_compiled(source)
        else:
            load_catalog(source)


def _load(source: str) -> Catalog | Configurator:
    """A catalog file or bundled name, loaded (the app compiles it), or a compiled catalog
    (a ``.modcfg`` file), loaded as it was compiled."""
    from .._artefact import is_compiled_file, load_compiled
    from ..model import load_catalog

    if is_compiled_file(source):
        return load_compiled(source)
    return load_catalog(source)
