"""The modcfg exception tree.

Every error a user can cause is a subclass of :class:`ModcfgError`. Messages say what is wrong,
where (file, line, slot, module, rule id) and how to fix it::

    ModcfgError
     ├── CatalogError                a catalog file or object is malformed (also a ValueError)
     │    └── CatalogNotFoundError   no such catalog file or bundled name
     │                               (also a FileNotFoundError)
     ├── NeedsError                  a customer's needs are malformed or do not fit the catalog
     │    │                          (also a ValueError)
     │    └── SignatureError         a signed saved session's signature does not hold
     ├── InfeasibleError             no configuration satisfies the needs or the catalog's
     │                               rules (carries the conflict: needs and rule ids)
     ├── LimitExceeded               a configured time or size limit was hit
     ├── ConsentError                a customer's order was offered for storage without
     │                               their consent (nothing is stored)
     └── MemoryStoreError            a customer memory database cannot be used: bad URL,
                                     unknown or newer schema, missing encryption key

The classes are defined here and exported by :mod:`modcfg`; their ``__module__`` is
``"modcfg"``, so tracebacks and reprs show the public name (``modcfg.NeedsError``), which is
also where pickles find them.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ._reasons import Reason

__all__ = [
    "CatalogError",
    "CatalogNotFoundError",
    "ConsentError",
    "InfeasibleError",
    "LimitExceeded",
    "MemoryStoreError",
    "ModcfgError",
    "NeedsError",
    "Relaxation",
    "SignatureError",
    "TimeLimitExceeded",
    "did_you_mean",
]


class ModcfgError(Exception):
    """Base class of every error modcfg raises on purpose.

    Errors pickle with every field (an error raised on a Dask worker reaches the client
    whole), also when a library registers its own exception pickling, as Dask does.
    """

    __module__ = "modcfg"

    def __reduce__(self) -> tuple[Any, ...]:
        return _rebuilt, (type(self), self.args, dict(self.__dict__))


class CatalogError(ModcfgError, ValueError):
    """A catalog is malformed: the message names the file, line and the id at fault.

    ``where`` holds the location path inside the catalog (``("rules", 3, "excludes")``),
    ``path`` the file and ``line`` the 1-based line number when known.
    """

    __module__ = "modcfg"

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        where: Sequence[str | int] = (),
    ) -> None:
        self.message = message
        self.path = path
        self.line = line
        self.where = tuple(where)
        super().__init__(self._render())

    def _render(self) -> str:
        place = []
        if self.path:
            place.append(self.path if self.line is None else f"{self.path}, line {self.line}")
        elif self.line is not None:
            place.append(f"line {self.line}")
        return f"{self.message} ({place[0]})" if place else self.message

    def located(self, *, path: str | None, line: int | None) -> CatalogError:
        """Return a copy of this error (of the same class) that carries a file and line."""
        return type(self)(
            self.message,
            path=path or self.path,
            line=self.line if self.line is not None else line,
            where=self.where,
        )


class CatalogNotFoundError(CatalogError, FileNotFoundError):
    """No catalog file at the given path, and no bundled catalog of that name.

    Also a :class:`FileNotFoundError`, so ``except FileNotFoundError`` catches it too.
    """

    __module__ = "modcfg"


class NeedsError(ModcfgError, ValueError):
    """A customer's needs are malformed or refer to things the catalog does not have."""

    __module__ = "modcfg"


class SignatureError(NeedsError):
    """A saved session restored with a signing key is unsigned, was changed after it was
    signed, or was signed with a key that is not given (a forged loyalty frequency, say)."""

    __module__ = "modcfg"


