"""Saved sessions: JSON round trips, and documents from the client treated as untrusted input
(validated field by field, bounded, re-checked against the catalog, optionally signed)."""

from __future__ import annotations

import copy
import json
import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import modcfg

HISTORY = modcfg.Session.HISTORY_LIMIT


@pytest.fixture(scope="module")
def pro() -> modcfg.Configurator:
    return modcfg.compile(modcfg.load_catalog("windows_pro"))


@pytest.fixture(scope="module")
def saved(pro: modcfg.Configurator) -> dict[str, Any]:
    session = pro.session(modcfg.Needs(quantity=2, frequency="repeat"))
    session.choose("frame", "oak")
    session.choose("hardware", "trickle-vent", 2)
    session.choose("glass", "triple")
    session.undo()
    return session.to_dict()


def test_a_quote_with_a_multi_select_slot_is_json(pro: modcfg.Configurator) -> None:
    quote = pro.best(modcfg.Needs(require=["hardware.trickle-vent"]), k=1)[0]
    text = json.dumps(dict(quote.configuration))
    assert json.loads(text) == {
        slot: dict(choice) if isinstance(choice, modcfg.Quantities) else choice
        for slot, choice in quote.configuration.items()
    }
    quantities = quote.configuration["hardware"]
    assert isinstance(quantities, modcfg.Quantities)
    assert isinstance(quantities, dict)
    assert hash(quantities) == hash(modcfg.Quantities(dict(quantities)))
    with pytest.raises(TypeError):
        quantities["trickle-vent"] = 3  # type: ignore[index]
    assert json.loads(json.dumps(quote.to_dict()))["configuration"] == json.loads(text)


def test_json_and_dict_round_trips(pro: modcfg.Configurator, saved: dict[str, Any]) -> None:
    session = modcfg.Session.from_dict(pro, saved)
    text = session.to_json()
    assert isinstance(text, str)
    assert json.loads(text) == saved
    again = modcfg.Session.from_json(pro, text)
    assert again.to_dict() == saved
    assert modcfg.Session.from_json(pro, text.encode()).to_json() == text
    assert again.redo().count == session.redo().count


def test_json_and_dict_are_not_mixed_up(pro: modcfg.Configurator, saved: dict[str, Any]) -> None:
    with pytest.raises(modcfg.NeedsError, match="from_dict"):
        modcfg.Session.from_json(pro, saved)  # type: ignore[arg-type]
    with pytest.raises(modcfg.NeedsError, match="from_json"):
        modcfg.Session.from_dict(pro, json.dumps(saved))  # type: ignore[arg-type]


