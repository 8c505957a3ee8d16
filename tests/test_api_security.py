"""Security of the API: every route refuses a caller without a valid token; each role may do
its own work and nothing else; another user's objects answer exactly as if they did not
exist; token scopes narrow what a token may do; and no personal value reaches the audit log,
the metering table or any log output.

One world (accounts, a protected dataset, two products, one grant) and one server serve the
whole module; tests that change state use their own tokens, users and products.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx2 as httpx
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import hashes

from dizuo.auth import service as auth
from dizuo.auth.models import ApiToken
from dizuo.workspace import Workspace
from tests.api_support import API, PASSWORD, USERS, Api, World, build_world, error, ok, serve
from tests.test_api_e2e import RECIPE

# -- the module's world ------------------------------------------------------------------


class Collect(logging.Handler):
    """Every log record, formatted with its arguments and any traceback."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # a record whose arguments do not format: keep both parts
            message = f"{record.msg!r} {record.args!r}"
        text = f"{record.name} {record.levelname} {message}"
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        if record.stack_info:
            text += "\n" + record.stack_info
        self.lines.append(text)


class Caller(Api):
    """:class:`Api` over one kept-alive connection per token: a new HTTP client costs tens of
    milliseconds (its TLS context), more than the call it makes."""

    def http(self) -> httpx.Client:
        key = (self.base, self.token)
        client = _clients.get(key)
        if client is None:
            headers = {"Accept-Language": "en"}
            if self.token:
                headers["Authorization"] = f"Bearer {self.token}"
            client = httpx.Client(base_url=self.base + API, headers=headers, timeout=120)
            _clients[key] = client
        return client

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.http().get(path, **kw)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return self.http().post(path, **kw)

    def delete(self, path: str, **kw: Any) -> httpx.Response:
        return self.http().delete(path, **kw)

    def call(self, method: str, path: str, **kw: Any) -> httpx.Response:
        return self.http().request(method, path, **kw)

    def as_user(self, username: str) -> Caller:
        r = Caller(self.base).post("/auth/login", json={"username": username, "password": PASSWORD})
        assert r.status_code == 200, r.text
        return Caller(self.base, r.json()["token"])


_clients: dict[tuple[str, str | None], httpx.Client] = {}


@dataclass
class Env:
    world: World
    ws: Workspace
    base: str
    users: dict[str, Caller]
    logs: Collect
    routes: list[tuple[str, str]]
    raw: httpx.Client  # no token, no prefix: for /health and full OpenAPI paths

    @property
    def gid(self) -> str:
        return self.world.grant_id

    @property
    def rid(self) -> str:
        return self.world.request_id


# uvicorn's loggers do not propagate to the root; its access log stays off as in `dizuo serve`
# (a handler on uvicorn.access would switch it on). The test client's own loggers are quieted:
# they log the URLs this module sends, which is the client's business, not the service's.
SERVER_LOGGERS = ("uvicorn", "uvicorn.error")
CLIENT_LOGGERS = ("httpx2", "httpcore2")


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    from dizuo.api.app import create_app
    from dizuo.i18n import set_lang

    logs = Collect()
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in ("", *CLIENT_LOGGERS)}
    with pytest.MonkeyPatch.context() as mp:
        set_lang(None)
        mp.setenv("DIZUO_LANG", "en")
        mp.setenv("DIZUO_USER", "tester")
        mp.delenv("DIZUO_HOME", raising=False)
        mp.delenv("DIZUO_DATABASE_URL", raising=False)
        root.addHandler(logs)
        root.setLevel(logging.DEBUG)
        for name in CLIENT_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)
        folder = tmp_path_factory.mktemp("security")
        ws = Workspace.init(folder / "ws")
        try:
            world = build_world(ws, folder)
            with serve(ws) as base:
                # uvicorn configures its loggers when the server is made: attach after
                logging.getLogger("uvicorn").addHandler(logs)
                for name in SERVER_LOGGERS:
                    levels.setdefault(name, logging.getLogger(name).level)
                    logging.getLogger(name).setLevel(logging.DEBUG)
                users = {name: Caller(base).as_user(name) for name in USERS}
                paths = create_app(ws).openapi()["paths"]
                routes = sorted((m.upper(), p) for p, ops in paths.items() for m in ops)
                raw = httpx.Client(base_url=base, headers={"Accept-Language": "en"}, timeout=60)
                _clients[(base, "raw")] = raw
                yield Env(world, ws, base, users, logs, routes, raw)
        finally:
            for client in _clients.values():
                client.close()
            _clients.clear()
            logging.getLogger("uvicorn").removeHandler(logs)
            root.removeHandler(logs)
            for name, level in levels.items():
                logging.getLogger(name).setLevel(level)
            ws.close()


# -- helpers -----------------------------------------------------------------------------


def request(env: Env, method: str, path: str, **kw: Any) -> httpx.Response:
    """One call on a full path (``/health``, ``/api/v1/...``), with only the headers given."""
    return env.raw.request(method, path, **kw)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def masked(detail: dict[str, Any], *idents: str) -> dict[str, Any]:
    """An error body with the given identifiers replaced, to compare two answers."""
    text = json.dumps(detail, ensure_ascii=False, sort_keys=True)
    for ident in idents:
        text = text.replace(ident, "<id>")
    out: dict[str, Any] = json.loads(text)
    return out


