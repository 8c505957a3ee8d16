"""The demo's share stage: accounts for every role, the shared-zone datasets published as data
products, and one approved request, so the service has something to show when it starts.

Passwords are random per workspace, kept in ``demo-accounts.json`` (mode 0600) in the
workspace folder and printed at the end of the tour; nothing is hard-coded.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from dizuo.audit import log as audit
from dizuo.auth import service as auth
from dizuo.auth.models import User
from dizuo.catalog import service as catalog
from dizuo.catalog.models import Dataset, ShareType, Zone
from dizuo.errors import NotFound
from dizuo.i18n import tr
from dizuo.share import service as share
from dizuo.share.models import Grant, Product
from dizuo.share.schemas import DecisionIn, GrantTerms, ProductIn, RequestIn

if TYPE_CHECKING:
    from dizuo.demo.manifest import CityManifest
    from dizuo.workspace import Workspace

ACCOUNTS_FILE = "demo-accounts.json"

# organisations the departments do not cover: code → (name, kind)
ORGS = {
    "cddata": ("成都市数据集团（演示）", "operator"),
    "research": ("某高校研究院（演示）", "consumer"),
    "cac": ("市网信办（演示）", "auditor"),
}


def _accounts(manifest: CityManifest) -> dict[str, tuple[str, list[str], str]]:
    """username → (organisation, roles, display name)."""
    out: dict[str, tuple[str, list[str], str]] = {
        "admin": ("cddata", ["admin"], tr("系统管理员", "administrator")),
        "operator": ("cddata", ["operator"], tr("运营专员", "operator")),
        "researcher": ("research", ["consumer"], tr("研究员", "researcher")),
        "auditor": ("cac", ["auditor"], tr("审计员", "auditor")),
    }
    for dept in manifest.departments:
        out[f"{dept.code}_provider"] = (dept.code, ["provider"], dept.name)
    return out


def _passwords(ws: Workspace, names: list[str]) -> dict[str, str]:
    path = ws.home / ACCOUNTS_FILE
    known: dict[str, str] = json.loads(path.read_text("utf-8")) if path.exists() else {}
    for name in names:
        known.setdefault(name, secrets.token_urlsafe(12))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(known, fh, ensure_ascii=False, indent=1)
    return known


def share_stage(ws: Workspace, manifest: CityManifest) -> dict[str, Any]:
    """Accounts, products and one grant (each made once: a rerun finds them)."""
    accounts = _accounts(manifest)
    passwords = _passwords(ws, list(accounts))
    with ws.session(write=True) as s:
        for code, (name, kind) in ORGS.items():
            try:
                catalog.get_org(s, code)
            except NotFound:
                catalog.add_org(s, code, name, kind)
        for username, (org, roles, display) in accounts.items():
            if s.scalar(sa.select(User.id).where(User.username == username)) is None:
                auth.add_user(
                    s, username, passwords[username], org=org, roles=roles, display_name=display
                )
                audit.record(
                    ws,
                    s,
                    actor=ws.actor,
                    action="user.add",
                    target=f"user:{username}",
                    details={"org": org, "roles": roles},
                )
    published: list[str] = []
    with ws.session(write=True) as s:
        operator = auth.principal_of(s, "operator")
        shared = s.scalars(
            sa.select(Dataset)
            .where(Dataset.zone == Zone.shared.value, Dataset.code.like("%\\_shared", escape="\\"))
            .order_by(Dataset.code)
        ).all()
        for dataset in shared:
            code = "p." + dataset.code.removesuffix("_shared")
            if s.scalar(sa.select(Product.id).where(Product.code == code)) is not None:
                published.append(code)
                continue
            if dataset.share_type == ShareType.none.value or dataset.org_id is None:
                continue
            share.publish(
                ws,
                s,
                operator,
                ProductIn(
                    code=code,
                    name=dataset.name,
                    description=dataset.summary,
                    dataset=dataset.code,
                    purposes=[tr("政策研究", "policy research"), tr("公共服务", "public services")],
                    terms=tr(
                        "仅限批准的用途；不得尝试重新识别个人；不得向第三方提供。",
                        "approved purposes only; no attempt to re-identify anyone; no onward"
                        " transfer.",
                    ),
                    delivery=["download", "query", "statistics"],
                ),
            )
            published.append(code)
    grant_id = None
    if published:
        with ws.session(write=True) as s:
            researcher = auth.principal_of(s, "researcher")
            existing = s.scalar(sa.select(Grant).where(Grant.user_id == researcher.user_id))
            if existing is not None:
                grant_id = str(existing.id)
            else:
                product = share.get_product(s, researcher, published[0])
                request = share.create_request(
                    ws,
                    s,
                    researcher,
                    RequestIn(product=product.code, purpose=product.purposes[0]),
                )
                if "provider" in request.needs:
                    dept = product.provider.code
                    share.decide(
                        ws,
                        s,
                        auth.principal_of(s, f"{dept}_provider"),
                        request.id,
                        DecisionIn(decision="approve"),
                    )
                _, grant = share.decide(
                    ws,
                    s,
                    auth.principal_of(s, "operator"),
                    request.id,
                    DecisionIn(
                        decision="approve",
                        terms=GrantTerms(max_calls=1000, max_rows=1_000_000),
                    ),
                )
                grant_id = str(grant.id) if grant else None
    return {
        "accounts": {u: (accounts[u][0], accounts[u][1], passwords[u]) for u in accounts},
        "products": published,
        "grant": grant_id,
        "accounts_file": str(Path(ws.home) / ACCOUNTS_FILE),
    }
