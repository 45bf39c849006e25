"""The syntax of UVL (the Universal Variability Language): a lark grammar and its syntax tree.

The grammar follows the reference ANTLR grammar of the UVL project (``UVLParser.g4``): optional
``namespace``, ``include`` and ``imports`` sections, a ``features`` tree whose nesting is given by
indentation, and a ``constraints`` section. Constraint operators bind, tightest first: ``!``,
``&``, ``|``, ``=>``, ``<=>``, all left-associative; equations (``==``, ``<``, ...) compare
arithmetic over numbers, attributes and aggregates. Indentation becomes ``_INDENT``/``_DEDENT``
tokens in :class:`_Indenter`, which also ignores line breaks inside brackets.

>>> text = "features\\n  A\\n    optional\\n      B\\nconstraints\\n  B => A\\n"
>>> model = parse_uvl(text, "x.uvl")
>>> model.root.name, [child.name for child in model.root.groups[0].children]
('A', ['B'])
>>> model.constraints[0].expr
Binary(op='implies', left=Ref(parts=('B',), line=6), right=Ref(parts=('A',), line=6))
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any, Literal

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput
from lark.lark import PostLex

from .._errors import CatalogError
from .._grammars import cached_lark

__all__ = [
    "Aggregate",
    "Arith",
    "Binary",
    "Compare",
    "Constraint",
    "Expr",
    "Feature",
    "Group",
    "Model",
    "Not",
    "Number",
    "Ref",
    "Text",
    "parse_uvl",
]

_GRAMMAR = r"""
start: _NL? namespace? includes? imports? features? constraints?

namespace: "namespace" reference _NL
includes: "include" _NL [_INDENT (LEVEL _NL)* _DEDENT]
imports: "imports" _NL [_INDENT import_line* _DEDENT]
import_line: reference ("as" reference)? _NL
features: "features" _NL _INDENT feature _DEDENT
constraints: "constraints" _NL [_INDENT constraint_line* _DEDENT]
constraint_line: constraint _NL

feature: [feature_type] reference [feature_cardinality] [attributes] _NL [_INDENT group+ _DEDENT]
!feature_type: "String" | "Integer" | "Boolean" | "Real"
feature_cardinality: "cardinality" CARDINALITY
group: group_kind _NL _INDENT feature+ _DEDENT
!group_kind: "or" | "alternative" | "optional" | "mandatory" | CARDINALITY

attributes: "{" [attribute ("," attribute)*] "}"
attribute: key [value] -> value_attribute
    | "constraint" constraint -> constraint_attribute
    | "constraints" "[" [constraint ("," constraint)*] "]" -> constraints_attribute
key: ident
?value: boolean | INTEGER -> number | FLOAT -> number | STRING -> text | attributes | vector
!boolean: "true" | "false"
vector: "[" [value ("," value)*] "]"

?constraint: equivalence
?equivalence: implication | equivalence "<=>" implication -> equiv
?implication: disjunction | implication "=>" disjunction -> implies
?disjunction: conjunction | disjunction "|" conjunction -> or_
?conjunction: negation | conjunction "&" negation -> and_
?negation: comparison | "!" negation -> not_
?comparison: sum | sum compare_op sum -> compare
!compare_op: "==" | "!=" | "<=" | ">=" | "<" | ">"
?sum: product | sum add_op product -> arith
!add_op: "+" | "-"
?product: atom | product mul_op atom -> arith
!mul_op: "*" | "/"
?atom: reference | INTEGER -> number | FLOAT -> number | STRING -> text
    | aggregate | "(" constraint ")"
aggregate: aggregate_name "(" reference ("," reference)? ")"
!aggregate_name: "sum" | "avg" | "len" | "floor" | "ceil"

reference: ident ("." ident)*
?ident: ID | QUOTED

