"""Models read in bulk: the NumPy integer reader agrees with reading token by token, and what
the readers build without parsing again is what parsing gives."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import modcfg
from modcfg.io._bulk import BadToken, integer_runs
from modcfg.model import ConstraintRule
from modcfg.model._expr_parse import parse

_TOKEN = re.compile(r"[^\s|]+")
_INTEGER = re.compile(r"-?[0-9]{1,18}")

pieces = st.one_of(
    st.integers(-(10**18) + 1, 10**18 - 1).map(str),
    st.sampled_from([" ", "  ", "\n", "\t", "|", " | ", "-", "--1", "1-2", "x", "0" * 19, "é"]),
)


def _reference(text: str) -> list[tuple[int, int]] | int:
    """(value, group) per token, or the offset of the first token that is not an integer."""
    found = []
    for match in _TOKEN.finditer(text):
        if not _INTEGER.fullmatch(match.group()):
            return match.start()
        found.append((int(match.group()), text.count("|", 0, match.start())))
    return found


@settings(max_examples=200, deadline=None)
@given(st.lists(pieces, max_size=30).map(" ".join))
def test_integer_runs_read_as_token_by_token(text: str) -> None:
    expected = _reference(text)
    if isinstance(expected, int):
        with pytest.raises(BadToken) as error:
            integer_runs(text, separator="|")
        assert error.value.offset == expected
    else:
        found = integer_runs(text, separator="|")
        assert list(zip(found.values.tolist(), found.groups.tolist(), strict=True)) == expected


def test_dimacs_clauses_hold_the_expression_their_text_parses_to(shared_data: Path) -> None:
    catalog = modcfg.load_catalog(shared_data / "dimacs" / "e_shop.dimacs")
    rules = [rule for rule in catalog.rules if isinstance(rule, ConstraintRule)]
    assert rules
    assert all(rule.expression == parse(rule.constraint) for rule in rules)


def test_a_read_clause_equals_the_same_rule_validated(tmp_path: Path) -> None:
    file = tmp_path / "two.dimacs"
    file.write_text("p cnf 3 2\n1 -2 0\n-3 0\n")
    catalog = modcfg.load_catalog(file)
    again = modcfg.Catalog.model_validate(catalog.model_dump(by_alias=True))
    assert again == catalog
    assert modcfg.compile(again).count() == modcfg.compile(catalog).count() == 3


_NAMES = st.sampled_from(["a", "b2", "x_y", "f-1", "or", "not", "total", "order", "nota", "_z"])
_SPACES = st.sampled_from([" ", "  ", "\n", "\t "])


@st.composite
def _clause_texts(draw: st.DrawFn) -> str:
    """Disjunctions of (negated) references, some spaced oddly, some naming the grammar's words,
    some broken."""
    parts = []
    for _ in range(draw(st.integers(1, 6))):
        negated = draw(st.sampled_from(["", "not ", "not  ", "!"]))
        parts.append(f"{negated}{draw(_NAMES)}.{draw(_NAMES)}")
    joiner = draw(st.sampled_from([" or ", "  or\n", " | ", " and ", " or or "]))
    return draw(_SPACES) * draw(st.integers(0, 1)) + joiner.join(parts)


@settings(max_examples=300, deadline=None)
@given(_clause_texts())
def test_a_clause_reads_as_the_grammar_parses_it(text: str) -> None:
    """A disjunction of references is read without the parser: the same expression, and any
    text it does not read is the parser's (which parses it or says why not)."""
    from modcfg.model._expr_grammar import parse_parts
    from modcfg.model._expr_parse import ExpressionSyntaxError

    try:
        expected = parse_parts(text).close()
    except ExpressionSyntaxError:
        with pytest.raises(ExpressionSyntaxError):
            parse.__wrapped__(text)
        return
    assert parse.__wrapped__(text) == expected
