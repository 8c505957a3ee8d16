"""Users, roles, passwords (Argon2id) and API tokens (scoped, expiring, revocable).

A token's secret is shown once; the catalog keeps its SM3 digest only, so a copy of the
database lets nobody call the API. What a caller may do is the intersection of the token's
scopes and the permissions of the user's roles — least privilege: each role holds only what its
work needs (an admin manages accounts and reads no data; only consumers read data, and only
through a grant).
"""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.hazmat.primitives import hashes
from sqlalchemy.orm import Session

from dizuo.auth.models import ApiToken, User
from dizuo.catalog import service as catalog
from dizuo.catalog.models import Organisation
from dizuo.errors import AlreadyExists, Forbidden, InvalidInput, NotFound, Unauthenticated
from dizuo.i18n import tr

ROLES = ("provider", "operator", "consumer", "auditor", "admin")

# permission → what it allows
PERMISSIONS: dict[str, tuple[str, str]] = {
    "catalog:read": ("查看目录中的数据集", "see datasets in the catalog"),
    "catalog:write": ("登记数据集、上传数据", "register datasets and upload data"),
    "classify": ("运行分类分级、人工复核", "run classification and override it"),
    "protect": ("运行去标识化", "run protection recipes"),
    "products:read": ("浏览数据产品", "browse data products"),
    "products:write": ("发布、下架数据产品", "publish and withdraw data products"),
    "requests:create": ("申请使用数据产品", "request access to data products"),
    "requests:read": ("查看申请", "see access requests"),
    "requests:decide": ("审批申请", "approve or reject requests"),
    "grants:read": ("查看授权与计量", "see grants and their metering"),
    "grants:manage": ("暂停、恢复、撤销授权", "suspend, resume and revoke grants"),
    "data:read": ("在授权范围内获取数据", "take data within a grant"),
    "audit:read": ("查看并验证审计日志", "read and verify the audit log"),
    "users:manage": ("管理账号", "manage accounts"),
}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "provider": frozenset(
        {
            "catalog:read",
            "catalog:write",
            "products:read",
            "requests:read",
            "requests:decide",
            "grants:read",
        }
    ),
    "operator": frozenset(
        {
            "catalog:read",
            "catalog:write",
            "classify",
            "protect",
            "products:read",
            "products:write",
            "requests:read",
            "requests:decide",
            "grants:read",
            "grants:manage",
        }
    ),
    "consumer": frozenset(
        {"products:read", "requests:create", "requests:read", "grants:read", "data:read"}
    ),
    "auditor": frozenset(
        {"catalog:read", "products:read", "requests:read", "grants:read", "audit:read"}
    ),
    "admin": frozenset({"users:manage"}),
}

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-@]{1,63}$")
MIN_PASSWORD = 10
TOKEN_PREFIX = "dz_"
MAX_TOKEN_DAYS = 366
TOUCH_MINUTES = 5

_hasher = PasswordHasher()  # Argon2id, the library's current recommended parameters


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def token_digest(secret: str) -> str:
    h = hashes.Hash(hashes.SM3())
    h.update(secret.encode("utf-8"))
    return h.finalize().hex()


def permissions_of(roles: list[str] | tuple[str, ...]) -> frozenset[str]:
    out: set[str] = set()
    for role in roles:
        out |= ROLE_PERMISSIONS.get(role, frozenset())
    return frozenset(out)


def check_roles(roles: list[str]) -> list[str]:
    clean = sorted({r.strip() for r in roles if r.strip()})
    unknown = [r for r in clean if r not in ROLES]
    if unknown or not clean:
        raise InvalidInput(
            tr(
                "未知角色 {r}（可用: {all}）",
                "unknown role {r} (use {all})",
                r=", ".join(unknown) or "—",
                all=", ".join(ROLES),
            )
        )
    return clean


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(
            tr(
                "密码至少 {n} 个字符",
                "a password needs at least {n} characters",
                n=MIN_PASSWORD,
            )
        )


# -- users -------------------------------------------------------------------------------


def add_user(
    session: Session,
    username: str,
    password: str,
    *,
    org: str,
    roles: list[str],
    display_name: str = "",
) -> User:
    if not USERNAME.match(username):
        raise InvalidInput(
            tr(
                "用户名 {u!r} 无效：2–64 个字母、数字或 _ . - @",
                "invalid username {u!r}: 2–64 letters, digits or _ . - @",
                u=username,
            )
        )
    check_password(password)
    clean_roles = check_roles(roles)
    organisation = catalog.get_org(session, org)
    if session.scalar(sa.select(User.id).where(User.username == username)):
        raise AlreadyExists(tr("用户 {u} 已存在", "user {u} already exists", u=username))
    user = User(
        username=username,
        display_name=display_name.strip() or username,
        org_id=organisation.id,
        roles=clean_roles,
        password_hash=_hasher.hash(password),
        active=True,
    )
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, username: str) -> User:
    user = session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        raise NotFound(tr("没有用户 {u}", "no user {u}", u=username))
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(sa.select(User).order_by(User.username)))


