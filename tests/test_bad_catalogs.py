"""Bad catalogs fail with a CatalogError that names the file, the line, the id and a fix.

Each case of ``BAD_FILES`` is a small catalog that differs from a valid one in a single
mistake, what the error must say about it, and the line it must point at.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import modcfg

VALID = """\
catalog: windows
version: "2026.1"
currency: EUR
slots:
  frame:
    label: Frame
    modules:
      oak: {price: "120.00", attributes: {material: wood, weight_kg: 12}}
      pvc: {price: "60.00", attributes: {material: pvc, weight_kg: 8}}
  glass:
    modules:
      laminated: {price: "110.00", attributes: {thickness_mm: 8, weight_kg: 20}}
      float: {price: "40.00", attributes: {thickness_mm: 4, weight_kg: 10}}
  hardware:
    cardinality: {min: 0, max: 3}
    modules:
      lock: {price: "45.00", attributes: {finish: brass}}
      vent: {price: "25.00", max_quantity: 2, attributes: {finish: white}}
"""


def _edited(old: str, new: str, text: str = VALID) -> str:
    """``text`` with its one occurrence of ``old`` replaced by ``new``."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def _with_rules(block: str) -> str:
    return VALID + "rules:\n" + textwrap.indent(textwrap.dedent(block), "  ")


def _with_prices(block: str) -> str:
    return VALID + "prices:\n" + textwrap.indent(textwrap.dedent(block), "  ")


def _line(text: str, needle: str) -> int:
    """The 1-based number of the one line of ``text`` that contains ``needle``."""
    numbers = [number for number, line in enumerate(text.splitlines(), 1) if needle in line]
    assert len(numbers) == 1, f"{needle!r} is on lines {numbers}"
    return numbers[0]


def _load_error(source: Path | str) -> modcfg.CatalogError:
    with pytest.raises(modcfg.CatalogError) as info:
        modcfg.load_catalog(source)
    return info.value


@dataclass(frozen=True)
class More:
    """What a few cases check besides the message and the line."""

    where: tuple[str | int, ...] | None  # the error's path inside the document
    starts: str  # how the message begins
    file: str  # the file's name (its suffix picks YAML or JSON)


def bad_file(
    id: str,
    text: str,
    says: Sequence[str],
    *,
    at: str | int | None,
    where: tuple[str | int, ...] | None = None,
    starts: str = "",
    file: str = "catalog.yaml",
) -> Any:
    """One case: loading ``text`` fails with a message containing each of ``says``, pointing at
    the one line that contains ``at`` (at line ``at`` when it is a number; at no line when it is
    None, and then the message ends with the file's path)."""
    assert says, "a case checks at least one part of the message"
    return pytest.param(text, says, at, More(where, starts, file), id=id)


