"""Routes of ``catalog``, ``ingest``, ``classify`` and ``protect``: providers register and
upload; operators classify, review and protect. Raw data never leaves through these routes —
only metadata and the verdicts about it."""

from __future__ import annotations

import re
import shutil
import threading
import uuid
from pathlib import Path
from typing import Annotated, Any, Literal

import sqlalchemy as sa
import yaml
from fastapi import APIRouter, File, Form, Query, UploadFile, status
from pydantic import BaseModel, Field

from dizuo.api.deps import WS, Caller, Page, meta
from dizuo.api.errors import RESPONSES
from dizuo.api.schemas import ClassificationOut, DatasetOut, DatasetPage, ProtectOut, VersionOut
from dizuo.audit import log as audit
from dizuo.auth.service import Principal
from dizuo.catalog import service as catalog
from dizuo.catalog.models import ColumnClassification, Dataset, DatasetClassification, Version
from dizuo.errors import DizuoError, Forbidden, InvalidInput, NotFound, PolicyViolation
from dizuo.i18n import tr
from dizuo.workspace import acting_as

router = APIRouter(tags=["catalog"], responses=RESPONSES)

# ingest, classification and protection share the workspace's DuckDB engine: one at a time
work_lock = threading.Lock()
MAX_UPLOAD = 2 * 1024**3


def _visible(caller: Principal, dataset: Dataset) -> bool:
    if caller.is_role("operator") or caller.is_role("auditor"):
        return True
    return dataset.org_id == caller.org_id


def _dataset(s: Any, caller: Principal, code: str) -> Dataset:
    caller.require("catalog:read")
    dataset = catalog.find_dataset(s, code)
    if dataset is None or not _visible(caller, dataset):
        raise NotFound(tr("没有数据集 {c}", "no dataset {c}", c=code))
    return dataset


def dataset_out(s: Any, d: Dataset) -> dict[str, Any]:
    """A dataset with its latest version and how many versions it has."""
    latest = catalog.latest_version(s, d)
    count = int(
        s.scalar(sa.select(sa.func.count()).select_from(Version).where(Version.dataset_id == d.id))
        or 0
    )
    return {
        "code": d.code,
        "name": d.name,
        "provider": d.organisation.code if d.organisation else None,
        "zone": d.zone,
        "share_type": d.share_type,
        "open_type": d.open_type,
        "category": d.category,
        "summary": d.summary,
        "versions": count,
        "latest": latest.number if latest else None,
        "rows": latest.rows if latest else None,
    }


@router.get("/datasets", response_model=DatasetPage, summary="Datasets in the catalog")
def list_datasets(
    ws: WS,
    caller: Caller,
    page: Page,
    q: Annotated[str, Query(max_length=200, description="words to look for")] = "",
) -> dict[str, Any]:
    caller.require("catalog:read")
    from dizuo.catalog.search import search

    with ws.session() as s:
        if q.strip():
            found = [h.dataset for h in search(s, q, limit=10_000)]
        else:
            found = [d for d, _ in catalog.list_datasets(s)]
        found = [d for d in found if _visible(caller, d)]
        items = []
        for d in found[page.offset : page.offset + page.limit]:
            items.append(dataset_out(s, d))
        return {"items": items, "page": meta(page, len(found))}


class DatasetIn(BaseModel):
    code: str = Field(min_length=1, max_length=128)
    name: str = Field(min_length=1, max_length=300)
    org: str | None = Field(None, max_length=64, description="operators only; default: yours")
    summary: str = Field("", max_length=20_000)
    category: str = Field("", max_length=64)
    update_cycle: str = Field("", max_length=32)
    share_type: Literal["无条件共享", "有条件共享", "不予共享"] = "有条件共享"
    share_condition: str = Field("", max_length=5000)
    open_type: Literal["无条件开放", "有条件开放", "不予开放"] = "不予开放"
    keywords: list[str] = Field(default_factory=list, max_length=50)


