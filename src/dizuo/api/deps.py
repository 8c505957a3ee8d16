"""What every route receives: the workspace, the caller, paging, the caller's language."""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from starlette.types import Receive, Scope, Send

from dizuo.api.asgi import HttpMiddleware
from dizuo.auth.service import Principal, authenticate, touch
from dizuo.errors import DizuoError, Unauthenticated
from dizuo.i18n import Lang, request_lang, tr
from dizuo.workspace import Workspace

bearer = HTTPBearer(
    auto_error=False, description="an API token: `dizuo token create` or /auth/login"
)


def workspace(request: Request) -> Workspace:
    ws: Workspace = request.app.state.ws
    return ws


WS = Annotated[Workspace, Depends(workspace)]


def principal(
    ws: WS, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Principal:
    with ws.session() as s:
        caller = authenticate(s, credentials.credentials if credentials else None)
    if caller.stale and caller.token_id is not None:
        with ws.session() as s:  # its own short write: the first statement is the UPDATE
            touch(s, caller.token_id)
    return caller


Caller = Annotated[Principal, Depends(principal)]


class Paging(BaseModel):
    offset: int
    limit: int


def paging(
    offset: Annotated[int, Query(ge=0, le=10**9, description="items to skip")] = 0,
    limit: Annotated[int, Query(ge=1, le=500, description="items per page")] = 50,
) -> Paging:
    return Paging(offset=offset, limit=limit)


Page = Annotated[Paging, Depends(paging)]


class PageMeta(BaseModel):
    total: int = Field(description="items matching, on all pages")
    offset: int
    limit: int
    next_offset: int | None = Field(description="offset of the next page; null on the last")


def meta(page: Paging, total: int) -> dict[str, Any]:
    following = page.offset + page.limit
    return {
        "total": total,
        "offset": page.offset,
        "limit": page.limit,
        "next_offset": following if following < total else None,
    }


class Language(HttpMiddleware):
    """Pure ASGI middleware: Accept-Language ``en…`` answers in English, else Chinese."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        lang: Lang | None = None
        for name, value in scope.get("headers", []):
            if name == b"accept-language":
                first = value.decode("latin-1").split(",")[0].strip().lower()
                lang = "en" if first.startswith("en") else "zh" if first.startswith("zh") else None
                break
        token = request_lang.set(lang)
        try:
            await self.app(scope, receive, send)
        finally:
            request_lang.reset(token)


PUBLIC = frozenset({"/health", "/api/v1/auth/login", "/api/v1/openapi.json", "/api/v1/docs"})


class RequireBearer(HttpMiddleware):
    """Pure ASGI middleware: a request to a protected path without a bearer token is refused
    before its body is read (no upload is spooled, no body parsed for an anonymous caller).
    The token itself is checked by :func:`principal`."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] in PUBLIC or scope["method"] == "OPTIONS":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        scheme, _, credentials = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
        refusal: DizuoError | None = None
        if scheme.lower() != "bearer" or not credentials.strip():
            refusal = Unauthenticated(
                tr(
                    "需要登录：请在 Authorization 头中提供 Bearer 令牌",
                    "authentication required: send a Bearer token in the Authorization header",
                )
            )
        elif headers.get(b"content-type", b"").startswith(b"multipart/"):
            # an upload is spooled to disk as it is parsed: check the token before that
            ws: Workspace = scope["app"].state.ws

            def check() -> None:
                with ws.session() as s:
                    authenticate(s, credentials.strip())

            try:
                await anyio.to_thread.run_sync(check)
            except Unauthenticated as exc:
                refusal = exc
        if refusal is None:
            await self.app(scope, receive, send)
            return
        from starlette.responses import JSONResponse

        from dizuo.api.errors import body

        response = JSONResponse(
            body(refusal.kind, refusal.message),
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
        await response(scope, receive, send)
