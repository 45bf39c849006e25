"""Errors as RFC 9457 problem documents (``application/problem+json``), and the request-size cap.

Invariants: every error a client can cause leaves as a 4xx problem whose ``detail`` says what
is wrong and how to fix it, and whose ``field`` names the request field at fault when there
is one; a request that would run past the solver cap is a 503 with ``Retry-After``; nothing a
client sends reaches the handlers past the body-size cap (413).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .._errors import (
    CatalogNotFoundError,
    ConsentError,
    InfeasibleError,
    LimitExceeded,
    ModcfgError,
    SignatureError,
    TimeLimitExceeded,
)

__all__ = ["BodyLimit", "ProblemError", "install_handlers", "problem_response"]

PROBLEM_TYPE = "application/problem+json"


class ProblemError(Exception):
    """A request the storefront refuses, with its HTTP status and the field at fault."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        field: str | None = None,
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.field = field
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})


def problem_response(
    status: int,
    detail: str,
    *,
    field: str | None = None,
    errors: Sequence[Mapping[str, Any]] = (),
    extra: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """A problem document response."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "field": field,
        "errors": list(errors),
        **(extra or {}),
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_TYPE, headers=headers)


def from_library(error: ModcfgError, field: str | None, retry_after: int) -> ProblemError:
    """The problem a library error makes (``field``: the request field it concerns)."""
    if isinstance(error, SignatureError):
        return ProblemError(403, str(error), field="session")  # (it says to start anew)
    if isinstance(error, CatalogNotFoundError):
        return ProblemError(404, str(error), field="name")
    if isinstance(error, TimeLimitExceeded):
        return solver_cap(retry_after, str(error))
    if isinstance(error, LimitExceeded):  # (a size or memory limit: retrying does not help)
        return ProblemError(422, str(error), field=field)
    if isinstance(error, InfeasibleError):
        extra = {
            "conflict": list(error.conflict),
            "relaxations": [str(relaxation) for relaxation in error.relaxations],
        }
        return ProblemError(409, str(error), field=field, extra=extra)
    if isinstance(error, ConsentError):
        return ProblemError(422, str(error), field="consent")
    return ProblemError(422, str(error), field=field)


def solver_cap(retry_after: int, why: str = "") -> ProblemError:
    """The 503 problem of a request that would run past the solver's time cap."""
    detail = "the request would run past the server's solver time cap"
    if why:
        detail += f" ({why})"
    return ProblemError(
        503,
        detail + "; retry later, or narrow the needs",
        headers={"Retry-After": str(retry_after)},
    )


def _field(location: Sequence[Any]) -> str:
    parts = [str(part) for part in location]
    if parts and parts[0] in ("body", "query", "path"):
        parts = parts[1:]
    return ".".join(parts) or "body"


async def _on_validation(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)  # (as registered)
    errors = [
        {"field": _field(item.get("loc", ())), "message": item.get("msg", ""), "type": item["type"]}
        if item["type"] != "json_invalid"
        else {  # (its location is a character offset into the body, not a field)
            "field": "body",
            "message": f"the body is not valid JSON ({item.get('msg', '')} at character "
            f"{_field(item.get('loc', ()))})",
            "type": item["type"],
        }
        for item in error.errors()
    ]
    first = errors[0] if errors else {"field": "body", "message": "invalid request"}
    detail = f"{first['field']}: {first['message']}"
    if len(errors) > 1:
        detail += f" (and {len(errors) - 1} more: see errors)"
    return problem_response(422, detail, field=first["field"], errors=errors)


async def _on_problem(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ProblemError)  # (as registered)
    return problem_response(
        error.status, error.detail, field=error.field, extra=error.extra, headers=error.headers
    )


async def _on_http(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)  # (as registered)
    detail = error.detail if isinstance(error.detail, str) else json.dumps(error.detail)
    return problem_response(error.status_code, detail, headers=error.headers)


def install_handlers(app: Any) -> None:
    """Register the problem handlers on a FastAPI app."""
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(ProblemError, _on_problem)
    app.add_exception_handler(StarletteHTTPException, _on_http)


class BodyLimit:
    """ASGI middleware refusing request bodies over ``limit`` bytes with a 413 problem, by
    ``Content-Length`` up front and by counting a streamed body."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared < 0 or declared > self.limit:
                    await self._refuse(scope, receive, send)
                    return
        # a body without a declared length is read here, up to the limit, and handed on whole
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.limit:
                await self._refuse(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    def _detail(self) -> str:
        return (
            f"the request body is over the server's limit of {self.limit:,} bytes; "
            "send a smaller request (a session document grows with its undo history)"
        )

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(413, self._detail(), field="body")
        await response(scope, receive, send)
