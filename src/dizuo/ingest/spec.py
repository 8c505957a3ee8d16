"""What a user asks an ingest to do: a typed spec, independent of any engine."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Format = Literal["auto", "csv", "tsv", "excel", "json", "parquet", "sql"]
Mode = Literal["replace", "append"]


class DatasetMeta(BaseModel):
    """GB/T 21063 items for a dataset created by its first ingest (all optional)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None  # 信息资源名称 (default: the file name)
    summary: str | None = None  # 摘要
    category: str | None = None  # 资源分类, e.g. 教育 / 卫生健康 / 交通运输
    update_cycle: str | None = None  # 更新周期, e.g. 每日 / 每月 / 实时
    share_type: str | None = None  # 共享属性
    share_condition: str | None = None  # 共享条件
    open_type: str | None = None  # 开放属性
    published_on: date | None = None  # 发布日期
    keywords: list[str] = Field(default_factory=list)


class IngestSpec(BaseModel):
    """One ingest: where from, into which dataset, how to read it."""

    model_config = ConfigDict(extra="forbid")

    source: str  # a file path, or a SQLAlchemy database URL
    dataset: str
    org: str | None = None
    mode: Mode = "replace"
    format: Format = "auto"
    encoding: str | None = None
    delimiter: str | None = None
    header: bool = True
    sheet: str | None = None
    table: str | None = None  # for database sources
    query: str | None = None  # for database sources
    dedupe_columns: bool = False
    meta: DatasetMeta = Field(default_factory=DatasetMeta)

    def read_params(self, resolved: dict[str, Any]) -> dict[str, Any]:
        """The parameters that determine the content read (recorded in lineage)."""
        params = self.model_dump(
            include={"format", "encoding", "delimiter", "header", "sheet", "table", "query"},
            exclude_none=True,
        )
        params.update(resolved)
        params["mode"] = self.mode
        return params


def params_hash(params: dict[str, Any]) -> str:
    canonical = json.dumps(params, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
