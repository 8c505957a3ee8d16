"""What callers send to the share service (validated with pydantic; the API's request bodies)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Delivery = Literal["download", "query", "statistics"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Rights(Strict):
    """数据二十条: who holds the data (持有权), who may process and use it (加工使用权), who may
    run the product (经营权). Organisation codes; empty means the default (provider, provider,
    the publishing operator's organisation)."""

    holding: str = Field("", max_length=64, description="持有权 — organisation code")
    processing: str = Field("", max_length=64, description="加工使用权 — organisation code")
    operating: str = Field("", max_length=64, description="经营权 — organisation code")


class ProductIn(Strict):
    code: str = Field(min_length=1, max_length=128, description="product code, e.g. edu.schools")
    name: str = Field(min_length=1, max_length=300)
    description: str = Field("", max_length=20_000)
    dataset: str = Field(min_length=1, max_length=128, description="a shared-zone dataset code")
    version: int | None = Field(None, ge=1, description="version number; latest if omitted")
    columns: list[str] | None = Field(
        None, max_length=2000, description="fields on offer; all if omitted"
    )
    row_filter: str = Field("", max_length=4000, description="rows on offer (SQL condition)")
    rights: Rights = Field(default_factory=lambda: Rights(holding="", processing="", operating=""))
    purposes: list[str] = Field(min_length=1, max_length=50)
    terms: str = Field("", max_length=20_000)
    price: Decimal = Field(Decimal("0"), ge=0, le=Decimal("999999999999.99"), decimal_places=2)
    currency: str = Field("CNY", pattern=r"^[A-Z]{3}$")
    delivery: list[Delivery] = Field(min_length=1)
    visibility: Literal["public", "restricted"] = "public"
    audience: list[str] = Field(
        default_factory=list,
        max_length=500,
        description="organisations that see a restricted product",
    )
    min_cell: int = Field(10, ge=2, le=10_000, description="statistics: smallest group shown")


class RequestIn(Strict):
    product: str = Field(min_length=1, max_length=128)
    purpose: str = Field(min_length=1, max_length=200, description="one of the product's purposes")
    justification: str = Field("", max_length=5000)
    columns: list[str] | None = Field(None, max_length=2000, description="all on offer if omitted")
    delivery: list[Delivery] | None = None
    duration_days: int = Field(90, ge=1, le=366)


class GrantTerms(Strict):
    """What the operator sets when approving (all optional)."""

    columns: list[str] | None = Field(None, max_length=2000, description="narrow the fields")
    row_filter: str = Field("", max_length=4000)
    max_rows: int | None = Field(None, ge=1, le=10**15)
    max_calls: int | None = Field(None, ge=1, le=10**9)
    expires_at: datetime | None = None


class DecisionIn(Strict):
    decision: Literal["approve", "reject"]
    comment: str = Field("", max_length=5000)
    step: Literal["provider", "operator"] | None = None
    terms: GrantTerms | None = None


class GrantChange(Strict):
    reason: str = Field("", max_length=2000)


class QueryIn(Strict):
    columns: list[str] | None = Field(None, max_length=2000)
    filter: str = Field("", max_length=4000)
    offset: int = Field(0, ge=0, le=10**12)
    limit: int = Field(100, ge=1, le=10_000)


class StatisticsIn(Strict):
    group_by: list[str] = Field(min_length=1, max_length=3)
    filter: str = Field("", max_length=4000)
