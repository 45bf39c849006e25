"""The package map of docs/contributing.md, checked: each part of ``modcfg`` imports only from
its own layer and the layers below it, and the heavy dependencies stay where they belong.

Imports inside ``if TYPE_CHECKING:`` are for annotations and may name any layer (an
explanation names the ``Configurator`` it is given). The tests read the syntax trees of
``src/modcfg``, so a new import that breaks the map fails here whether or not it runs.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import modcfg

SOURCE = Path(modcfg.__file__).parent

#: Bottom to top: the top-level modules and packages of ``modcfg`` in each layer.
LAYERS: tuple[frozenset[str], ...] = (
    frozenset(
        {
            "_errors",
            "_arguments",
            "_reasons",
            "_memory",
            "_cache",
            "_collector",
            "_version",
            "_html",
            "_frames",
            "_grammars",
            "_lazy",
        }
    ),
    frozenset({"model"}),
    frozenset({"io", "lower", "price", "_terminal", "_rows"}),
    frozenset({"engines"}),
    frozenset(
        {
            "_plan",
            "_tree_parts",
            "_compiled",
            "_compile_limits",
            "_option_tables",
            "_streams",
            "_ranking",
            "_variety",
            "_feeds",
            "_sampling",
            "_results",
            "plot",
        }
    ),
    frozenset({"explain"}),
    frozenset({"session"}),
    frozenset(
        {
            "_configurator",
            "_configuration_methods",
            "_slot_breaks",
            "_feed_methods",
            "_explore",
            "_artefact",
            "distributed",
        }
    ),
    frozenset({"orders", "memory", "pricing"}),
    frozenset({"web"}),
    frozenset({"cli", "_cli_common", "_cli_memory", "_cli_serve", "_cli_warm", "__init__"}),
)
#: Imports of a higher layer that run, by (file, imported module), each with its reason.
ALLOWED_UPWARD = {
    # reading a foreign format registers the readers of modcfg.io with the loader, which
    # the io package does on import (model never needs io otherwise)
    ("model/_loading.py", "modcfg.io"),
}
#: Third-party packages that only these parts of modcfg may import.
CONFINED = {
    "ortools": ("engines/cpsat/",),
    "numba": ("engines/decomposition/",),
    "networkx": (),  # the benchmarks' peer and the tests' reference, never the package
    "typer": ("cli.py", "_cli_common.py", "_cli_memory.py", "_cli_serve.py"),
    "fastapi": ("web/",),
    "starlette": ("web/",),
    "anyio": ("web/",),
    "uvicorn": ("_cli_serve.py",),
    "sqlalchemy": ("memory/",),
    "alembic": ("memory/",),
    "cryptography": ("memory/",),
    "pandas": ("memory/_segments.py", "_frames.py"),
    "matplotlib": ("plot.py",),
    "prompt_toolkit": ("session/_dialogue.py",),
    "pyarrow": ("_feeds.py", "distributed/"),
    "dask": ("distributed/",),
    "distributed": ("distributed/",),
}


def _layer(module: str) -> int:
    """The layer of an absolute module name inside modcfg."""
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else "__init__"
    for number, members in enumerate(LAYERS):
        if top in members:
            return number
    raise AssertionError(f"modcfg.{top} is in no layer: add it to the package map")


def _runtime_imports(tree: ast.Module, package: str) -> Iterator[tuple[int, str]]:
    """(line, absolute module) of every import that runs (not under ``if TYPE_CHECKING``)."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            if node.module is None:  # from . import name: the names are modules
                yield from ((node.lineno, f"{base}.{alias.name}") for alias in node.names)
            else:
                yield node.lineno, base
        stack.extend(ast.iter_child_nodes(node))


def _modules() -> Iterator[tuple[str, str, ast.Module]]:
    """(path inside modcfg, package of the module, syntax tree) of every source file."""
    for path in sorted(SOURCE.rglob("*.py")):
        relative = path.relative_to(SOURCE).as_posix()
        folder = path.parent.relative_to(SOURCE).parts
        package = ".".join(("modcfg", *folder))
        yield relative, package, ast.parse(path.read_text(encoding="utf-8"), relative)


def test_every_part_imports_only_its_layer_and_the_ones_below() -> None:
    found = []
    for relative, package, tree in _modules():
        own = _layer(f"{package}.{Path(relative).stem}" if package == "modcfg" else package)
        for line, module in _runtime_imports(tree, package):
            if module.split(".")[0] != "modcfg" or module == "modcfg.__init__":
                continue
            if _layer(module) > own and (relative, module) not in ALLOWED_UPWARD:
                found.append(f"{relative}:{line} imports {module}")
    assert not found, "imports of a higher layer:\n" + "\n".join(found)


def test_heavy_dependencies_stay_where_they_belong() -> None:
    found = []
    for relative, package, tree in _modules():
        for line, module in _runtime_imports(tree, package):
            places = CONFINED.get(module.split(".")[0])
            if places is not None and not relative.startswith(places):
                found.append(f"{relative}:{line} imports {module}")
    assert not found, "\n".join(found)


def test_the_allowed_upward_imports_exist() -> None:
    present = {
        (relative, module)
        for relative, package, tree in _modules()
        for _, module in _runtime_imports(tree, package)
    }
    assert present >= ALLOWED_UPWARD
