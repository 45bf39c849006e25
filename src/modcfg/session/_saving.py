"""Writing a session as a (signed) JSON document: the half of :class:`~._session.Session`'s
saving that reads its state (a base class of it). Reading a document back, which checks it
as untrusted input and restores a session's own steps, stays with the session
(``Session.from_dict``, ``Session.from_json``).
"""

from __future__ import annotations

import json
from collections import deque
from typing import TYPE_CHECKING, Any, Protocol

from ._saved import SigningKey, session_document

if TYPE_CHECKING:
    from .._configurator import Configurator
    from ..model import Needs
    from ._compute import _Choice, _History

__all__ = ["SavedSessions"]


class _Saved(Protocol):
    """What a saved document holds of a session."""

    _cfg: Configurator
    _needs: Needs | None
    _choices: tuple[_Choice, ...]
    _undo: deque[_History]
    _redo: deque[_History]

    def to_dict(self, *, signing_key: SigningKey | None = None) -> dict[str, Any]: ...


class SavedSessions:
    """:meth:`to_dict` and :meth:`to_json` of a :class:`~._session.Session`."""

    def to_dict(self: _Saved, *, signing_key: SigningKey | None = None) -> dict[str, Any]:
        """A JSON-friendly dict that :meth:`from_dict` restores exactly.

        With ``signing_key`` (bytes, or a mapping key id -> bytes whose last entry signs) the
        dict carries an HMAC-SHA256 ``signature`` (and the ``kid``), so a session kept by the
        client cannot be changed unnoticed.
        """
        return session_document(
            self._cfg.catalog,
            (self._needs, self._choices),
            self._undo,
            self._redo,
            signing_key=signing_key,
        )

    def to_json(self: _Saved, *, signing_key: SigningKey | None = None) -> str:
        """:meth:`to_dict` as JSON text, which :meth:`from_json` restores exactly."""
        return json.dumps(self.to_dict(signing_key=signing_key), separators=(",", ":"))
