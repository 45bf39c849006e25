"""Readers and writers of UVL, DIMACS and XCSP: structure, counts by brute force, round trips."""

from __future__ import annotations

import itertools
import tempfile
import textwrap
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

import modcfg
import modcfg.io
from modcfg.model import (
    FORMAT_READERS,
    ConfigurationView,
    ConstraintRule,
    ExcludesRule,
    Quantities,
    RequiresRule,
    TableRule,
    evaluate,
    parse,
    truthy,
)
from modcfg.model._rules import Rule

from . import oracle
from .strategies import catalogs

# -- brute force ------------------------------------------------------------------------------


def _choices(slot: modcfg.model.Slot) -> list[object]:
    if slot.single:
        return [*([None] if slot.cardinality.min == 0 else []), *slot.modules]
    modules = list(slot.modules)
    low, high = slot.cardinality.min, slot.cardinality.max
    return [
        Quantities(dict.fromkeys(subset, 1))
        for size in range(low, min(high, len(modules)) + 1)
        for subset in itertools.combinations(modules, size)
    ]


def _chosen(configuration: Mapping[str, object]) -> set[str]:
    refs = set()
    for slot, choice in configuration.items():
        if isinstance(choice, str):
            refs.add(f"{slot}.{choice}")
        elif isinstance(choice, Mapping):
            refs.update(f"{slot}.{module}" for module in choice)
    return refs


def _holds(rule: Rule, catalog: modcfg.Catalog, configuration: dict[str, object]) -> bool:
    chosen = _chosen(configuration)
    if isinstance(rule, RequiresRule):
        return not set(rule.requires.if_) <= chosen or bool(set(rule.requires.then) & chosen)
    if isinstance(rule, ExcludesRule):
        return not set(rule.excludes) <= chosen
    if isinstance(rule, TableRule):
        matched = any(
            all(
                value in ("*", configuration[slot])
                for slot, value in zip(rule.table.slots, row, strict=True)
            )
            for row in rule.rows
        )
        return matched if rule.allow else not matched
    assert isinstance(rule, ConstraintRule)
    view = ConfigurationView(catalog, configuration)  # type: ignore[arg-type]
    if rule.when is not None and not truthy(evaluate(parse(rule.when), view)):
        return True
    return truthy(evaluate(parse(rule.constraint), view))


def valid(catalog: modcfg.Catalog) -> Iterator[dict[str, object]]:
    """Every configuration of a small catalog (max_quantity 1), by enumeration."""
    ids = list(catalog.slots)
    for combination in itertools.product(*(_choices(catalog.slots[i]) for i in ids)):
        configuration = dict(zip(ids, combination, strict=True))
        if all(_holds(rule, catalog, configuration) for rule in catalog.rules):
            yield configuration


def brute_count(catalog: modcfg.Catalog) -> int:
    return sum(1 for _ in valid(catalog))


def model_count(text: str) -> int:
    """Models of a DIMACS CNF over all its variables (a tiny exact counter for small formulas)."""
    lines = [line for line in text.splitlines() if line and not line.startswith("c")]
    variables = int(lines[0].split()[2])
    numbers = [int(token) for line in lines[1:] for token in line.split()]
    clauses, current = [], []
    for number in numbers:
        if number:
            current.append(number)
        else:
            clauses.append(frozenset(current))
            current = []

    def count(clauses: list[frozenset[int]], free: int) -> int:
        if any(not clause for clause in clauses):
            return 0
        if not clauses:
            return 2**free
        var = abs(next(iter(clauses[0])))
        return sum(
            count([c - {-literal} for c in clauses if literal not in c], free - 1)
            for literal in (var, -var)
        )

    return count(clauses, variables)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def exported(writer: Callable[[modcfg.Catalog, Path], None], catalog: modcfg.Catalog) -> str:
    """What a writer writes for a catalog (in a temporary folder; hypothesis has no tmp_path)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "out"
        writer(catalog, path)
        return path.read_text(encoding="utf-8")


# -- UVL ------------------------------------------------------------------------------------

SANDWICH = """
    features
        Sandwich {abstract}
            mandatory
                Bread
            optional
                Sauce {abstract}
                    alternative
                        Ketchup
                        Mustard
                Cheese
    constraints
        Ketchup => Cheese