def same_as_missing(seen: httpx.Response, ident: str, missing: httpx.Response, other: str) -> None:
    """``seen`` (an object the caller may not see) answers exactly like ``missing``."""
    a = error(seen, 404, "not_found")
    b = error(missing, 404, "not_found")
    assert masked(a, ident) == masked(b, other), (a, b)


PARAM = re.compile(r"\{(\w+)\}")


def concrete(env: Env, path: str, token_id: str) -> str:
    """The path with real identifiers in place of its parameters."""

    def value(m: re.Match[str]) -> str:
        name = m.group(1)
        if name == "grant_id":
            return env.gid
        if name == "request_id":
            return env.rid
        if name == "token_id":
            return token_id
        if name == "code" and path.startswith(f"{API}/datasets/"):
            return "edu_roll"
        if name == "code" and path.startswith(f"{API}/products/"):
            return "edu.scores"
        raise AssertionError(f"no test value for {{{name}}} in {path}: add one to concrete()")

    return PARAM.sub(value, path)


PUBLIC = {("GET", "/health"), ("POST", f"{API}/auth/login")}


def sweep(
    env: Env, headers: dict[str, str], token_id: str, *, bodies: bool = True
) -> dict[tuple[str, str], int]:
    """Call every route with ``headers`` (without a body; with ``bodies`` also with an empty
    JSON body for writes); assert the 401 shape wherever it is refused; return each route's
    status."""
    statuses: dict[tuple[str, str], int] = {}
    for method, path in env.routes:
        url = concrete(env, path, token_id)
        attempts: list[dict[str, Any]] = [{}]
        if bodies and method in ("POST", "PUT", "PATCH"):
            attempts.append({"json": {}})
        for kw in attempts:
            r = env.raw.request(method, url, headers=headers, **kw)
            statuses[(method, path)] = r.status_code
            if (method, path) in PUBLIC:
                continue
            body = error(r, 401, "unauthenticated")
            assert r.headers.get("www-authenticate") == "Bearer", (method, path, r.headers)
            assert body["message"], (method, path)
    return statuses


def any_token_id(env: Env) -> str:
    with env.ws.session() as s:
        token = s.scalars(sa.select(ApiToken)).first()
        assert token is not None
        return str(token.id)


def new_user(
    env: Env, username: str, org: str = "acme", roles: tuple[str, ...] = ("consumer",)
) -> None:
    with env.ws.session() as s:
        auth.add_user(s, username, PASSWORD, org=org, roles=list(roles))


# -- 1. no token, bad tokens -------------------------------------------------------------


def test_every_route_refuses_a_caller_without_a_token(env: Env) -> None:
    everything = env.routes
    assert len(everything) >= 30  # the enumeration found the routes
    statuses = sweep(env, {}, any_token_id(env))
    # the only routes open without a token, stated once
    allowed = {route for route, status in statuses.items() if status != 401}
    assert allowed == PUBLIC, allowed
    assert ok(request(env, "GET", "/health")) == {"status": "ok"}
    # login without credentials is a validation error, with wrong ones a 401
    error(request(env, "POST", f"{API}/auth/login", json={}), 422, "invalid_input")
    wrong = request(
        env, "POST", f"{API}/auth/login", json={"username": "consumer", "password": "nope"}
    )
    assert error(wrong, 401, "unauthenticated")["message"] == "wrong username or password"
    # a wrong scheme or an empty bearer counts as no token
    for headers in ({"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer"}):
        r = request(env, "GET", f"{API}/auth/me", headers=headers)
        assert error(r, 401, "unauthenticated")["message"].startswith("authentication required")
        assert r.headers["www-authenticate"] == "Bearer"


REPRESENTATIVE = [
    ("GET", "/auth/me", {}),
    ("GET", "/products", {}),
    ("POST", "/grants/{gid}/query", {"json": {"limit": 1}}),
    ("GET", "/grants/{gid}/download", {}),
    ("GET", "/audit/verify", {}),
]


def refused(env: Env, token: str, message: str) -> None:
    """``token`` is refused with ``message`` on the representative routes."""
    for method, path, kw in REPRESENTATIVE:
        r = request(env, method, API + path.format(gid=env.gid), headers=bearer(token), **kw)
        body = error(r, 401, "unauthenticated")
        assert body["message"] == message, (path, body)
        assert r.headers["www-authenticate"] == "Bearer"


