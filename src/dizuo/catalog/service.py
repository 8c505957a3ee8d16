"""Catalog operations: organisations, datasets, versions, fields, lineage, schema drift."""

from __future__ import annotations

import difflib
import re
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from dizuo.catalog.models import (
    Dataset,
    Field,
    LineageEdge,
    OpenType,
    Organisation,
    ShareType,
    Version,
)
from dizuo.errors import AlreadyExists, InvalidInput, NotFound
from dizuo.i18n import tr

MAX_VERSION = 2**31 - 1  # versions.number is a 32-bit INTEGER
CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-/]{0,127}$")
ORG_KINDS = ("provider", "operator", "consumer", "auditor")


def _did_you_mean(name: str, options: list[str]) -> str | None:
    close = difflib.get_close_matches(name, options, n=1)
    return tr("是不是 {c}？", "did you mean {c}?", c=close[0]) if close else None


def check_code(code: str, what: str = "dataset") -> str:
    if not CODE_PATTERN.match(code):
        raise InvalidInput(
            tr(
                "代码 {c!r} 无效：以字母或数字开头，只含字母、数字和 _ . - /，最长 128",
                "invalid code {c!r}: start with a letter or digit; use letters, digits, _ . - /;"
                " at most 128 characters",
                c=code,
            )
        )
    return code


# -- organisations -----------------------------------------------------------------------


def add_org(session: Session, code: str, name: str, kind: str = "provider") -> Organisation:
    check_code(code, "organisation")
    if kind not in ORG_KINDS:
        raise InvalidInput(
            tr(
                "未知的机构类型 {k}（可用: {all}）",
                "unknown kind {k} (use {all})",
                k=kind,
                all=", ".join(ORG_KINDS),
            )
        )
    if session.scalar(sa.select(Organisation).where(Organisation.code == code)):
        raise AlreadyExists(tr("机构 {c} 已存在", "organisation {c} already exists", c=code))
    org = Organisation(code=code, name=name.strip() or code, kind=kind)
    session.add(org)
    session.flush()
    return org


def get_org(session: Session, code: str) -> Organisation:
    org = session.scalar(sa.select(Organisation).where(Organisation.code == code))
    if org is None:
        codes = list(session.scalars(sa.select(Organisation.code)))
        raise NotFound(
            tr("没有机构 {c}", "no organisation {c}", c=code),
            hint=_did_you_mean(code, codes)
            or tr("用 dizuo org add 登记", "register it with `dizuo org add`"),
        )
    return org


def list_orgs(session: Session) -> list[Organisation]:
    return list(session.scalars(sa.select(Organisation).order_by(Organisation.code)))


# -- datasets ----------------------------------------------------------------------------


def find_dataset(session: Session, code: str) -> Dataset | None:
    return session.scalar(sa.select(Dataset).where(Dataset.code == code))


def get_dataset(session: Session, code: str) -> Dataset:
    dataset = find_dataset(session, code)
    if dataset is None:
        codes = list(session.scalars(sa.select(Dataset.code)))
        raise NotFound(
            tr("没有数据集 {c}", "no dataset {c}", c=code),
            hint=_did_you_mean(code, codes)
            or tr("用 dizuo datasets list 查看", "see `dizuo datasets list`"),
        )
    return dataset


def validate_meta(meta: dict[str, Any]) -> dict[str, Any]:
    share = meta.get("share_type")
    if share is not None and share not in {s.value for s in ShareType}:
        raise InvalidInput(
            tr(
                "共享属性必须是 {all} 之一",
                "share type must be one of {all}",
                all=" / ".join(s.value for s in ShareType),
            )
        )
    opened = meta.get("open_type")
    if opened is not None and opened not in {s.value for s in OpenType}:
        raise InvalidInput(
            tr(
                "开放属性必须是 {all} 之一",
                "open type must be one of {all}",
                all=" / ".join(s.value for s in OpenType),
            )
        )
    if meta.get("share_type") == ShareType.conditional.value and not meta.get("share_condition"):
        meta.setdefault("share_condition", "")
    return meta


def create_dataset(session: Session, code: str, org: Organisation | None, **meta: Any) -> Dataset:
    check_code(code)
    if find_dataset(session, code) is not None:
        raise AlreadyExists(tr("数据集 {c} 已存在", "dataset {c} already exists", c=code))
    meta = validate_meta({k: v for k, v in meta.items() if v is not None})
    dataset = Dataset(code=code, org_id=org.id if org else None, **meta)
    session.add(dataset)
    session.flush()
    return dataset


def update_dataset(session: Session, dataset: Dataset, **meta: Any) -> Dataset:
    meta = validate_meta({k: v for k, v in meta.items() if v is not None})
    for key, value in meta.items():
        setattr(dataset, key, value)
    session.flush()
    return dataset


def list_datasets(session: Session) -> list[tuple[Dataset, Version | None]]:
    """Every dataset with its latest version (None before the first)."""
    latest = (
        sa.select(Version.dataset_id, sa.func.max(Version.number).label("n"))
        .group_by(Version.dataset_id)
        .subquery()
    )
    stmt = (
        sa.select(Dataset, Version)
        .outerjoin(latest, latest.c.dataset_id == Dataset.id)
        .outerjoin(Version, sa.and_(Version.dataset_id == Dataset.id, Version.number == latest.c.n))
        .order_by(Dataset.code)
    )
    return [(d, v) for d, v in session.execute(stmt).all()]


# -- versions ----------------------------------------------------------------------------