"""

SHOP = """
    // a shop: an or-group, a group cardinality, a feature named like a keyword
    namespace Shop
    include
        Boolean.group-cardinality
    features
        Shop {abstract}
            mandatory
                Payment
                    or
                        Card
                        Cash
                        "Bank transfer"
            optional
                Extras {abstract}
                    [2..3]
                        Wrap
                        Ribbon
                        "Card note"
                        Bow
                "not"
    constraints
        Wrap => !Cash
        "not" <=> Ribbon   /* an equivalence */
"""

BOX = """
    features
        Box
            optional
                Small {weight 2}
                Large {weight 5, colour 'red', tags ['eu', 'us']}
                Lid {weight 1}
    constraints
        sum(weight) <= 6
        Large.weight > 4 => Lid
"""


@pytest.mark.parametrize(
    ("text", "expected"), [(SANDWICH, 5), (SHOP, 53), (BOX, 5)], ids=["sandwich", "shop", "box"]
)
def test_uvl_counts_match_brute_force(tmp_path: Path, text: str, expected: int) -> None:
    catalog = modcfg.io.read_uvl(write(tmp_path, "model.uvl", text))
    assert brute_count(catalog) == expected


def test_uvl_maps_features_to_slots(tmp_path: Path) -> None:
    catalog = modcfg.io.read_uvl(write(tmp_path, "shop.uvl", SHOP))
    assert catalog.name == "Shop"
    assert list(catalog.slots) == [
        "Shop", "Payment", "Card", "Cash", "Bank_transfer", "Extras", "Wrap", "Ribbon",
        "Card_note", "Bow", "not_",
    ]  # fmt: skip
    root, transfer = catalog.slots["Shop"], catalog.slots["Bank_transfer"]
    assert str(root.cardinality) == "exactly_one"
    assert str(transfer.cardinality) == "optional"
    assert transfer.label == "Bank transfer"
    assert list(transfer.modules) == ["selected"]
    assert root.modules["selected"].attributes == {"abstract": True}
    rules = {rule.id: rule for rule in catalog.rules}
    assert set(rules) == {
        "Payment-mandatory", "Extras-optional", "not_-optional", "Payment-or", "Extras-group",
        "constraint-1", "constraint-2",
    }  # fmt: skip
    assert isinstance(rules["constraint-2"], ConstraintRule)
    assert rules["constraint-2"].constraint == (
        "((not_.selected -> Ribbon.selected) and (Ribbon.selected -> not_.selected))"
    )
    assert rules["constraint-1"].message == "constraint: Wrap => !Cash"


def test_uvl_keeps_attributes(tmp_path: Path) -> None:
    catalog = modcfg.io.read_uvl(write(tmp_path, "box.uvl", BOX))
    large = catalog.slots["Large"].modules["selected"]
    assert large.attributes == {"weight": 5, "colour": "red", "tags": ("eu", "us")}
    assert [rule.constraint for rule in catalog.rules[-2:]] == [  # type: ignore[union-attr]
        "(total(weight) <= 6)",
        "((Large.weight > 4) -> Lid.selected)",
    ]


def test_uvl_makes_ids_unique(tmp_path: Path) -> None:
    path = write(tmp_path, "ids.uvl", """
        features
            "a b"
                optional
                    a_b
                    "3D"
                    "a-b"
    """)  # fmt: skip
    catalog = modcfg.io.read_uvl(path)
    assert [(slot.id, slot.label) for slot in catalog.slots.values()] == [
        ("a_b", "a b"), ("a_b-2", "a_b"), ("_3D", "3D"), ("a-b", "a-b"),
    ]  # fmt: skip
    assert brute_count(catalog) == 8


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (
            "features\n  A\n    optional\n      B\nconstraints\n  B => C\n",
            6,
            "'C' names no feature",
        ),
        ("features\n  A\n    optional\n      B\n      B\n", 5, "declared twice"),
        ("features\n  A\n    optional\n      Integer B\n", 4, "type Integer"),
        ("features\n  A cardinality [1..3]\n", 2, "feature cardinality"),
        ("imports\n  lib as l\nfeatures\n  A\n", 2, "imports"),
        ("features\n  A\n    optional\n      B\n     C\n", 5, "indentation"),
        ("features\n  A\n    optional\n      B\nconstraints\n  B & \n", 6, "UVL syntax"),
        ("features\n  A\n    sometimes\n      B\n", 3, "UVL syntax"),
        ("features\n  A\n    optional\nconstraints\n", 3, "no features"),
        ("features\n  A {w 1}\nconstraints\n  avg(w) > 1\n", 4, "avg()"),
        ("features\n  A {w 1}\nconstraints\n  A.w / 2 > 1\n", 4, "division"),
        ("features\n  A\n    [3..1]\n      B\n", 3, "min > max"),
    ],
)
def test_uvl_errors_name_the_line(tmp_path: Path, text: str, line: int, words: str) -> None:
    path = write(tmp_path, "bad.uvl", text)
    with pytest.raises(modcfg.CatalogError, match=words) as caught:
        modcfg.io.read_uvl(path)
    assert caught.value.line == line
    assert caught.value.path == str(path)


def test_uvl_rejects_files_it_cannot_read(tmp_path: Path) -> None:
    with pytest.raises(modcfg.CatalogError, match="file not found"):
        modcfg.io.read_uvl(tmp_path / "missing.uvl")
    (tmp_path / "latin1.uvl").write_bytes(b"features\n  Gr\xf6\xdfe\n")
    with pytest.raises(modcfg.CatalogError, match="not UTF-8") as caught:
        modcfg.io.read_uvl(tmp_path / "latin1.uvl")
    assert caught.value.line == 2
    with pytest.raises(modcfg.CatalogError, match="no 'features'"):
        modcfg.io.read_uvl(write(tmp_path, "empty.uvl", "// nothing\n"))


@pytest.mark.parametrize(
    ("name", "features", "constraints"),
    [("ovm_RFW", 37, 11), ("berkeleydb", 76, 20), ("axTLS", 96, 14)],
)
def test_real_uvl_models(shared_data: Path, name: str, features: int, constraints: int) -> None:
    catalog = modcfg.load_catalog(shared_data / "uvl" / f"{name}.uvl")
    assert len(catalog.slots) == catalog.module_count == features
    cross_tree = [rule for rule in catalog.rules if rule.id.startswith("constraint-")]
    assert len(cross_tree) == constraints
    assert sum(slot.cardinality.min for slot in catalog.slots.values()) == 1  # only the root
    assert all(isinstance(rule, ConstraintRule) for rule in catalog.rules)


def test_real_uvl_labels_keep_feature_names(shared_data: Path) -> None:
    catalog = modcfg.io.read_uvl(shared_data / "uvl" / "ovm_RFW.uvl")
    slot = catalog.slots["V3_Small_truck_3_5t"]
    assert slot.label == slot.modules["selected"].label == "V3:Small truck 3,5t"
    assert catalog.slots["VIRTUAL_ROOT"].modules["selected"].attributes == {"abstract": True}


# -- DIMACS -----------------------------------------------------------------------------------

DIMACS = """
    c a comment that names nothing
    c 1 Base
    c 2 base
    c 3 3D view
    p cnf 4 3
    1 0
    -2 3
     0
    -3 -4 0
