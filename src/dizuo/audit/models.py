"""The audit log: an append-only hash chain, its head, and signed checkpoints."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from dizuo.catalog.models import Base

GENESIS = "0" * 64


class AuditEntry(Base):
    """One action. ``digest`` = SM3(previous digest ‖ canonical JSON of this entry's fields).

    ``at`` is an ISO-8601 UTC string with microseconds, so the text that was hashed is the text
    stored on every database. ``details`` holds identifiers, counts and digests, never a
    personal value."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(sa.String(32), index=True)
    actor: Mapped[str] = mapped_column(sa.String(128), index=True)
    action: Mapped[str] = mapped_column(sa.String(64), index=True)
    outcome: Mapped[str] = mapped_column(sa.String(16), default="ok")
    target: Mapped[str] = mapped_column(sa.String(300), default="")
    dataset: Mapped[str | None] = mapped_column(sa.String(128), index=True)
    grant_id: Mapped[str | None] = mapped_column(sa.String(36), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    algorithm: Mapped[str] = mapped_column(sa.String(16), default="sm3")
    prev_digest: Mapped[str] = mapped_column(sa.String(64))
    digest: Mapped[str] = mapped_column(sa.String(64))


class AuditHead(Base):
    """The one row every append locks: the last sequence number and digest."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(sa.BigInteger)
    digest: Mapped[str] = mapped_column(sa.String(64))


class AuditCheckpoint(Base):
    """A signed statement "entry ``seq`` has digest ``digest``" (Ed25519, workspace key)."""

    __tablename__ = "audit_checkpoints"

    seq: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    digest: Mapped[str] = mapped_column(sa.String(64))
    at: Mapped[str] = mapped_column(sa.String(32))
    public_key: Mapped[str] = mapped_column(sa.String(64))
    signature: Mapped[str] = mapped_column(sa.String(128))
