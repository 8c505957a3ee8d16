"""Data products (数据产品), access requests (申请), approvals (审批), grants (授权) and usage."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dizuo.catalog.models import Base, Dataset, Organisation, Version, utcnow


class Product(Base):
    """A shared-zone version (or a view of it: some columns, some rows) offered under terms."""

    __tablename__ = "products"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    code: Mapped[str] = mapped_column(sa.String(128), unique=True)
    name: Mapped[str] = mapped_column(sa.String(300))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    dataset_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("datasets.id", ondelete="RESTRICT"), index=True
    )
    version_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("versions.id", ondelete="RESTRICT"))
    provider_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    columns: Mapped[list[Any]] = mapped_column(sa.JSON)
    row_filter: Mapped[str] = mapped_column(sa.Text, default="")
    rights: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    purposes: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)
    terms: Mapped[str] = mapped_column(sa.Text, default="")
    price: Mapped[Decimal] = mapped_column(sa.Numeric(14, 2), default=Decimal("0"))
    currency: Mapped[str] = mapped_column(sa.String(8), default="CNY")
    delivery: Mapped[list[Any]] = mapped_column(sa.JSON)
    visibility: Mapped[str] = mapped_column(sa.String(16), default="public")
    audience: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)
    min_cell: Mapped[int] = mapped_column(sa.Integer, default=10)
    status: Mapped[str] = mapped_column(sa.String(16), default="published")
    created_by: Mapped[str] = mapped_column(sa.String(128))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    dataset: Mapped[Dataset] = relationship(lazy="joined")
    version: Mapped[Version] = relationship(lazy="joined")
    provider: Mapped[Organisation] = relationship(lazy="joined")


class AccessRequest(Base):
    __tablename__ = "access_requests"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    product_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("products.id", ondelete="RESTRICT"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    org_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="RESTRICT")
    )
    purpose: Mapped[str] = mapped_column(sa.Text)
    justification: Mapped[str] = mapped_column(sa.Text, default="")
    columns: Mapped[list[Any]] = mapped_column(sa.JSON)
    delivery: Mapped[list[Any]] = mapped_column(sa.JSON)
    duration_days: Mapped[int] = mapped_column(sa.Integer)
    needs: Mapped[list[Any]] = mapped_column(sa.JSON)  # approval steps: provider?, operator
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    product: Mapped[Product] = relationship(lazy="joined")
    approvals: Mapped[list[Approval]] = relationship(
        order_by="Approval.created_at", lazy="selectin", cascade="all, delete-orphan"
    )


class Approval(Base):
    __tablename__ = "approvals"
    __table_args__ = (sa.UniqueConstraint("request_id", "step"),)

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    request_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("access_requests.id", ondelete="CASCADE"), index=True
    )
    step: Mapped[str] = mapped_column(sa.String(16))
    decision: Mapped[str] = mapped_column(sa.String(16))
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    terms: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)


class Grant(Base):
    """What one consumer may take from one product: fields, rows, modes, until when, how much."""

    __tablename__ = "grants"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    request_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("access_requests.id", ondelete="RESTRICT"), unique=True
    )
    product_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("products.id", ondelete="RESTRICT"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    org_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="RESTRICT")
    )
    purpose: Mapped[str] = mapped_column(sa.Text)
    columns: Mapped[list[Any]] = mapped_column(sa.JSON)
    delivery: Mapped[list[Any]] = mapped_column(sa.JSON)
    row_filter: Mapped[str] = mapped_column(sa.Text, default="")
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    max_rows: Mapped[int | None] = mapped_column(sa.BigInteger)
    max_calls: Mapped[int | None] = mapped_column(sa.Integer)
    rows_used: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    calls_used: Mapped[int] = mapped_column(sa.Integer, default=0)
    bytes_used: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    status: Mapped[str] = mapped_column(sa.String(16), default="active")
    status_reason: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    product: Mapped[Product] = relationship(lazy="joined")


class Usage(Base):
    """One metered delivery: which grant, who, how (download / query / statistics), how much."""

    __tablename__ = "usage_records"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    grant_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("grants.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    mode: Mapped[str] = mapped_column(sa.String(16))
    rows: Mapped[int] = mapped_column(sa.BigInteger)
    bytes: Mapped[int] = mapped_column(sa.BigInteger)
