"""Accounts and tokens on SQLite and PostgreSQL: Argon2id passwords, one answer for every failed
login, token secrets kept only as SM3 digests, expiry, revocation, scopes within the roles'
permissions, and the ``dizuo user`` / ``dizuo token`` commands."""

from __future__ import annotations

import hashlib
import io
import json
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from dizuo.auth import service as auth
from dizuo.auth.models import ApiToken, User
from dizuo.errors import AlreadyExists, Forbidden, InvalidInput, NotFound, Unauthenticated
from dizuo.workspace import Workspace
from tests.api_support import ORGS, PASSWORD, USERS

# Argon2id at the library's recommended cost takes a noticeable fraction of a second per hash;
# tests about tokens and the CLI use a cheap Argon2id instead (same algorithm, same code path).
cheap_argon2 = pytest.mark.usefixtures("cheap_hasher")


@pytest.fixture
def cheap_hasher(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


def seed_accounts(ws: Workspace, *names: str) -> None:
    """The organisations and the named accounts of :mod:`tests.api_support` (all if none)."""
    from dizuo.catalog import service as catalog

    with ws.session() as s:
        for code, (name, kind) in ORGS.items():
            catalog.add_org(s, code, name, kind)
        for username, (org, roles) in USERS.items():
            if not names or username in names:
                auth.add_user(s, username, PASSWORD, org=org, roles=roles)


def sm3(text: str) -> str:
    return hashlib.new("sm3", text.encode("utf-8")).hexdigest()


def new_token(ws: Workspace, username: str, **kw: object) -> tuple[uuid.UUID, str]:
    with ws.session() as s:
        token, secret = auth.create_token(s, auth.get_user(s, username), name="t", **kw)  # type: ignore[arg-type]
        return token.id, secret


def authenticate(ws: Workspace, secret: str | None) -> auth.Principal:
    with ws.session() as s:
        return auth.authenticate(s, secret)


def refused(ws: Workspace, secret: str | None) -> str:
    with pytest.raises(Unauthenticated) as caught:
        authenticate(ws, secret)
    return caught.value.message


# -- passwords ---------------------------------------------------------------------------


def test_passwords_are_argon2id_and_every_failed_login_reads_the_same(ws: Workspace) -> None:
    seed_accounts(ws, "consumer", "consumer2")
    with ws.session() as s:
        user = auth.get_user(s, "consumer")
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash
        assert PasswordHasher().verify(user.password_hash, PASSWORD)  # the library as oracle
        assert not PasswordHasher().check_needs_rehash(user.password_hash)  # recommended cost
        assert auth.check_login(s, "consumer", PASSWORD).username == "consumer"
        # two users with the same password get different salts
        assert user.password_hash != auth.get_user(s, "consumer2").password_hash
    with ws.session() as s:
        auth.set_active(s, "consumer2", False)

    messages = set()
    for username, password in (
        ("consumer", PASSWORD + "x"),  # wrong password
        ("consumer", ""),
        ("nobody", PASSWORD),  # unknown user
        ("consumer2", PASSWORD),  # disabled user, right password
    ):
        with pytest.raises(Unauthenticated) as caught, ws.session() as s:
            auth.check_login(s, username, password)
        messages.add(str(caught.value))
    assert messages == {"wrong username or password"}


def test_an_outdated_hash_is_upgraded_at_login(ws: Workspace) -> None:
    seed_accounts(ws, "consumer")
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    with ws.session() as s:
        auth.get_user(s, "consumer").password_hash = weak
    with ws.session() as s:
        auth.check_login(s, "consumer", PASSWORD)
    with ws.session() as s:
        upgraded = auth.get_user(s, "consumer").password_hash
    assert upgraded != weak and upgraded.startswith("$argon2id$")
    assert not PasswordHasher().check_needs_rehash(upgraded)
    with ws.session() as s:
        auth.check_login(s, "consumer", PASSWORD)


@cheap_argon2
def test_account_validation(ws: Workspace) -> None:
    seed_accounts(ws)

    def add(username: str, password: str = "long-enough", org: str = "acme", roles=None):  # type: ignore[no-untyped-def]
        with ws.session() as s:
            return auth.add_user(s, username, password, org=org, roles=roles or ["consumer"])

    with pytest.raises(InvalidInput, match="at least 10"):
        add("short", "123456789")
    add("exactly10", "1234567890")
    for bad in ("a", "-dash", "has space", "x" * 65, "名字"):
        with pytest.raises(InvalidInput, match="invalid username"):
            add(bad)
    with pytest.raises(InvalidInput, match="unknown role wizard"):
        add("wiz", roles=["wizard"])
    with pytest.raises(InvalidInput, match="unknown role"):
        add("norole", roles=[" "])
    with pytest.raises(NotFound, match="no organisation nowhere"):
        add("lost", org="nowhere")
    with pytest.raises(AlreadyExists):
        add("consumer")
    with ws.session() as s:
        assert auth.get_user(s, "exactly10").roles == ["consumer"]
        assert s.scalar(sa.select(User.id).where(User.username == "lost")) is None


# -- tokens ------------------------------------------------------------------------------


def _catalog_text(ws: Workspace, table: str) -> str:
    with ws.db.connect() as conn:
        return repr(conn.execute(sa.text(f"SELECT * FROM {table}")).all())


@cheap_argon2
def test_a_token_secret_is_never_stored(ws: Workspace) -> None:
    seed_accounts(ws)
    token_id, secret = new_token(ws, "consumer")
    assert secret.startswith("dz_") and len(secret) > 40
    with ws.session() as s:
        token = s.get(ApiToken, token_id)
        assert token is not None and token.token_hash == sm3(secret)
    text = _catalog_text(ws, "api_tokens") + _catalog_text(ws, "audit_log")
    assert sm3(secret) in text
    assert secret not in text and secret[3:] not in text and secret[3:23] not in text
    if ws.database_url.startswith("sqlite"):
        # the database file itself (and its write-ahead log) holds no copy either
        db = Path(ws.database_url.removeprefix("sqlite:///"))
        raw = b"".join(p.read_bytes() for p in (db, Path(f"{db}-wal")) if p.exists())
        assert sm3(secret).encode() in raw
        assert secret[3:].encode() not in raw
    # and the secret authenticates
    principal = authenticate(ws, secret)
    assert principal.username == "consumer" and principal.token_id == token_id


@cheap_argon2
def test_token_expiry_revocation_and_disabled_users(ws: Workspace) -> None:
    seed_accounts(ws)
    assert "authentication required" in refused(ws, None)
    assert "authentication required" in refused(ws, "")
    assert refused(ws, "dz_not-a-real-token") == "invalid token"

    live_id, live = new_token(ws, "consumer")
    principal = authenticate(ws, live)
    assert principal.org_code == "acme" and principal.roles == ("consumer",)
    # authenticating only reads; the caller records the use (at most every few minutes), in a
    # short transaction of its own as the API does
    assert principal.stale
    with ws.session() as s:
        assert s.scalar(sa.select(ApiToken.last_used_at).where(ApiToken.id == live_id)) is None
    with ws.session() as s:
        auth.touch(s, live_id)
    with ws.session() as s:
        used = s.scalar(sa.select(ApiToken.last_used_at).where(ApiToken.id == live_id))
        assert used is not None
    with ws.session() as s:
        auth.touch(s, live_id)  # within the window: left alone
    with ws.session() as s:
        assert s.scalar(sa.select(ApiToken.last_used_at).where(ApiToken.id == live_id)) == used
    assert not authenticate(ws, live).stale

    # expired: a second ago
    old_id, old = new_token(ws, "consumer")
    with ws.session() as s:
        token = s.get(ApiToken, old_id)
        assert token is not None
        token.expires_at = auth.utcnow() - timedelta(seconds=1)
    assert refused(ws, old) == "the token has expired"

    # revoked (by its owner: someone else's token looks like no token at all)
    with ws.session() as s:
        other = auth.get_user(s, "consumer2")
        with pytest.raises(NotFound):
            auth.revoke_token(s, live_id, owner=other.id)
    with ws.session() as s:
        with pytest.raises(NotFound):
            auth.revoke_token(s, uuid.uuid4(), owner=None)
        first = auth.revoke_token(s, live_id, owner=principal.user_id).revoked_at
        assert first is not None
    with ws.session() as s:
        again = auth.revoke_token(s, live_id, owner=None).revoked_at
        assert again is not None and auth.aware(again) == auth.aware(first)  # kept as it was
    assert refused(ws, live) == "the token was revoked"

    # disabling the user revokes every token it holds
    new_token(ws, "consumer2")
    _, kept = new_token(ws, "consumer2")
    with ws.session() as s:
        auth.set_active(s, "consumer2", False)
    with ws.session() as s:
        assert all(
            t.revoked_at is not None for t in auth.list_tokens(s, auth.get_user(s, "consumer2"))
        )
        with pytest.raises(Forbidden, match="disabled"):
            auth.create_token(s, auth.get_user(s, "consumer2"), name="x")
    assert refused(ws, kept) == "the token was revoked"
    # re-enabled, the old tokens stay revoked; a token left unrevoked (say, by a direct edit)
    # still does not work while its user is disabled
    with ws.session() as s:
        auth.set_active(s, "consumer2", True)
    assert refused(ws, kept) == "the token was revoked"
    _, fresh = new_token(ws, "consumer2")
    assert authenticate(ws, fresh).username == "consumer2"
    with ws.session() as s:
        auth.get_user(s, "consumer2").active = False  # disabled without revoking
    assert refused(ws, fresh) == "the user is disabled"


@cheap_argon2
def test_touch_with_the_token_loaded_in_the_session(
    ws: Workspace, backend: str, request: pytest.FixtureRequest
) -> None:
    """Authenticate and record the use in one transaction that also holds the token row (say,
    a "my tokens" page): the update must not depend on what the session has loaded."""
    seed_accounts(ws, "consumer")
    token_id, secret = new_token(ws, "consumer")
    with ws.session() as s:
        auth.touch(s, token_id)
    with ws.session() as s:
        token = s.get(ApiToken, token_id)
        assert token is not None
        token.last_used_at = auth.utcnow() - timedelta(hours=1)  # used an hour ago: stale
    with ws.session() as s:
        principal = auth.authenticate(s, secret)
        assert principal.stale and principal.token_id == token_id
        held = auth.list_tokens(s, auth.get_user(s, "consumer"))  # the token, loaded and held
        auth.touch(s, token_id)
        assert held[0].id == token_id
    assert not authenticate(ws, secret).stale


@cheap_argon2
def test_scopes_stay_within_the_roles_permissions(ws: Workspace) -> None:
    seed_accounts(ws)
    consumer_perms = auth.ROLE_PERMISSIONS["consumer"]

    _, everything = new_token(ws, "consumer")
    assert authenticate(ws, everything).permissions == consumer_perms

    _, narrow = new_token(ws, "consumer", scopes=[" data:read ", "data:read", "grants:read"])
    principal = authenticate(ws, narrow)
    assert principal.permissions == {"data:read", "grants:read"}
    assert principal.has("data:read") and not principal.has("requests:create")
    with pytest.raises(Forbidden, match="requests:create"):
        principal.require("requests:create")

    with pytest.raises(Forbidden, match="products:write"):
        new_token(ws, "consumer", scopes=["products:write"])
    with pytest.raises(Forbidden, match="products:write"):
        new_token(ws, "consumer", scopes=["data:read", "products:write"])
    with pytest.raises(Forbidden, match="data:read"):
        new_token(ws, "admin", scopes=["data:read"])  # an admin reads no data
    with pytest.raises(InvalidInput, match="unknown scope"):
        new_token(ws, "consumer", scopes=["data:everything"])

    # the roles shrink after the token was made: the token shrinks with them
    _, wide = new_token(ws, "operator", scopes=["products:write", "catalog:read"])
    assert authenticate(ws, wide).permissions == {"products:write", "catalog:read"}
    with ws.session() as s:
        auth.get_user(s, "operator").roles = ["auditor"]
    assert authenticate(ws, wide).permissions == {"catalog:read"}

    # no role holds everything; each permission is held by some role
    assert set().union(*auth.ROLE_PERMISSIONS.values()) == set(auth.PERMISSIONS)
    assert "data:read" not in auth.permissions_of(["admin", "operator", "provider", "auditor"])


@cheap_argon2
def test_token_lifetime_bounds(ws: Workspace) -> None:
    seed_accounts(ws)
    for days in (0, -1, 366.01, 367, float("nan"), float("inf")):
        with pytest.raises(InvalidInput, match="between 0 and 366"):
            new_token(ws, "consumer", days=days)
    for days in (0.01, 1, 366):
        token_id, secret = new_token(ws, "consumer", days=days)
        with ws.session() as s:
            token = s.get(ApiToken, token_id)
            assert token is not None
            left = auth.aware(token.expires_at) - auth.utcnow()
        assert timedelta(days=days) - timedelta(minutes=1) < left <= timedelta(days=days)
        authenticate(ws, secret)


# -- the CLI -----------------------------------------------------------------------------


def _one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and "Traceback" not in err
    return lines[0]


@cheap_argon2
def test_user_and_token_commands(ws: Workspace, cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from dizuo.catalog import service as catalog

    with ws.session() as s:
        catalog.add_org(s, "acme", "某科技公司", "consumer")

    def stdin(text: str) -> None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(text))

    stdin("a-long-password\n")
    added = cli(ws, "user", "add", "alice", "--org", "acme", "--role", "consumer",
                "--name", "Alice", "--password-stdin")  # fmt: skip
    assert added.code == 0, added.err
    assert "added alice (consumer)" in added.out
    with ws.session() as s:
        assert auth.check_login(s, "alice", "a-long-password").display_name == "Alice"

    listed = cli(ws, "user", "list", "--json")
    assert listed.code == 0
    assert json.loads(listed.out) == [
        {"username": "alice", "name": "Alice", "org": "acme", "roles": ["consumer"], "active": True}
    ]

    made = cli(ws, "token", "create", "alice", "--json", "--scope", "data:read", "--days", "7")
    assert made.code == 0, made.err
    info = json.loads(made.out)
    secret = info["token"]
    assert made.out.count(secret) == 1 and info["scopes"] == ["data:read"]
    principal = authenticate(ws, secret)
    assert principal.username == "alice" and principal.permissions == {"data:read"}
    assert str(principal.token_id) == info["id"]

    plain = cli(ws, "token", "create", "alice")
    assert plain.code == 0 and "shown this once" in plain.out
    second = plain.out.split()[0]
    assert second.startswith("dz_") and plain.out.count(second) == 1
    assert authenticate(ws, second).permissions == auth.ROLE_PERMISSIONS["consumer"]

    tokens = cli(ws, "token", "list", "alice", "--json")
    assert tokens.code == 0
    assert secret not in tokens.out and second not in tokens.out
    assert [t["revoked"] for t in json.loads(tokens.out)] == [False, False]

    revoked = cli(ws, "token", "revoke", info["id"])
    assert revoked.code == 0, revoked.err
    assert refused(ws, secret) == "the token was revoked"
    assert authenticate(ws, second).username == "alice"  # the other one still works

    disabled = cli(ws, "user", "disable", "alice")
    assert disabled.code == 0
    assert refused(ws, second) == "the token was revoked"
    assert json.loads(cli(ws, "user", "list", "--json").out)[0]["active"] is False
    with pytest.raises(Unauthenticated), ws.session() as s:
        auth.check_login(s, "alice", "a-long-password")

    # everything was audited as DIZUO_USER, and no secret reached the log
    log = json.loads(cli(ws, "audit", "log", "--json", "--limit", "100").out)
    assert [e["action"] for e in log["entries"]] == [
        "user.add",
        "token.create",
        "token.create",
        "token.revoke",
        "user.disable",
    ]
    assert {e["actor"] for e in log["entries"]} == {"tester"}
    assert secret not in json.dumps(log, ensure_ascii=False)
    assert cli(ws, "audit", "verify").code == 0


@cheap_argon2
def test_bad_account_input_gives_one_error_line(  # type: ignore[no-untyped-def]
    ws: Workspace, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dizuo.catalog import service as catalog

    with ws.session() as s:
        catalog.add_org(s, "acme", "某科技公司", "consumer")

    def add(*args: str, password: str = "a-long-password"):  # type: ignore[no-untyped-def]
        monkeypatch.setattr(sys, "stdin", io.StringIO(password + "\n"))
        return cli(ws, "user", "add", *args, "--password-stdin")

    cases = [
        (add("bob", "--org", "acme", "--role", "wizard"), 2, "unknown role wizard"),
        (add("bob", "--org", "acme", "--role", "consumer", password="short"), 2, "at least 10"),
        (add("bob", "--org", "acme", "--role", "consumer", password=""), 2, "at least 10"),
        (add("bob", "--org", "nowhere", "--role", "consumer"), 3, "no organisation nowhere"),
        (add("b o b", "--org", "acme", "--role", "consumer"), 2, "invalid username"),
    ]
    for result, code, text in cases:
        assert result.code == code, (text, result)
        assert text in _one_error_line(result.err)
    assert json.loads(cli(ws, "user", "list", "--json").out) == []  # nothing half-made

    assert add("bob", "--org", "acme", "--role", "consumer").code == 0
    again = add("bob", "--org", "acme", "--role", "consumer")
    assert again.code == 4 and "already exists" in _one_error_line(again.err)

    token_cases = [
        (("token", "create", "nobody"), 3, "no user nobody"),
        (("token", "create", "bob", "--scope", "data:all"), 2, "unknown scope"),
        (("token", "create", "bob", "--scope", "users:manage"), 5, "users:manage"),
        (("token", "create", "bob", "--days", "0"), 2, "between 0 and 366"),
        (("token", "create", "bob", "--days", "400"), 2, "between 0 and 366"),
        (("token", "revoke", "not-a-uuid"), 2, "not a token id"),
        (("token", "revoke", str(uuid.uuid4())), 3, "no token"),
        (("user", "disable", "nobody"), 3, "no user nobody"),
    ]
    for args, code, text in token_cases:
        result = cli(ws, *args)
        assert result.code == code, (args, result)
        assert text in _one_error_line(result.err), args
    assert json.loads(cli(ws, "token", "list", "--json").out) == []
