"""Response bodies (they make the OpenAPI document complete)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from dizuo.api.deps import PageMeta


class TokenOut(BaseModel):
    id: str
    name: str
    kind: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class NewToken(BaseModel):
    token: str = Field(description="the secret: shown once, store it safely")
    info: TokenOut


class UserOut(BaseModel):
    username: str
    display_name: str
    organisation: str
    roles: list[str]
    active: bool
    created_at: datetime


class Me(UserOut):
    permissions: list[str]


class UserPage(BaseModel):
    items: list[UserOut]
    page: PageMeta


class TokenPage(BaseModel):
    items: list[TokenOut]
    page: PageMeta


class FieldOut(BaseModel):
    name: str
    type: str
    description: str = ""
    classification: dict[str, Any] | None = Field(
        None, description="entity, pi, sensitive, category, protection (no values)"
    )


class ProductOut(BaseModel):
    code: str
    name: str
    description: str
    provider: str
    provider_name: str
    dataset: str
    version: int
    share_type: str
    grade: str | None
    rights: dict[str, str]
    purposes: list[str]
    terms: str
    price: Decimal
    currency: str
    delivery: list[str]
    visibility: str
    status: str
    rows: int
    fields: list[FieldOut]
    created_at: datetime


class ProductBrief(BaseModel):
    code: str
    name: str
    provider: str
    purposes: list[str]
    delivery: list[str]
    price: Decimal
    currency: str
    status: str


class ProductPage(BaseModel):
    items: list[ProductBrief]
    page: PageMeta


class ApprovalOut(BaseModel):
    step: str
    decision: str
    comment: str
    by: str
    at: datetime


class RequestOut(BaseModel):
    id: str
    product: str
    requester: str
    organisation: str
    purpose: str
    justification: str
    columns: list[str]
    delivery: list[str]
    duration_days: int
    needs: list[str]
    status: str
    approvals: list[ApprovalOut]
    created_at: datetime
    decided_at: datetime | None
    grant: str | None = None


class RequestPage(BaseModel):
    items: list[RequestOut]
    page: PageMeta


class GrantOut(BaseModel):
    id: str
    product: str
    consumer: str
    organisation: str
    purpose: str
    columns: list[str]
    delivery: list[str]
    row_filter: str
    expires_at: datetime
    status: str
    status_reason: str
    max_rows: int | None
    max_calls: int | None
    rows_used: int
    calls_used: int
    bytes_used: int
    created_at: datetime


class GrantPage(BaseModel):
    items: list[GrantOut]
    page: PageMeta


class UsageOut(BaseModel):
    at: datetime
    mode: str
    rows: int
    bytes: int
    user: str


class UsagePage(BaseModel):
    grant: GrantOut
    items: list[UsageOut]
    page: PageMeta


class QueryOut(BaseModel):
    columns: list[str]
    rows: list[dict[str, Any]]
    offset: int
    next_offset: int | None
    clipped_by_quota: bool
    quota: dict[str, int | None]


class StatisticsOut(BaseModel):
    group_by: list[str]
    groups: list[dict[str, Any]]
    suppressed_groups: int = Field(description="groups under min_cell, withheld")
    min_cell: int
    quota: dict[str, int | None]


class AuditOut(BaseModel):
    seq: int
    at: str
    actor: str
    action: str
    outcome: str
    target: str
    dataset: str | None
    grant_id: str | None
    details: dict[str, Any]
    digest: str


class AuditPage(BaseModel):
    items: list[AuditOut]
    page: PageMeta


class VerifyOut(BaseModel):
    ok: bool
    entries: int
    checkpoints: int
    first_bad: int | None
    problem: str
    head: int


class DatasetOut(BaseModel):
    code: str
    name: str
    provider: str | None
    zone: str
    share_type: str
    open_type: str
    category: str
    summary: str
    versions: int
    latest: int | None
    rows: int | None


class DatasetPage(BaseModel):
    items: list[DatasetOut]
    page: PageMeta


class VersionOut(BaseModel):
    dataset: str
    version: int
    rows: int
    created: bool
    message: str


class ColumnOut(BaseModel):
    column: str
    entity: str | None
    pi: bool
    sensitive: bool
    category: str | None
    confidence: float


class ClassificationOut(BaseModel):
    dataset: str
    version: int
    grade: str | None
    columns: list[ColumnOut]


class ProtectOut(BaseModel):
    parent: str
    target: str
    rows: int
    created: bool
    report: dict[str, Any]