def test_bad_tokens_are_refused_everywhere(env: Env) -> None:
    ws = env.ws
    consumer = env.users["consumer"]
    # a token that works, for contrast
    fresh = ok(consumer.post("/auth/tokens", json={"name": "contrast", "days": 1}), 201)
    assert ok(Caller(env.base, fresh["token"]).get("/auth/me"))["username"] == "consumer"

    # expired: issued, then its expiry moved into the past in the database
    with ws.session() as s:
        token, expired = auth.create_token(s, auth.get_user(s, "consumer"), name="old", days=1)
        expired_id = token.id
    assert ok(Caller(env.base, expired).get("/auth/me"))["username"] == "consumer"
    with ws.session() as s:
        s.execute(
            sa.update(ApiToken)
            .where(ApiToken.id == expired_id)
            .values(expires_at=auth.utcnow() - timedelta(minutes=1))
        )

    # revoked through the API
    made = ok(consumer.post("/auth/tokens", json={"name": "to-revoke", "days": 1}), 201)
    revoked = made["token"]
    assert ok(Caller(env.base, revoked).get("/auth/me"))["username"] == "consumer"
    gone = ok(consumer.delete(f"/auth/tokens/{made['info']['id']}"))
    assert gone["revoked_at"] is not None

    # a disabled user: disabling revokes the tokens; un-revoke one so that only the
    # disabled account stands between it and the API
    new_user(env, "sec_disabled")
    with ws.session() as s:
        token, disabled = auth.create_token(s, auth.get_user(s, "sec_disabled"), name="d")
        disabled_id = token.id
    assert ok(Caller(env.base, disabled).get("/auth/me"))["username"] == "sec_disabled"
    with ws.session() as s:
        auth.set_active(s, "sec_disabled", False)
    refused(env, disabled, "the token was revoked")
    with ws.session() as s:
        s.execute(sa.update(ApiToken).where(ApiToken.id == disabled_id).values(revoked_at=None))
    error(
        Caller(env.base).post(
            "/auth/login", json={"username": "sec_disabled", "password": PASSWORD}
        ),
        401,
        "unauthenticated",
    )

    cases = {
        "garbage": ("garbage!token", "invalid token"),
        "prefix only": (auth.TOKEN_PREFIX, "invalid token"),
        "unknown": (auth.TOKEN_PREFIX + secrets.token_urlsafe(32), "invalid token"),
        "expired": (expired, "the token has expired"),
        "revoked": (revoked, "the token was revoked"),
        "disabled": (disabled, "the user is disabled"),
    }
    token_id = any_token_id(env)
    for name, (token, message) in cases.items():
        refused(env, token, message)
        # and every route, not only the representative ones
        statuses = sweep(env, bearer(token), token_id, bodies=False)
        assert {r for r, s in statuses.items() if s != 401} == PUBLIC, name
    # the contrast token still works: nothing above disturbed other tokens
    assert ok(Caller(env.base, fresh["token"]).get("/auth/me"))["username"] == "consumer"


# -- 2. across roles ---------------------------------------------------------------------

FORBIDDEN = (403, "forbidden")
HIDDEN = (404, "not_found")
PRODUCT = {
    "code": "edu.nope",
    "name": "安全测试产品",
    "dataset": "edu_roll_shared",
    "purposes": ["教育研究"],
    "delivery": ["query"],
    "visibility": "restricted",
}
UPLOAD = {"files": {"file": ("roll.csv", "姓名,区县\n某,锦江区\n".encode(), "text/csv")}}
DECIDE = {"json": {"decision": "approve"}}
ASK = {"json": {"product": "edu.scores", "purpose": "教育研究"}}
NEW_USER = {
    "json": {"username": "nobody", "password": PASSWORD, "org": "acme", "roles": ["consumer"]}
}
OVERRIDE = {"json": {"column": "姓名", "reason": "复核", "pi": False}}
REGISTER = {"json": {"code": "sec_nope", "name": "不应登记"}}
EMPTY: dict[str, Any] = {"json": {}}
PROTECT = {"json": {"recipe": RECIPE}}
STATS = {"json": {"group_by": ["区县"]}}
OK, CREATED = (200, None), (201, None)

