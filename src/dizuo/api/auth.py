"""Routes of ``auth``: login, the caller, tokens, users."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Body, status
from pydantic import BaseModel, Field

from dizuo.api.deps import WS, Caller, Page, meta
from dizuo.api.errors import RESPONSES
from dizuo.api.schemas import Me, NewToken, TokenOut, TokenPage, UserOut, UserPage
from dizuo.audit import log as audit
from dizuo.auth import service as auth
from dizuo.auth.models import ApiToken, User
from dizuo.errors import Forbidden, Unauthenticated
from dizuo.i18n import tr

router = APIRouter(tags=["auth"], responses=RESPONSES)


def token_out(t: ApiToken) -> dict[str, Any]:
    return {
        "id": str(t.id),
        "name": t.name,
        "kind": t.kind,
        "scopes": list(t.scopes),
        "created_at": auth.aware(t.created_at),
        "expires_at": auth.aware(t.expires_at),
        "revoked_at": auth.aware(t.revoked_at) if t.revoked_at else None,
        "last_used_at": auth.aware(t.last_used_at) if t.last_used_at else None,
    }


def user_out(u: User) -> dict[str, Any]:
    return {
        "username": u.username,
        "display_name": u.display_name,
        "organisation": u.organisation.code,
        "roles": list(u.roles),
        "active": u.active,
        "created_at": auth.aware(u.created_at),
    }


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


@router.post("/auth/login", response_model=NewToken, summary="Log in: a session token")
def login(ws: WS, body: LoginIn) -> dict[str, Any]:
    try:
        # the password is checked (~0.2 s of Argon2) outside any write transaction, so
        # logins never hold SQLite's write lock while hashing
        with ws.session() as s:
            user_id = auth.check_login(s, body.username, body.password).id
        with ws.session(write=True) as s:
            user = s.get(User, user_id)
            if user is None or not user.active:
                raise Unauthenticated(tr("用户名或密码错误", "wrong username or password"))
            token, secret = auth.create_token(
                s, user, name="login", days=ws.settings.session_hours / 24, kind="session"
            )
            audit.record(
                ws, s, actor=user.username, action="auth.login", target=f"user:{user.username}"
            )
            return {"token": secret, "info": token_out(token)}
    except Unauthenticated:
        with ws.session(write=True) as s:
            exists = s.scalar(sa.select(User.id).where(User.username == body.username))
            audit.record(
                ws,
                s,
                actor=body.username if exists else "anonymous",
                action="auth.login",
                outcome="denied",
                # what was typed may be anything (even an ID number): only its digest
                details={} if exists else {"username": audit.keyed_digest(ws, body.username)},
            )
        raise


@router.get("/auth/me", response_model=Me, summary="Who am I")
def me(ws: WS, caller: Caller) -> dict[str, Any]:
    with ws.session() as s:
        user = auth.get_user(s, caller.username)
        return {**user_out(user), "permissions": sorted(caller.permissions)}


class TokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    scopes: list[str] | None = Field(None, description="default: everything the caller may do")
    days: float = Field(90, gt=0, le=auth.MAX_TOKEN_DAYS)


@router.post("/auth/tokens", response_model=NewToken, status_code=status.HTTP_201_CREATED)
def create_token(ws: WS, caller: Caller, body: TokenIn) -> dict[str, Any]:
    """A new API token; its scopes cannot exceed the calling token's."""
    scopes = body.scopes if body.scopes else sorted(caller.permissions)
    beyond = [x for x in scopes if x not in caller.permissions and x in auth.PERMISSIONS]
    if beyond:
        raise Forbidden(
            tr(
                "调用令牌不含权限 {s}",
                "the calling token does not hold {s}",
                s=", ".join(beyond),
            )
        )
    if caller.token_kind != "session" and caller.token_expires is not None:
        # an API token cannot renew itself: only a password login makes longer-lived tokens
        if auth.utcnow() + timedelta(days=body.days) > caller.token_expires:
            raise Forbidden(
                tr(
                    "新令牌不能比创建它的令牌（{e} 到期）活得更久；请用密码登录后创建",
                    "a token cannot outlive the token that creates it (it expires {e}); log in"
                    " with a password to create a longer-lived one",
                    e=caller.token_expires.isoformat(timespec="minutes"),
                )
            )
    with ws.session(write=True) as s:
        user = auth.get_user(s, caller.username)
        token, secret = auth.create_token(s, user, name=body.name, scopes=scopes, days=body.days)
        audit.record(
            ws,
            s,
            actor=caller.username,
            action="token.create",
            target=f"token:{token.id}",
            details={"scopes": list(token.scopes), "days": body.days},
        )
        return {"token": secret, "info": token_out(token)}


@router.get("/auth/tokens", response_model=TokenPage, summary="My tokens")
def list_tokens(ws: WS, caller: Caller, page: Page) -> dict[str, Any]:
    with ws.session() as s:
        user = auth.get_user(s, caller.username)
        tokens = auth.list_tokens(s, user)
        return {
            "items": [token_out(t) for t in tokens[page.offset : page.offset + page.limit]],
            "page": meta(page, len(tokens)),
        }


@router.delete("/auth/tokens/{token_id}", response_model=TokenOut, summary="Revoke a token")
def revoke_token(ws: WS, caller: Caller, token_id: uuid.UUID) -> dict[str, Any]:
    with ws.session(write=True) as s:
        owner = None if caller.has("users:manage") else caller.user_id
        token = auth.revoke_token(s, token_id, owner=owner)
        audit.record(
            ws, s, actor=caller.username, action="token.revoke", target=f"token:{token.id}"
        )
        return token_out(token)


class UserIn(BaseModel):
    username: str = Field(min_length=2, max_length=64)
    password: str = Field(min_length=auth.MIN_PASSWORD, max_length=1024)
    org: str = Field(min_length=1, max_length=64)
    roles: list[str] = Field(min_length=1, max_length=5)
    display_name: str = Field("", max_length=200)


@router.get("/users", response_model=UserPage, summary="Accounts (admin)")
def list_users(ws: WS, caller: Caller, page: Page) -> dict[str, Any]:
    caller.require("users:manage")
    with ws.session() as s:
        users = auth.list_users(s)
        return {
            "items": [user_out(u) for u in users[page.offset : page.offset + page.limit]],
            "page": meta(page, len(users)),
        }


@router.post(
    "/users", response_model=UserOut, status_code=status.HTTP_201_CREATED, summary="Add an account"
)
def add_user(ws: WS, caller: Caller, body: Annotated[UserIn, Body()]) -> dict[str, Any]:
    caller.require("users:manage")
    with ws.session(write=True) as s:
        user = auth.add_user(
            s,
            body.username,
            body.password,
            org=body.org,
            roles=body.roles,
            display_name=body.display_name,
        )
        audit.record(
            ws,
            s,
            actor=caller.username,
            action="user.add",
            target=f"user:{user.username}",
            details={"org": body.org, "roles": list(user.roles)},
        )
        return user_out(user)