def set_active(session: Session, username: str, active: bool) -> User:
    user = get_user(session, username)
    user.active = active
    if not active:
        session.execute(
            sa.update(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
    return user


def check_login(session: Session, username: str, password: str) -> User:
    """The user, if the password is right and the account active. The same error for an
    unknown user and a wrong password; the hash is upgraded when the parameters change."""
    user = session.scalar(sa.select(User).where(User.username == username))
    failed = Unauthenticated(tr("用户名或密码错误", "wrong username or password"))
    if user is None:
        # spend the same time as a real check, so timing does not tell who exists
        try:
            _hasher.verify(_DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            pass
        raise failed
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise failed from None
    if not user.active:
        raise failed
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


_DUMMY_HASH = _hasher.hash("dizuo-timing-equaliser")


# -- tokens ------------------------------------------------------------------------------


@dataclass
class Principal:
    """Who is calling, and what this call may do."""

    user_id: uuid.UUID
    username: str
    org_id: uuid.UUID
    org_code: str
    roles: tuple[str, ...]
    permissions: frozenset[str]
    token_id: uuid.UUID | None = None
    stale: bool = False  # the token's last use is older than TOUCH_MINUTES
    token_kind: str = "api"  # "session": made by a password login
    token_expires: datetime | None = None

    def has(self, permission: str) -> bool:
        return permission in self.permissions

    def require(self, permission: str) -> None:
        if permission not in self.permissions:
            raise Forbidden(
                tr(
                    "无权执行此操作（需要权限 {p}）",
                    "not allowed (this needs the {p} permission)",
                    p=permission,
                )
            )

    def is_role(self, role: str) -> bool:
        return role in self.roles


def principal_of(session: Session, username: str) -> Principal:
    """The principal of a user with every permission of its roles (for work done with the
    workspace's own authority: the CLI, the demo, tests)."""
    user = get_user(session, username)
    return Principal(
        user_id=user.id,
        username=user.username,
        org_id=user.org_id,
        org_code=user.organisation.code,
        roles=tuple(user.roles),
        permissions=permissions_of(user.roles),
    )


def check_scopes(user: User, scopes: list[str] | None) -> list[str]:
    allowed = permissions_of(user.roles)
    if not scopes:
        return sorted(allowed)
    clean = sorted({s.strip() for s in scopes if s.strip()})
    unknown = [s for s in clean if s not in PERMISSIONS]
    if unknown:
        raise InvalidInput(
            tr(
                "未知权限范围 {s}（可用: {all}）",
                "unknown scope {s} (use {all})",
                s=", ".join(unknown),
                all=", ".join(PERMISSIONS),
            )
        )
    beyond = [s for s in clean if s not in allowed]
    if beyond:
        raise Forbidden(
            tr(
                "用户 {u} 的角色不含权限 {s}",
                "user {u}'s roles do not hold {s}",
                u=user.username,
                s=", ".join(beyond),
            )
        )
    return clean


def create_token(
    session: Session,
    user: User,
    *,
    name: str,
    scopes: list[str] | None = None,
    days: float = 90,
    kind: str = "api",
) -> tuple[ApiToken, str]:
    """A new token for ``user``: the row and the secret (shown once, never stored)."""
    if not 0 < days <= MAX_TOKEN_DAYS:
        raise InvalidInput(
            tr(
                "令牌有效期须在 0 到 {n} 天之间",
                "a token lives between 0 and {n} days",
                n=MAX_TOKEN_DAYS,
            )
        )
    if not user.active:
        raise Forbidden(tr("用户 {u} 已停用", "user {u} is disabled", u=user.username))
    name = name.strip()[:100] or kind
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name,
        kind=kind,
        token_hash=token_digest(secret),
        scopes=check_scopes(user, scopes),
        created_at=utcnow(),
        expires_at=utcnow() + timedelta(days=days),
    )
    session.add(token)
    session.flush()
    return token, secret


def list_tokens(session: Session, user: User | None = None) -> list[ApiToken]:
    query = sa.select(ApiToken).order_by(ApiToken.created_at)
    if user is not None:
        query = query.where(ApiToken.user_id == user.id)
    return list(session.scalars(query))


def revoke_token(session: Session, token_id: uuid.UUID, *, owner: uuid.UUID | None) -> ApiToken:
    """Revoke a token; ``owner`` set: only if it is that user's (else it does not exist)."""
    token = session.get(ApiToken, token_id)
    if token is None or (owner is not None and token.user_id != owner):
        raise NotFound(tr("没有令牌 {t}", "no token {t}", t=token_id))
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    return token


def authenticate(session: Session, secret: str | None) -> Principal:
    """The principal of a bearer token, or :class:`Unauthenticated`."""
    if not secret:
        raise Unauthenticated(
            tr(
                "需要登录：请在 Authorization 头中提供 Bearer 令牌",
                "authentication required: send a Bearer token in the Authorization header",
            )
        )
    token = session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == token_digest(secret)))
    now = utcnow()
    if token is None:
        raise Unauthenticated(tr("令牌无效", "invalid token"))
    if token.revoked_at is not None:
        raise Unauthenticated(tr("令牌已撤销", "the token was revoked"))
    if aware(token.expires_at) <= now:
        raise Unauthenticated(tr("令牌已过期", "the token has expired"))
    user = token.user
    if not user.active:
        raise Unauthenticated(tr("用户已停用", "the user is disabled"))
    org = session.get(Organisation, user.org_id)
    return Principal(
        user_id=user.id,
        username=user.username,
        org_id=user.org_id,
        org_code=org.code if org else "",
        roles=tuple(user.roles),
        permissions=permissions_of(user.roles) & frozenset(token.scopes),
        token_id=token.id,
        token_kind=token.kind,
        token_expires=aware(token.expires_at),
        stale=token.last_used_at is None
        or aware(token.last_used_at) < now - timedelta(minutes=TOUCH_MINUTES),
    )


def touch(session: Session, token_id: uuid.UUID) -> None:
    """Record that a token was used (at most every few minutes: reads stay reads)."""
    now = utcnow()
    session.execute(
        sa.update(ApiToken)
        .where(
            ApiToken.id == token_id,
            sa.or_(
                ApiToken.last_used_at.is_(None),
                ApiToken.last_used_at < now - timedelta(minutes=TOUCH_MINUTES),
            ),
        )
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