# The ids are the names the cases had as separate tests.
BAD_FILES = [
    # References
    bad_file(
        "unknown_module_suggests_the_closest_one",
        _with_rules("""\
            - id: oak-needs-laminated
              requires: {if: frame.oak, then: [glass.lamnated]}
            """),
        ["rule 'oak-needs-laminated'", "'glass.lamnated'", "did you mean 'glass.laminated'?"],
        at="- id: oak-needs-laminated",
        where=("rules", 0),
    ),
    bad_file(
        "unknown_module_without_a_close_match_lists_the_modules",
        _with_rules("""\
            - id: oak-needs-triple
              requires: {if: frame.oak, then: [glass.triple]}
            """),
        ["rule 'oak-needs-triple'", "slot 'glass' does not have", "laminated, float"],
        at="- id: oak-needs-triple",
    ),
    bad_file(
        "unknown_slot_in_a_reference",
        _with_rules("""\
            - id: pvc-no-float
              excludes: [frame.pvc, glas.float]
            """),
        ["rule 'pvc-no-float'", "slot 'glas', which does not exist", "'glass.float'"],
        at="- id: pvc-no-float",
    ),
    bad_file(
        "unknown_slot_in_a_table",
        _with_rules("""\
            - id: frame-glass
              table:
                slots: [frame, glas]
                deny:
                  - [pvc, laminated]
            """),
        ["rule 'frame-glass'", "slot 'glas'", "did you mean 'glass'?"],
        at="- id: frame-glass",
    ),
    bad_file(
        "malformed_reference",
        _with_rules("""\
            - id: oak-needs-laminated
              requires: {if: frame, then: [glass.laminated]}
            """),
        ["rule 'oak-needs-laminated'", "'frame' is not a module reference", "slot.module"],
        at="requires: {if: frame,",
    ),
    bad_file(
        "price_rule_bundle_with_an_unknown_module",
        _with_prices("""\
            - id: oak-bundle
              bundle: [frame.oak, glass.lamnated]
              amount: "-10.00"
            """),
        ["price rule 'oak-bundle'", "did you mean 'glass.laminated'?"],
        at="- id: oak-bundle",
    ),
    bad_file(
        "purpose_requiring_an_unknown_module",
        VALID + "purposes:\n  safety:\n    require: [glass.laminatd]\n",
        ["purpose 'safety'", "did you mean 'glass.laminated'?"],
        at="  safety:",
    ),
    # Duplicates and missing pieces
    bad_file(
        "duplicate_yaml_key",
        _edited(
            '      pvc: {price: "60.00", attributes: {material: pvc, weight_kg: 8}}\n',
            '      pvc: {price: "60.00", attributes: {material: pvc, weight_kg: 8}}\n'
            '      oak: {price: "125.00"}\n',
        ),
        ["key 'oak' appears twice", "first on line 8", "must be unique"],
        at='oak: {price: "125.00"}',
        where=("slots", "frame", "modules", "oak"),
    ),
    bad_file(
        "duplicate_slot",
        VALID + '  frame: {modules: {steel: {price: "90.00"}}}\n',
        ["key 'frame' appears twice", "(first on line 5)"],
        at="frame: {modules: {steel:",
    ),
    bad_file(
        "duplicate_rule_id",
        _with_rules("""\
            - id: pvc-rules
              excludes: [frame.pvc, glass.laminated]
            - id: pvc-rules
              excludes: [frame.pvc, hardware.vent]
            """),
        ["rule id 'pvc-rules' is used twice"],
        at=len(VALID.splitlines()) + 4,  # the second "- id: pvc-rules"
    ),
    bad_file(
        "empty_slot",
        VALID + "  grade:\n    modules: {}\n",
        ["slot 'grade'", "has no modules", "add at least one or remove the slot"],
        at="modules: {}",
    ),
    bad_file(
        "no_slots",
        "catalog: windows\nslots: {}\n",
        ["the catalog has no slots"],
        at="slots: {}",
    ),
    bad_file(
        "missing_catalog_name",
        _edited("catalog: windows\n", ""),
        ["'catalog' is required"],
        at=1,  # the top-level mapping
    ),
    # Money
    bad_file(
        "negative_price",
        _edited('pvc: {price: "60.00"', 'pvc: {price: "-60.00"'),
        ["slot 'frame', module 'pvc'", "price -60.00 is negative", "negative amount"],
        at="pvc: {price:",
    ),
    bad_file(
        "float_price_in_yaml",
        _edited('pvc: {price: "60.00"', "pvc: {price: 60.5"),
        ["slot 'frame', module 'pvc', price", "60.5 is a float", 'quoted string such as "60.5"'],
        at="pvc: {price:",
    ),
    bad_file(
        "float_price_in_json",
        '{"catalog": "windows", "slots": {"frame": {"modules": {"oak": {"price": 120.5}}}}}',
        ["slot 'frame', module 'oak', price: 120.5 is a float"],
        at=None,
        where=("slots", "frame", "modules", "oak", "price"),
        file="catalog.json",
    ),
    bad_file(
        "invalid_json",
        textwrap.dedent("""\
            {
              "catalog": "windows",
              "slots": {
                "frame": {
                  "modules": {
                    "oak": {
                      "price": "120",
                    }
                  }
                }
              }
            }"""),
        ["invalid JSON"],
        at=8,  # the brace after the trailing comma
        file="catalog.json",
    ),
    bad_file(
        "price_with_more_decimals_than_the_currency",
        _edited('pvc: {price: "60.00"', 'pvc: {price: "60.005"'),
        ["slot 'frame', module 'pvc'", "60.005 has more decimals", "round it to 2 decimals"],
        at="pvc: {price:",
    ),
    bad_file(
        "whole_yen_currency_rejects_cents",
        _edited("currency: EUR", "currency: JPY"),
        ["module 'oak'", "JPY's minor unit (0)", "round it to 0 decimals"],
        at="oak: {price:",
    ),
    bad_file(
        "price_rule_amount_with_too_many_decimals",
        _with_prices("""\
            - id: oak-surcharge
              when: frame.oak
              amount: "12.345"
            """),
        ["price rule 'oak-surcharge'", "amount 12.345 has more decimals", "2 decimals"],
        at="- id: oak-surcharge",
    ),
    bad_file(
        "price_rule_with_two_forms",
        _with_prices("""\
            - id: oak-deal
              when: frame.oak
              amount: "-10.00"
              tiers: [{min_quantity: 5, percent: "-5"}]
            """),
        ["price rule 'oak-deal'", "exactly one form", "'tiers'"],
        at="- id: oak-deal",
    ),
    bad_file(
        "price_rule_with_when_and_bundle",
        _with_prices("""\
            - id: oak-deal
              when: frame.oak
              bundle: [frame.oak, glass.laminated]
              amount: "-10.00"
            """),
        ["price rule 'oak-deal'", "either 'when' or 'bundle', not both"],
        at="- id: oak-deal",
    ),
    bad_file(
        "payment_term_with_a_negative_apr",
        VALID + 'payment_terms:\n  instalments-12:\n    instalments: 12\n    apr: "-4.9"\n',
        ["payment term 'instalments-12', apr", "greater than or equal to 0"],
        at='apr: "-4.9"',
    ),
    bad_file(
        "valid_from_after_valid_until",
        _edited(
            "currency: EUR\n", "currency: EUR\nvalid_from: 2027-01-01\nvalid_until: 2026-12-31\n"
        ),
        ["valid_from 2027-01-01 is after valid_until 2026-12-31", "swap the dates"],
        at="valid_from:",
    ),
    # Slots and modules
    bad_file(
        "min_greater_than_max",
        _edited("cardinality: {min: 0, max: 3}", "cardinality: {min: 3, max: 2}"),
        ["slot 'hardware', cardinality", "min 3 is greater than max 2", "swap them"],
        at="cardinality:",
    ),
    bad_file(
        "unknown_cardinality_name",
        _edited("cardinality: {min: 0, max: 3}", "cardinality: exactly-one"),
        ["slot 'hardware'", "cardinality 'exactly-one' is unknown", "exactly_one, optional"],
        at="cardinality:",
    ),
    bad_file(
        "max_quantity_above_the_slot_max",
        _edited("max_quantity: 2", "max_quantity: 5"),
        ["slot 'hardware', module 'vent'", "max_quantity 5 exceeds the slot's max 3"],
        at="max_quantity:",
    ),
    bad_file(
        "invalid_module_id",
        _edited("      oak: {", "      1oak: {"),
        ["module '1oak'", "is not a valid id", "starting with a letter"],
        at="1oak:",
    ),
    bad_file(
        "unknown_module_key",
        _edited('pvc: {price: "60.00"', 'pvc: {prize: "60.00"'),
        ["slot 'frame', module 'pvc'", "unknown key 'prize'", "catalog-format.md"],
        at="pvc: {prize:",
    ),
    # Rules
    bad_file(
        "table_row_with_the_wrong_width",
        _with_rules("""\
            - id: frame-glass
              table:
                slots: [frame, glass]
                allow:
                  - [oak, laminated]
                  - [pvc]
            """),
        ["rule 'frame-glass'", "row 2 ['pvc'] has 1 values", "give one value per slot"],
        at="table:",
    ),
    bad_file(
        "table_naming_an_unknown_module",
        _with_rules("""\
            - id: frame-glass
              table:
                slots: [frame, glass]
                deny:
                  - [pvc, laminated]
                  - [oak, flaot]
            """),
        ["rule 'frame-glass', row 2", "'flaot' is not a module of slot 'glass'", "'float'"],
        at="[oak, flaot]",
    ),
    bad_file(
        "table_over_a_multi_select_slot",
        _with_rules("""\
            - id: frame-hardware
              table:
                slots: [frame, hardware]
                deny:
                  - [pvc, lock]
            """),
        [
            "rule 'frame-hardware'",
            "slot 'hardware', which takes several modules",
            "requires/excludes",
        ],
        at="- id: frame-hardware",
    ),
    bad_file(
        "expression_that_does_not_parse",
        _with_rules("""\
            - id: thick-glass
              constraint: "glass.thickness_mm => 6"
            """),
        ["rule 'thick-glass'", "unexpected character at column 20", "'=> 6'"],
        at="constraint:",
    ),
    bad_file(
        "expression_naming_an_unknown_attribute",
        _with_rules("""\
            - id: thick-glass
              constraint: "glass.thicknes_mm >= 6"
              when: frame.oak
            """),
        [
            "rule 'thick-glass'",
            "'glass.thicknes_mm' is neither a module nor an attribute",
            "did you mean 'thickness_mm'?",
        ],
        at="- id: thick-glass",
    ),
    bad_file(
        "total_of_an_unknown_attribute",
        _with_rules("""\
            - id: sash-weight
              constraint: "total(weight) <= 80"
            """),
        [
            "rule 'sash-weight'",
            "total(weight) needs a numeric attribute",
            "did you mean 'weight_kg'?",
        ],
        at="- id: sash-weight",
    ),
    bad_file(
        "count_of_an_unknown_slot",
        _with_rules("""\
            - id: few-fittings
              constraint: "count(hardwar) <= 2"
            """),
        [
            "rule 'few-fittings'",
            "count(hardwar) names an unknown slot",
            "did you mean 'hardware'?",
        ],
        at="- id: few-fittings",
    ),
    bad_file(
        "text_attribute_of_a_multi_select_slot",
        _with_rules("""\
            - id: brass-fittings
              constraint: 'hardware.finish == "brass"'
            """),
        ["rule 'brass-fittings'", "'hardware.finish' is text", "only numeric attributes"],
        at="- id: brass-fittings",
    ),
    bad_file(
        "multiplication_of_two_references",
        _with_rules("""\
            - id: heavy-glass
              constraint: "glass.thickness_mm * frame.weight_kg <= 100"
            """),
        ["rule 'heavy-glass'", "multiplies two references", "must be a constant"],
        at="- id: heavy-glass",
    ),
    bad_file(
        "module_that_requires_itself",
        _with_rules("""\
            - id: oak-loop
              requires: {if: frame.oak, then: [frame.oak, glass.laminated]}
            """),
        [
            "rule 'oak-loop' is circular",
            "'frame.oak' requires itself",
            "remove it from 'then'",
        ],
        at="- id: oak-loop",
    ),
    bad_file(
        "requires_another_module_of_the_same_single_slot",
        _with_rules("""\
            - id: oak-needs-pvc
              requires: {if: frame.oak, then: [frame.pvc]}
            """),
        [
            "rule 'oak-needs-pvc' contradicts itself",
            "same single slot 'frame'",
            "never be chosen",
        ],
        at="- id: oak-needs-pvc",
    ),
    bad_file(
        "requires_two_conditions_in_one_single_slot",
        _with_rules("""\
            - id: wood-needs-laminated
              requires: {if: [frame.oak, frame.pvc], then: [glass.laminated]}
            """),
        ["rule 'wood-needs-laminated' can never apply", "split it into two rules"],
        at="- id: wood-needs-laminated",
    ),
    bad_file(
        "excludes_within_one_single_slot",
        _with_rules("""\
            - id: not-both-frames
              excludes: [frame.oak, frame.pvc]
            """),
        [
            "rule 'not-both-frames' excludes modules of the single slot 'frame'",
            "remove the rule",
        ],
        at="- id: not-both-frames",
    ),
    bad_file(
        "unknown_rule_kind",
        _with_rules("""\
            - id: pvc-no-laminated
              exclude: [frame.pvc, glass.laminated]
            """),
        [
            "rule 'pvc-no-laminated'",
            "exactly one of 'requires', 'excludes', 'table', 'constraint'",
        ],
        at="- id: pvc-no-laminated",
    ),
    # The file itself
    bad_file(
        "unknown_top_level_key",
        VALID + "rule:\n  - id: r1\n    excludes: [frame.pvc, glass.laminated]\n",
        ["unknown key 'rule'", "check its spelling"],
        at="rule:",
    ),
    bad_file(
        "invalid_yaml_syntax",
        _with_rules("- id: r1\n  excludes: [frame.pvc, glass.laminated\n"),
        ["expected ',' or ']'"],
        at=len(VALID.splitlines()) + 4,  # the end of the file, with the list still open
        starts="invalid YAML: ",
    ),
    bad_file(
        "tab_indentation",
        _edited("  glass:\n", "\tglass:\n"),
        ["invalid YAML", "cannot start any token"],
        at="\tglass:",
    ),
    bad_file(
        "catalog_that_is_not_a_mapping",
        "- frame\n- glass\n",
        ["holds a mapping with at least 'catalog' and 'slots'"],
        at="- frame",
    ),
    # Mistakes the loader once reported poorly
    bad_file(
        "misspelled_slots_key",
        _edited("slots:", "slot:"),
        ["unknown key 'slot'", "did you mean 'slots'?"],
        at="slot:",
    ),
    bad_file(
        "table_row_error_points_at_the_row",
        _with_rules("""\
            - id: frame-glass
              table:
                slots: [frame, glass]
                deny:
                  - [pvc, laminated]
                  - [oak, flaot]
            """),
        ["'flaot' is not a module of slot 'glass'"],
        at="[oak, flaot]",
    ),
    bad_file(
        "expression_cut_short_says_so",
        _with_rules("""\
            - id: thick-glass
              constraint: "glass.thickness_mm >="
            """),
        ["rule 'thick-glass'", "ends too early"],
        at="constraint:",
    ),
    bad_file(
        "yaml_boolean_word_as_a_module_id",
        VALID + '  vent-kit:\n    cardinality: optional\n    modules:\n      no: {price: "0"}\n',
        ["'no'", "quote"],
        at="no: {price",
    ),
    bad_file(
        "duplicate_json_key",
        '{"catalog": "windows", "slots": {"frame": {"modules": {"oak": {"price": "120"}}},'
        ' "frame": {"modules": {"pvc": {"price": "60"}}}}}',
        ["'frame' appears twice"],
        at=None,
        file="catalog.json",
    ),
]