"""


def test_dimacs_count_and_names(tmp_path: Path) -> None:
    catalog = modcfg.io.read_dimacs(write(tmp_path, "tiny.dimacs", DIMACS))
    assert [(slot.id, slot.label) for slot in catalog.slots.values()] == [
        ("Base", "Base"), ("base", "base"), ("x3D_view", "3D view"), ("x4", "x4"),
    ]  # fmt: skip
    assert [rule.constraint for rule in catalog.rules] == [  # type: ignore[union-attr]
        "Base.selected",
        "not base.selected or x3D_view.selected",
        "not x3D_view.selected or not x4.selected",
    ]
    assert catalog.rules[1].message == "clause 2: not base or 3D view"
    assert brute_count(catalog) == 4


def test_dimacs_empty_clause_and_end_marker(tmp_path: Path) -> None:
    path = write(tmp_path, "unsat.cnf", "p cnf 2 2\n1 2 0 0\n%\n0\n")
    catalog = modcfg.load_catalog(path)
    assert brute_count(catalog) == 0
    assert catalog.rules[1].message == "clause 2: false (an empty clause)"


def test_dimacs_long_clauses_become_deny_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(modcfg.io._dimacs, "_LONGEST_FORMULA", 2)
    text = "p cnf 4 4\n1 -2 3 0\n-1 -2 -3 -4 0\n2 -2 4 0\n1 1 4 0\n"
    catalog = modcfg.io.read_dimacs(write(tmp_path, "long.cnf", text))
    assert [rule.kind for rule in catalog.rules] == ["table", "table", "constraint", "constraint"]
    first = catalog.rules[0]
    assert isinstance(first, TableRule)
    assert first.table.deny == ((None, "selected", None),)
    assert brute_count(catalog) == model_count(text) == 10


def test_deep_nesting_is_a_catalog_error(tmp_path: Path) -> None:
    for body in ("!" * 3000 + "A", " <=> ".join(["A"] * 40), " | ".join(["A"] * 3000)):
        path = write(tmp_path, "deep.uvl", f"features\n  A\nconstraints\n  {body}\n")
        with pytest.raises(modcfg.CatalogError):
            modcfg.io.read_uvl(path)


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("1 2 0\np cnf 2 1\n", 1, "before the 'p cnf"),
        ("p cnf 2 1\n1 3 0\n", 2, "above the declared 2"),
        ("p cnf 2 2\n1 2 0\n", 1, "declares 2 clauses but the file has 1"),
        ("p cnf 2 1\n1 2\n", 2, "does not end with 0"),
        (
            "p cnf 2 1\n1 x 0\n",
            2,
            r"'x' is not a literal \(a non-zero integer, or 0 to end a clause\) \(",
        ),
        ("p cnf 2 2\n1 2 0\n1 -", 3, "'-' is not a literal .*; is the file cut short\\? \\("),
        ("p cnf 2 1\np cnf 2 1\n1 0\n", 2, "second 'p cnf'"),
        ("p dnf 2 1\n1 0\n", 1, "malformed problem line"),
        ("c 3 extra\np cnf 2 1\n1 0\n", 1, "comment names variable 3"),
        ("c 1 a\nc 1 b\np cnf 2 1\n1 0\n", 2, "named twice"),
        ("c only comments\n", None, "no 'p cnf"),
    ],
)
def test_dimacs_errors_name_the_line(
    tmp_path: Path, text: str, line: int | None, words: str
) -> None:
    with pytest.raises(modcfg.CatalogError, match=words) as caught:
        modcfg.io.read_dimacs(write(tmp_path, "bad.dimacs", text))
    assert caught.value.line == line


@pytest.mark.parametrize(
    ("name", "variables", "clauses"), [("e_shop", 173, 289), ("bank", 176, 280)]
)
def test_real_dimacs_models(shared_data: Path, name: str, variables: int, clauses: int) -> None:
    catalog = modcfg.load_catalog(shared_data / "dimacs" / f"{name}.dimacs")
    assert len(catalog.slots) == catalog.module_count == variables
    assert len(catalog.rules) == clauses
    assert all(str(slot.cardinality) == "optional" for slot in catalog.slots.values())


def test_real_dimacs_names(shared_data: Path) -> None:
    catalog = modcfg.io.read_dimacs(shared_data / "dimacs" / "e_shop.dimacs")
    assert list(catalog.slots)[:4] == ["eShop", "Storefront", "Homepage", "Homepage_1"]


# -- XCSP -------------------------------------------------------------------------------------

XCSP = """
    <?xml version="1.0"?>
    <instance>
      <presentation name="tiny" format="XCSP 2.1"/>
      <domains nbDomains="2">
        <domain name="D0" nbValues="3">0..2</domain>
        <domain name="D1" nbValues="2" optional="-1">-1 0</domain>
      </domains>
      <variables nbVariables="3">
        <variable name="a" domain="D0"/>
        <variable name="b" domain="D0"/>
        <variable name="opt" domain="D1"/>
      </variables>
      <relations nbRelations="2">
        <relation name="less" arity="2" nbTuples="4" semantics="supports">
          0 1|0 2|
          1 2|7 7
        </relation>
        <relation name="never" arity="2" nbTuples="1" semantics="conflicts">2 -1</relation>
      </relations>
      <constraints nbConstraints="2">
        <constraint name="c1" arity="2" scope="a b" reference="less"/>
        <constraint name="c2" arity="2" scope="b opt" reference="never"/>
      </constraints>
    </instance>