# (user, method, path, request, (status, kind), why). 404 rows: the visibility rule hides
# the object from that caller, so the answer is "does not exist", not "forbidden".
MATRIX: list[tuple[str, str, str, dict[str, Any], tuple[int, str | None], str]] = [
    # consumer: takes data under its grants, changes nothing else
    ("consumer", "POST", "/products", {"json": PRODUCT}, FORBIDDEN, "products:write"),
    ("consumer", "POST", "/products/edu.scores/withdraw", {}, FORBIDDEN, "products:write"),
    ("consumer", "POST", "/datasets", REGISTER, FORBIDDEN, "catalog:write"),
    ("consumer", "POST", "/datasets/edu_roll/versions", UPLOAD, FORBIDDEN, "catalog:write"),
    ("consumer", "POST", "/datasets/edu_roll/classify", EMPTY, FORBIDDEN, "classify"),
    ("consumer", "POST", "/datasets/edu_roll/overrides", OVERRIDE, FORBIDDEN, "classify"),
    ("consumer", "POST", "/datasets/edu_roll/protect", PROTECT, FORBIDDEN, "protect"),
    ("consumer", "GET", "/datasets", {}, FORBIDDEN, "catalog:read"),
    ("consumer", "GET", "/datasets/edu_roll", {}, FORBIDDEN, "catalog:read"),
    ("consumer", "GET", "/datasets/edu_roll/classification", {}, FORBIDDEN, "catalog:read"),
    ("consumer", "POST", "/requests/{rid}/decision", DECIDE, FORBIDDEN, "requests:decide"),
    ("consumer", "POST", "/grants/{gid}/revoke", EMPTY, FORBIDDEN, "grants:manage"),
    ("consumer", "POST", "/grants/{gid}/suspend", EMPTY, FORBIDDEN, "grants:manage"),
    ("consumer", "GET", "/audit/entries", {}, FORBIDDEN, "audit:read"),
    ("consumer", "GET", "/audit/verify", {}, FORBIDDEN, "audit:read"),
    ("consumer", "GET", "/audit/public-key", {}, FORBIDDEN, "audit:read"),
    ("consumer", "GET", "/users", {}, FORBIDDEN, "users:manage"),
    ("consumer", "POST", "/users", NEW_USER, FORBIDDEN, "users:manage"),
    # a provider registers and uploads its own data, takes the provider step; no more
    ("edu_provider", "POST", "/products", {"json": PRODUCT}, FORBIDDEN, "products:write"),
    ("edu_provider", "POST", "/datasets/edu_roll/protect", PROTECT, FORBIDDEN, "protect"),
    ("edu_provider", "POST", "/datasets/edu_roll/classify", EMPTY, FORBIDDEN, "classify"),
    ("edu_provider", "POST", "/datasets/edu_roll/overrides", OVERRIDE, FORBIDDEN, "classify"),
    ("edu_provider", "POST", "/grants/{gid}/query", EMPTY, FORBIDDEN, "data:read"),
    ("edu_provider", "GET", "/grants/{gid}/download", {}, FORBIDDEN, "data:read"),
    ("edu_provider", "POST", "/grants/{gid}/statistics", STATS, FORBIDDEN, "data:read"),
    ("edu_provider", "POST", "/grants/{gid}/revoke", EMPTY, FORBIDDEN, "grants:manage"),
    ("edu_provider", "POST", "/requests", ASK, FORBIDDEN, "requests:create"),
    ("edu_provider", "GET", "/audit/entries", {}, FORBIDDEN, "audit:read"),
    ("edu_provider", "GET", "/audit/verify", {}, FORBIDDEN, "audit:read"),
    ("edu_provider", "GET", "/users", {}, FORBIDDEN, "users:manage"),
    # a provider of another organisation does not see edu's objects at all
    ("health_provider", "GET", "/datasets/edu_roll", {}, HIDDEN, "hidden: edu's dataset"),
    ("health_provider", "GET", "/requests/{rid}", {}, HIDDEN, "hidden: a request on edu's product"),
    ("health_provider", "GET", "/grants/{gid}", {}, HIDDEN, "hidden: a grant on edu's product"),
    (
        "health_provider",
        "POST",
        "/requests/{rid}/decision",
        DECIDE,
        HIDDEN,
        "hidden: edu's request",
    ),
    ("health_provider", "GET", "/products/edu.private", {}, HIDDEN, "hidden: restricted to uni"),
    # the operator runs the platform but reads no data and no audit log
    ("operator", "POST", "/grants/{gid}/query", EMPTY, FORBIDDEN, "data:read"),
    ("operator", "GET", "/grants/{gid}/download", {}, FORBIDDEN, "data:read"),
    ("operator", "POST", "/grants/{gid}/statistics", STATS, FORBIDDEN, "data:read"),
    ("operator", "POST", "/requests", ASK, FORBIDDEN, "requests:create"),
    ("operator", "GET", "/audit/entries", {}, FORBIDDEN, "audit:read"),
    ("operator", "GET", "/audit/verify", {}, FORBIDDEN, "audit:read"),
    ("operator", "GET", "/users", {}, FORBIDDEN, "users:manage"),
    # the auditor reads everything but changes nothing
    ("auditor", "POST", "/products", {"json": PRODUCT}, FORBIDDEN, "products:write"),
    ("auditor", "POST", "/products/edu.scores/withdraw", {}, FORBIDDEN, "products:write"),
    ("auditor", "POST", "/requests/{rid}/decision", DECIDE, FORBIDDEN, "requests:decide"),
    ("auditor", "POST", "/grants/{gid}/revoke", EMPTY, FORBIDDEN, "grants:manage"),
    ("auditor", "POST", "/grants/{gid}/suspend", EMPTY, FORBIDDEN, "grants:manage"),
    ("auditor", "POST", "/requests", ASK, FORBIDDEN, "requests:create"),
    ("auditor", "POST", "/datasets", REGISTER, FORBIDDEN, "catalog:write"),
    ("auditor", "POST", "/datasets/edu_roll/versions", UPLOAD, FORBIDDEN, "catalog:write"),
    ("auditor", "POST", "/datasets/edu_roll/classify", EMPTY, FORBIDDEN, "classify"),
    ("auditor", "POST", "/datasets/edu_roll/protect", PROTECT, FORBIDDEN, "protect"),
    ("auditor", "POST", "/grants/{gid}/query", EMPTY, FORBIDDEN, "data:read"),
    ("auditor", "GET", "/grants/{gid}/download", {}, FORBIDDEN, "data:read"),
    ("auditor", "POST", "/users", NEW_USER, FORBIDDEN, "users:manage"),
    # the admin manages accounts and reads no products, grants, data or audit log
    ("admin", "GET", "/products", {}, FORBIDDEN, "products:read"),
    ("admin", "GET", "/products/edu.scores", {}, FORBIDDEN, "products:read"),
    ("admin", "GET", "/grants", {}, FORBIDDEN, "grants:read"),
    ("admin", "GET", "/grants/{gid}", {}, FORBIDDEN, "grants:read"),
    ("admin", "POST", "/grants/{gid}/query", EMPTY, FORBIDDEN, "data:read"),
    ("admin", "GET", "/grants/{gid}/download", {}, FORBIDDEN, "data:read"),
    ("admin", "GET", "/requests", {}, FORBIDDEN, "requests:read"),
    ("admin", "GET", "/datasets", {}, FORBIDDEN, "catalog:read"),
    ("admin", "GET", "/audit/entries", {}, FORBIDDEN, "audit:read"),
    ("admin", "POST", "/products", {"json": PRODUCT}, FORBIDDEN, "products:write"),
    # each role's own work
    ("consumer", "GET", "/products", {}, OK, "browse"),
    ("consumer", "POST", "/grants/{gid}/query", {"json": {"limit": 1}}, OK, "its grant"),
    ("consumer", "GET", "/grants/{gid}/odrl", {}, OK, "its grant"),
    ("consumer", "GET", "/requests/{rid}", {}, OK, "its request"),
    ("edu_provider", "GET", "/datasets/edu_roll", {}, OK, "its dataset"),
    ("edu_provider", "GET", "/requests/{rid}", {}, OK, "a request on its product"),
    ("edu_provider", "GET", "/grants/{gid}/usage", {}, OK, "metering of its product"),
    (
        "edu_provider",
        "POST",
        "/datasets",
        {"json": {"code": "sec_edu_new", "name": "新"}},
        CREATED,
        "register",
    ),
    ("operator", "GET", "/datasets/edu_roll/classification", {}, OK, "review"),
    ("operator", "GET", "/grants/{gid}", {}, OK, "manage grants"),
    ("operator", "GET", "/products/edu.private", {}, OK, "sees every product"),
    (
        "operator",
        "POST",
        "/products",
        {"json": {**PRODUCT, "code": "sec.published"}},
        CREATED,
        "publish",
    ),
    ("auditor", "GET", "/audit/entries", {}, OK, "read the log"),
    ("auditor", "GET", "/audit/verify", {}, OK, "verify the log"),
    ("auditor", "GET", "/audit/public-key", {}, OK, "the checkpoint key"),
    ("auditor", "GET", "/products/edu.private", {}, OK, "sees every product"),
    ("auditor", "GET", "/grants/{gid}", {}, OK, "sees every grant"),
    ("admin", "GET", "/users", {}, OK, "list accounts"),
    (
        "admin",
        "POST",
        "/users",
        {"json": {**NEW_USER["json"], "username": "sec_added"}},
        CREATED,
        "add an account",
    ),
    ("admin", "GET", "/auth/me", {}, OK, "itself"),
]


