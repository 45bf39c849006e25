"""Shared pieces of the catalog and needs models: ids, money, attribute values, references."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

__all__ = [
    "ID_PATTERN",
    "AttributeValue",
    "FrozenModel",
    "Id",
    "Money",
    "Percent",
    "parse_ref",
    "to_decimal",
]

ID_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*(-[A-Za-z0-9_]+)*$"
_ID_RE = re.compile(ID_PATTERN)


class FrozenModel(BaseModel):
    """Base of every catalog model: immutable, strict about unknown keys."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


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
            raise ValueError(f'{value!r} is not a decimal number (write it like "19.90")') from None
    else:
        raise ValueError(f"{what} must be a decimal number written as a string, not {value!r}")
    if not result.is_finite():
        raise ValueError(f"{what} must be a finite number, not {value!r}")
    return result


def _money(value: Any) -> Decimal:
    return to_decimal(value, what="money")


def _attribute(value: Any) -> Any:
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, Decimal):
        return value
    if isinstance(value, list | tuple):
        if not all(isinstance(item, str) for item in value):
            raise ValueError(f"a list attribute holds text tags only, not {value!r}")
        return tuple(value)
    raise ValueError(f"an attribute is a number, text, true/false or a list of tags, not {value!r}")


def _id(value: Any) -> Any:
    if isinstance(value, str) and not _ID_RE.match(value):
        raise ValueError(
            f"{value!r} is not a valid id: use letters, digits, '_' and inner '-', "
            "starting with a letter or '_'"
        )
    return value


Id = Annotated[str, BeforeValidator(_id)]
Money = Annotated[Decimal, BeforeValidator(_money)]
Percent = Annotated[Decimal, BeforeValidator(_money), Field(ge=-100, le=1000)]
AttributeValue = Annotated[bool | Decimal | str | tuple[str, ...], BeforeValidator(_attribute)]


def parse_ref(ref: str) -> tuple[str, str]:
    """Split a module reference ``"slot.module"``; raise ValueError when malformed.

    >>> parse_ref("glass.triple")
    ('glass', 'triple')
    """
    parts = ref.split(".") if isinstance(ref, str) else []
    if len(parts) != 2 or not all(_ID_RE.match(part) for part in parts):
        raise ValueError(f"{ref!r} is not a module reference; write it as slot.module")
    return parts[0], parts[1]