@dataclass(frozen=True)
class Relaxation:
    """One way out of an infeasible request: drop or change some needs.

    ``dropped`` names the needs it drops or changes, as the conflict does, and ``reasons``
    holds the same needs as :class:`Reason` objects (``need`` says which field of the needs).
    ``unlocked`` is the number of configurations the relaxed needs admit, ``from_price`` the
    cheapest total among them (``None`` when prices were not computed).
    """

    description: str
    dropped: tuple[str, ...]
    unlocked: int
    from_price: Any = None
    currency: str = ""
    reasons: tuple[Reason, ...] = ()

    def __str__(self) -> str:
        price = ""
        if self.from_price is not None:
            price = f", from {self.currency} {self.from_price}".replace("  ", " ")
        noun = "configuration" if self.unlocked == 1 else "configurations"
        return f"{self.description} -> {self.unlocked} {noun}{price}"


class InfeasibleError(ModcfgError):
    """No configuration satisfies the request.

    ``conflict`` says what clashes: the customer's needs (each as a short description such as
    ``"require glass.triple"``) or, when the catalog's rules alone leave nothing, the messages
    of a minimal set of contradicting rules. ``rules`` holds the ids of the catalog rules
    involved (when known), and ``relaxations`` ranks ways out, best first. ``reasons`` holds
    the same conflict as :class:`Reason` objects (the needs or choices, then the rules; for a
    configuration that breaks the rules, what it breaks), for programs that branch on the kind
    of each. The text shows the conflict and the rules unless the message already names them.
    """

    __module__ = "modcfg"

    def __init__(
        self,
        message: str,
        *,
        conflict: Iterable[str] = (),
        rules: Iterable[str] = (),
        relaxations: Iterable[Relaxation] = (),
        reasons: Iterable[Reason] = (),
    ) -> None:
        self.conflict = tuple(conflict)
        self.rules = tuple(rules)
        self.relaxations = tuple(relaxations)
        self.reasons = tuple(reasons)
        lines = [message]
        if any(text not in message for text in self.conflict):
            lines.append("clashing needs: " + "; ".join(self.conflict))
        if any(rule not in message for rule in self.rules):
            lines.append("rules involved: " + ", ".join(self.rules))
        lines.extend(f"  try: {relaxation}" for relaxation in self.relaxations)
        super().__init__("\n".join(lines))


class LimitExceeded(ModcfgError):
    """A configured time or size limit was hit before the work finished.

    ``estimate`` and ``limit`` are the amounts compared, when known (bytes, for the memory
    limit of :func:`modcfg.compile`).
    """

    def __init__(
        self, message: str, *, estimate: int | None = None, limit: int | None = None
    ) -> None:
        super().__init__(message)
        self.estimate = estimate
        self.limit = limit

    __module__ = "modcfg"


class TimeLimitExceeded(LimitExceeded):
    """A ``time_limit`` passed before the work finished: a :class:`LimitExceeded` (code that
    catches that catches this too), told apart from the size and memory limits by its type.
    Asking again with a larger ``time_limit`` (or none) gives the answer."""

    __module__ = "modcfg"


class ConsentError(ModcfgError):
    """A customer's data was offered to a :class:`~modcfg.memory.CustomerMemory` without their
    consent: nothing was stored. Ask the customer, then record with ``consent=True``."""

    __module__ = "modcfg"


class MemoryStoreError(ModcfgError):
    """A customer memory database cannot be used as asked: the URL is malformed or names an
    unsupported database, the schema is unknown or newer than this modcfg, a customer id is
    malformed, or the stored profiles are encrypted and no key (or a wrong one) was given."""

    __module__ = "modcfg"


def _rebuilt(cls: type[ModcfgError], args: tuple[Any, ...], state: dict[str, Any]) -> ModcfgError:
    """An unpickled error: its message arguments and fields, without running ``__init__``
    again (whose keyword fields are not in ``args``)."""
    # (the catalog-not-found error is also an OSError, whose memory layout it has)
    base = OSError if issubclass(cls, OSError) else Exception
    error = base.__new__(cls, *args)
    error.args = args
    error.__dict__.update(state)
    return error


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """Return ``"; did you mean 'x'?"`` for the closest candidate, or ``""``.

    >>> did_you_mean("lamnated", ["laminated", "float"])
    "; did you mean 'laminated'?"
    """
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f"; did you mean '{matches[0]}'?" if matches else ""
