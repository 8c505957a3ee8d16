"""The FastAPI application: one router per package, one error shape, Chinese by default."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio.to_thread
from fastapi import FastAPI

from dizuo import __version__
from dizuo.api import audit, auth, catalog, errors, share
from dizuo.api.deps import Language, RequireBearer
from dizuo.workspace import Workspace

PREFIX = "/api/v1"
MAX_BODY = 1024 * 1024  # JSON bodies; uploads have their own limit

DESCRIPTION = """
dizuo（底座）数据服务：账号与令牌、数据产品、申请与审批、授权、计量与审计。

The dizuo data service: accounts and tokens, data products (数据产品), access requests and
approvals (申请 / 审批), grants (授权) with enforced delivery and metering, and a hash-chained
audit log. Every route but `/health` and `/api/v1/auth/login` needs a bearer token. Errors
have one shape: `{"error": {"kind", "message", "hint", "where"}}`. Send `Accept-Language: en`
for English messages.
"""


def create_app(
    ws: Workspace | None = None, home: Path | None = None, *, threads: int = 8
) -> FastAPI:
    """The application over ``ws`` (or the workspace at ``home``); ``threads`` bounds the
    worker threads that run the (synchronous) routes."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = max(1, threads)
        yield

    app = FastAPI(
        lifespan=lifespan,
        max_body_size=MAX_BODY,
        title="dizuo",
        version=__version__,
        description=DESCRIPTION,
        openapi_url=f"{PREFIX}/openapi.json",
        docs_url=f"{PREFIX}/docs",
        redoc_url=None,
    )
    app.state.ws = ws or Workspace.open(home)
    errors.install(app)
    app.add_middleware(errors.ShieldErrors)  # innermost of ours: wraps the routes
    app.add_middleware(RequireBearer)
    app.add_middleware(Language)  # added last: runs first, so the refusal is translated too
    for module in (auth, catalog, share, audit):
        app.include_router(module.router, prefix=PREFIX)

    @app.get("/health", tags=["service"], summary="Liveness")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
