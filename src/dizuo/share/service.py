"""Data products, access requests, approvals and grants (授权运营).

Visibility is part of the rule: a consumer who may not see a product gets the same answer as
for a product that does not exist, and the same holds for requests and grants of others.
Approval runs through the provider when the dataset is 有条件共享 and through the operator
always; 不予共享 data can neither be published nor requested. Every change is audited in the
same transaction that makes it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from dizuo.audit import log as audit
from dizuo.auth.service import Principal, aware
from dizuo.catalog import service as catalog
from dizuo.catalog.models import (
    ColumnClassification,
    DatasetClassification,
    Organisation,
    ProtectionRun,
    ShareType,
    Version,
    Zone,
)
from dizuo.errors import Conflict, Forbidden, InvalidInput, NotFound, PolicyViolation
from dizuo.i18n import tr
from dizuo.share.filters import parse_filter
from dizuo.share.models import AccessRequest, Approval, Grant, Product, Usage
from dizuo.share.schemas import DecisionIn, GrantChange, ProductIn, RequestIn

if TYPE_CHECKING:
    from dizuo.workspace import Workspace

# the operations whose versions may leave dizuo: the shared zone's own derivations
PUBLISHABLE = frozenset({"protect", "link"})
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def now() -> datetime:
    return datetime.now(UTC)


def missing(kind: str, ident: object) -> NotFound:
    """The one answer for "does not exist" and "you may not see it"."""
    zh, en = {
        "product": ("数据产品", "product"),
        "request": ("申请", "request"),
        "grant": ("授权", "grant"),
    }[kind]
    return NotFound(tr("没有" + zh + " {i}", "no " + en + " {i}", i=ident))


def as_uuid(value: str | uuid.UUID, kind: str) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise missing(kind, value) from None


def check_names(names: Iterable[str], offered: list[str], what: str) -> list[str]:
    chosen = list(dict.fromkeys(names))
    unknown = [c for c in chosen if c not in offered]
    if unknown:
        raise InvalidInput(
            tr(
                "{w}中没有字段 {c}",
                "{w} has no field {c}",
                w=what,
                c=", ".join(repr(c) for c in unknown[:5]),
            ),
            hint=tr("可选: {a}", "choose from: {a}", a=", ".join(offered[:30])),
        )
    if not chosen:
        raise InvalidInput(tr("至少选择一个字段", "choose at least one field"))
    return chosen


# -- products ----------------------------------------------------------------------------


def _can_see(principal: Principal, product: Product, granted: set[uuid.UUID]) -> bool:
    if principal.has("products:write") or principal.has("audit:read"):
        return True
    if principal.is_role("provider") and product.provider_id == principal.org_id:
        return True
    if product.id in granted:
        return True
    if product.status != "published":
        return False
    return product.visibility == "public" or principal.org_code in (product.audience or [])


def _granted_products(session: Session, principal: Principal) -> set[uuid.UUID]:
    return set(
        session.scalars(sa.select(Grant.product_id).where(Grant.user_id == principal.user_id))
    )


def get_product(session: Session, principal: Principal, code: str) -> Product:
    """The product, if ``principal`` may see it; NotFound otherwise (as if it did not exist)."""
    product = session.scalar(sa.select(Product).where(Product.code == code))
    if product is None or not _can_see(principal, product, _granted_products(session, principal)):
        raise missing("product", code)
    return product


def _matches(product: Product, words: list[str]) -> bool:
    hay = " ".join(
        [
            product.code,
            product.name,
            product.description,
            " ".join(product.purposes or []),
            " ".join(product.columns or []),
            product.provider.name if product.provider else "",
        ]
    ).lower()
    for word in words:
        if word in hay:
            continue
        if _CJK.search(word) and len(word) > 2:
            grams = [word[i : i + 2] for i in range(len(word) - 1)]
            if sum(g in hay for g in grams) * 2 >= len(grams):
                continue
        return False
    return True


def _visible(principal: Principal) -> sa.ColumnElement[bool] | None:
    """:func:`_can_see` as SQL (None: every product)."""
    if principal.has("products:write") or principal.has("audit:read"):
        return None
    org = principal.org_code.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    # audience is a JSON list of organisation codes (no quotes can occur in a code)
    in_audience = sa.cast(Product.audience, sa.Text).like(f'%"{org}"%', escape="\\")
    condition = (Product.status == "published") & ((Product.visibility == "public") | in_audience)
    condition = condition | Product.id.in_(
        sa.select(Grant.product_id).where(Grant.user_id == principal.user_id)
    )
    if principal.is_role("provider"):
        condition = condition | (Product.provider_id == principal.org_id)
    return condition


def list_products(
    session: Session, principal: Principal, q: str = "", *, offset: int = 0, limit: int = 50
) -> tuple[list[Product], int]:
    """Products ``principal`` may see, matching every word of ``q``; newest first.

    Visibility is decided in SQL (and checked again per product); without words the page is
    cut in SQL, with words the visible products are matched in Python (words and Chinese
    bigrams) without loading their versions."""
    query = sa.select(Product).options(
        sa.orm.lazyload(Product.version), sa.orm.lazyload(Product.dataset)
    )
    visible = _visible(principal)
    if visible is not None:
        query = query.where(visible)
    query = query.order_by(Product.created_at.desc(), Product.code)
    granted = _granted_products(session, principal)
    words = [w for w in re.split(r"[\s,，;；]+", q.strip().lower()) if w]
    if not words:
        total = session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
        page = session.scalars(query.offset(offset).limit(limit)).unique()
        return [p for p in page if _can_see(principal, p, granted)], int(total)
    seen = [
        p
        for p in session.scalars(query).unique()
        if _can_see(principal, p, granted) and _matches(p, words)
    ]
    return seen[offset : offset + limit], len(seen)


def _classification(session: Session, version: Version) -> tuple[dict[str, Any], str | None]:
    """Column classifications of the version, or of the version it was protected from."""
    source = version
    protected: dict[str, str] = {}
    run = session.get(ProtectionRun, version.id)
    own = session.scalars(
        sa.select(ColumnClassification).where(ColumnClassification.version_id == version.id)
    ).all()
    if not own and run is not None:
        parent = session.get(Version, run.parent_id)
        if parent is not None:
            source = parent
        for name, step in (run.recipe.get("fields") or {}).items():
            protected[name] = str(step.get("transform") if isinstance(step, dict) else step)
    rows = (
        own
        if own
        else session.scalars(
            sa.select(ColumnClassification).where(ColumnClassification.version_id == source.id)
        ).all()
    )
    by_column: dict[str, Any] = {
        r.column: {
            "entity": r.entity,
            "pi": r.pi,
            "sensitive": r.sensitive,
            "category": r.category,
            "protection": protected.get(r.column),
        }
        for r in rows
    }
    grade = session.get(DatasetClassification, source.id)
    return by_column, grade.grade if grade else None


def product_fields(session: Session, product: Product) -> tuple[list[dict[str, Any]], str | None]:
    """The fields on offer with type, description and classification — no sample values."""
    version = product.version
    by_column, grade = _classification(session, version)
    described = {f.name: f for f in catalog.version_fields(session, version)}
    types = {c["name"]: c["type"] for c in version.schema}
    out = []
    for name in product.columns:
        f = described.get(name)
        out.append(
            {
                "name": name,
                "type": types.get(name, ""),
                "description": f.description if f else "",
                "classification": by_column.get(name),
            }
        )
    return out, grade


def _lock(session: Session, model: Any, ident: uuid.UUID) -> None:
    """Lock one row for the rest of the transaction (PostgreSQL; SQLite writers already hold
    the database's write lock from BEGIN IMMEDIATE)."""
    session.execute(sa.select(model.id).where(model.id == ident).with_for_update())


def publish(ws: Workspace, session: Session, principal: Principal, spec: ProductIn) -> Product:
    principal.require("products:write")
    catalog.check_code(spec.code)
    if session.scalar(sa.select(Product.id).where(Product.code == spec.code)):
        raise Conflict(tr("数据产品 {c} 已存在", "product {c} already exists", c=spec.code))
    dataset = catalog.get_dataset(session, spec.dataset)
    if dataset.zone != Zone.shared.value:
        raise PolicyViolation(
            tr(
                "{d} 在原始库中：只有共享库的数据（去标识化之后）可以发布",
                "{d} is in the raw zone: only shared-zone data (after protection) can be published",
                d=dataset.code,
            ),
            hint=tr("先运行 dizuo protect", "run `dizuo protect` first"),
        )
    if dataset.share_type == ShareType.none.value:
        raise PolicyViolation(
            tr(
                "{d} 属于不予共享的数据，不能发布",
                "{d} is 不予共享 (not shareable)",
                d=dataset.code,
            )
        )
    if dataset.org_id is None:
        raise InvalidInput(tr("{d} 没有提供方", "{d} has no provider organisation", d=dataset.code))
    version = catalog.get_version(session, dataset, spec.version)
    if version.operation not in PUBLISHABLE:
        raise PolicyViolation(
            tr(
                "{d}@{n} 不是由去标识化或链接产生的版本（{o}），不能发布",
                "{d}@{n} was not made by protection or linkage ({o}): it cannot be published",
                d=dataset.code,
                n=version.number,
                o=version.operation,
            )
        )
    names = [c["name"] for c in version.schema]
    columns = check_names(spec.columns or names, names, tr("该版本", "the version"))
    row_filter = parse_filter(spec.row_filter, names)
    for code in [*spec.audience, *spec.rights.model_dump().values()]:
        if code:
            catalog.get_org(session, code)
    provider = session.get(Organisation, dataset.org_id)
    assert provider is not None
    rights = {
        "holding": spec.rights.holding or provider.code,
        "processing": spec.rights.processing or provider.code,
        "operating": spec.rights.operating or principal.org_code,
    }
    purposes = list(dict.fromkeys(p.strip() for p in spec.purposes if p.strip()))
    if not purposes:
        raise InvalidInput(tr("至少写明一个用途", "name at least one purpose"))
    product = Product(
        code=spec.code,
        name=spec.name.strip(),
        description=spec.description,
        dataset_id=dataset.id,
        version_id=version.id,
        provider_id=provider.id,
        columns=columns,
        row_filter=row_filter.text,
        rights=rights,
        purposes=purposes,
        terms=spec.terms,
        price=spec.price,
        currency=spec.currency,
        delivery=list(dict.fromkeys(spec.delivery)),
        visibility=spec.visibility,
        audience=sorted(set(spec.audience)),
        min_cell=spec.min_cell,
        status="published",
        created_by=principal.username,
    )
    session.add(product)
    session.flush()
    audit.record(
        ws,
        session,
        actor=principal.username,
        action="product.publish",
        target=f"product:{product.code}",
        dataset=dataset.code,
        details={
            "version": version.number,
            "columns": columns,
            "row_filter": audit.keyed_digest(ws, row_filter.sql) if row_filter.sql else None,
            "delivery": product.delivery,
            "visibility": product.visibility,
        },
    )
    return product


def withdraw(ws: Workspace, session: Session, principal: Principal, code: str) -> Product:
    principal.require("products:write")
    product = get_product(session, principal, code)
    product.status = "withdrawn"
    audit.record(
        ws,
        session,
        actor=principal.username,
        action="product.withdraw",
        target=f"product:{code}",
        dataset=product.dataset.code,
    )
    return product


# -- requests ----------------------------------------------------------------------------


def _request_visible(principal: Principal, request: AccessRequest) -> bool:
    if principal.has("products:write") or principal.has("audit:read"):
        return True
    if principal.is_role("provider") and request.product.provider_id == principal.org_id:
        return True
    return request.user_id == principal.user_id


def _owned(
    session: Session,
    principal: Principal,
    model: Any,
    see_all: bool,
    status: str | None,
    offset: int,
    limit: int,
) -> tuple[list[Any], int]:
    """Requests or grants the caller may list: its own, a provider's organisation's products',
    or (``see_all``) every one; newest first, with the total."""
    query = sa.select(model).join(Product, Product.id == model.product_id)
    if not see_all:
        mine = model.user_id == principal.user_id
        if principal.is_role("provider"):
            mine = mine | (Product.provider_id == principal.org_id)
        query = query.where(mine)
    if status:
        query = query.where(model.status == status)
        if model is Grant and status == "active":  # an active grant past its expiry is not
            query = query.where(Grant.expires_at > now())
    total = session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(model.created_at.desc()).offset(offset).limit(limit))
    return list(rows.unique()), int(total)


