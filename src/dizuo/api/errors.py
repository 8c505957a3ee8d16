"""One error body for every failure: ``{"error": {"kind", "message", "hint", "where"}}``."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Message, Receive, Scope, Send

from dizuo.api.asgi import HttpMiddleware
from dizuo.errors import DizuoError
from dizuo.i18n import tr

log = logging.getLogger("dizuo.api")

STATUS = {
    "invalid_input": 400,
    "unauthenticated": 401,
    "forbidden": 403,
    "policy_violation": 403,
    "not_found": 404,
    "already_exists": 409,
    "conflict": 409,
    "quota_exceeded": 429,
    "unavailable": 503,
}


class ErrorDetail(BaseModel):
    kind: str
    message: str
    hint: str | None = None
    where: str | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


def body(
    kind: str, message: str, hint: str | None = None, where: str | None = None
) -> dict[str, Any]:
    return {"error": {"kind": kind, "message": message, "hint": hint, "where": where}}


# documented on every route
RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": desc}
    for code, desc in (
        (400, "invalid input"),
        (401, "no, invalid, expired or revoked token"),
        (403, "not allowed"),
        (404, "not found (or not visible to the caller)"),
        (409, "conflict with the current state (already exists, already decided, revoked)"),
        (422, "the request does not match the schema"),
    )
}


def install(app: FastAPI) -> None:
    @app.exception_handler(DizuoError)
    async def dizuo_error(_request: Request, exc: DizuoError) -> JSONResponse:
        status = STATUS.get(exc.kind, 400)
        where = exc.where.render() if exc.where is not None else None
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return JSONResponse(
            body(exc.kind, exc.message, exc.hint, where or None),
            status_code=status,
            headers=headers,
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {}
        loc = ".".join(str(p) for p in first.get("loc", ()))
        message = tr("请求不符合要求: {m}", "invalid request: {m}", m=first.get("msg", ""))
        return JSONResponse(body("invalid_input", message, where=loc or None), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        kind = {404: "not_found", 405: "method_not_allowed", 401: "unauthenticated"}.get(
            exc.status_code, "error"
        )
        message = str(exc.detail) if exc.detail else kind
        if exc.status_code == 404:
            message = tr("没有这个地址", "no such path")
        return JSONResponse(
            body(kind, message), status_code=exc.status_code, headers=getattr(exc, "headers", None)
        )


def crash_response() -> JSONResponse:
    incident = uuid.uuid4().hex[:12]
    return JSONResponse(
        body(
            "internal",
            tr("服务器内部错误（编号 {i}）", "internal error (incident {i})", i=incident),
        ),
        status_code=500,
        headers={"X-Dizuo-Incident": incident},
    )


class ShieldErrors(HttpMiddleware):
    """Pure ASGI middleware: an unexpected exception becomes the one error body (500) and one
    log line with its type and an incident number — never its message or traceback, which
    can carry values. It is not re-raised, so the server does not log it either."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:
            response = crash_response()
            log.error(
                "internal error %s: %s", response.headers["X-Dizuo-Incident"], type(exc).__name__
            )
            if not started:
                await response(scope, receive, send)
