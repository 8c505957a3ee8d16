"""Catalog tables (SQLAlchemy 2). The schema is created and upgraded by Alembic only.

Names follow GB/T 21063 政务信息资源目录 where the standard has an item for it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: sa.JSON, list[Any]: sa.JSON}


class ShareType(StrEnum):
    """共享属性 (GB/T 21063.3)."""

    unconditional = "无条件共享"
    conditional = "有条件共享"
    none = "不予共享"


class OpenType(StrEnum):
    """开放属性."""

    unconditional = "无条件开放"
    conditional = "有条件开放"
    none = "不予开放"


class Zone(StrEnum):
    raw = "raw"  # 原始库
    shared = "shared"  # 共享库


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    code: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(32), default="provider")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)


class Dataset(Base):
    """信息资源: one data resource, whatever its versions."""

    __tablename__ = "datasets"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    code: Mapped[str] = mapped_column(sa.String(128), unique=True)  # 资源代码
    name: Mapped[str] = mapped_column(sa.String(300))  # 信息资源名称
    org_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="RESTRICT")
    )  # 提供方
    summary: Mapped[str] = mapped_column(sa.Text, default="")  # 摘要
    category: Mapped[str] = mapped_column(sa.String(64), default="")  # 资源分类
    format: Mapped[str] = mapped_column(sa.String(64), default="")  # 格式
    update_cycle: Mapped[str] = mapped_column(sa.String(32), default="")  # 更新周期
    share_type: Mapped[str] = mapped_column(sa.String(16), default=ShareType.conditional.value)
    share_condition: Mapped[str] = mapped_column(sa.Text, default="")  # 共享条件
    open_type: Mapped[str] = mapped_column(sa.String(16), default=OpenType.none.value)
    published_on: Mapped[date | None] = mapped_column(sa.Date)  # 发布日期
    keywords: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)
    zone: Mapped[str] = mapped_column(sa.String(16), default=Zone.raw.value)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    organisation: Mapped[Organisation | None] = relationship(lazy="joined")
    versions: Mapped[list[Version]] = relationship(
        back_populates="dataset", order_by="Version.number", lazy="select"
    )


class Version(Base):
    """One immutable version of a dataset, pointing at an Iceberg snapshot."""

    __tablename__ = "versions"
    __table_args__ = (sa.UniqueConstraint("dataset_id", "number"),)

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    dataset_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("datasets.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(sa.Integer)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(sa.String(128))
    operation: Mapped[str] = mapped_column(sa.String(32))  # ingest / append / protect / …
    params: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    params_hash: Mapped[str] = mapped_column(sa.String(64), default="")
    rows: Mapped[int] = mapped_column(sa.BigInteger)
    bytes: Mapped[int] = mapped_column(sa.BigInteger)
    schema: Mapped[list[Any]] = mapped_column(sa.JSON)  # [{"name", "type", "nullable"}]
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    source: Mapped[str] = mapped_column(sa.Text, default="")
    source_fingerprint: Mapped[str] = mapped_column(sa.String(80), default="")
    table_ident: Mapped[str] = mapped_column(sa.String(200))
    snapshot_id: Mapped[int] = mapped_column(sa.BigInteger)
    drift: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    expired: Mapped[bool] = mapped_column(sa.Boolean, default=False)

    dataset: Mapped[Dataset] = relationship(back_populates="versions")
    fields: Mapped[list[Field]] = relationship(
        back_populates="version", order_by="Field.position", cascade="all, delete-orphan"
    )


class Field(Base):
    """信息项: a column of one version, with its profile."""

    __tablename__ = "fields"
    __table_args__ = (sa.UniqueConstraint("version_id", "position"),)

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    version_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("versions.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(sa.Integer)
    name: Mapped[str] = mapped_column(sa.String(300))
    type: Mapped[str] = mapped_column(sa.String(200))
    nullable: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    profile: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)

    version: Mapped[Version] = relationship(back_populates="fields")


class LineageEdge(Base):
    """A derivation edge: ``child`` was made from ``parent`` by the child's operation."""

    __tablename__ = "lineage_edges"

    child_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("versions.id", ondelete="CASCADE"), primary_key=True
    )
    parent_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("versions.id", ondelete="RESTRICT"), primary_key=True, index=True
    )


class ColumnClassification(Base):
    """The classifier's verdict on one column of one version, with the policy's judgement
    (after any operator override of that dataset's column)."""

    __tablename__ = "column_classifications"
    __table_args__ = (sa.UniqueConstraint("version_id", "column"),)

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    version_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("versions.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(sa.Integer)
    column: Mapped[str] = mapped_column(sa.String(300))
    entity: Mapped[str | None] = mapped_column(sa.String(64))
    confidence: Mapped[float] = mapped_column(sa.Float)
    match_rate: Mapped[float] = mapped_column(sa.Float)
    free_text: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    evidence: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)
    pi: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    sensitive: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    category: Mapped[str | None] = mapped_column(sa.String(64))
    legal_basis: Mapped[str] = mapped_column(sa.Text, default="")
    reasons: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)
    override_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("classification_overrides.id", ondelete="SET NULL")
    )


class DatasetClassification(Base):
    """The grade of one version (GB/T 43697) and the flags the policy raised."""

    __tablename__ = "dataset_classifications"

    version_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("versions.id", ondelete="CASCADE"), primary_key=True
    )
    grade: Mapped[str] = mapped_column(sa.String(16))
    grade_reasons: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)
    health_data: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    whereabouts: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    minors: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    minors_share: Mapped[float | None] = mapped_column(sa.Float)
    sampled_rows: Mapped[int | None] = mapped_column(sa.BigInteger)
    policy_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(sa.String(128))


class ClassificationOverride(Base):
    """An operator's correction of a column's classification, kept for the dataset: it is
    applied again whenever a new version is classified. ``column`` empty: the dataset grade."""

    __tablename__ = "classification_overrides"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    dataset_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("datasets.id", ondelete="CASCADE"), index=True
    )
    column: Mapped[str] = mapped_column(sa.String(300))
    entity: Mapped[str | None] = mapped_column(sa.String(64))
    pi: Mapped[bool | None] = mapped_column(sa.Boolean)
    sensitive: Mapped[bool | None] = mapped_column(sa.Boolean)
    grade: Mapped[str | None] = mapped_column(sa.String(16))
    reason: Mapped[str] = mapped_column(sa.Text)
    created_by: Mapped[str] = mapped_column(sa.String(128))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)


class ProtectionRun(Base):
    """How a shared-zone version was made: the recipe (never a key), its hash, the parent
    version, and the risk and utility report."""

    __tablename__ = "protection_runs"

    version_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("versions.id", ondelete="CASCADE"), primary_key=True
    )
    parent_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("versions.id", ondelete="CASCADE"), index=True
    )
    recipe_hash: Mapped[str] = mapped_column(sa.String(64))
    recipe: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    report: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(sa.String(128))