def get_request(
    session: Session, principal: Principal, request_id: str | uuid.UUID
) -> AccessRequest:
    principal.require("requests:read")
    request = session.get(AccessRequest, as_uuid(request_id, "request"))
    if request is None or not _request_visible(principal, request):
        raise missing("request", request_id)
    return request


def list_requests(
    session: Session,
    principal: Principal,
    *,
    status: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[AccessRequest], int]:
    principal.require("requests:read")
    see_all = principal.has("products:write") or principal.has("audit:read")
    return _owned(session, principal, AccessRequest, see_all, status, offset, limit)


def create_request(
    ws: Workspace, session: Session, principal: Principal, spec: RequestIn
) -> AccessRequest:
    principal.require("requests:create")
    product = get_product(session, principal, spec.product)
    if product.status != "published":
        raise PolicyViolation(tr("该数据产品已下架", "the product was withdrawn"))
    dataset = product.dataset
    if dataset.share_type == ShareType.none.value:
        raise PolicyViolation(
            tr("不予共享的数据不能申请", "不予共享 (not shareable) data cannot be requested")
        )
    if spec.purpose not in product.purposes:
        raise InvalidInput(
            tr("用途 {p!r} 不在该产品允许的用途中", "purpose {p!r} is not allowed", p=spec.purpose),
            hint=tr("允许: {a}", "allowed: {a}", a=", ".join(product.purposes)),
        )
    columns = check_names(
        spec.columns or product.columns, product.columns, tr("该产品", "the product")
    )
    delivery = list(dict.fromkeys(spec.delivery or product.delivery))
    refused = [d for d in delivery if d not in product.delivery]
    if refused:
        raise InvalidInput(
            tr("该产品不提供 {d}", "the product does not offer {d}", d=", ".join(refused)),
            hint=", ".join(product.delivery),
        )
    needs = ["operator"]
    if dataset.share_type == ShareType.conditional.value:
        needs = ["provider", "operator"]
    request = AccessRequest(
        product_id=product.id,
        user_id=principal.user_id,
        org_id=principal.org_id,
        purpose=spec.purpose,
        justification=spec.justification,
        columns=columns,
        delivery=delivery,
        duration_days=spec.duration_days,
        needs=needs,
        status="pending",
    )
    session.add(request)
    session.flush()
    audit.record(
        ws,
        session,
        actor=principal.username,
        action="request.create",
        target=f"request:{request.id}",
        dataset=dataset.code,
        details={
            "product": product.code,
            "purpose": spec.purpose,
            "columns": columns,
            "delivery": delivery,
            "duration_days": spec.duration_days,
            "needs": needs,
        },
    )
    return request