CASES = [pytest.param(*row, id=f"{row[0]}-{row[1]}-{row[2]}-{row[4][0]}") for row in MATRIX]
CASES.append(
    pytest.param(
        "health_provider",
        "POST",
        "/datasets",
        {"json": {"code": "sec_for_edu", "name": "代登记", "org": "edu"}},
        FORBIDDEN,
        "another organisation's dataset",
        id="health_provider-POST-/datasets-for-edu-403",
    )
)


@pytest.mark.parametrize(("user", "method", "path", "kw", "expected", "why"), CASES)
def test_roles(
    env: Env,
    user: str,
    method: str,
    path: str,
    kw: dict[str, Any],
    expected: tuple[int, str | None],
    why: str,
) -> None:
    status, kind = expected
    r = env.users[user].call(method, path.format(gid=env.gid, rid=env.rid), **kw)
    if status >= 400:
        body = error(r, status, kind)
        if why in auth.PERMISSIONS:  # a refusal names the permission it needed
            assert why in body["message"], body
    else:
        assert r.status_code == status, f"{why}: {r.status_code} {r.text}"


def test_every_role_holds_only_its_permissions(env: Env) -> None:
    mine = {name: set(ok(api.get("/auth/me"))["permissions"]) for name, api in env.users.items()}
    assert mine["admin"] == {"users:manage"}
    assert "data:read" not in mine["operator"] | mine["edu_provider"] | mine["auditor"]
    assert "audit:read" not in mine["operator"] | mine["consumer"] | mine["admin"]
    writes = {"catalog:write", "classify", "protect", "products:write", "requests:create"}
    writes |= {"requests:decide", "grants:manage", "users:manage"}
    assert not mine["auditor"] & writes


# -- 3. another user's objects -----------------------------------------------------------


def test_another_consumer_cannot_reach_a_grant(env: Env) -> None:
    other = env.users["consumer2"]
    gid, fake = env.gid, str(uuid.uuid4())
    for method, tail, kw in (
        ("GET", "", {}),
        ("GET", "/odrl", {}),
        ("GET", "/usage", {}),
        ("GET", "/download", {}),
        ("POST", "/query", {"json": {"limit": 1}}),
        ("POST", "/statistics", {"json": {"group_by": ["区县"]}}),
    ):
        same_as_missing(
            other.call(method, f"/grants/{gid}{tail}", **kw),
            gid,
            other.call(method, f"/grants/{fake}{tail}", **kw),
            fake,
        )
    # and the grant is in none of its lists
    assert gid not in {g["id"] for g in ok(other.get("/grants", params={"limit": 500}))["items"]}
    # its request neither
    same_as_missing(
        other.get(f"/requests/{env.rid}"), env.rid, other.get(f"/requests/{fake}"), fake
    )
    listed = ok(other.get("/requests", params={"limit": 500}))
    assert env.rid not in {x["id"] for x in listed["items"]}
    assert listed["page"]["total"] == len(listed["items"])
    # nor can it revoke the consumer's token
    theirs = ok(env.users["consumer"].get("/auth/tokens", params={"limit": 500}))["items"][0]
    same_as_missing(
        other.delete(f"/auth/tokens/{theirs['id']}"),
        theirs["id"],
        other.delete(f"/auth/tokens/{fake}"),
        fake,
    )


