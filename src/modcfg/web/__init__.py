"""The storefront backend: an ASGI app (FastAPI) serving catalogs to clients over HTTP, and a
configurator page.

:func:`create_app` builds the app a backend mounts in its own (``backend.mount("/configure",
app)``) or ``modcfg serve`` runs with uvicorn. Sessions live in the client as signed documents;
counts travel as strings of digits and money as decimal strings with a currency; every refused
request is an RFC 9457 problem naming the field at fault.

>>> import modcfg.web
>>> app = modcfg.web.create_app(["windows"], signing_key=b"a secret of the storefront")
>>> sorted(app.openapi()["paths"])[:3]
['/catalogs', '/catalogs/{name}/checkout', '/catalogs/{name}/choose']

Needs FastAPI (``pip install 'modcfg[web]'``).
"""

try:
    import fastapi as _fastapi  # noqa: F401  (checked here to say how to install it)
except ImportError as error:  # pragma: no cover - the extra is installed in the tests
    raise ImportError("modcfg.web needs FastAPI and uvicorn: pip install 'modcfg[web]'") from error

from ._app import API_VERSION, Limits, create_app

__all__ = ["API_VERSION", "Limits", "create_app"]