def _step_for(principal: Principal, request: AccessRequest, asked: str | None) -> str:
    done = {a.step for a in request.approvals}
    can = []
    if principal.is_role("operator") and principal.has("requests:decide"):
        can.append("operator")
    if (
        principal.is_role("provider")
        and principal.has("requests:decide")
        and request.product.provider_id == principal.org_id
    ):
        can.append("provider")
    open_steps = [s for s in request.needs if s not in done and s in can]
    if asked is not None:
        if asked not in can:
            raise Forbidden(tr("你不能代表 {s} 审批", "you cannot decide as {s}", s=asked))
        if asked not in request.needs:
            raise Conflict(tr("此申请不需要 {s} 审批", "this request needs no {s} step", s=asked))
        if asked in done:
            raise Conflict(tr("{s} 已审批过", "the {s} step is already decided", s=asked))
        return asked
    if not open_steps:
        if any(s in can for s in request.needs):
            raise Conflict(tr("你的审批步骤已完成", "your step is already decided"))
        raise Forbidden(tr("你不能审批此申请", "you cannot decide this request"))
    return str(open_steps[0])


def decide(
    ws: Workspace,
    session: Session,
    principal: Principal,
    request_id: str | uuid.UUID,
    spec: DecisionIn,
) -> tuple[AccessRequest, Grant | None]:
    """Record one approval step; the last approval turns the request into a grant."""
    principal.require("requests:decide")
    # one decision at a time per request: two approvals at once must both see each other
    _lock(session, AccessRequest, as_uuid(request_id, "request"))
    request = get_request(session, principal, request_id)
    session.refresh(request)
    if request.status != "pending":
        raise Conflict(tr("申请已是 {s} 状态", "the request is already {s}", s=request.status))
    step = _step_for(principal, request, spec.step)
    if spec.decision == "approve":
        # what was requestable then may not be now
        if request.product.status != "published":
            raise PolicyViolation(tr("该数据产品已下架", "the product was withdrawn"))
        if request.product.dataset.share_type == ShareType.none.value:
            raise PolicyViolation(
                tr("数据已改为不予共享", "the data is now 不予共享 (not shareable)")
            )
    if spec.terms is not None and step != "operator":
        raise Forbidden(tr("只有运营方可以设定授权条款", "only the operator sets grant terms"))
    product = request.product
    names = [c["name"] for c in product.version.schema]
    terms: dict[str, Any] = {}
    if spec.terms is not None:
        t = spec.terms
        if t.columns is not None:
            terms["columns"] = check_names(t.columns, request.columns, tr("该申请", "the request"))
        if t.row_filter.strip():
            terms["row_filter"] = parse_filter(t.row_filter, names).text
        if t.max_rows is not None:
            terms["max_rows"] = t.max_rows
        if t.max_calls is not None:
            terms["max_calls"] = t.max_calls
        if t.expires_at is not None:
            expires = aware(t.expires_at)
            if expires <= now():
                raise InvalidInput(tr("到期时间已过", "the expiry is in the past"))
            terms["expires_at"] = expires.isoformat()
    approval = Approval(
        request_id=request.id,
        step=step,
        decision=spec.decision,
        comment=spec.comment,
        terms=terms,
        user_id=principal.user_id,
        created_at=now(),
    )
    session.add(approval)
    try:
        with session.begin_nested():
            session.flush()
    except sa.exc.IntegrityError:
        raise Conflict(tr("{s} 已审批过", "the {s} step is already decided", s=step)) from None
    session.refresh(request, ["approvals"])
    grant = None
    audit.record(
        ws,
        session,
        actor=principal.username,
        action=f"request.{spec.decision}",
        target=f"request:{request.id}",
        dataset=product.dataset.code,
        details={"step": step, "terms": _terms_for_log(ws, terms, names)},
    )
    if spec.decision == "reject":
        request.status = "rejected"
        request.decided_at = now()
    elif {a.step for a in request.approvals if a.decision == "approve"} >= set(request.needs):
        request.status = "approved"
        request.decided_at = now()
        grant = _grant(ws, session, principal, request)
    return request, grant


