"""Saved sessions: the document a storefront keeps in the client, and its checks.

A saved session comes back from the client, so it is untrusted input: its shape is validated
with strict types and bounded sizes before anything reads it (errors name the field path, such
as ``undo[3].choices[0][2]``), and a signing key makes forged needs or choices detectable.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import reprlib
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError

from .._errors import NeedsError, SignatureError
from ..model import Needs

if TYPE_CHECKING:
    from .._configurator import Configurator
    from ..model import Catalog
    from ._compute import _Choice as _SessionChoice
    from ._compute import _History

__all__ = [
    "FORMAT",
    "HISTORY_LIMIT",
    "MAX_CHOICES",
    "MAX_TEXT",
    "SavedNeeds",
    "SavedSession",
    "SavedStep",
    "SigningKey",
    "checked_document",
    "choice_limit",
    "load_step",
    "parse_text",
    "session_document",
    "sign",
    "validate_document",
    "verify",
]

FORMAT = "modcfg-session/1"
#: The most undo (and redo) steps a session keeps and a saved session may carry.
HISTORY_LIMIT = 256
#: The most choices one step of a saved session may carry, or, for a larger catalog, one per
#: module and per slot (:func:`choice_limit`).
MAX_CHOICES = 2_048
#: The longest saved-session JSON text accepted, in characters.
MAX_TEXT = 4_000_000

_NEEDS_FIELDS = 32  # (more than the need dimensions there are)

#: A signing key, or signing keys by key id (the last one signs; any verifies by its id).
SigningKey: TypeAlias = "bytes | Mapping[str, bytes]"

#: The longest slot, module or customer id in a saved session (feature models' generated ids
#: pass 200 characters).
MAX_NAME = 1_000

_Name = Annotated[StrictStr, Field(max_length=MAX_NAME)]
_Text = Annotated[StrictStr, Field(max_length=2_000)]
#: A preference weight (weights are summed in 64-bit integers)
_Weight = Annotated[StrictInt, Field(ge=-1_000_000_000, le=1_000_000_000)]
_NeedsValue = (
    _Text
    | StrictInt
    | None
    | Annotated[list[_Text], Field(max_length=1_000)]
    | Annotated[dict[_Text, _Weight], Field(max_length=1_000)]
)
#: A choice: slot, module (None: the slot left empty), quantity (None: any of one or more)
_Choice = tuple[_Name, _Name | None, Annotated[StrictInt, Field(ge=0, le=1_000_000)] | None]


class SavedNeeds(BaseModel):
    """The needs of a step as saved: JSON values of bounded size, a whole-number quantity
    (:class:`~modcfg.Needs` itself checks the dimensions and their meaning)."""

    model_config = ConfigDict(extra="allow", frozen=True)
    __pydantic_extra__: dict[_Name, _NeedsValue] = Field(init=False)

    quantity: StrictInt | None = None

    def data(self) -> dict[str, Any]:
        """The needs as they were saved."""
        return self.model_dump(exclude_unset=True)


class SavedStep(BaseModel):
    """One step of the session: the needs then, and the choices made."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    needs: SavedNeeds | None = None
    choices: list[_Choice]  # (as many as the catalog may take: checked before, _check_lengths)


class SavedSession(SavedStep):
    """A saved session: the current step, the undo and redo histories, and (when signed) the
    key id and the HMAC-SHA256 signature of the rest."""

    format: Literal["modcfg-session/1"]
    catalog: _Name
    version: _Name
    undo: Annotated[list[SavedStep], Field(max_length=HISTORY_LIMIT)] = []
    redo: Annotated[list[SavedStep], Field(max_length=HISTORY_LIMIT)] = []
    kid: _Name | None = None
    signature: Annotated[StrictStr, Field(pattern="^[0-9a-f]{64}$")] | None = None


def parse_text(text: object) -> dict[str, Any]:
    """The JSON value of a saved session's text (NeedsError when it is not JSON text)."""
    if not isinstance(text, str | bytes | bytearray):
        raise NeedsError(
            f"Session.from_json takes JSON text (str or bytes), not {type(text).__name__}; "
            "for a dict use Session.from_dict"
        )
    if len(text) > MAX_TEXT:
        raise NeedsError(
            f"the saved session is {len(text):,} characters long; at most {MAX_TEXT:,} are accepted"
        )
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NeedsError(
            f"the saved session is not valid JSON: {exc.msg} (line {exc.lineno}, "
            f"column {exc.colno})"
        ) from None
    except (ValueError, RecursionError) as exc:  # bad UTF-8, huge numbers, deep nesting
        raise NeedsError(f"the saved session is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise NeedsError(
            f"a saved session is a JSON object with format '{FORMAT}', not {_show(data)}"
        )
    return data