def test_a_provider_of_another_organisation_sees_nothing_of_edu(env: Env) -> None:
    health = env.users["health_provider"]
    fake = str(uuid.uuid4())
    same_as_missing(
        health.post(f"/requests/{env.rid}/decision", json={"decision": "reject"}),
        env.rid,
        health.post(f"/requests/{fake}/decision", json={"decision": "reject"}),
        fake,
    )
    same_as_missing(
        health.get("/datasets/edu_roll"), "edu_roll", health.get("/datasets/no_such"), "no_such"
    )
    content = "区县,成绩\n锦江区,90\n".encode()
    same_as_missing(
        health.post("/datasets/edu_roll/versions", files={"file": ("a.csv", content)}),
        "edu_roll",
        health.post("/datasets/no_such/versions", files={"file": ("a.csv", content)}),
        "no_such",
    )
    same_as_missing(
        health.get("/datasets/edu_roll/classification"),
        "edu_roll",
        health.get("/datasets/no_such/classification"),
        "no_such",
    )
    listed = ok(health.get("/datasets", params={"limit": 500}))
    codes = {d["code"] for d in listed["items"]}
    assert not codes & {"edu_roll", "edu_roll_shared"}
    assert listed["page"]["total"] == len(listed["items"])
    found = ok(health.get("/datasets", params={"q": "学生名册", "limit": 500}))
    assert found["items"] == [] and found["page"]["total"] == 0
    # edu's own provider does see it (the refusal above is about the organisation)
    assert ok(env.users["edu_provider"].get("/datasets/edu_roll"))["code"] == "edu_roll"
    # and the request was not decided by the attempt
    assert ok(env.users["operator"].get(f"/requests/{env.rid}"))["status"] == "approved"


# -- 4. existence is never leaked ---------------------------------------------------------


def test_a_consumer_never_learns_a_hidden_product_exists(env: Env) -> None:
    consumer, insider = env.users["consumer"], env.users["consumer2"]
    same_as_missing(
        consumer.get("/products/edu.private"),
        "edu.private",
        consumer.get("/products/no.such.product"),
        "no.such.product",
    )
    ask = {"purpose": "教育研究", "columns": ["区县"]}
    same_as_missing(
        consumer.post("/requests", json={"product": "edu.private", **ask}),
        "edu.private",
        consumer.post("/requests", json={"product": "no.such.product", **ask}),
        "no.such.product",
    )
    for params in ({}, {"q": "学生"}, {"q": "edu.private"}, {"q": "学生成绩 去标识化"}):
        page = ok(consumer.get("/products", params={**params, "limit": 500}))
        codes = [p["code"] for p in page["items"]]
        assert "edu.private" not in codes, params
        assert page["page"]["total"] == len(codes), params  # counts only what it may see
        wide = ok(insider.get("/products", params={**params, "limit": 500}))
        assert "edu.private" in [p["code"] for p in wide["items"]], params
        assert wide["page"]["total"] == page["page"]["total"] + 1, params
    assert "edu.scores" in [p["code"] for p in ok(consumer.get("/products"))["items"]]
    # a page of one still counts only the visible
    one = ok(consumer.get("/products", params={"q": "学生", "limit": 1}))
    assert (
        one["page"]["total"] == ok(consumer.get("/products", params={"q": "学生"}))["page"]["total"]
    )
    # the consumer of uni sees it and may ask for it
    assert ok(insider.get("/products/edu.private"))["code"] == "edu.private"
    # (response times are not compared here)
    # and nothing in the visible product's page names the hidden one
    assert "edu.private" not in consumer.get("/products/edu.scores").text


# -- 5. token scopes ---------------------------------------------------------------------


def test_scopes_narrow_a_token(env: Env) -> None:
    consumer = env.users["consumer"]
    made = ok(
        consumer.post("/auth/tokens", json={"name": "read-only", "scopes": ["products:read"]}),
        201,
    )
    assert made["info"]["scopes"] == ["products:read"]
    narrow = Caller(env.base, made["token"])
    assert ok(narrow.get("/auth/me"))["permissions"] == ["products:read"]
    assert ok(narrow.get("/products"))["page"]["total"] >= 1
    body = error(narrow.post(f"/grants/{env.gid}/query", json={"limit": 1}), 403, "forbidden")
    assert "data:read" in body["message"]
    error(narrow.get(f"/grants/{env.gid}"), 403, "forbidden")
    # it cannot mint a broader token; a token without scopes inherits its own
    error(
        narrow.post("/auth/tokens", json={"name": "wider", "scopes": ["data:read"]}),
        403,
        "forbidden",
    )
    same = ok(narrow.post("/auth/tokens", json={"name": "same", "days": 1}), 201)
    assert same["info"]["scopes"] == ["products:read"]
    # nor can the user ask for what its roles do not hold, or for an unknown scope
    error(
        consumer.post("/auth/tokens", json={"name": "x", "scopes": ["audit:read"]}),
        403,
        "forbidden",
    )
    bad = error(
        consumer.post("/auth/tokens", json={"name": "x", "scopes": ["everything:*"]}),
        400,
        "invalid_input",
    )
    assert "everything:*" in bad["message"]
    # the full consumer token is unaffected
    ok(consumer.post(f"/grants/{env.gid}/query", json={"limit": 1}))


