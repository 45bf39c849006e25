"""Shared pieces of the catalog and needs models: ids, money, attribute values, references.

The annotated types (:data:`Id`, :data:`Money`, :data:`Percent`, :data:`AttributeValue`)
validate a field where it is declared, so what they check holds in every model that uses them:
an id matches :data:`ID_PATTERN` in full; money and percentages are finite ``Decimal`` values
read from ints or strings, never from floats; every number has at most
:data:`MAX_INTEGER_DIGITS` digits before the point and :data:`MAX_FRACTION_DIGITS` after it;
a list attribute is a tuple of text tags. A failure is a ``ValueError`` whose message pydantic
places at the field.
"""

from __future__ import annotations

import re
import reprlib
from decimal import Context, Decimal, InvalidOperation
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer

__all__ = [
    "ID_PATTERN",
    "MAX_FRACTION_DIGITS",
    "MAX_INTEGER_DIGITS",
    "AttributeValue",
    "FrozenModel",
    "Id",
    "Money",
    "Percent",
    "as_validated",
    "check_digits",
    "parse_ref",
    "shown",
    "to_decimal",
]

ID_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*(-[A-Za-z0-9_]+)*$"
#: Matched with ``fullmatch``: ``$`` alone would accept an id ending in a newline.
_ID_RE = re.compile(ID_PATTERN)
#: Numbers in a catalog (money, attributes, expression constants) have at most this many digits
#: before and after the point: enough for any real amount, and it keeps arithmetic cheap (a
#: price of ``1e999999999`` would otherwise be exact and take gigabytes to add up).
MAX_INTEGER_DIGITS = 30
MAX_FRACTION_DIGITS = 20


class FrozenModel(BaseModel):
    """Base of every catalog model: immutable, strict about unknown keys."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, defer_build=True)


_Model = TypeVar("_Model", bound=BaseModel)


def as_validated(
    cls: type[_Model],
    fields: dict[str, Any],
    fields_set: set[str],
    private: dict[str, Any] | None = None,
) -> _Model:
    """An instance of ``cls`` holding ``fields`` (every field, each valid), set as validation
    leaves one, without validating: what ``model_construct`` does, in a fifth of its time, for
    the objects readers make by the thousand (a feature model's slots and clauses; the
    callers' tests compare each with the validated one)."""
    made = cls.__new__(cls)
    object.__setattr__(made, "__dict__", fields)
    object.__setattr__(made, "__pydantic_fields_set__", fields_set)
    object.__setattr__(made, "__pydantic_extra__", None)
    object.__setattr__(made, "__pydantic_private__", private)
    return made


def to_decimal(value: Any, *, what: str = "amount") -> Decimal:
    """Read money or a percentage exactly: ints and strings, never floats.

    >>> to_decimal("120.00")
    Decimal('120.00')
    >>> to_decimal(0.1)
    Traceback (most recent call last):
    ...
    ValueError: 0.1 is a float; write money as a quoted string such as "0.1" so no cent is lost
    """
    if isinstance(value, bool):
        raise ValueError(f"{what} must be a number, not {value!r}")
    if isinstance(value, float):
        raise ValueError(
            f'{value!r} is a float; write money as a quoted string such as "{value!r}" '
            "so no cent is lost"
        )
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int | str):
        try:
            result = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError(
                f'{shown(value)} is not a decimal number (write it like "19.90")'
            ) from None
    else:
        raise ValueError(f"{what} must be a decimal number written as a string, not {shown(value)}")
    if not result.is_finite():
        raise ValueError(f"{what} must be a finite number, not {value!r}")
    return check_digits(result, what=what)