@router.post(
    "/datasets",
    response_model=DatasetOut,
    status_code=status.HTTP_201_CREATED,
    summary="Register a data resource (信息资源)",
)
def register(ws: WS, caller: Caller, body: DatasetIn) -> dict[str, Any]:
    caller.require("catalog:write")
    with ws.session(write=True) as s:
        if body.org and body.org != caller.org_code and not caller.is_role("operator"):
            raise Forbidden(
                tr("只能登记本机构的数据集", "you can register datasets of your own organisation")
            )
        org = catalog.get_org(s, body.org or caller.org_code)
        dataset = catalog.create_dataset(
            s,
            body.code,
            org,
            name=body.name,
            summary=body.summary,
            category=body.category,
            update_cycle=body.update_cycle,
            share_type=body.share_type,
            share_condition=body.share_condition,
            open_type=body.open_type,
            keywords=body.keywords,
        )
        s.refresh(dataset)
        audit.record(
            ws,
            s,
            actor=caller.username,
            action="dataset.register",
            target=f"dataset:{dataset.code}",
            dataset=dataset.code,
            details={"org": org.code, "share_type": body.share_type},
        )
        return dataset_out(s, dataset)


@router.get("/datasets/{code}", response_model=DatasetOut, summary="One dataset")
def get_dataset(ws: WS, caller: Caller, code: str) -> dict[str, Any]:
    with ws.session() as s:
        d = _dataset(s, caller, code)
        return dataset_out(s, d)


_SAFE_NAME = re.compile(r"[^\w.\-]+")


@router.post(
    "/datasets/{code}/versions",
    response_model=VersionOut,
    status_code=status.HTTP_201_CREATED,
    summary="Upload a file as a new version (CSV, TSV, Excel, JSON, Parquet)",
    max_body_size=MAX_UPLOAD,
)
def upload(
    ws: WS,
    caller: Caller,
    code: str,
    file: Annotated[UploadFile, File(description="the data file")],
    mode: Annotated[Literal["replace", "append"], Form()] = "replace",
    encoding: Annotated[str | None, Form(max_length=32)] = None,
    delimiter: Annotated[str | None, Form(max_length=4)] = None,
    sheet: Annotated[str | None, Form(max_length=100)] = None,
) -> dict[str, Any]:
    caller.require("catalog:write")
    from dizuo.ingest.pipeline import ingest
    from dizuo.ingest.spec import IngestSpec

    with ws.session() as s:
        _dataset(s, caller, code)
    name = _SAFE_NAME.sub("_", Path(file.filename or "upload").name)[-120:]
    if not name.strip("."):
        name = "upload"
    folder = ws.tmp_path / f"upload-{uuid.uuid4().hex}"
    folder.mkdir()
    try:
        target = folder / name
        size = 0
        with target.open("wb") as out:
            while chunk := file.file.read(1024 * 1024):
                size += len(chunk)
                if size > MAX_UPLOAD:
                    raise InvalidInput(tr("文件过大", "the file is too large"))
                out.write(chunk)
        spec = IngestSpec(
            source=str(target),
            dataset=code,
            mode=mode,
            encoding=encoding or None,
            delimiter=delimiter or None,
            sheet=sheet or None,
        )
        with work_lock, acting_as(caller.username):
            try:
                result = ingest(ws, spec)
            except DizuoError as exc:
                # name the caller's file, never where the server keeps it
                if exc.where is not None and exc.where.file:
                    exc.where.file = file.filename or name
                exc.message = exc.message.replace(str(target), file.filename or name)
                if exc.hint:
                    exc.hint = exc.hint.replace(str(target), file.filename or name)
                raise
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {
        "dataset": code,
        "version": result.version,
        "rows": result.rows,
        "created": result.created,
        "message": result.message,
    }


class ClassifyIn(BaseModel):
    version: int | None = Field(None, ge=1)
    sample_rows: int | None = Field(10_000, ge=1, le=10**9, description="null: every row")


def _classification(s: Any, code: str, version: Version) -> dict[str, Any]:
    rows = s.scalars(
        sa.select(ColumnClassification)
        .where(ColumnClassification.version_id == version.id)
        .order_by(ColumnClassification.position)
    ).all()
    grade = s.get(DatasetClassification, version.id)
    return {
        "dataset": code,
        "version": version.number,
        "grade": grade.grade if grade else None,
        "columns": [
            {
                "column": r.column,
                "entity": r.entity,
                "pi": r.pi,
                "sensitive": r.sensitive,
                "category": r.category,
                "confidence": r.confidence,
            }
            for r in rows
        ],
    }