# -- 7. a refused data read is audited ----------------------------------------------------


def _entries(env: Env, **params: str) -> list[dict[str, Any]]:
    page = ok(env.users["auditor"].get("/audit/entries", params={**params, "limit": 500}))
    items: list[dict[str, Any]] = page["items"]
    assert page["page"]["total"] == len(items)
    return items


def test_a_refused_data_read_is_audited(env: Env) -> None:
    before = len(_entries(env, action="data.query", user="operator"))
    error(env.users["operator"].post(f"/grants/{env.gid}/query", json={}), 403, "forbidden")
    after = _entries(env, action="data.query", user="operator")
    assert len(after) == before + 1
    last = after[-1]
    assert last["outcome"] == "denied" and last["grant_id"] == env.gid
    assert last["details"] == {"reason": "forbidden"}

    before = len(_entries(env, action="data.download", user="consumer2"))
    error(env.users["consumer2"].get(f"/grants/{env.gid}/download"), 404, "not_found")
    after = _entries(env, action="data.download", user="consumer2")
    assert len(after) == before + 1
    assert after[-1]["outcome"] == "denied"
    assert after[-1]["details"] == {"reason": "not_found"}


# -- 6. no personal value in any log ------------------------------------------------------


def table_text(ws: Workspace, table: str) -> str:
    """Every value of every row of ``table`` as text (JSON also decoded, so Chinese stored
    as escapes is searched as Chinese too)."""
    parts: list[str] = []
    with ws.db.connect() as conn:
        for row in conn.execute(sa.text(f"SELECT * FROM {table}")):
            for value in row:
                text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
                parts.append(text)
                if text[:1] in "[{":
                    try:
                        parts.append(json.dumps(json.loads(text), ensure_ascii=False))
                    except ValueError:
                        pass
    return "\n".join(parts)


def personal_values(world: World) -> set[str]:
    return {str(r[k]) for r in world.rows for k in ("姓名", "身份证号", "联系电话")}


def drive(env: Env) -> str:
    """A representative set of calls whose inputs carry personal values; the token secret
    it minted."""
    rows = env.world.rows
    some_id, some_name, some_phone = (str(rows[3][k]) for k in ("身份证号", "姓名", "联系电话"))
    other_id = str(rows[4]["身份证号"])
    anonymous = Caller(env.base)
    consumer, provider, operator = (env.users[u] for u in ("consumer", "edu_provider", "operator"))
    gid = env.gid

    # logins: a resident ID typed as the username, a name as a password, a name as a username
    login = "/auth/login"
    error(anonymous.post(login, json={"username": some_id, "password": some_phone}), 401)
    error(anonymous.post(login, json={"username": "consumer", "password": some_name}), 401)
    error(anonymous.post(login, json={"username": some_name, "password": some_name}), 401)
    ok(anonymous.post(login, json={"username": "consumer", "password": PASSWORD}))

    # queries: filters holding a district, a raw ID; refused ones holding a name, a phone
    ok(consumer.post(f"/grants/{gid}/query", json={"filter": "区县 = '锦江区'", "limit": 5}))
    ok(consumer.post(f"/grants/{gid}/query", json={"filter": f"身份证号 = '{some_id}'"}))
    error(
        consumer.post(f"/grants/{gid}/query", json={"filter": f"姓名 = '{some_name}'"}),
        400,
        "invalid_input",
    )
    error(
        consumer.post(f"/grants/{gid}/query", json={"filter": f"身份证号 = '{some_phone}' AND ("}),
        400,
        "invalid_input",
    )
    error(consumer.post(f"/grants/{gid}/query", json={"limit": some_id}), 422, "invalid_input")
    ok(
        consumer.post(
            f"/grants/{gid}/statistics",
            json={"group_by": ["区县"], "filter": f"身份证号 <> '{some_id}'"},
        )
    )
    for fmt in ("csv", "parquet"):
        r = consumer.get(f"/grants/{gid}/download", params={"format": fmt})
        assert r.status_code == 200, r.text

    # a request approved with a row filter holding literals, then used
    asked = ok(
        consumer.post(
            "/requests",
            json={
                "product": "edu.scores",
                "purpose": "教育研究",
                "columns": ["身份证号", "区县", "成绩"],
                "delivery": ["query"],
                "justification": f"关于 {some_name} 的研究",
            },
        ),
        201,
    )
    ok(provider.post(f"/requests/{asked['id']}/decision", json={"decision": "approve"}))
    decided = ok(
        operator.post(
            f"/requests/{asked['id']}/decision",
            json={
                "decision": "approve",
                "comment": "同意",
                "terms": {"row_filter": f"区县 = '锦江区' OR 身份证号 = '{other_id}'"},
            },
        )
    )
    assert decided["status"] == "approved"
    ok(
        consumer.post(
            f"/grants/{decided['grant']}/query", json={"filter": f"身份证号 <> '{some_id}'"}
        )
    )
    # a product whose row filter holds a name
    ok(
        operator.post(
            "/products",
            json={**PRODUCT, "code": "sec.filtered", "row_filter": f"姓名 <> '{some_name}'"},
        ),
        201,
    )
    # a search for a name, error paths (no 500s): unknown route, unknown grant, product
    assert ok(consumer.get("/products", params={"q": some_name}))["page"]["total"] == 0
    error(consumer.get(f"/no/such/{some_id}"), 404)
    error(consumer.post(f"/grants/{some_id}/query", json={}), 404, "not_found")
    error(consumer.get(f"/products/{some_name}"), 404, "not_found")

    # a token whose secret must be stored nowhere
    made = ok(consumer.post("/auth/tokens", json={"name": "secret-check", "days": 1}), 201)
    assert ok(Caller(env.base, made["token"]).get("/auth/me"))["username"] == "consumer"
    secret: str = made["token"]
    return secret


