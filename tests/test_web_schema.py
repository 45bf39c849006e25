"""The storefront's OpenAPI schema: stable (equal to the committed snapshot), and every operation
fuzzed by schemathesis against the real uvicorn server, which must never answer 5xx.

After a deliberate change of the API, write the snapshot again with
``modcfg serve --openapi > tests/data/openapi.json`` and review the diff.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from modcfg.web import Limits, create_app

from .web_server import KEY, running

SNAPSHOT = Path(__file__).parent / "data" / "openapi.json"
SCHEMA = schemathesis.openapi.from_path(SNAPSHOT)


def test_the_openapi_schema_is_the_committed_one() -> None:
    published = create_app(["windows"], signing_key=KEY).openapi()
    committed = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assert published == committed, (
        "the OpenAPI schema changed; if that is intended, run "
        "`modcfg serve --openapi > tests/data/openapi.json` and review the diff"
    )


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    app = create_app(["windows"], signing_key=KEY, limits=Limits(solver_seconds=10))
    with running(app) as url:
        yield url


@pytest.mark.slow
@SCHEMA.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_request_makes_a_server_error(case: schemathesis.Case, base: str) -> None:
    if "name" in (case.path_parameters or {}):
        case.path_parameters = {"name": "windows"}  # (unknown catalogs: see test_web.py)
    response = case.call(base_url=base, timeout=30)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"][0] == "application/problem+json"