def choice_limit(catalog: Catalog) -> int:
    """The most choices a step of a saved session of ``catalog`` may carry: a complete
    configuration of a feature model of thousands of features makes one choice per feature,
    and no step needs more than one per module and per slot (an empty optional slot)."""
    return max(MAX_CHOICES, len(catalog.slots) + catalog.module_count)


def validate_document(data: object, *, max_choices: int = MAX_CHOICES) -> SavedSession:
    """The document's shape, checked with strict types and bounded sizes (at most
    ``max_choices`` choices a step, see :func:`choice_limit`)."""
    if isinstance(data, str | bytes | bytearray):
        raise NeedsError("Session.from_dict takes a mapping; for JSON text use Session.from_json")
    if not isinstance(data, Mapping):
        raise NeedsError(
            f"a saved session is a mapping with format '{FORMAT}', not {type(data).__name__}"
        )
    if data.get("format") != FORMAT:
        raise NeedsError(
            f"format: not a saved session (expected format '{FORMAT}', "
            f"got {_show(data.get('format'))})"
        )
    _check_lengths(data, max_choices)
    try:
        return SavedSession.model_validate(dict(data))
    except ValidationError as exc:
        # the most precise error (a union reports one per member)
        located = [
            (field_path(data, error["loc"], missing=error["type"] == "missing"), error)
            for error in exc.errors(include_url=False)
        ]
        where, error = max(located, key=lambda item: len(item[0]))
        message = str(error["msg"])
        if error["type"] == "too_long" and where in ("undo", "redo"):
            message = f"a session keeps at most {HISTORY_LIMIT} steps; this one has more"
        raise NeedsError(
            f"{where or 'the saved session'}: {message} (got {_show(error['input'])})"
        ) from None


def _check_lengths(data: Mapping[str, Any], max_choices: int) -> None:
    """Refuse over-long histories and choices before validating their items one by one."""
    steps: list[tuple[str, object]] = [("", data)]
    for history in ("undo", "redo"):
        items = data.get(history)
        if isinstance(items, list | tuple):
            if len(items) > HISTORY_LIMIT:
                raise NeedsError(
                    f"{history}: a session keeps at most {HISTORY_LIMIT} steps; this one has "
                    f"{len(items):,}"
                )
            steps += [(f"{history}[{n}].", step) for n, step in enumerate(items)]
    for where, step in steps:
        needs = step.get("needs") if isinstance(step, Mapping) else None
        if isinstance(needs, Mapping) and len(needs) > _NEEDS_FIELDS:
            raise NeedsError(
                f"{where}needs: needs have at most {_NEEDS_FIELDS} dimensions; these have "
                f"{len(needs):,}"
            )
        choices = step.get("choices") if isinstance(step, Mapping) else None
        if isinstance(choices, list | tuple) and len(choices) > max_choices:
            raise NeedsError(
                f"{where}choices: a step holds at most {max_choices:,} choices; this one has "
                f"{len(choices):,}"
            )


def field_path(data: object, loc: tuple[int | str, ...], *, missing: bool = False) -> str:
    """``undo[3].choices[0][2]``: the location of an error in the document itself (the
    validator's own labels, such as the member of a union, are left out; ``missing``: the
    last part names an absent field or item)."""
    path = ""
    for number, part in enumerate(loc):
        if missing and number == len(loc) - 1:
            return f"{path}[{part}]" if isinstance(part, int) else f"{path}.{part}".lstrip(".")
        if isinstance(data, Mapping) and isinstance(part, str) and part in data:
            path += f".{part}" if path else part
            data = data[part]
        elif isinstance(data, list | tuple) and isinstance(part, int) and part < len(data):
            path += f"[{part}]"
            data = data[part]
        elif isinstance(part, int):
            break
    return path


_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxstring, _SHORT.maxother = 3, 40, 40


def _show(value: object) -> str:
    """A short repr, whatever the size or depth of ``value``."""
    return _SHORT.repr(value)


def _canonical(document: Mapping[str, Any]) -> bytes:
    """The signed text: the document without its signature, keys sorted, no spaces."""
    unsigned = {key: value for key, value in document.items() if key != "signature"}
    try:
        text = json.dumps(unsigned, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError) as exc:
        raise NeedsError(f"the saved session is not JSON data: {exc}") from None
    return text.encode()


def _keys(signing_key: SigningKey) -> dict[str | None, bytes]:
    keys: dict[str | None, bytes]
    if isinstance(signing_key, bytes | bytearray):
        keys = {None: bytes(signing_key)}
    elif isinstance(signing_key, Mapping) and signing_key:
        keys = dict(signing_key.items())
    else:
        raise SignatureError(
            "signing_key must be a non-empty bytes key or a mapping of key id -> bytes key"
        )
    for kid, key in keys.items():
        if not isinstance(key, bytes | bytearray) or not key:
            raise SignatureError(f"signing key {kid!r} must be non-empty bytes")
        if kid is not None and not isinstance(kid, str):
            raise SignatureError(f"signing key ids must be strings, not {kid!r}")
    return keys


