"""Bad catalogs fail with a CatalogError that names the file, the line, the id and a fix.

Each test writes a small catalog that differs from a valid one in a single mistake, loads it,
and checks where the error points and what it says.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence
from pathlib import Path

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


def _fails(
    tmp_path: Path, text: str, *, at: str, says: Sequence[str], name: str = "catalog.yaml"
) -> modcfg.CatalogError:
    """Load ``text`` and check the error is on the line containing ``at`` and says ``says``."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    error = _load_error(path)
    line = _line(text, at)
    message = str(error)
    assert error.path == str(path), message
    assert error.line == line, message
    assert f"({path}, line {line})" in message, message
    for part in says:
        assert part in message, message
    return error


def test_the_valid_catalog_loads(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text(_with_rules("- id: r1\n  excludes: [frame.pvc, glass.laminated]\n"))
    catalog = modcfg.load_catalog(path)
    assert (len(catalog.slots), catalog.module_count, len(catalog.rules)) == (3, 6, 1)


# References


def test_unknown_module_suggests_the_closest_one(tmp_path: Path) -> None:
    text = _with_rules("""\
        - id: oak-needs-laminated
          requires: {if: frame.oak, then: [glass.lamnated]}
        """)
    error = _fails(
        tmp_path,
        text,
        at="- id: oak-needs-laminated",
        says=["rule 'oak-needs-laminated'", "'glass.lamnated'", "did you mean 'glass.laminated'?"],
    )
    assert error.where == ("rules", 0)


def test_unknown_module_without_a_close_match_lists_the_modules(tmp_path: Path) -> None:
    text = _with_rules("""\
        - id: oak-needs-triple
          requires: {if: frame.oak, then: [glass.triple]}
        """)
    _fails(
        tmp_path,
        text,
        at="- id: oak-needs-triple",
        says=["rule 'oak-needs-triple'", "slot 'glass' does not have", "laminated, float"],
    )


def test_unknown_slot_in_a_reference(tmp_path: Path) -> None:
    text = _with_rules("""\
        - id: pvc-no-float
          excludes: [frame.pvc, glas.float]
        """)
    _fails(
        tmp_path,
        text,
        at="- id: pvc-no-float",
        says=["rule 'pvc-no-float'", "slot 'glas', which does not exist", "'glass.float'"],
    )


def test_unknown_slot_in_a_table(tmp_path: Path) -> None:
    text = _with_rules("""\
        - id: frame-glass
          table:
            slots: [frame, glas]
            deny:
              - [pvc, laminated]
        """)
    _fails(
        tmp_path,
        text,
        at="- id: frame-glass",
        says=["rule 'frame-glass'", "slot 'glas'", "did you mean 'glass'?"],
    )


def test_malformed_reference(tmp_path: Path) -> None:
    text = _with_rules("""\
        - id: oak-needs-laminated
          requires: {if: frame, then: [glass.laminated]}
        """)
    _fails(
        tmp_path,
        text,
        at="requires: {if: frame,",
        says=["rule 'oak-needs-laminated'", "'frame' is not a module reference", "slot.module"],
    )


def test_price_rule_bundle_with_an_unknown_module(tmp_path: Path) -> None:
    text = _with_prices("""\
        - id: oak-bundle
          bundle: [frame.oak, glass.lamnated]
          amount: "-10.00"
        """)
    _fails(
        tmp_path,
        text,
        at="- id: oak-bundle",
        says=["price rule 'oak-bundle'", "did you mean 'glass.laminated'?"],
    )


def test_purpose_requiring_an_unknown_module(tmp_path: Path) -> None:
    text = VALID + "purposes:\n  safety:\n    require: [glass.laminatd]\n"
    _fails(
        tmp_path,
        text,
        at="  safety:",
        says=["purpose 'safety'", "did you mean 'glass.laminated'?"],
    )


# Duplicates and missing pieces


def test_duplicate_yaml_key(tmp_path: Path) -> None:
    text = _edited(
        '      pvc: {price: "60.00", attributes: {material: pvc, weight_kg: 8}}\n',
        '      pvc: {price: "60.00", attributes: {material: pvc, weight_kg: 8}}\n'
        '      oak: {price: "125.00"}\n',
    )
    error = _fails(
        tmp_path,
        text,
        at='oak: {price: "125.00"}',
        says=["key 'oak' appears twice", "first on line 8", "must be unique"],
    )
    assert error.where == ("slots", "frame", "modules", "oak")


def test_duplicate_slot(tmp_path: Path) -> None:
    text = VALID + '  frame: {modules: {steel: {price: "90.00"}}}\n'
    _fails(
        tmp_path,
        text,
        at="frame: {modules: {steel:",
        says=["key 'frame' appears twice", "(first on line 5)"],
    )


def test_duplicate_rule_id(tmp_path: Path) -> None:
    text = _with_rules("""\
        - id: pvc-rules
          excludes: [frame.pvc, glass.laminated]
        - id: pvc-rules
          excludes: [frame.pvc, hardware.vent]
        """)
    path = tmp_path / "catalog.yaml"
    path.write_text(text)
    error = _load_error(path)
    assert error.line == len(VALID.splitlines()) + 4
    assert f"line {error.line}" in str(error)
    assert "rule id 'pvc-rules' is used twice" in str(error)


def test_empty_slot(tmp_path: Path) -> None:
    text = VALID + "  grade:\n    modules: {}\n"
    _fails(
        tmp_path,
        text,
        at="modules: {}",
        says=["slot 'grade'", "has no modules", "add at least one or remove the slot"],
    )


def test_no_slots(tmp_path: Path) -> None:
    text = "catalog: windows\nslots: {}\n"
    _fails(tmp_path, text, at="slots: {}", says=["the catalog has no slots"])


def test_missing_catalog_name(tmp_path: Path) -> None:
    text = _edited("catalog: windows\n", "")
    path = tmp_path / "catalog.yaml"
    path.write_text(text)
    error = _load_error(path)
    assert "'catalog' is required" in str(error)
    assert str(path) in str(error)


# Money


def test_negative_price(tmp_path: Path) -> None:
    text = _edited('pvc: {price: "60.00"', 'pvc: {price: "-60.00"')
    _fails(
        tmp_path,
        text,
        at="pvc: {price:",
        says=["slot 'frame', module 'pvc'", "price -60.00 is negative", "negative amount"],
    )


def test_float_price_in_yaml(tmp_path: Path) -> None:
    text = _edited('pvc: {price: "60.00"', "pvc: {price: 60.5")
    _fails(
        tmp_path,
        text,
        at="pvc: {price:",
        says=[
            "slot 'frame', module 'pvc', price",
            "60.5 is a float",
            'quoted string such as "60.5"',
        ],
    )


def test_float_price_in_json(tmp_path: Path) -> None:
    path = tmp_path / "catalog.json"
    path.write_text(
        '{"catalog": "windows", "slots": {"frame": {"modules": {"oak": {"price": 120.5}}}}}'
    )
    error = _load_error(path)
    message = str(error)
    assert error.path == str(path)
    assert error.where == ("slots", "frame", "modules", "oak", "price")
    assert "slot 'frame', module 'oak', price: 120.5 is a float" in message
    assert message.endswith(f"({path})")


def test_invalid_json(tmp_path: Path) -> None:
    data = {"catalog": "windows", "slots": {"frame": {"modules": {"oak": {"price": "120"}}}}}
    text = json.dumps(data, indent=2).replace('"120"', '"120",')
    path = tmp_path / "catalog.json"
    path.write_text(text)
    error = _load_error(path)
    assert error.line == _line(text, '"price": "120",') + 1
    assert "invalid JSON" in str(error)
    assert f"({path}, line {error.line})" in str(error)


def test_price_with_more_decimals_than_the_currency(tmp_path: Path) -> None:
    text = _edited('pvc: {price: "60.00"', 'pvc: {price: "60.005"')
    _fails(
        tmp_path,
        text,
        at="pvc: {price:",
        says=["slot 'frame', module 'pvc'", "60.005 has more decimals", "round it to 2 decimals"],
    )


def test_whole_yen_currency_rejects_cents(tmp_path: Path) -> None:
    text = _edited("currency: EUR", "currency: JPY")
    _fails(
        tmp_path,
        text,
        at="oak: {price:",
        says=["module 'oak'", "JPY's minor unit (0)", "round it to 0 decimals"],
    )


def test_price_rule_amount_with_too_many_decimals(tmp_path: Path) -> None:
    text = _with_prices("""\
        - id: oak-surcharge
          when: frame.oak
          amount: "12.345"
        """)
    _fails(
        tmp_path,
        text,
        at="- id: oak-surcharge",
        says=["price rule 'oak-surcharge'", "amount 12.345 has more decimals", "2 decimals"],
    )


def test_price_rule_with_two_forms(tmp_path: Path) -> None:
    text = _with_prices("""\
        - id: oak-deal
          when: frame.oak
          amount: "-10.00"
          tiers: [{min_quantity: 5, percent: "-5"}]
        """)
    _fails(
        tmp_path,
        text,
        at="- id: oak-deal",
        says=["price rule 'oak-deal'", "exactly one form", "'tiers'"],
    )


def test_price_rule_with_when_and_bundle(tmp_path: Path) -> None:
    text = _with_prices("""\
        - id: oak-deal
          when: frame.oak
          bundle: [frame.oak, glass.laminated]
          amount: "-10.00"
        """)
    _fails(
        tmp_path,
        text,
        at="- id: oak-deal",
        says=["price rule 'oak-deal'", "either 'when' or 'bundle', not both"],
    )


def test_payment_term_with_a_negative_apr(tmp_path: Path) -> None:
    text = VALID + 'payment_terms:\n  instalments-12:\n    instalments: 12\n    apr: "-4.9"\n'
    _fails(
        tmp_path,
        text,
        at='apr: "-4.9"',
        says=["payment term 'instalments-12', apr", "greater than or equal to 0"],
    )


def test_valid_from_after_valid_until(tmp_path: Path) -> None:
    text = _edited(
        "currency: EUR\n", "currency: EUR\nvalid_from: 2027-01-01\nvalid_until: 2026-12-31\n"
    )
    _fails(
        tmp_path,
        text,
        at="valid_from:",
        says=["valid_from 2027-01-01 is after valid_until 2026-12-31", "swap the dates"],
    )


# Slots and modules


def test_min_greater_than_max(tmp_path: Path) -> None:
    text = _edited("cardinality: {min: 0, max: 3}", "cardinality: {min: 3, max: 2}")
    _fails(
        tmp_path,
        text,
        at="cardinality:",
        says=["slot 'hardware', cardinality", "min 3 is greater than max 2", "swap them"],
    )


def test_unknown_cardinality_name(tmp_path: Path) -> None:
    text = _edited("cardinality: {min: 0, max: 3}", "cardinality: exactly-one")
    _fails(
        tmp_path,
        text,
        at="cardinality:",
        says=["slot 'hardware'", "cardinality 'exactly-one' is unknown", "exactly_one, optional"],
    )


def test_max_quantity_above_the_slot_max(tmp_path: Path) -> None:
    text = _edited("max_quantity: 2", "max_quantity: 5")
    _fails(
        tmp_path,
        text,
        at="max_quantity:",
        says=["slot 'hardware', module 'vent'", "max_quantity 5 exceeds the slot's max 3"],
    )


def test_invalid_module_id(tmp_path: Path) -> None:
    text = _edited("      oak: {", "      1oak: {")
    _fails(
        tmp_path,
        text,
        at="1oak:",
        says=["module '1oak'", "is not a valid id", "starting with a letter"],
    )


def test_unknown_module_key(tmp_path: Path) -> None:
    text = _edited('pvc: {price: "60.00"', 'pvc: {prize: "60.00"')
    _fails(
        tmp_path,
        text,
        at="pvc: {prize:",
        says=["slot 'frame', module 'pvc'", "unknown key 'prize'", "catalog-format.md"],
    )


# Rules


def test_table_row_with_the_wrong_width(tmp_path: Path) -> None:
    text = _with_rules("""\
        - id: frame-glass
          table:
            slots: [frame, glass]
            allow:
              - [oak, laminated]
              - [pvc]
        """)
    _fails(
        tmp_path,
        text,
        at="table:",
        says=["rule 'frame-glass'", "row 2 ['pvc'] has 1 values", "give one value per slot"],
    )


def test_table_naming_an_unknown_module(tmp_path: Path) -> None:
    text = _with_rules("""\
        - id: frame-glass
          table:
            slots: [frame, glass]
            deny:
              - [pvc, laminated]
              - [oak, flaot]
        """)
    _fails(
        tmp_path,
        text,
        at="[oak, flaot]",
        says=["rule 'frame-glass', row 2", "'flaot' is not a module of slot 'glass'", "'float'"],
    )


def test_table_over_a_multi_select_slot(tmp_path: Path) -> None:
    text = _with_rules("""\
        - id: frame-hardware
          table:
            slots: [frame, hardware]
            deny:
              - [pvc, lock]
        """)
    _fails(
        tmp_path,
        text,
        at="- id: frame-hardware",
        says=[
            "rule 'frame-hardware'",
            "slot 'hardware', which takes several modules",
            "requires/excludes",
        ],
    )


def test_expression_that_does_not_parse(tmp_path: Path) -> None:
    text = _with_rules("""\
        - id: thick-glass
          constraint: "glass.thickness_mm => 6"
        """)
    _fails(
        tmp_path,
        text,
        at="constraint:",
        says=["rule 'thick-glass'", "unexpected character at column 20", "'=> 6'"],
    )


def test_expression_naming_an_unknown_attribute(tmp_path: Path) -> None:
    text = _with_rules("""\
        - id: thick-glass
          constraint: "glass.thicknes_mm >= 6"
          when: frame.oak
        """)
    _fails(
        tmp_path,
        text,
        at="- id: thick-glass",
        says=[
            "rule 'thick-glass'",
            "'glass.thicknes_mm' is neither a module nor an attribute",
            "did you mean 'thickness_mm'?",
        ],
    )


def test_total_of_an_unknown_attribute(tmp_path: Path) -> None:
    text = _with_rules("""\
        - id: sash-weight
          constraint: "total(weight) <= 80"
        """)
    _fails(
        tmp_path,
        text,
        at="- id: sash-weight",
        says=[
            "rule 'sash-weight'",
            "total(weight) needs a numeric attribute",
            "did you mean 'weight_kg'?",
        ],
    )


def test_count_of_an_unknown_slot(tmp_path: Path) -> None:
    text = _with_rules("""\
        - id: few-fittings
          constraint: "count(hardwar) <= 2"
        """)
    _fails(
        tmp_path,
        text,
        at="- id: few-fittings",
        says=[
            "rule 'few-fittings'",
            "count(hardwar) names an unknown slot",
            "did you mean 'hardware'?",
        ],
    )


def test_text_attribute_of_a_multi_select_slot(tmp_path: Path) -> None:
    text = _with_rules("""\
        - id: brass-fittings
          constraint: 'hardware.finish == "brass"'
        """)
    _fails(
        tmp_path,
        text,
        at="- id: brass-fittings",
        says=["rule 'brass-fittings'", "'hardware.finish' is text", "only numeric attributes"],
    )


def test_multiplication_of_two_references(tmp_path: Path) -> None:
    text = _with_rules("""\
        - id: heavy-glass
          constraint: "glass.thickness_mm * frame.weight_kg <= 100"
        """)
    _fails(
        tmp_path,
        text,
        at="- id: heavy-glass",
        says=["rule 'heavy-glass'", "multiplies two references", "must be a constant"],
    )


def test_module_that_requires_itself(tmp_path: Path) -> None:
    text = _with_rules("""\
        - id: oak-loop
          requires: {if: frame.oak, then: [frame.oak, glass.laminated]}
        """)
    _fails(
        tmp_path,
        text,
        at="- id: oak-loop",
        says=[
            "rule 'oak-loop' is circular",
            "'frame.oak' requires itself",
            "remove it from 'then'",
        ],
    )


def test_requires_another_module_of_the_same_single_slot(tmp_path: Path) -> None:
    text = _with_rules("""\
        - id: oak-needs-pvc
          requires: {if: frame.oak, then: [frame.pvc]}
        """)
    _fails(
        tmp_path,
        text,
        at="- id: oak-needs-pvc",
        says=[
            "rule 'oak-needs-pvc' contradicts itself",
            "same single slot 'frame'",
            "never be chosen",
        ],
    )


def test_requires_two_conditions_in_one_single_slot(tmp_path: Path) -> None:
    text = _with_rules("""\
        - id: wood-needs-laminated
          requires: {if: [frame.oak, frame.pvc], then: [glass.laminated]}
        """)
    _fails(
        tmp_path,
        text,
        at="- id: wood-needs-laminated",
        says=["rule 'wood-needs-laminated' can never apply", "split it into two rules"],
    )


def test_excludes_within_one_single_slot(tmp_path: Path) -> None:
    text = _with_rules("""\
        - id: not-both-frames
          excludes: [frame.oak, frame.pvc]
        """)
    _fails(
        tmp_path,
        text,
        at="- id: not-both-frames",
        says=[
            "rule 'not-both-frames' excludes modules of the single slot 'frame'",
            "remove the rule",
        ],
    )


def test_unknown_rule_kind(tmp_path: Path) -> None:
    text = _with_rules("""\
        - id: pvc-no-laminated
          exclude: [frame.pvc, glass.laminated]
        """)
    _fails(
        tmp_path,
        text,
        at="- id: pvc-no-laminated",
        says=[
            "rule 'pvc-no-laminated'",
            "exactly one of 'requires', 'excludes', 'table', 'constraint'",
        ],
    )


# The file itself


def test_unknown_top_level_key(tmp_path: Path) -> None:
    text = VALID + "rule:\n  - id: r1\n    excludes: [frame.pvc, glass.laminated]\n"
    _fails(
        tmp_path,
        text,
        at="rule:",
        says=["unknown key 'rule'", "check its spelling"],
    )


def test_invalid_yaml_syntax(tmp_path: Path) -> None:
    text = _with_rules("- id: r1\n  excludes: [frame.pvc, glass.laminated\n")
    path = tmp_path / "catalog.yaml"
    path.write_text(text)
    error = _load_error(path)
    assert error.line == len(text.splitlines()) + 1
    assert str(error).startswith("invalid YAML: ")
    assert "expected ',' or ']'" in str(error)
    assert f"({path}, line {error.line})" in str(error)


def test_tab_indentation(tmp_path: Path) -> None:
    text = _edited("  glass:\n", "\tglass:\n")
    _fails(tmp_path, text, at="\tglass:", says=["invalid YAML", "cannot start any token"])


def test_catalog_that_is_not_a_mapping(tmp_path: Path) -> None:
    text = "- frame\n- glass\n"
    _fails(
        tmp_path, text, at="- frame", says=["holds a mapping with at least 'catalog' and 'slots'"]
    )


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    error = _load_error(path)
    assert error.path == str(path)
    assert str(error).startswith(f"file not found: {path}")


def test_bundled_name_typo_suggests_the_closest(tmp_path: Path) -> None:
    error = _load_error("windws")
    assert "no catalog file or bundled catalog named 'windws'" in str(error)
    assert "did you mean 'windows'?" in str(error)
    assert "credit_cards" in str(error)


# Mistakes the loader once reported poorly, and a valid rule it once rejected


def test_misspelled_slots_key(tmp_path: Path) -> None:
    text = _edited("slots:", "slot:")
    _fails(tmp_path, text, at="slot:", says=["unknown key 'slot'", "did you mean 'slots'?"])


def test_requires_within_a_multi_select_slot_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text(
        _with_rules("- id: vent-lock\n  requires: {if: hardware.vent, then: [hardware.lock]}\n")
    )
    assert len(modcfg.load_catalog(path).rules) == 1


def test_table_row_error_points_at_the_row(tmp_path: Path) -> None:
    text = _with_rules("""\
        - id: frame-glass
          table:
            slots: [frame, glass]
            deny:
              - [pvc, laminated]
              - [oak, flaot]
        """)
    _fails(tmp_path, text, at="[oak, flaot]", says=["'flaot' is not a module of slot 'glass'"])


def test_expression_cut_short_says_so(tmp_path: Path) -> None:
    text = _with_rules("""\
        - id: thick-glass
          constraint: "glass.thickness_mm >="
        """)
    _fails(tmp_path, text, at="constraint:", says=["rule 'thick-glass'", "ends too early"])


def test_yaml_boolean_word_as_a_module_id(tmp_path: Path) -> None:
    text = VALID + '  vent-kit:\n    cardinality: optional\n    modules:\n      no: {price: "0"}\n'
    _fails(tmp_path, text, at="no: {price", says=["'no'", "quote"])


def test_duplicate_json_key(tmp_path: Path) -> None:
    path = tmp_path / "catalog.json"
    path.write_text(
        '{"catalog": "windows", "slots": {"frame": {"modules": {"oak": {"price": "120"}}},'
        ' "frame": {"modules": {"pvc": {"price": "60"}}}}}'
    )
    error = _load_error(path)
    assert "'frame' appears twice" in str(error)