@pytest.mark.parametrize(("text", "says", "at", "more"), BAD_FILES)
def test_bad_catalog_file(
    tmp_path: Path, text: str, says: Sequence[str], at: str | int | None, more: More
) -> None:
    """The file's mistake fails its load with a CatalogError at the expected line."""
    path = tmp_path / more.file
    path.write_text(text, encoding="utf-8")
    error = _load_error(path)
    message = str(error)
    assert error.path == str(path), message
    if at is None:
        assert error.line is None, message
        assert message.endswith(f"({path})"), message
    else:
        line = at if isinstance(at, int) else _line(text, at)
        assert error.line == line, message
        assert f"({path}, line {line})" in message, message
    assert message.startswith(more.starts), message
    for part in says:
        assert part in message, message
    if more.where is not None:
        assert error.where == more.where, message


def test_the_valid_catalog_loads(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text(_with_rules("- id: r1\n  excludes: [frame.pvc, glass.laminated]\n"))
    catalog = modcfg.load_catalog(path)
    assert (len(catalog.slots), catalog.module_count, len(catalog.rules)) == (3, 6, 1)


def test_requires_within_a_multi_select_slot_is_valid(tmp_path: Path) -> None:
    """A valid rule the loader once rejected."""
    path = tmp_path / "catalog.yaml"
    path.write_text(
        _with_rules("- id: vent-lock\n  requires: {if: hardware.vent, then: [hardware.lock]}\n")
    )
    assert len(modcfg.load_catalog(path).rules) == 1


# Catalogs that cannot be found


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    error = _load_error(path)
    assert error.path == str(path)
    assert str(error) == f"file not found ({path})"


def test_bundled_name_typo_suggests_the_closest(tmp_path: Path) -> None:
    error = _load_error("windws")
    assert "no catalog file or bundled catalog named 'windws'" in str(error)
    assert "did you mean 'windows'?" in str(error)
    assert "credit_cards" in str(error)


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("catalog", "cannot tell the format: the file has no extension"),
        ("catalog.txt", "cannot read format 'txt'"),
    ],
)
def test_a_file_of_no_known_format_says_how_to_name_it(
    tmp_path: Path, name: str, problem: str
) -> None:
    path = tmp_path / name
    path.write_text("slots: {}\n")
    error = _load_error(path)
    assert str(error).startswith(problem + "; ")
    assert str(error).count(str(path)) == 1  # (once, where every error names its file)
    assert "known formats: cnf, dimacs, json, uvl, xcsp, xml, yaml" in str(error)
    assert "name the file with one of these extensions" in str(error)


def test_a_folder_says_to_name_a_file_in_it(tmp_path: Path) -> None:
    error = _load_error(tmp_path)
    assert str(error) == (
        f"is a folder, not a catalog file; give the path of a catalog file in it ({tmp_path})"
    )