def _terms_for_log(ws: Workspace, terms: dict[str, Any], names: list[str]) -> dict[str, Any]:
    """Terms as the log keeps them: a row filter as its keyed digest and the columns it names
    (its literals may be personal values)."""
    out = dict(terms)
    if out.get("row_filter"):
        f = parse_filter(out["row_filter"], names)
        out["row_filter"] = {"digest": audit.keyed_digest(ws, f.sql), "columns": list(f.columns)}
    return out


def _grant(ws: Workspace, session: Session, principal: Principal, request: AccessRequest) -> Grant:
    terms: dict[str, Any] = {}
    for a in request.approvals:
        if a.step == "operator":
            terms = dict(a.terms or {})
    expires = (
        datetime.fromisoformat(terms["expires_at"])
        if "expires_at" in terms
        else now() + timedelta(days=request.duration_days)
    )
    grant = Grant(
        request_id=request.id,
        product_id=request.product_id,
        user_id=request.user_id,
        org_id=request.org_id,
        purpose=request.purpose,
        columns=terms.get("columns", request.columns),
        delivery=request.delivery,
        row_filter=terms.get("row_filter", ""),
        expires_at=expires,
        max_rows=terms.get("max_rows"),
        max_calls=terms.get("max_calls"),
        status="active",
    )
    session.add(grant)
    session.flush()
    names = [c["name"] for c in request.product.version.schema]
    audit.record(
        ws,
        session,
        actor=principal.username,
        action="grant.create",
        target=f"grant:{grant.id}",
        dataset=request.product.dataset.code,
        grant_id=str(grant.id),
        details={
            "request": str(request.id),
            "product": request.product.code,
            "columns": grant.columns,
            "delivery": grant.delivery,
            "expires_at": expires.isoformat(),
            "max_rows": grant.max_rows,
            "max_calls": grant.max_calls,
            "row_filter": _terms_for_log(ws, {"row_filter": grant.row_filter}, names)["row_filter"]
            if grant.row_filter
            else None,
        },
    )
    return grant