def check_digits(value: Decimal, *, what: str = "number") -> Decimal:
    """Return ``value`` when it has at most :data:`MAX_INTEGER_DIGITS` digits before the point
    and :data:`MAX_FRACTION_DIGITS` after it; raise ValueError otherwise.

    >>> check_digits(Decimal("1e40"))
    Traceback (most recent call last):
    ...
    ValueError: number 1E+40 has 41 digits before the point; at most 30 are allowed
    """
    exponent = value.as_tuple().exponent
    if not isinstance(exponent, int):  # NaN and infinities carry a letter, not a number
        raise ValueError(f"{what} must be a finite number, not {value}")
    if not value:
        return value if -MAX_FRACTION_DIGITS <= exponent <= 0 else Decimal(0)
    integer_digits = value.adjusted() + 1
    if integer_digits > MAX_INTEGER_DIGITS:
        raise ValueError(
            f"{what} {_short(value)} has {integer_digits} digits before the point; "
            f"at most {MAX_INTEGER_DIGITS} are allowed"
        )
    if -exponent > MAX_FRACTION_DIGITS and value != value.quantize(_SMALLEST, context=_EXACT):
        raise ValueError(
            f"{what} {_short(value)} has {-exponent} digits after the point; "
            f"at most {MAX_FRACTION_DIGITS} are allowed"
        )
    return value


_SMALLEST = Decimal(1).scaleb(-MAX_FRACTION_DIGITS)
_EXACT = Context(prec=MAX_INTEGER_DIGITS + MAX_FRACTION_DIGITS + 2, Emax=MAX_INTEGER_DIGITS + 2)


def _short(value: Decimal) -> str:
    text = str(value)
    return text if len(text) <= 40 else f"{text[:20]}...{text[-10:]}"


def shown(value: Any) -> str:
    """``repr(value)`` for a message, shortened: input may be megabytes long or nested deep.

    >>> shown("x" * 1000)
    "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'"
    """
    return _REPR.repr(value)


_REPR = reprlib.Repr()
_REPR.maxstring = 80
_REPR.maxlong = 40
_REPR.maxother = 80
_REPR.maxlevel = 3


def _money(value: Any) -> Decimal:
    return to_decimal(value, what="money")


def _attribute(value: Any) -> Any:
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return check_digits(Decimal(value), what="attribute")
    if isinstance(value, float):
        return check_digits(Decimal(repr(value)), what="attribute")
    if isinstance(value, Decimal):
        return check_digits(value, what="attribute")
    if isinstance(value, list | tuple):
        if not all(isinstance(item, str) for item in value):
            raise ValueError(f"a list attribute holds text tags only, not {shown(value)}")
        return tuple(value)
    raise ValueError(
        f"an attribute is a number, text, true/false or a list of tags, not {shown(value)}"
    )


def _attribute_json(value: object) -> object:
    """A numeric attribute in JSON data: a number, as the file format writes it (an int, or a
    float when it has a fraction, so at most 17 significant digits of one survive), so that
    ``model_dump(mode="json")`` loads back as numbers rather than as text."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return list(value) if isinstance(value, tuple) else value


def _id(value: Any) -> Any:
    if isinstance(value, str) and not _ID_RE.fullmatch(value):
        raise ValueError(
            f"{shown(value)} is not a valid id: use letters, digits, '_' and inner '-', "
            "starting with a letter or '_'"
        )
    return value


Id = Annotated[str, BeforeValidator(_id)]
Money = Annotated[Decimal, BeforeValidator(_money)]
Percent = Annotated[Decimal, BeforeValidator(_money), Field(ge=-100, le=1000)]


AttributeValue = Annotated[
    bool | Decimal | str | tuple[str, ...],
    BeforeValidator(_attribute),
    PlainSerializer(_attribute_json, when_used="json"),
]


def parse_ref(ref: str) -> tuple[str, str]:
    """Split a module reference ``"slot.module"``; raise ValueError when malformed.

    >>> parse_ref("glass.triple")
    ('glass', 'triple')
    """
    parts = ref.split(".") if isinstance(ref, str) else []
    if len(parts) != 2 or not all(_ID_RE.fullmatch(part) for part in parts):
        raise ValueError(f"{shown(ref)} is not a module reference; write it as slot.module")
    return parts[0], parts[1]