"""


def test_xcsp_count_and_structure(tmp_path: Path) -> None:
    catalog = modcfg.io.read_xcsp(write(tmp_path, "tiny.xml", XCSP))
    assert catalog.name == "tiny"
    assert {slot.id: list(slot.modules) for slot in catalog.slots.values()} == {
        "a": ["v0", "v1", "v2"], "b": ["v0", "v1", "v2"], "opt": ["none", "v0"],
    }  # fmt: skip
    assert catalog.slots["opt"].modules["none"].label == "-1"
    first, second = catalog.rules
    assert isinstance(first, TableRule)
    assert isinstance(second, TableRule)
    assert (first.allow, second.allow) == (True, False)
    assert first.rows == (("v0", "v1"), ("v0", "v2"), ("v1", "v2"))  # "7 7" is left out
    assert second.rows == (("v2", "none"),)
    assert brute_count(catalog) == 4


@pytest.mark.parametrize(
    ("old", "new", "line", "words"),
    [
        ("</instance>", "", 25, "malformed XML"),
        ('domain="D1"', 'domain="D9"', 11, "domain 'D9', which is not declared"),
        ('reference="never"', 'reference="P0"', 22, "not an extensional relation"),
        ('scope="a b"', 'scope="a b opt"', 21, "arity 2"),
        ('scope="a b"', 'scope="a z"', 21, "variable 'z'"),
        ("1 2|7 7", "1 2|7 x", 16, "'x' is not an integer"),
        ("1 2|7 7", "1 2|7", 16, "has 1 values, not 2"),
        ('conflicts">2 -1<', 'conflicts">2 q<', 18, "'q' is not an integer"),
        ('conflicts">2 -1<', 'conflicts">2 -1|2<', 18, "tuple 2 has 1 values, not 2"),
        ("0 1|0 2|", "0..2|0 2|", 15, "'less': tuple 0 1 2 has 3 values"),
        ('nbTuples="4"', 'nbTuples="5"', 14, 'nbTuples="5" but holds 4'),
        ('semantics="conflicts"', 'semantics="soft"', 18, "semantics 'soft'"),
        ('optional="-1"', 'optional="3"', 6, "not one of its values"),
        ("<instance>", "<!DOCTYPE x [<!ENTITY e 'e'>]><instance>", 2, "document type"),
        ("<domains", "<domainz", 7, "malformed XML"),
    ],
)
def test_xcsp_errors_name_the_line(
    tmp_path: Path, old: str, new: str, line: int, words: str
) -> None:
    text = textwrap.dedent(XCSP).lstrip("\n")
    assert old in text
    with pytest.raises(modcfg.CatalogError, match=words) as caught:
        modcfg.io.read_xcsp(write(tmp_path, "bad.xml", text.replace(old, new)))
    assert caught.value.line == line


def test_xcsp_relations_with_ranges_read_as_the_others(tmp_path: Path) -> None:
    """Relations are read in bulk, all at once, except those with ``a..b`` ranges, which are
    read value by value: the tuples stay with their relations, in order."""
    text = textwrap.dedent(XCSP).replace("0 1|0 2|", "0..1|0 2|")
    ranged = modcfg.io.read_xcsp(write(tmp_path, "ranged.xml", text))
    plain = modcfg.io.read_xcsp(write(tmp_path, "plain.xml", XCSP))
    assert [rule.rows for rule in ranged.rules] == [rule.rows for rule in plain.rules]  # type: ignore[union-attr]


def test_xcsp_supports_without_tuples_admit_nothing(tmp_path: Path) -> None:
    text = textwrap.dedent(XCSP).replace('nbTuples="4"', 'nbTuples="0"')
    text = text.replace("0 1|0 2|\n      1 2|7 7", "")
    catalog = modcfg.io.read_xcsp(write(tmp_path, "empty.xml", text))
    assert brute_count(catalog) == 0


def test_real_xcsp_model(shared_data: Path) -> None:
    catalog = modcfg.load_catalog(shared_data / "renault" / "medium.xml")
    assert len(catalog.slots) == 148
    assert len(catalog.rules) == 174
    assert all(isinstance(rule, TableRule) and rule.allow for rule in catalog.rules)
    assert max(len(slot.modules) for slot in catalog.slots.values()) == 20
    assert catalog.slots["v7"].modules["none"].label == "-1"
    assert catalog.slots["v5_0_OptionPack"].label == "v5_0_OptionPack"


def test_real_sales(shared_data: Path) -> None:
    catalog = modcfg.io.read_xcsp(shared_data / "renault" / "medium.xml")
    sales = modcfg.io.read_sales(shared_data / "renault" / "medium_sales.txt", catalog)
    assert len(sales) == 8_252
    assert all(isinstance(sale, modcfg.Configuration) and len(sale) == 44 for sale in sales)
    first = sales[0]
    assert (first["v1"], first["v39"], first["v118"]) == ("v2", "none", "v14")


def test_sales_errors_name_the_line(tmp_path: Path) -> None:
    catalog = modcfg.io.read_xcsp(write(tmp_path, "tiny.xml", XCSP))
    sales = modcfg.io.read_sales(write(tmp_path, "ok.txt", "opt a\n-1 2\n\n0 0\n"), catalog)
    assert [dict(sale) for sale in sales] == [
        {"opt": "none", "a": "v2"},
        {"opt": "v0", "a": "v0"},
    ]
    for text, line, words in [
        ("a q\n0 0\n", 1, "'q', which is no slot"),
        ("a a\n0 0\n", 1, "twice"),
        ("a b\n0 1\n0\n", 3, "1 values but the header names 2"),
        ("a b\n0 5\n", 2, "'5' is no value of slot 'b'"),
        ("\n\n", None, "empty"),
    ]:
        with pytest.raises(modcfg.CatalogError, match=words) as caught:
            modcfg.io.read_sales(write(tmp_path, "bad.txt", text), catalog)
        assert caught.value.line == line


# -- writers ----------------------------------------------------------------------------------

KIT = {
    "catalog": "kit",
    "slots": {
        "frame": {
            "modules": {
                "oak": {"attributes": {"weight": 5, "style": "classic"}},
                "pvc": {"attributes": {"weight": 3, "style": "modern"}},
                "alu": {"label": "Aluminium", "attributes": {"weight": 2, "style": "modern"}},
            }
        },
        "glass": {
            "cardinality": "optional",
            "modules": {
                "double": {"attributes": {"weight": 4}},
                "triple": {"attributes": {"weight": 6}},
            },
        },
        "extras": {
            "cardinality": {"min": 0, "max": 2},
            "modules": {"vent": {}, "lock": {}, "sensor": {}},
        },
        "finish": {"cardinality": "optional", "modules": {"paint": {"price": "9.50"}}},
    },
    "rules": [
        {"id": "oak-glazed",
         "requires": {"if": "frame.oak", "then": ["glass.double", "glass.triple"]}},
        {"id": "pvc-no-triple", "excludes": ["frame.pvc", "glass.triple"]},
        {"id": "finishes", "table": {"slots": ["frame", "finish"],
                                     "allow": [["oak", "paint"], ["*", None], ["alu", "*"]]}},
        {"id": "alu-glazed", "table": {"slots": ["frame", "glass"], "deny": [["alu", None]]}},
        {"id": "light", "constraint": "frame.weight + glass.weight <= 9"},
        {"id": "modern-lock", "constraint": "extras.lock", "when": 'frame.style == "modern"'},
        {"id": "sensor", "formula": "extras.sensor -> (extras.lock and not finish.paint)"},
        {"id": "two-extras", "formula": "count(extras) + finish.paint <= 2"},
    ],
}  # fmt: skip


def _kit(**changes: object) -> modcfg.Catalog:
    return modcfg.model.catalog_from_data({**KIT, **changes})


def test_write_dimacs_round_trip(tmp_path: Path) -> None:
    catalog = _kit()
    expected = brute_count(catalog)
    assert expected > 0
    path = tmp_path / "kit.dimacs"
    modcfg.io.write_dimacs(catalog, path)
    text = path.read_text()
    assert text.startswith("c 1 frame.oak\nc 2 frame.pvc\n")
    assert "c 9 finish\n" in text  # a slot with one module is one variable named after it
    assert model_count(text) == expected
    back = modcfg.io.read_dimacs(path)
    assert len(back.slots) == catalog.module_count
    assert brute_count(back) == expected


def test_write_uvl_round_trip(tmp_path: Path) -> None:
    catalog = _kit()
    path = tmp_path / "kit.uvl"
    modcfg.io.write_uvl(catalog, path)
    text = path.read_text()
    assert "\"frame_alu\" {weight 2, style 'modern'}" in text
    assert '"finish" {price 9.50}' in text
    assert '"frame_oak" => ("glass_double" | "glass_triple")' in text
    assert '!("frame_pvc" & "glass_triple")' in text
    back = modcfg.io.read_uvl(path)
    assert brute_count(back) == brute_count(catalog)


def test_uvl_survives_a_uvl_round_trip(tmp_path: Path) -> None:
    first = modcfg.io.read_uvl(write(tmp_path, "shop.uvl", SHOP))
    modcfg.io.write_uvl(first, tmp_path / "again.uvl")
    second = modcfg.io.read_uvl(tmp_path / "again.uvl")
    assert [slot.label for slot in second.slots.values()] == [
        slot.label for slot in first.slots.values()
    ]
    assert list(second.slots) == list(first.slots)
    assert brute_count(second) == brute_count(first) == 53


def test_writers_name_what_they_cannot_export(tmp_path: Path) -> None:
    quantities = _kit(
        slots={**KIT["slots"], "extras": {"cardinality": {"min": 0, "max": 3},  # type: ignore[dict-item]
                                          "modules": {"vent": {"max_quantity": 2}, "lock": {}}}},
        rules=[],
    )  # fmt: skip
    for writer in (modcfg.io.write_dimacs, modcfg.io.write_uvl):
        with pytest.raises(modcfg.CatalogError, match=r"slot 'extras'.*more than once"):
            writer(quantities, tmp_path / "out")
    many = {
        f"s{i}": {"modules": {f"m{j}": {"attributes": {"w": j}} for j in range(10)}}
        for i in range(6)
    }
    heavy = modcfg.model.catalog_from_data(
        {
            "catalog": "heavy",
            "slots": many,
            "rules": [{"id": "weight", "constraint": "total(w) <= 20"}],
        }
    )
    for writer in (modcfg.io.write_dimacs, modcfg.io.write_uvl):
        with pytest.raises(modcfg.CatalogError, match=r"rule 'weight'.*1000000 rows") as caught:
            writer(heavy, tmp_path / "out")
        assert caught.value.where == ("rules", 0)


def _export_or_explain(
    writer: Callable[[modcfg.Catalog, Path], None], catalog: modcfg.Catalog, name: str
) -> str | None:
    """The export, or None when the writer refuses with a CatalogError that says why."""
    try:
        return exported(writer, catalog)
    except modcfg.CatalogError as exc:
        message = str(exc)
    assert f"cannot be written as {name}" in message
    return None


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(catalogs(max_configurations=200))
def test_dimacs_export_keeps_the_count_of_random_catalogs(catalog: modcfg.Catalog) -> None:
    text = _export_or_explain(modcfg.io.write_dimacs, catalog, "DIMACS")
    if text is not None:
        assert model_count(text) == oracle.count(catalog)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(catalogs(max_configurations=100))
def test_uvl_export_keeps_the_count_of_random_catalogs(catalog: modcfg.Catalog) -> None:
    text = _export_or_explain(modcfg.io.write_uvl, catalog, "UVL")
    if text is None:
        return
    with tempfile.TemporaryDirectory() as folder:
        back = modcfg.io.read_uvl(write(Path(folder), "model.uvl", text))
    assert model_count(exported(modcfg.io.write_dimacs, back)) == oracle.count(catalog)


# -- the package ------------------------------------------------------------------------------


def test_readers_are_registered_by_suffix(tmp_path: Path) -> None:
    assert {"uvl", "xml", "xcsp", "cnf", "dimacs"} <= set(FORMAT_READERS)
    assert len(modcfg.load_catalog(write(tmp_path, "m.uvl", SANDWICH)).slots) == 6
    assert len(modcfg.load_catalog(write(tmp_path, "m.cnf", DIMACS)).slots) == 4
    assert len(modcfg.load_catalog(write(tmp_path, "m.xcsp", XCSP)).slots) == 3
    named = write(tmp_path, "formula.txt", DIMACS)
    assert len(modcfg.load_catalog(named, format="dimacs").slots) == 4


def test_public_names() -> None:
    assert modcfg.io.__all__ == sorted(modcfg.io.__all__)
    assert set(modcfg.io.__all__) == {
        "read_dimacs", "read_sales", "read_uvl", "read_xcsp", "write_dimacs", "write_uvl",
    }  # fmt: skip
    for name in modcfg.io.__all__:
        assert getattr(modcfg.io, name).__doc__, name


def test_a_clause_rule_is_the_rule_its_text_validates_to() -> None:
    """ConstraintRule.clause sets what model validation would (without parsing or walking):
    equal, same fields set, same dump, same pickle round trip, and the same check."""
    import pickle

    made = ConstraintRule.clause("c1", [("a", "on", True), ("b", "on", False)], message="m")
    read = ConstraintRule.model_validate(
        {"id": "c1", "message": "m", "constraint": made.constraint}
    )
    assert made == read
    assert hash(made) == hash(read)
    assert made.model_fields_set == read.model_fields_set
    assert made.model_dump() == read.model_dump()
    assert made.expression == read.expression
    assert pickle.loads(pickle.dumps(made)) == made
    slots = {"a": {"modules": {"on": {}}}, "b": {"modules": {"on": {}}}}
    modcfg.Catalog(catalog="t", slots=slots, rules=[made])
    with pytest.raises(modcfg.CatalogError, match="'b'") as refused:
        modcfg.Catalog(catalog="t", slots={"a": {"modules": {"on": {}}}}, rules=[made])
    assert refused.value.where == ("rules", 0)


def test_a_feature_slot_is_the_slot_its_data_validates_to() -> None:
    """Slot.feature sets what model validation would (without validating): equal, same
    fields set, same dump, same pickle round trip; and it still refuses a bad id."""
    import pickle

    from modcfg.model import Slot

    made = Slot.feature("x1", "Logging")
    read = Slot.model_validate(
        {
            "id": "x1",
            "label": "Logging",
            "cardinality": "optional",
            "modules": {"selected": {"label": "Logging"}},
        }
    )
    assert made == read
    assert made.model_fields_set == read.model_fields_set
    assert made.modules["selected"].model_fields_set == read.modules["selected"].model_fields_set
    assert made.model_dump() == read.model_dump()
    assert made.model_dump(mode="json") == read.model_dump(mode="json")
    assert pickle.loads(pickle.dumps(made)) == made
    assert modcfg.Catalog(catalog="t", slots={"x1": made}).slots["x1"] == read
    with pytest.raises(ValueError, match="not a valid id"):
        Slot.feature("not an id", "x")