# -- grants ------------------------------------------------------------------------------


def _grant_visible(principal: Principal, grant: Grant) -> bool:
    if principal.has("grants:manage") or principal.has("audit:read"):
        return True
    if principal.is_role("provider") and grant.product.provider_id == principal.org_id:
        return True
    return grant.user_id == principal.user_id


def get_grant(session: Session, principal: Principal, grant_id: str | uuid.UUID) -> Grant:
    principal.require("grants:read")
    grant = session.get(Grant, as_uuid(grant_id, "grant"))
    if grant is None or not _grant_visible(principal, grant):
        raise missing("grant", grant_id)
    return grant


def list_grants(
    session: Session,
    principal: Principal,
    *,
    status: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[Grant], int]:
    principal.require("grants:read")
    see_all = principal.has("grants:manage") or principal.has("audit:read")
    return _owned(session, principal, Grant, see_all, status, offset, limit)


def effective_status(grant: Grant) -> str:
    if grant.status == "active" and aware(grant.expires_at) <= now():
        return "expired"
    return grant.status


TRANSITIONS = {"suspend": ("active", "suspended"), "resume": ("suspended", "active")}


def change_grant(
    ws: Workspace,
    session: Session,
    principal: Principal,
    grant_id: str | uuid.UUID,
    action: str,
    change: GrantChange,
) -> Grant:
    """Suspend, resume or revoke a grant (revocation is final)."""
    principal.require("grants:manage")
    _lock(session, Grant, as_uuid(grant_id, "grant"))
    grant = get_grant(session, principal, grant_id)
    session.refresh(grant)
    if grant.status == "revoked":
        raise Conflict(tr("授权已撤销", "the grant is revoked"))
    if action == "revoke":
        grant.status = "revoked"
    else:
        before, after = TRANSITIONS[action]
        if grant.status != before:
            raise Conflict(tr("授权当前为 {s}", "the grant is {s}", s=grant.status))
        grant.status = after
    grant.status_reason = change.reason
    grant.updated_at = now()
    audit.record(
        ws,
        session,
        actor=principal.username,
        action=f"grant.{action}",
        target=f"grant:{grant.id}",
        dataset=grant.product.dataset.code,
        grant_id=str(grant.id),
        details={"status": grant.status},
    )
    return grant