def _set(document: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    target: Any = changed
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return changed


@pytest.mark.parametrize(
    ("path", "value", "where"),
    [
        (("choices",), None, "choices"),
        (("choices",), "frame.oak", "choices"),
        (("choices", 0), None, "choices[0]"),
        (("choices", 0), ["frame"], "choices[0]"),
        (("choices", 0, 2), 1.9, "choices[0][2]"),
        (("choices", 0, 2), True, "choices[0][2]"),
        (("choices", 0, 2), 10**400, "choices[0][2]"),
        (("choices", 0, 0), 3, "choices[0][0]"),
        (("undo",), None, "undo"),
        (("undo", 0), None, "undo[0]"),
        (("undo", 1, "choices", 0, 2), "2", "undo[1].choices[0][2]"),
        (("undo", 0, "needs"), [], "undo[0].needs"),
        (("needs", "quantity"), True, "needs.quantity"),
        (("needs", "quantity"), 2.5, "needs.quantity"),
        (("undo", 1, "needs", "quantity"), "3", "undo[1].needs.quantity"),
        (("needs", "frequency"), "daily", "needs"),
        (("needs", "prefer"), {"frame.oak": 2**63}, "needs.prefer.frame.oak"),
        (("redo",), {"a": 1}, "redo"),
        (("format",), None, "format"),
        (("choices", 0, 0), "frame-x", "frame-x"),
        (("choices", 0, 1), "teak", "teak"),
    ],
)
def test_malformed_documents_name_the_field(
    pro: modcfg.Configurator, saved: dict[str, Any], path: tuple[Any, ...], value: Any, where: str
) -> None:
    with pytest.raises(modcfg.NeedsError, match=re.escape(where)):
        modcfg.Session.from_dict(pro, _set(saved, path, value))


def test_a_repeated_slot_is_refused(pro: modcfg.Configurator, saved: dict[str, Any]) -> None:
    document = _set(saved, ("choices",), [["frame", "oak", 1], ["frame", "pine", 1]])
    with pytest.raises(modcfg.NeedsError, match=r"choices\[1\].*frame"):
        modcfg.Session.from_dict(pro, document)


def test_long_histories_are_refused_at_once(pro: modcfg.Configurator) -> None:
    step = {"needs": None, "choices": [["frame", "oak", 1]]}
    document = pro.session().to_dict()
    document["undo"] = [step] * 1_000_000
    huge = json.dumps(document)
    started = time.perf_counter()
    with pytest.raises(modcfg.NeedsError, match=f"undo: .*{HISTORY}"):
        modcfg.Session.from_dict(pro, document)
    with pytest.raises(modcfg.NeedsError, match="characters long"):
        modcfg.Session.from_json(pro, huge)
    assert time.perf_counter() - started < 1
    document["undo"] = [step] * (HISTORY + 1)
    with pytest.raises(modcfg.NeedsError, match=f"undo: .*{HISTORY}"):
        modcfg.Session.from_json(pro, json.dumps(document))
    document["undo"] = [step] * HISTORY
    assert len(modcfg.Session.from_dict(pro, document).to_dict()["undo"]) == HISTORY


def test_sessions_keep_a_bounded_history(pro: modcfg.Configurator) -> None:
    session = pro.session()
    for step in range(HISTORY + 10):
        session.choose("frame", "oak" if step % 2 else "pine")
    saved = session.to_dict()
    assert len(saved["undo"]) == HISTORY
    for _ in range(HISTORY):
        session.undo()
    with pytest.raises(modcfg.NeedsError, match="nothing to undo"):
        session.undo()


def test_an_infeasible_history_step_never_breaks_the_session(pro: modcfg.Configurator) -> None:
    document = pro.session().to_dict()
    clash = [["frame", "pvc", 1], ["glass", "triple", 1]]
    document["undo"] = [{"needs": None, "choices": clash}]
    document["redo"] = [{"needs": None, "choices": clash}]
    session = modcfg.Session.from_dict(pro, document)
    for move in (session.undo, session.redo):
        with pytest.raises(modcfg.InfeasibleError, match="no valid configuration"):
            move()
        assert session.choices == {}
        assert session.state().count == pro.count()
    session.complete()
    session.undo()
    assert session.choices == {}


def test_the_saved_choices_must_leave_a_configuration(pro: modcfg.Configurator) -> None:
    document = pro.session().to_dict()
    document["choices"] = [["frame", "pvc", 1], ["glass", "triple", 1]]
    with pytest.raises(modcfg.NeedsError, match="no valid configuration"):
        modcfg.Session.from_dict(pro, document)


KEYS = {"2026-11": b"old secret key of the storefront", "2026-12": b"current secret key"}


def test_signed_sessions_refuse_forged_needs(pro: modcfg.Configurator) -> None:
    session = pro.session(modcfg.Needs(frequency="one-off", deliver_by="2027-06-01"))
    session.choose("frame", "oak")
    text = session.to_json(signing_key=KEYS)
    document = json.loads(text)
    assert document["kid"] == "2026-12"
    restored = modcfg.Session.from_json(pro, text, signing_key=KEYS)
    assert restored.to_dict() == session.to_dict()
    for field, value in [("frequency", "subscription"), ("deliver_by", "2028-01-01")]:
        forged = _set(document, ("needs", field), value)
        with pytest.raises(modcfg.SignatureError, match="signature"):
            modcfg.Session.from_json(pro, json.dumps(forged), signing_key=KEYS)
        with pytest.raises(modcfg.SignatureError):
            modcfg.Session.from_dict(pro, forged, signing_key=KEYS)
    assert issubclass(modcfg.SignatureError, modcfg.NeedsError)


def test_signing_keys_rotate_by_key_id(pro: modcfg.Configurator) -> None:
    session = pro.session()
    session.choose("frame", "oak")
    old = session.to_dict(signing_key={"2026-11": KEYS["2026-11"]})
    assert old["kid"] == "2026-11"
    assert modcfg.Session.from_dict(pro, old, signing_key=KEYS).choices == {"frame": "oak"}
    with pytest.raises(modcfg.SignatureError, match="2026-11"):
        modcfg.Session.from_dict(pro, old, signing_key={"2026-12": KEYS["2026-12"]})
    plain = session.to_dict(signing_key=b"one key")
    assert "kid" not in plain
    assert modcfg.Session.from_dict(pro, plain, signing_key=b"one key").choices
    with pytest.raises(modcfg.SignatureError):
        modcfg.Session.from_dict(pro, plain, signing_key=b"another key")
    with pytest.raises(modcfg.SignatureError, match="not signed"):
        modcfg.Session.from_dict(pro, session.to_dict(), signing_key=KEYS)


def _mutations(document: dict[str, Any]) -> st.SearchStrategy[Any]:
    """A valid saved document with one part replaced by something else."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=20),
        st.sampled_from(["frame", "oak", "glass", "triple", "hardware", "trickle-vent"]),
    )
    junk = st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
        ),
        max_leaves=12,
    )
    paths: list[tuple[Any, ...]] = [()]

    def walk(value: Any, path: tuple[Any, ...]) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                paths.append((*path, key))
                walk(inner, (*path, key))
        elif isinstance(value, list):
            for index, inner in enumerate(value):
                paths.append((*path, index))
                walk(inner, (*path, index))

    walk(document, ())

    def replace(path: tuple[Any, ...], value: Any) -> Any:
        return value if not path else _set(document, path, value)

    def deep(depth: int) -> Any:
        nested: Any = "frame"
        for _ in range(depth):
            nested = [nested]
        return nested

    values = st.one_of(
        junk,
        st.builds(deep, st.integers(1, 5_000)),
        st.builds(lambda n: [["frame", "oak", 1]] * n, st.integers(0, 3_000)),
    )
    return st.builds(replace, st.sampled_from(paths), values)


@settings(max_examples=200, deadline=2_000, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fuzzed_documents_end_in_an_error_or_a_session(
    pro: modcfg.Configurator, saved: dict[str, Any], data: st.DataObject
) -> None:
    document = data.draw(_mutations(saved))
    restore: Callable[[], modcfg.Session]
    if data.draw(st.booleans()):
        restore = lambda: modcfg.Session.from_dict(pro, document)  # noqa: E731
    else:
        try:
            text = json.dumps(document)
        except (ValueError, RecursionError):
            return
        cut = data.draw(st.integers(0, len(text)))
        text = text[:cut] if data.draw(st.booleans()) else text
        restore = lambda: modcfg.Session.from_json(pro, text)  # noqa: E731
    try:
        session = restore()
    except modcfg.ModcfgError:
        return
    session.state().count  # noqa: B018 - a restored session answers
    for move in (session.undo, session.redo):
        try:
            move()
        except modcfg.ModcfgError:
            continue
        session.state().count  # noqa: B018


def test_a_session_with_long_generated_ids_round_trips() -> None:
    # feature models' generated ids pass 200 characters (a decision-making model: 201)
    slot = "Feature" + "x" * 300
    catalog = modcfg.Catalog.model_validate(
        {
            "catalog": "long",
            "slots": {
                slot: {"cardinality": "optional", "modules": {"selected": {}}},
                "other": {"modules": {"a": {}, "b": {}}},
            },
        }
    )
    cfg = modcfg.compile(catalog)
    session = cfg.session()
    session.choose(slot, "selected")
    session.choose("other", "b")
    restored = modcfg.Session.from_json(cfg, session.to_json())
    assert restored.choices == session.choices
    restored.undo()
    assert restored.state().count == 2


def test_a_complete_session_of_thousands_of_features_round_trips() -> None:
    """A complete configuration of a feature model makes a choice per feature: its document,
    as the session (or a storefront) wrote it, loads again, past 2,048 choices; more choices
    than the catalog has slots and modules for are refused before any is read."""
    features = 2_100
    catalog = modcfg.Catalog.model_validate(
        {
            "catalog": "features",
            "slots": {
                f"f{i}": {"cardinality": "optional", "modules": {"selected": {"price": "1"}}}
                for i in range(features)
            },
            "rules": [{"id": "one", "requires": {"if": "f0.selected", "then": "f1.selected"}}],
        }
    )
    cfg = modcfg.compile(catalog)
    session = cfg.session()
    session.complete()
    document = session.to_dict(signing_key=b"k" * 32)
    assert len(document["choices"]) == features
    restored = modcfg.Session.from_dict(cfg, document, signing_key=b"k" * 32)
    assert restored.quote().total == session.quote().total
    document["choices"] = document["choices"] * 3  # (6,300: past 2 per slot)
    with pytest.raises(modcfg.NeedsError, match=r"^choices: .* at most 4,200 choices"):
        modcfg.Session.from_dict(cfg, document)