@router.post(
    "/datasets/{code}/classify", response_model=ClassificationOut, summary="Classify a version"
)
def classify(ws: WS, caller: Caller, code: str, body: ClassifyIn) -> dict[str, Any]:
    caller.require("classify")
    from dizuo.classify.run import classify_version

    with ws.session() as s:
        _dataset(s, caller, code)
    with work_lock, acting_as(caller.username):
        report = classify_version(ws, code, body.version, sample_rows=body.sample_rows, save=True)
    number = int(report.target.rsplit("@", 1)[1])
    with ws.session() as s:
        d = _dataset(s, caller, code)
        return _classification(s, code, catalog.get_version(s, d, number))


@router.get(
    "/datasets/{code}/classification",
    response_model=ClassificationOut,
    summary="A version's stored classification",
)
def classification(
    ws: WS, caller: Caller, code: str, version: Annotated[int | None, Query(ge=1)] = None
) -> dict[str, Any]:
    with ws.session() as s:
        d = _dataset(s, caller, code)
        return _classification(s, code, catalog.get_version(s, d, version))


class OverrideIn(BaseModel):
    column: str = Field("", max_length=300, description="empty: the dataset grade")
    reason: str = Field(min_length=1, max_length=5000)
    entity: str | None = Field(None, max_length=64)
    pi: bool | None = None
    sensitive: bool | None = None
    grade: str | None = Field(None, max_length=16)


@router.post(
    "/datasets/{code}/overrides",
    status_code=status.HTTP_201_CREATED,
    summary="Override a column's classification or the grade",
)
def override(ws: WS, caller: Caller, code: str, body: OverrideIn) -> dict[str, str]:
    caller.require("classify")
    from dizuo.classify.store import add_override

    with ws.session() as s:
        _dataset(s, caller, code)
    with acting_as(caller.username):
        o = add_override(
            ws,
            code,
            body.column,
            reason=body.reason,
            entity=body.entity,
            pi=body.pi,
            sensitive=body.sensitive,
            grade=body.grade,
        )
    return {"id": str(o.id)}


def _names_a_file(value: Any) -> bool:
    """Whether a recipe anywhere asks for a hierarchy read from a file."""
    if isinstance(value, dict):
        if value.get("kind") == "file" or "path" in value:
            return True
        return any(_names_a_file(v) for v in value.values())
    if isinstance(value, list):
        return any(_names_a_file(v) for v in value)
    return False


class ProtectIn(BaseModel):
    recipe: dict[str, Any] = Field(description="a protection recipe (see docs/protect.md)")
    version: int | None = Field(None, ge=1)
    target: str | None = Field(None, max_length=128, description="default: <code>_shared")


@router.post(
    "/datasets/{code}/protect",
    response_model=ProtectOut,
    summary="De-identify a version into the shared zone",
)
def protect(ws: WS, caller: Caller, code: str, body: ProtectIn) -> dict[str, Any]:
    caller.require("protect")
    from dizuo.protect.run import protect_version

    if _names_a_file(body.recipe):
        raise PolicyViolation(
            tr(
                "通过 API 提交的配方不能引用服务器上的文件（kind: file）；请用 kind: table",
                "a recipe sent over the API cannot name a file on the server (kind: file); use"
                " kind: table",
            )
        )
    with ws.session() as s:
        _dataset(s, caller, code)
    path = ws.tmp_path / f"recipe-{uuid.uuid4().hex}.yaml"
    path.write_text(yaml.safe_dump(body.recipe, allow_unicode=True), encoding="utf-8")
    try:
        with work_lock, acting_as(caller.username):
            result = protect_version(ws, code, path, number=body.version, output=body.target)
    finally:
        path.unlink(missing_ok=True)
    return {
        "parent": result.source,
        "target": result.target,
        "rows": result.rows,
        "created": result.created,
        "report": result.report,
    }