def latest_version(session: Session, dataset: Dataset) -> Version | None:
    return session.scalar(
        sa.select(Version)
        .where(Version.dataset_id == dataset.id)
        .order_by(Version.number.desc())
        .limit(1)
    )


def get_version(session: Session, dataset: Dataset, number: int | None = None) -> Version:
    if number is None:
        version = latest_version(session, dataset)
        if version is None:
            raise NotFound(
                tr("数据集 {c} 还没有版本", "dataset {c} has no version yet", c=dataset.code),
                hint=tr("先用 dizuo ingest 导入数据", "ingest data with `dizuo ingest`"),
            )
    else:
        version = (
            session.scalar(
                sa.select(Version).where(Version.dataset_id == dataset.id, Version.number == number)
            )
            if 0 < number <= MAX_VERSION
            else None  # no such version (and no integer overflow in the database driver)
        )
        if version is None:
            raise NotFound(
                tr(
                    "数据集 {c} 没有第 {n} 版",
                    "dataset {c} has no version {n}",
                    c=dataset.code,
                    n=number,
                )
            )
    if version.expired:
        raise NotFound(
            tr(
                "{c}@{n} 已过期，数据已清除",
                "{c}@{n} was expired and its data removed",
                c=dataset.code,
                n=version.number,
            )
        )
    return version


def list_versions(session: Session, dataset: Dataset) -> list[Version]:
    return list(
        session.scalars(
            sa.select(Version).where(Version.dataset_id == dataset.id).order_by(Version.number)
        )
    )


def version_fields(session: Session, version: Version) -> list[Field]:
    return list(
        session.scalars(
            sa.select(Field).where(Field.version_id == version.id).order_by(Field.position)
        )
    )


def schema_drift(old: list[dict[str, Any]] | None, new: list[dict[str, Any]]) -> dict[str, Any]:
    """Columns added, removed and retyped from ``old`` to ``new``."""
    if old is None:
        return {}
    before = {c["name"]: c["type"] for c in old}
    after = {c["name"]: c["type"] for c in new}
    drift = {
        "added": [n for n in after if n not in before],
        "removed": [n for n in before if n not in after],
        "retyped": [
            {"name": n, "from": before[n], "to": after[n]}
            for n in after
            if n in before and before[n] != after[n]
        ],
    }
    return drift if any(drift.values()) else {}


@dataclass
class NewVersion:
    """What an operation hands the catalog to record."""

    operation: str
    params: dict[str, Any]
    params_hash: str
    rows: int
    bytes: int
    schema: list[dict[str, Any]]
    profiles: list[dict[str, Any]]
    content_hash: str
    source: str
    source_fingerprint: str
    table_ident: str
    snapshot_id: int
    parents: list[uuid.UUID]


def record_version(session: Session, dataset: Dataset, new: NewVersion, created_by: str) -> Version:
    """Insert the version, its fields (descriptions carried over) and its lineage edges."""
    previous = latest_version(session, dataset)
    descriptions: dict[str, str] = {}
    if previous is not None:
        descriptions = {
            f.name: f.description for f in version_fields(session, previous) if f.description
        }
    version = Version(
        dataset_id=dataset.id,
        number=(previous.number + 1) if previous else 1,
        created_by=created_by,
        operation=new.operation,
        params=new.params,
        params_hash=new.params_hash,
        rows=new.rows,
        bytes=new.bytes,
        schema=new.schema,
        content_hash=new.content_hash,
        source=new.source,
        source_fingerprint=new.source_fingerprint,
        table_ident=new.table_ident,
        snapshot_id=new.snapshot_id,
        drift=schema_drift(previous.schema if previous else None, new.schema),
    )
    session.add(version)
    session.flush()
    for position, (column, profile) in enumerate(zip(new.schema, new.profiles, strict=True)):
        session.add(
            Field(
                version_id=version.id,
                position=position,
                name=column["name"],
                type=column["type"],
                nullable=column["nullable"],
                description=descriptions.get(column["name"], ""),
                profile=profile,
            )
        )
    for parent in new.parents:
        session.add(LineageEdge(child_id=version.id, parent_id=parent))
    session.flush()
    return version


# -- lineage -----------------------------------------------------------------------------


@dataclass
class LineageNode:
    dataset: str
    number: int
    operation: str
    created_by: str
    created_at: str
    params_hash: str
    depth: int  # negative: ancestors, positive: descendants


def lineage(session: Session, version: Version, max_depth: int = 20) -> list[LineageNode]:
    """Ancestors (depth < 0) and descendants (depth > 0) of a version, breadth first."""
    out: list[LineageNode] = []
    for direction in (-1, 1):
        frontier = [version.id]
        seen = {version.id}
        for depth in range(1, max_depth + 1):
            if not frontier:
                break
            if direction < 0:
                stmt = sa.select(LineageEdge.parent_id).where(LineageEdge.child_id.in_(frontier))
            else:
                stmt = sa.select(LineageEdge.child_id).where(LineageEdge.parent_id.in_(frontier))
            ids = [i for i in session.scalars(stmt) if i not in seen]
            seen.update(ids)
            frontier = ids
            if not ids:
                break
            rows = session.scalars(
                sa.select(Version).where(Version.id.in_(ids)).options(selectinload(Version.dataset))
            )
            for v in rows:
                out.append(
                    LineageNode(
                        v.dataset.code,
                        v.number,
                        v.operation,
                        v.created_by,
                        v.created_at.isoformat(timespec="seconds"),
                        v.params_hash,
                        direction * depth,
                    )
                )
    return sorted(out, key=lambda n: (n.depth, n.dataset, n.number))