def usage(
    session: Session, principal: Principal, grant_id: str | uuid.UUID, *, offset: int, limit: int
) -> tuple[Grant, list[Usage], int]:
    grant = get_grant(session, principal, grant_id)
    total = session.scalar(
        sa.select(sa.func.count()).select_from(Usage).where(Usage.grant_id == grant.id)
    )
    rows = session.scalars(
        sa.select(Usage)
        .where(Usage.grant_id == grant.id)
        .order_by(Usage.at.desc())
        .offset(offset)
        .limit(limit)
    )
    return grant, list(rows), int(total or 0)


# -- ODRL --------------------------------------------------------------------------------

ODRL_ACTIONS = {"download": "reproduce", "query": "read", "statistics": "aggregate"}


def odrl(session: Session, grant: Grant) -> dict[str, Any]:
    """The grant as a W3C ODRL 2.2 Agreement (JSON-LD)."""
    product = grant.product
    consumer = session.get(Organisation, grant.org_id)
    refinement: list[dict[str, Any]] = [
        {"leftOperand": "dizuo:field", "operator": "isAnyOf", "rightOperand": grant.columns}
    ]
    if grant.row_filter or product.row_filter:
        rows = " AND ".join(f"({f})" for f in (product.row_filter, grant.row_filter) if f)
        refinement.append(
            {"leftOperand": "dizuo:rowFilter", "operator": "eq", "rightOperand": rows}
        )
    target = {
        "@type": "AssetCollection",
        "uid": f"urn:dizuo:product:{product.code}",
        "source": f"urn:dizuo:dataset:{product.dataset.code}@{product.version.number}",
        "refinement": refinement,
    }
    constraints: list[dict[str, Any]] = [
        {
            "leftOperand": "dateTime",
            "operator": "lt",
            "rightOperand": {
                "@value": aware(grant.expires_at).isoformat(),
                "@type": "xsd:dateTime",
            },
        },
        {"leftOperand": "purpose", "operator": "eq", "rightOperand": grant.purpose},
    ]
    if grant.max_calls is not None:
        constraints.append(
            {"leftOperand": "count", "operator": "lteq", "rightOperand": grant.max_calls}
        )
    if grant.max_rows is not None:
        constraints.append(
            {"leftOperand": "dizuo:rows", "operator": "lteq", "rightOperand": grant.max_rows}
        )
    permissions = [
        {"target": target["uid"], "action": ODRL_ACTIONS[mode], "constraint": constraints}
        for mode in grant.delivery
    ]
    return {
        "@context": ["http://www.w3.org/ns/odrl.jsonld", {"dizuo": "urn:dizuo:odrl:"}],
        "@type": "Agreement",
        "uid": f"urn:dizuo:grant:{grant.id}",
        "profile": "urn:dizuo:odrl:profile",
        "assigner": f"urn:dizuo:org:{product.provider.code}",
        "assignee": f"urn:dizuo:org:{consumer.code if consumer else grant.org_id}",
        "target": target,
        "permission": permissions,
        "prohibition": [{"target": target["uid"], "action": "distribute"}],
        "dizuo:status": effective_status(grant),
        "dizuo:rights": product.rights,
    }