CARDINALITY: /\[[ \t]*\d+[ \t]*(\.\.[ \t]*(\d+|\*)[ \t]*)?\]/
LEVEL: /[A-Za-z]+(\.([A-Za-z-]+|\*))?/
ID: /[^\W\d][\w#§%?\\';]*/
QUOTED: /"[^\r\n".]+"/
STRING: /'[^\r\n']*'/
FLOAT: /-?[0-9]*\.[0-9]+/
INTEGER: /0|-?[1-9][0-9]*/
_NL: (/\r?\n[\t ]*/ | LINE_COMMENT | BLOCK_COMMENT)+
LINE_COMMENT: /\/\/[^\n]*/
BLOCK_COMMENT: /\/\*(.|\n)*?\*\//
%ignore /[\t \f]+/
%ignore LINE_COMMENT
%ignore BLOCK_COMMENT
%declare _INDENT _DEDENT
"""

_OPENERS = frozenset({"LPAR", "LSQB", "LBRACE"})
_CLOSERS = frozenset({"RPAR", "RSQB", "RBRACE"})


class UvlSyntaxError(Exception):
    """A UVL text does not parse (internal; readers turn it into a CatalogError)."""

    def __init__(self, message: str, line: int | None) -> None:
        self.line = line
        super().__init__(message)


class _Indenter(PostLex):
    """Turns the indentation after each line break into ``_INDENT`` and ``_DEDENT`` tokens."""

    always_accept = ("_NL",)
    tab_width = 4

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        levels = [0]
        depth = 0
        last: Token | None = None
        for token in stream:
            last = token
            if token.type == "_NL":
                if depth:
                    continue
                yield token
                indent = self._width(str(token))
                if indent > levels[-1]:
                    levels.append(indent)
                    yield Token.new_borrow_pos("_INDENT", "", token)
                    continue
                while indent < levels[-1]:
                    levels.pop()
                    yield Token.new_borrow_pos("_DEDENT", "", token)
                if indent != levels[-1]:
                    raise UvlSyntaxError(
                        "the indentation does not match any enclosing level; indent each child "
                        "one step deeper than its parent",
                        token.end_line,
                    )
                continue
            if token.type in _OPENERS:
                depth += 1
            elif token.type in _CLOSERS and depth:
                depth -= 1
            yield token
        while len(levels) > 1:
            levels.pop()
            if last is not None:
                yield Token.new_borrow_pos("_DEDENT", "", last)
            else:  # pragma: no cover - an empty text has no indentation
                yield Token("_DEDENT", "")

    def _width(self, newline: str) -> int:
        indentation = newline.rsplit("\n", 1)[-1]
        return indentation.count(" ") + indentation.count("\t") * self.tab_width


# ---- the syntax tree ------------------------------------------------------------------------


@dataclass(frozen=True)
class Ref:
    """A feature (``Sauce``), an attribute (``Sauce.price``) or an imported name (``a.b.C``)."""

    parts: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class Not:
    operand: Expr


@dataclass(frozen=True)
class Binary:
    op: Literal["and", "or", "implies", "equiv"]
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Compare:
    op: str
    left: Expr
    right: Expr
    line: int


@dataclass(frozen=True)
class Arith:
    op: str
    left: Expr
    right: Expr
    line: int


@dataclass(frozen=True)
class Number:
    value: Decimal
    line: int


@dataclass(frozen=True)
class Text:
    value: str
    line: int


@dataclass(frozen=True)
class Aggregate:
    function: str
    args: tuple[Ref, ...]
    line: int


Expr = Ref | Not | Binary | Compare | Arith | Number | Text | Aggregate


@dataclass(frozen=True)
class Constraint:
    expr: Expr
    line: int


@dataclass
class Group:
    """``kind`` is or/alternative/optional/mandatory/cardinality; ``high`` None means ``*``."""

    kind: str
    low: int
    high: int | None
    line: int
    children: list[Feature] = field(default_factory=list)


@dataclass
class Feature:
    name: str
    line: int
    type: str | None = None
    cardinality: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    constraints: list[Constraint] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)


@dataclass
class Model:
    namespace: str | None = None
    imports: list[tuple[str, int]] = field(default_factory=list)
    root: Feature | None = None
    constraints: list[Constraint] = field(default_factory=list)


def _first_line(expr: Expr) -> int:
    while True:  # a loop: a chain of 100,000 operators nests that deep
        match expr:
            case Not(operand):
                expr = operand
            case Binary(_, left, _):
                expr = left
            case _:
                return expr.line


def _unquote(token: Token) -> str:
    text = str(token)
    return text[1:-1] if token.type == "QUOTED" else text


def _cardinality(token: Token) -> tuple[int, int | None]:
    inner = str(token).strip("[] \t")
    low, _, high = (part.strip() for part in inner.partition(".."))
    if not _:
        return int(low), int(low)
    return int(low), None if high == "*" else int(high)


@v_args(inline=True)
class _ToModel(Transformer[Token, Any]):
    """Builds :class:`Model` bottom up, one method per grammar rule, called as the LALR parser
    reduces that rule (no parse tree is built; see :func:`_parser`)."""

    def reference(self, *idents: Token) -> Ref:
        return Ref(tuple(_unquote(ident) for ident in idents), idents[0].line or 0)

    def key(self, ident: Token) -> str:
        return _unquote(ident)

    def number(self, token: Token) -> Number:
        return Number(Decimal(str(token)), token.line or 0)

    def text(self, token: Token) -> Text:
        return Text(str(token)[1:-1], token.line or 0)

    def boolean(self, token: Token) -> bool:
        return str(token) == "true"

    def vector(self, *values: Any) -> list[Any]:
        return [_plain(value) for value in values if value is not None]

    def value_attribute(self, key: str, value: Any) -> tuple[str, Any]:
        return ("value", (key, True if value is None else _plain(value)))

    def constraint_attribute(self, expr: Expr) -> tuple[str, Any]:
        return ("constraints", [expr])

    def constraints_attribute(self, *exprs: Expr | None) -> tuple[str, Any]:
        return ("constraints", [expr for expr in exprs if expr is not None])

    def attributes(self, *items: tuple[str, Any] | None) -> tuple[tuple[str, Any], ...]:
        return tuple(item for item in items if item is not None)

    def not_(self, operand: Expr) -> Expr:
        return Not(operand)

    def and_(self, left: Expr, right: Expr) -> Expr:
        return Binary("and", left, right)

    def or_(self, left: Expr, right: Expr) -> Expr:
        return Binary("or", left, right)

    def implies(self, left: Expr, right: Expr) -> Expr:
        return Binary("implies", left, right)

    def equiv(self, left: Expr, right: Expr) -> Expr:
        return Binary("equiv", left, right)

    def compare(self, left: Expr, op: Token, right: Expr) -> Expr:
        return Compare(str(op), left, right, op.line or 0)

    def compare_op(self, token: Token) -> Token:
        return token

    add_op = mul_op = aggregate_name = feature_type = group_kind = compare_op

    def arith(self, left: Expr, op: Token, right: Expr) -> Expr:
        return Arith(str(op), left, right, op.line or 0)

    def aggregate(self, name: Token, *refs: Ref | None) -> Expr:
        return Aggregate(str(name), tuple(ref for ref in refs if ref is not None), name.line or 0)

    def constraint_line(self, expr: Expr) -> Constraint:
        return Constraint(expr, _first_line(expr))

    def feature_cardinality(self, token: Token) -> str:
        return str(token)

    def feature(
        self,
        kind: Token | None,
        ref: Ref,
        cardinality: str | None,
        attributes: tuple[tuple[str, Any], ...] | None,
        *groups: Group | None,
    ) -> Feature:
        feature = Feature(".".join(ref.parts), ref.line, str(kind) if kind else None, cardinality)
        for what, item in attributes or ():
            if what == "value":
                feature.attributes[item[0]] = item[1]
            else:
                feature.constraints.extend(Constraint(expr, _first_line(expr)) for expr in item)
        feature.groups = [group for group in groups if group is not None]
        return feature

    def group(self, kind: Token, *children: Feature) -> Group:
        if kind.type == "CARDINALITY":
            low, high = _cardinality(kind)
            return Group("cardinality", low, high, kind.line or 0, list(children))
        return Group(str(kind), 0, None, kind.line or 0, list(children))

    def namespace(self, ref: Ref) -> tuple[str, Any]:
        return ("namespace", ".".join(ref.parts))

    def includes(self, *levels: Token | None) -> tuple[str, Any]:
        return ("includes", None)

    def import_line(self, ref: Ref, _alias: Ref | None = None) -> tuple[str, int]:
        return (".".join(ref.parts), ref.line)

    def imports(self, *lines: tuple[str, int] | None) -> tuple[str, Any]:
        return ("imports", [line for line in lines if line is not None])

    def features(self, root: Feature) -> tuple[str, Any]:
        return ("features", root)

    def constraints(self, *lines: Constraint | None) -> tuple[str, Any]:
        return ("constraints", [line for line in lines if line is not None])

    def start(self, *sections: tuple[str, Any] | None) -> Model:
        model = Model()
        for section in sections:
            if section is None:
                continue
            what, item = section
            if what == "namespace":
                model.namespace = item
            elif what == "imports":
                model.imports = item
            elif what == "features":
                model.root = item
            elif what == "constraints":
                model.constraints = item
        return model


def _plain(value: Any) -> Any:
    """Attribute values as plain data: Decimal, str, bool, list or dict."""
    if isinstance(value, Number | Text):
        return value.value
    if isinstance(value, tuple):
        return {item[1][0]: item[1][1] for item in value if item[0] == "value"}
    return value


@lru_cache(maxsize=1)
def _parser() -> Lark:
    # The (stateless) transformer runs inside the LALR parser: no parse tree is built and
    # nothing recurses over it, so a constraint of 100,000 operands is read without recursion.
    return cached_lark(
        "uvl",
        _GRAMMAR,
        lexer="contextual",
        postlex=_Indenter(),
        maybe_placeholders=True,
        transformer=_ToModel(),
    )


def _describe(exc: UnexpectedInput, text: str) -> str:
    if isinstance(exc, UnexpectedEOF):
        return "the text ends too early; is a feature or a closing bracket missing?"
    if isinstance(exc, UnexpectedCharacters):
        position = exc.pos_in_stream or 0
        return f"unexpected character {text[position : position + 1]!r}"
    token = getattr(exc, "token", None)
    if isinstance(token, Token):
        if token.type == "_INDENT":
            return "unexpected indentation; indent a feature only below a group keyword"
        if token.type == "_DEDENT":
            return "a group keyword (mandatory, optional, or, alternative) has no features"
        if token.type == "_NL":
            return "the line ends too early"
        if token.type == "$END":
            return "the text ends too early"
        return f"unexpected {str(token)[:40]!r}"
    return "malformed UVL"  # pragma: no cover - every lark input error is one of the above


def parse_uvl(text: str, display: str) -> Model:
    """Parse UVL text; errors raise :class:`CatalogError` with ``display`` and the line."""
    source = text if text.endswith("\n") else text + "\n"
    try:
        model = _parser().parse(source)
    except UvlSyntaxError as exc:
        raise CatalogError(f"UVL syntax: {exc}", path=display, line=exc.line) from None
    except UnexpectedInput as exc:
        line = exc.line if isinstance(exc.line, int) and exc.line > 0 else source.count("\n")
        raise CatalogError(
            f"UVL syntax: {_describe(exc, source)}", path=display, line=line
        ) from None
    except LarkError as exc:
        raise CatalogError(f"UVL syntax: {exc}", path=display) from None
    except RecursionError:
        raise CatalogError("UVL: the model is nested too deeply to read", path=display) from None
    if not isinstance(model, Model):  # pragma: no cover - the start rule always builds a Model
        raise CatalogError("UVL: the text holds no model", path=display)
    return model
