"""The storefront API over real HTTP: uvicorn on a free 127.0.0.1 port, httpx as the client.

Every endpoint is called as a storefront calls it, and each refused request (a tampered
session, an unknown catalog, a malformed choice, an oversized body, a request past the solver
cap) must give its 4xx (or 503 with Retry-After) problem naming the field, with the server
answering normally afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import modcfg
from modcfg.memory import CustomerMemory
from modcfg.web import Limits, create_app
from modcfg.web._models import CompleteResponse, SessionView

from .web_server import KEY, running

BODY_LIMIT = 64_000


@pytest.fixture(scope="module")
def memory() -> Iterator[CustomerMemory]:
    with CustomerMemory("sqlite://") as store:
        yield store


@pytest.fixture(scope="module")
def base(memory: CustomerMemory) -> Iterator[str]:
    app = create_app(
        ["windows", "windows_pro"],
        memory,
        signing_key=KEY,
        limits=Limits(body_bytes=BODY_LIMIT, solver_seconds=20),
    )
    with running(app) as url:
        yield url


@pytest.fixture
def client(base: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base, timeout=30) as session:
        yield session


def post(client: httpx.Client, path: str, body: dict[str, Any], status: int = 200) -> Any:
    response = client.post(path, json=body)
    assert response.status_code == status, response.text
    if status >= 400:
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["status"] == status
        assert problem["detail"]
    return response.json()


def options(state: dict[str, Any], slot: str) -> dict[str, dict[str, Any]]:
    row = next(s for s in state["slots"] if s["slot"] == slot)
    return {option["module"]: option for option in row["options"]}


def still_answers(client: httpx.Client) -> None:
    response = client.get("/catalogs")
    assert response.status_code == 200
    assert [c["name"] for c in response.json()] == ["windows", "windows_pro"]


def test_the_catalogs_are_listed_with_exact_counts_as_strings(client: httpx.Client) -> None:
    listed = client.get("/catalogs").json()
    assert listed[0] == {
        "name": "windows",
        "label": "Windows",
        "version": "2026.1",
        "currency": "EUR",
        "count": "1800",
        "slots": 4,
    }
    assert listed[1]["count"] == str(modcfg.compile("windows_pro").count())


def test_a_session_chooses_undoes_completes_and_checks_out(
    client: httpx.Client, memory: CustomerMemory
) -> None:
    started = post(client, "/catalogs/windows/sessions", {"needs": None})
    assert started["state"]["count"] == "1800"
    assert not started["state"]["can_undo"]
    oak = options(started["state"], "frame")["oak"]
    assert oak["count"] == "360"
    assert oak["from_price"] == {"amount": "160.00", "currency": "EUR"}

    chosen = post(
        client,
        "/catalogs/windows/choose",
        {"session": started["session"], "slot": "frame", "module": "oak"},
    )
    state = chosen["state"]
    assert state["count"] == "360"
    assert state["choices"] == {"frame": "oak"}
    assert options(state, "frame")["oak"]["status"] == "chosen"
    assert options(state, "glass")["triple"] == {
        "module": "triple",
        "label": "Triple glazing",
        "status": "available",
        "count": "36",
        "from_price": {"amount": "260.00", "currency": "EUR"},
        "reason": None,
        "suggested": False,
    }
    assert state["can_undo"]
    again = post(client, "/catalogs/windows/state", {"session": chosen["session"]})
    assert again["state"] == state

    undone = post(client, "/catalogs/windows/undo", {"session": chosen["session"]})
    assert undone["state"]["count"] == "1800"
    unchosen = post(
        client, "/catalogs/windows/unchoose", {"session": chosen["session"], "slot": "frame"}
    )
    assert unchosen["state"]["count"] == "1800"

    open_quote = post(client, "/catalogs/windows/quote", {"session": chosen["session"]}, 422)
    assert open_quote["field"] == "session"
    assert "not complete" in open_quote["detail"]
    done = post(client, "/catalogs/windows/complete", {"session": chosen["session"]})
    assert done["state"]["complete"]
    assert done["state"]["count"] == "1"
    assert done["quote"]["total"] == {"amount": "160.00", "currency": "EUR"}
    assert done["quote"]["configuration"]["frame"] == "oak"
    quote = post(client, "/catalogs/windows/quote", {"session": done["session"]})
    assert quote == done["quote"]
    assert sum(float(line["amount"]["amount"]) for line in quote["lines"]) == 160.0

    before = len(memory.orders())
    kept = post(
        client,
        "/catalogs/windows/checkout",
        {"session": done["session"], "customer": "c-9", "consent": True},
    )
    assert kept["remembered"]
    assert isinstance(kept["order_id"], int)
    assert kept["quote"] == quote
    # the session answers are built as plain data: they must match the published models
    for answer in (started, chosen, undone, unchosen):
        assert SessionView.model_validate(answer).model_dump(mode="json") == answer
    assert CompleteResponse.model_validate(done).model_dump(mode="json") == done
    unkept = post(
        client,
        "/catalogs/windows/checkout",
        {"session": done["session"], "customer": "c-10", "consent": False},
    )
    assert unkept == {"quote": quote, "remembered": False, "order_id": None}
    assert len(memory.orders()) == before + 1
    assert memory.orders("c-9")[-1].configuration == quote["configuration"]

    returning = post(client, "/catalogs/windows/sessions", {"customer": "c-9"})
    assert returning["suggestions"][0]["quote"]["configuration"] == quote["configuration"]
    assert returning["suggestions"][0]["changes"] == []


def test_why_not_and_a_refused_choice_name_the_rule(client: httpx.Client) -> None:
    started = post(client, "/catalogs/windows_pro/sessions", {})
    pvc = post(
        client,
        "/catalogs/windows_pro/choose",
        {"session": started["session"], "slot": "frame", "module": "pvc"},
    )
    triple = options(pvc["state"], "glass")["triple"]
    assert triple["status"] == "excluded"
    assert triple["count"] == "0"
    assert "pvc-double-only" in triple["reason"]
    why = post(
        client,
        "/catalogs/windows_pro/why-not",
        {"session": pvc["session"], "slot": "glass", "module": "triple"},
    )
    assert not why["available"]
    assert why["because"] == ["choose frame.pvc"] or "frame.pvc" in " ".join(why["because"])
    assert "pvc-double-only" in why["rules"]
    possible = post(
        client,
        "/catalogs/windows_pro/why-not",
        {"session": pvc["session"], "slot": "glass", "module": "double"},
    )
    assert possible["available"]
    assert int(possible["completions"]) > 0
    refused = post(
        client,
        "/catalogs/windows_pro/choose",
        {"session": pvc["session"], "slot": "glass", "module": "triple"},
        409,
    )
    assert "pvc" in refused["detail"]
    assert refused["conflict"]
    assert refused["field"] == "module"
    unchosen = post(
        client, "/catalogs/windows_pro/unchoose", {"session": pvc["session"], "slot": "glass"}
    )
    assert unchosen["session"]["choices"] == pvc["session"]["choices"]
    assert unchosen["session"].get("undo") == pvc["session"].get("undo")  # (no step to undo)


def test_relaxations_rank_the_ways_out(client: httpx.Client) -> None:
    tight = post(
        client,
        "/catalogs/windows/relaxations",
        {"needs": {"require": ["glass.triple"], "budget": "10"}},
    )
    assert not tight["feasible"]
    assert tight["count"] == "0"
    assert tight["relaxations"][0]["unlocked"].isdigit()
    assert tight["relaxations"][0]["from_price"]["currency"] == "EUR"
    loose = post(client, "/catalogs/windows/relaxations", {"needs": {"require": ["glass.triple"]}})
    assert loose == {"feasible": True, "count": "180", "conflict": [], "relaxations": []}
    refused = post(
        client,
        "/catalogs/windows/sessions",
        {"needs": {"require": ["glass.triple"], "budget": "10"}},
        409,
    )
    assert refused["relaxations"]


def test_recommendations_come_from_the_remembered_orders(
    client: httpx.Client, memory: CustomerMemory
) -> None:
    started = post(client, "/catalogs/windows_pro/sessions", {})
    pvc = post(
        client,
        "/catalogs/windows_pro/choose",
        {"session": started["session"], "slot": "frame", "module": "pvc"},
    )
    plain = post(
        client,
        "/catalogs/windows_pro/recommendations",
        {"session": pvc["session"], "slot": "glass"},
    )
    assert plain["source"] == "completions"
    possible = {m for m, o in options(pvc["state"], "glass").items() if o["status"] != "excluded"}
    assert {r["module"] for r in plain["modules"]} == possible
    assert sum(r["score"] for r in plain["modules"]) == pytest.approx(1.0)
    done = post(client, "/catalogs/windows_pro/complete", {"session": pvc["session"]})
    post(
        client,
        "/catalogs/windows_pro/checkout",
        {"session": done["session"], "customer": "c-11", "consent": True},
    )
    learned = post(
        client,
        "/catalogs/windows_pro/recommendations",
        {"session": pvc["session"], "slot": "glass"},
    )
    assert learned["source"] == "sales"
    assert {r["module"] for r in learned["modules"]} == possible
    assert learned["modules"][0]["module"] == done["quote"]["configuration"]["glass"]


def test_a_tampered_session_is_refused(client: httpx.Client) -> None:
    started = post(client, "/catalogs/windows/sessions", {})
    forged = {**started["session"], "choices": [["frame", "oak", 1]]}
    problem = post(client, "/catalogs/windows/state", {"session": forged}, 403)
    assert problem["field"] == "session"
    assert "signature" in problem["detail"]
    unsigned = {k: v for k, v in started["session"].items() if k != "signature"}
    assert post(client, "/catalogs/windows/state", {"session": unsigned}, 403)["field"] == "session"
    garbled = post(client, "/catalogs/windows/state", {"session": {"format": "x"}}, 422)
    assert garbled["field"] == "session"
    other = post(client, "/catalogs/windows_pro/state", {"session": started["session"]}, 422)
    assert "windows" in other["detail"]
    still_answers(client)


def test_an_unknown_catalog_is_a_404_naming_the_catalogs(client: httpx.Client) -> None:
    problem = post(client, "/catalogs/doors/sessions", {}, 404)
    assert problem["field"] == "name"
    assert "doors" in problem["detail"]
    assert "windows_pro" in problem["detail"]
    still_answers(client)


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"slot": "frme"}, "slot", "did you mean 'frame'"),
        ({"module": "oax"}, "module", "did you mean 'oak'"),
        ({"module": 7}, "module", "string"),
        ({"quantity": "two"}, "quantity", "integer"),
        ({"quantity": 3}, "quantity", "out of range"),
        ({"colour": "red"}, "colour", "Extra inputs"),
        ({"slot": None}, "slot", "string"),
    ],
)
def test_a_malformed_choice_names_its_field(
    client: httpx.Client, change: dict[str, Any], field: str, words: str
) -> None:
    started = post(client, "/catalogs/windows/sessions", {})
    body = {"session": started["session"], "slot": "frame", "module": "oak", **change}
    problem = post(client, "/catalogs/windows/choose", body, 422)
    assert problem["field"] == field
    assert words in problem["detail"]
    still_answers(client)


def test_a_body_that_is_not_json_is_a_422(client: httpx.Client) -> None:
    response = client.post(
        "/catalogs/windows/sessions",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["field"] == "body"
    assert "the body is not valid JSON" in response.json()["detail"]
    still_answers(client)


def test_an_oversized_body_is_a_413(client: httpx.Client) -> None:
    started = post(client, "/catalogs/windows/sessions", {})
    padded = {"session": started["session"], "slot": "frame", "module": "x" * BODY_LIMIT}
    problem = post(client, "/catalogs/windows/choose", padded, 413)
    assert problem["field"] == "body"
    assert f"{BODY_LIMIT:,} bytes" in problem["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the streamed body is counted
        yield b'{"needs": {"require": ["'
        for _ in range(BODY_LIMIT // 1000 + 2):
            yield b"a" * 1000
        yield b'"]}}'

    streamed = client.post("/catalogs/windows/sessions", content=chunks())
    assert streamed.status_code == 413
    still_answers(client)


def test_a_request_past_the_solver_cap_is_a_503_with_retry_after() -> None:
    # a budget over the bicycle's 13 slots runs the passes over capped sums: far past 0.2 s
    app = create_app(["bicycle"], signing_key=KEY, limits=Limits(solver_seconds=0.2))
    with running(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        response = client.post("/catalogs/bicycle/sessions", json={"needs": {"budget": "3000"}})
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == "1"
        assert "solver time cap" in response.json()["detail"]
        plain = client.post("/catalogs/bicycle/sessions", json={})
        assert plain.status_code == 200
        assert plain.json()["state"]["count"] == str(modcfg.compile("bicycle").count())


@pytest.mark.slow  # (two more servers)
def test_rotated_keys_and_a_new_catalog_version_keep_sessions_valid() -> None:
    old_app = create_app(["windows"], signing_key={"2026": b"the old key of the shop"})
    catalog = modcfg.load_catalog("windows")
    newer = catalog.model_copy(update={"version": "2027.1"})
    new_app = create_app(
        {"windows": newer},
        signing_key={"2026": b"the old key of the shop", "2027": b"the new key of the shop"},
    )
    with running(old_app) as old_url, running(new_app) as new_url:
        started = httpx.post(f"{old_url}/catalogs/windows/sessions", json={}, timeout=30).json()
        body = {"session": started["session"], "slot": "frame", "module": "oak"}
        moved = httpx.post(f"{new_url}/catalogs/windows/choose", json=body, timeout=30)
        assert moved.status_code == 200, moved.text
        assert moved.json()["state"]["version"] == "2027.1"
        assert moved.json()["session"]["kid"] == "2027"
        back = {"session": moved.json()["session"]}
        refused = httpx.post(f"{old_url}/catalogs/windows/state", json=back, timeout=30)
        assert refused.status_code == 403


def test_the_page_and_its_assets_are_served(client: httpx.Client) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert 'data-root=""' in page.text
    assert client.get("/static/page.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/static/page.css").status_code == 200
    missing = client.get("/static/secrets.txt")
    assert missing.status_code == 404


def test_serve_reads_key_files_and_prints_the_schema(tmp_path: Any) -> None:
    import json

    from typer.testing import CliRunner

    from modcfg.cli import app
    from modcfg.web._serve import read_keys

    single = tmp_path / "one.key"
    single.write_text("0123456789abcdef0123\n")
    assert read_keys(single) == b"0123456789abcdef0123"
    ring = tmp_path / "ring.key"
    ring.write_text("2026: 0123456789abcdef0123\n2027: fedcba9876543210fedc\n")
    assert read_keys(ring) == {"2026": b"0123456789abcdef0123", "2027": b"fedcba9876543210fedc"}
    short = tmp_path / "short.key"
    short.write_text("secret")
    with pytest.raises(modcfg.NeedsError, match="at least 16"):
        read_keys(short)
    result = CliRunner().invoke(app, ["serve", "windows", "--openapi", "--key-file", str(ring)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["info"]["title"] == "modcfg storefront"


def test_serve_of_a_catalog_it_cannot_load_stops_with_one_line(tmp_path: Any) -> None:
    """With several workers, a catalog that does not load is said once, before any worker
    starts; one that passes that check but fails in the workers (a damaged compiled file)
    stops the server: every worker says why in one line and exits as uvicorn's failed
    start-up, and no worker is started again."""
    import subprocess
    import sys

    def serve(*args: str, workers: int = 2) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-c", "from modcfg.cli import main; main()", "serve"]
        return subprocess.run(
            [*command, *args, "--port", "0", "--workers", str(workers)],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )

    misspelt = serve("windowz")
    assert misspelt.returncode == 1
    assert misspelt.stderr.strip().startswith("error: no catalog file or bundled catalog named")
    assert len(misspelt.stderr.strip().splitlines()) == 1
    other = tmp_path / "other.modcfg"
    other.write_bytes(b"modcfg-compiled\n" + b'{"format": 1, "modcfg": "0.0.1"}\n')
    refused = serve(str(other))
    assert refused.returncode == 1
    assert "compiled by modcfg 0.0.1" in refused.stderr
    saved = modcfg.compile("windows").save(tmp_path / "windows.modcfg")
    damaged = tmp_path / "damaged.modcfg"
    damaged.write_bytes(saved.read_bytes()[:-40])
    for workers in (2, 1):  # (two: the supervisor stops, where it started workers forever)
        stopped = serve(str(damaged), workers=workers)
        assert stopped.returncode == 1
        assert "Traceback" not in stopped.stderr
        errors = [line for line in stopped.stderr.splitlines() if line.startswith("error:")]
        assert errors
        assert all("the compiled catalog is damaged" in line for line in errors)


def test_a_worker_that_cannot_build_its_app_exits_as_a_failed_start_up(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from modcfg.web import _serve

    settings = {
        "catalogs": ["windowz"],
        "memory": None,
        "solver_seconds": 5.0,
        "body_bytes": 1_000_000,
        "key_file": None,
        "key": "ab" * 32,
    }
    monkeypatch.setenv(_serve.ENVIRONMENT, json.dumps(settings))
    with pytest.raises(SystemExit) as exited:
        _serve.serving_app()
    assert exited.value.code == _serve.STARTUP_FAILURE
    assert capsys.readouterr().err.startswith("error: no catalog file or bundled catalog")


def test_start_up_computes_each_catalogs_first_state(monkeypatch: pytest.MonkeyPatch) -> None:
    from modcfg.engines.cpsat import _cores

    loaded: list[bool] = []
    monkeypatch.setattr(_cores, "load_solver", lambda: loaded.append(True))
    cfg = modcfg.compile("windows")
    app = create_app({"windows": cfg}, signing_key=KEY)
    # what a first explanation needs is ready too: the rules to propagate, and the solver
    assert "propagator" in vars(cfg.compiled)
    assert loaded == [True]

    def not_again(self: modcfg.Session) -> None:
        raise AssertionError("a first state computed in a request")

    monkeypatch.setattr(modcfg.Session, "state", not_again)
    with running(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        started = client.post("/catalogs/windows/sessions", json={})
        assert started.status_code == 200, started.text
        assert started.json()["state"]["count"] == "1800"


def test_a_time_limit_is_a_503_and_a_size_limit_a_422() -> None:
    """Only a request that ran out of time is worth retrying later (503 with Retry-After); one
    past a size or memory limit must ask differently (422, the limit's own words)."""
    from modcfg.web._problems import from_library

    timed = from_library(modcfg.TimeLimitExceeded("the count passed 2 s"), "needs", 3)
    sized = from_library(modcfg.LimitExceeded("the sample would hold 9 GB"), "needs", 3)
    assert (timed.status, timed.headers) == (503, {"Retry-After": "3"})
    assert (sized.status, sized.field) == (422, "needs")
    assert "9 GB" in str(sized)


def test_a_multi_select_module_is_chosen_as_its_option_counts(client: httpx.Client) -> None:
    started = post(client, "/catalogs/windows_pro/sessions", {})
    shown = options(started["state"], "hardware")["trickle-vent"]
    chosen = post(
        client,
        "/catalogs/windows_pro/choose",
        {"session": started["session"], "slot": "hardware", "module": "trickle-vent"},
    )
    assert chosen["state"]["count"] == shown["count"]  # (in any quantity, as counted)
    assert chosen["state"]["choices"] == {"hardware": {"trickle-vent": None}}
    two = post(
        client,
        "/catalogs/windows_pro/choose",
        {
            "session": chosen["session"],
            "slot": "hardware",
            "module": "trickle-vent",
            "quantity": 2,
        },
    )
    assert two["state"]["choices"] == {"hardware": {"trickle-vent": 2}}
    assert int(two["state"]["count"]) < int(shown["count"])