def sign(document: dict[str, Any], signing_key: SigningKey) -> dict[str, Any]:
    """The document with ``kid`` (when keys are given by id: the last one signs) and the
    hex HMAC-SHA256 ``signature`` of its canonical text."""
    keys = _keys(signing_key)
    kid, key = list(keys.items())[-1]
    signed = {key_name: value for key_name, value in document.items() if key_name != "kid"}
    if kid is not None:
        signed["kid"] = kid
    signed["signature"] = hmac.new(key, _canonical(signed), hashlib.sha256).hexdigest()
    return signed


def verify(data: Mapping[str, Any], saved: SavedSession, signing_key: SigningKey) -> None:
    """Check the signature of a validated document (SignatureError when it does not hold)."""
    keys = _keys(signing_key)
    if saved.signature is None:
        raise SignatureError(
            "the saved session is not signed, but a signing key was given; "
            "it may have been forged: start a new session"
        )
    if None in keys:
        key = keys[None]
    elif saved.kid is None:
        raise SignatureError(
            "the saved session's signature names no key id (kid), but keys were given by id; "
            "start a new session"
        )
    elif saved.kid in keys:
        key = keys[saved.kid]
    else:
        raise SignatureError(
            f"the saved session was signed with key '{saved.kid}', which is not among the "
            f"keys given ({', '.join(map(str, keys))}); it may have been retired: start a new "
            "session"
        )
    expected = hmac.new(key, _canonical(data), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, saved.signature):
        raise SignatureError(
            "the saved session's signature does not match its content: it was changed "
            "after it was saved, or signed with another key; start a new session"
        )


def session_document(
    catalog: Catalog,
    current: _History,
    undo: Iterable[_History],
    redo: Iterable[_History],
    *,
    signing_key: SigningKey | None = None,
) -> dict[str, Any]:
    """The saved document of a session's needs and choices and its history (see
    :meth:`Session.to_dict <modcfg.Session.to_dict>`), signed with ``signing_key`` if given."""

    def snapshot(needs: Needs | None, choices: tuple[_SessionChoice, ...]) -> dict[str, Any]:
        return {
            "needs": None
            if needs is None
            else needs.model_dump(mode="json", exclude_defaults=True),
            "choices": [[c.slot, c.module, c.quantity] for c in choices],
        }

    document = {
        "format": FORMAT,
        "catalog": catalog.name,
        "version": catalog.version,
        **snapshot(*current),
        "undo": [snapshot(*step) for step in undo],
        "redo": [snapshot(*step) for step in redo],
    }
    return document if signing_key is None else sign(document, signing_key)


def checked_document(
    catalog: Catalog, data: Mapping[str, Any], *, signing_key: SigningKey | None = None
) -> SavedSession:
    """A saved document validated, its signature verified (with ``signing_key``), and its
    catalog name checked against ``catalog`` (another version of it migrates)."""
    saved = validate_document(data, max_choices=choice_limit(catalog))
    if signing_key is not None:
        verify(data, saved, signing_key)
    if saved.catalog != catalog.name:
        raise NeedsError(
            f"the session was saved for catalog '{saved.catalog}' version "
            f"{saved.version}, but this configurator has '{catalog.name}' version "
            f"{catalog.version}; start a new session or load that catalog"
        )
    return saved


def load_step(
    cfg: Configurator,
    check: Callable[[str, str | None, int | None], _SessionChoice],
    step: SavedStep,
    where: str,
) -> _History:
    """One saved step's needs and choices, checked against the catalog (``check`` checks
    one choice); errors are prefixed with ``where``."""
    needs: Needs | None = None
    if step.needs is not None:
        try:
            needs = Needs.from_data(step.needs.data())
            cfg.resolve(needs)
        except NeedsError as exc:
            raise NeedsError(f"{where}{exc}") from None
    choices: list[_SessionChoice] = []
    seen: set[tuple[str, str | None]] = set()
    for number, (slot, module, quantity) in enumerate(step.choices):
        try:
            choice = check(slot, module, quantity)
        except NeedsError as exc:
            raise NeedsError(f"{where}choices[{number}]: {exc}") from None
        single = cfg.catalog.slots[slot].single
        key = (slot, None if single else module)
        if key in seen:
            repeated = f"slot '{slot}'" if single else f"module '{slot}.{module}'"
            raise NeedsError(f"{where}choices[{number}]: {repeated} is chosen twice")
        seen.add(key)
        choices.append(choice)
    return needs, tuple(choices)
