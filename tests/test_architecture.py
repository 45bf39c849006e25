"""The architecture, checked: modules talk through public interfaces, engines through one
protocol, and the library leaves process-wide switches alone.

These tests read the source of ``src/modcfg`` (its syntax trees), so they fail on the line
that breaks a rule, whether or not a test runs that line.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

import modcfg
from modcfg.engines import EngineQuery, IndependentQuery
from modcfg.engines.compiled import CompiledQuery
from modcfg.engines.decomposition import TreeQuery

SOURCE = Path(modcfg.__file__).parent

#: ``x._name`` reads that are allowed where ``x`` is not ``self`` or ``cls``, by (file, read).
ALLOWED_PRIVATE_READS: set[tuple[str, str]] = set()

#: The engine classes, which only the plan (the one place that picks an engine) may test for.
ENGINE_CLASSES = {"TreeQuery", "IndependentQuery", "CpSatQuery", "CpSatEngine", "CompiledQuery"}


def _sources() -> Iterator[tuple[str, ast.AST]]:
    for path in sorted(SOURCE.rglob("*.py")):
        yield path.relative_to(SOURCE).as_posix(), ast.parse(path.read_text(), str(path))


def _private(name: str) -> bool:
    """A single leading underscore: private by convention. Dunders (``__len__``) are
    protocol, and a name with two leading underscores is class-private (Python mangles it,
    so only code inside its class reaches it)."""
    return name.startswith("_") and not name.startswith("__")


def test_no_module_reads_another_objects_private_attributes() -> None:
    found = []
    for path, tree in _sources():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Attribute) or not _private(node.attr):
                continue
            if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
                continue
            read = ast.unparse(node)
            if (path, read) not in ALLOWED_PRIVATE_READS:
                found.append(f"{path}:{node.lineno}: {read}")
    assert not found, "private attributes read from outside their object:\n" + "\n".join(found)


def test_the_allow_list_names_only_reads_that_exist() -> None:
    present = set()
    for path, tree in _sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and _private(node.attr):
                present.add((path, ast.unparse(node)))
    assert present >= ALLOWED_PRIVATE_READS, ALLOWED_PRIVATE_READS - present


def test_only_the_plan_tests_for_engine_types() -> None:
    """Callers use the engine protocol; the plan picks the implementation."""
    found = []
    for path, tree in _sources():
        if path == "_plan.py":
            continue
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("isinstance", "issubclass")
                and len(node.args) == 2
            ):
                continue
            names = {n.id for n in ast.walk(node.args[1]) if isinstance(n, ast.Name)}
            names |= {n.attr for n in ast.walk(node.args[1]) if isinstance(n, ast.Attribute)}
            if names & ENGINE_CLASSES:
                found.append(f"{path}:{node.lineno}: {ast.unparse(node)}")
    assert not found, "\n".join(found)


def _protocol_members() -> set[str]:
    return {
        name
        for klass in EngineQuery.__mro__
        if klass.__module__ == EngineQuery.__module__
        for name in vars(klass)
        if not name.startswith("_")
    }


@pytest.mark.parametrize(
    "engine", [TreeQuery, IndependentQuery, CompiledQuery], ids=lambda e: e.__name__
)
def test_every_engine_implements_the_protocol(engine: type) -> None:
    from modcfg.engines.cpsat._query import CpSatQuery

    for implementation in (engine, CpSatQuery):
        instance_attributes = {"problem", "scale"}  # set by each constructor
        missing = _protocol_members() - set(dir(implementation)) - instance_attributes
        assert not missing, f"{implementation.__name__} lacks {sorted(missing)}"


def test_the_library_never_switches_the_collector_off_by_itself() -> None:
    """Only ``_collector.py`` touches the collector: the opt-in ``modcfg.collector_paused()``
    and the freeze ``modcfg serve`` asks for once its start-up is done."""
    found = []
    for path, tree in _sources():
        if path == "_collector.py":
            continue
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in ("disable", "freeze")
                and isinstance(node.value, ast.Name)
                and node.value.id == "gc"
            ):
                found.append(f"{path}:{node.lineno}")
    assert not found, found


def test_states_are_frozen_dataclasses_with_slots() -> None:
    for state in (modcfg.OptionState, modcfg.SessionState):
        assert dataclasses.is_dataclass(state), state
        assert state.__dataclass_params__.frozen, state  # type: ignore[attr-defined]
        assert "__slots__" in vars(state), state
        assert not hasattr(state, "__dict__") or "__dict__" not in vars(state), state


def test_the_configurator_keeps_only_public_methods() -> None:
    private = [
        name
        for name, value in vars(modcfg.Configurator).items()
        if _private(name) and callable(value)
    ]
    assert not private, private