def _digest16(text: str) -> str:
    h = hashes.Hash(hashes.SM3())
    h.update(text.encode("utf-8"))
    return h.finalize().hex()[:16]


def test_no_personal_value_in_any_log(env: Env, capfd: pytest.CaptureFixture[str]) -> None:
    secret = drive(env)
    out, err = capfd.readouterr()
    stores = {
        "audit_log": table_text(env.ws, "audit_log"),
        "usage_records": table_text(env.ws, "usage_records"),
        "python logging": "\n".join(env.logs.lines),
        "stdout": out,
        "stderr": err,
    }
    # the search is not vacuous: the handler receives records, the calls above were recorded
    assert env.logs.lines
    assert not [line for line in env.logs.lines if "internal error" in line]  # no 500s
    audit_text = stores["audit_log"]
    for needle in ("auth.login", '"username"', "data.query", "data.statistics"):
        assert needle in audit_text, needle
    for needle in ("data.download", "request.approve", "grant.create", "product.publish"):
        assert needle in audit_text, needle
    assert stores["usage_records"].count("query") >= 3

    rows = env.world.rows
    values = personal_values(env.world) | {str(rows[3]["身份证号"])}
    assert len(values) > 600
    for where, text in stores.items():
        leaked = sorted(v for v in values if v in text)
        assert not leaked, f"{where} holds personal values: {leaked[:5]}"
        assert secret not in text and secret[len(auth.TOKEN_PREFIX) :] not in text, where

    tokens = table_text(env.ws, "api_tokens")
    assert auth.token_digest(secret) in tokens  # the row is there, as a digest
    assert secret not in tokens and secret[len(auth.TOKEN_PREFIX) :] not in tokens


def test_a_typed_id_number_cannot_be_recovered_from_the_log(env: Env) -> None:
    typed = str(env.world.rows[7]["身份证号"])
    error(Caller(env.base).post("/auth/login", json={"username": typed, "password": "x"}), 401)
    entries = _entries(env, action="auth.login")
    recorded = [e["details"].get("username") for e in entries if e["outcome"] == "denied"]
    assert recorded and recorded[-1]  # the failed login was recorded, with a digest
    # what anyone holding the log can compute for each candidate ID must not match it
    assert _digest16(typed) not in recorded


# -- findings of the security review, fixed: each test guards its fix ---------------------


def test_raw_data_cannot_be_published_through_the_shared_zone(env: Env) -> None:
    rows = env.world.rows[:6]
    header = ["姓名", "身份证号", "联系电话", "区县", "年龄", "成绩"]
    text = "\n".join([",".join(header)] + [",".join(str(r[h]) for h in header) for r in rows])
    upload = env.users["edu_provider"].post(
        "/datasets/edu_roll_shared/versions",
        files={"file": ("roll.csv", (text + "\n").encode(), "text/csv")},
    )
    if upload.status_code != 201:  # refused at the door
        error(upload, upload.status_code)
        assert upload.status_code in (400, 403), upload.text
        return
    # it went in: then publishing that version must be refused
    spec = {**PRODUCT, "code": "sec.raw", "version": upload.json()["version"]}
    error(env.users["operator"].post("/products", json=spec), 403, "policy_violation")


def test_a_token_cannot_outlive_the_token_that_minted_it(env: Env) -> None:
    short = ok(env.users["consumer"].post("/auth/tokens", json={"name": "short", "days": 1}), 201)
    child = Caller(env.base, short["token"]).post(
        "/auth/tokens", json={"name": "renewed", "days": 366}
    )
    if child.status_code != 201:
        error(child, 403, "forbidden")
        return
    born = datetime.fromisoformat(child.json()["info"]["expires_at"])
    assert born <= datetime.fromisoformat(short["info"]["expires_at"])


def test_a_malformed_body_without_a_token_is_refused_as_unauthenticated(env: Env) -> None:
    r = request(
        env,
        "POST",
        f"{API}/products",
        content=b"{",
        headers={"Content-Type": "application/json"},
    )
    error(r, 401, "unauthenticated")
