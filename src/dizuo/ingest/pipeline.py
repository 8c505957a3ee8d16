"""The ingest pipeline: stage → profile → compare → commit to the lake → record in the catalog.

Each step is a small function; the pipeline is their order. Nothing is visible until the last
step commits the catalog row, so an error or a crash at any point leaves no partial version
and the previous version readable.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dizuo.audit import log as audit
from dizuo.catalog.models import Zone
from dizuo.errors import InvalidInput, NotFound, PolicyViolation
from dizuo.i18n import tr
from dizuo.ingest import readers
from dizuo.ingest.profile import Profiled, content_hash, profile
from dizuo.ingest.spec import IngestSpec, params_hash
from dizuo.lake.files import staging_dir, table_name

if TYPE_CHECKING:
    from dizuo.catalog.models import Dataset, Version
    from dizuo.workspace import Workspace

Progress = Callable[[float], None]


@dataclass
class IngestResult:
    dataset: str
    version: int
    created: bool  # False: identical content, no new version
    rows: int
    bytes: int
    format: str
    drift: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    message: str = ""


def _check_target(ws: Workspace, spec: IngestSpec) -> tuple[Dataset | None, Version | None]:
    """The dataset (if it exists) and its latest version; a new dataset needs a provider."""
    from dizuo.catalog import service

    with ws.session() as s:
        dataset = service.find_dataset(s, spec.dataset)
        if dataset is None:
            service.check_code(spec.dataset)
            if spec.org is None:
                raise InvalidInput(
                    tr(
                        "新数据集 {c} 需要提供方：加 --org 机构代码",
                        "new dataset {c} needs a provider: pass --org ORG",
                        c=spec.dataset,
                    )
                )
            service.get_org(s, spec.org)
            service.validate_meta(spec.meta.model_dump(exclude_none=True))
            return None, None
        if dataset.zone != Zone.raw.value:
            raise PolicyViolation(
                tr(
                    "{c} 在共享库中：共享库只接收去标识化与链接的结果，不能直接导入",
                    "{c} is in the shared zone: it takes only protected and linked results,"
                    " never an ingest",
                    c=spec.dataset,
                ),
                hint=tr(
                    "导入到原始库的数据集，再运行 dizuo protect",
                    "ingest into a raw-zone dataset, then run `dizuo protect`",
                ),
            )
        if spec.org is not None:
            org = service.get_org(s, spec.org)
            if dataset.org_id != org.id:
                raise InvalidInput(
                    tr(
                        "数据集 {c} 属于另一个提供方",
                        "dataset {c} belongs to another provider",
                        c=spec.dataset,
                    )
                )
        return dataset, service.latest_version(s, dataset)


def _already_appended(ws: Workspace, dataset: Dataset | None, identity: str) -> int | None:
    from dizuo.catalog import service

    if dataset is None:
        return None
    with ws.session() as s:
        for version in service.list_versions(s, dataset):
            if version.params.get("chunk_hash") == identity:
                return version.number
    return None


def ingest(ws: Workspace, spec: IngestSpec, progress: Progress | None = None) -> IngestResult:
    """Ingest ``spec.source`` into dataset ``spec.dataset`` (see :class:`IngestSpec`).

    The engine starts loading at once; the catalog checks, and opening the lake (which imports
    pyiceberg), run meanwhile on this thread and another. A failed check stops the load.
    """
    stage_dir = staging_dir(ws.tmp_path)
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="dizuo-ingest")
    loading = pool.submit(readers.stage, ws.engine, spec, stage_dir, progress)
    opening = pool.submit(_open_lake, ws)
    try:
        try:
            dataset, latest = _check_target(ws, spec)
            if spec.mode == "append" and latest is not None and latest.expired:
                raise NotFound(tr("最新版本已过期", "the latest version was expired"))
        except BaseException:
            ws.engine.interrupt()
            wait([loading])
            raise
        staged = loading.result()
        if not staged.files:
            raise InvalidInput(
                tr("没有读到任何数据", "no data was read"), where=None, hint=staged.source
            )
        # the profile (footers and a sample) runs while the lake commits
        profiling = pool.submit(profile, ws.engine, staged.files)
        params = spec.read_params(staged.resolved)
        p_hash = params_hash(params)
        identity = _identity(ws, staged, profiling, params)
        size = sum(f.stat().st_size for f in staged.files)
        opening.result()
        if spec.mode == "replace" and latest is not None and latest.content_hash == identity:
            return IngestResult(
                spec.dataset,
                latest.number,
                False,
                latest.rows,
                latest.bytes,
                staged.format,
                notes=staged.notes,
                message=tr(
                    "内容与第 {n} 版相同，未创建新版本",
                    "content identical to version {n}: no new version created",
                    n=latest.number,
                ),
            )
        if spec.mode == "append":
            if latest is not None:
                _check_append_schema(latest, profiling.result(), spec)
            earlier = _already_appended(ws, dataset, identity)
            if earlier is not None:
                assert latest is not None
                return IngestResult(
                    spec.dataset,
                    latest.number,
                    False,
                    latest.rows,
                    latest.bytes,
                    staged.format,
                    notes=staged.notes,
                    message=tr(
                        "这些数据已在第 {n} 版追加过，未创建新版本",
                        "this content was already appended in version {n}: no new version",
                        n=earlier,
                    ),
                )
            params["chunk_hash"] = identity
        return _commit(ws, spec, dataset, latest, staged, profiling, params, p_hash, identity, size)
    finally:
        if not loading.done():  # interrupted (Ctrl-C) while loading: stop the engine too
            ws.engine.interrupt()
        pool.shutdown(wait=True)
        shutil.rmtree(stage_dir, ignore_errors=True)


def _open_lake(ws: Workspace) -> None:
    """Warm ``ws.lake`` on a thread; a failure is raised again when the lake is used."""
    try:
        ws.lake  # noqa: B018
    except Exception:
        pass


def _identity(
    ws: Workspace, staged: readers.Staged, profiling: Future[Profiled], params: dict[str, Any]
) -> str:
    """What makes two ingests the same content.

    For a file: the SHA-256 of its bytes with the options it was read with — no second pass
    over the data. For a database query, whose text says nothing of the rows it returns: an
    order-independent hash of the rows themselves.
    """
    if staged.fingerprint.startswith("sha256:"):
        read = {k: v for k, v in params.items() if k != "mode"}
        return hashlib.sha256(f"{staged.fingerprint}|{params_hash(read)}".encode()).hexdigest()
    return content_hash(ws.engine, staged.files, profiling.result().schema)


def _check_append_schema(latest: Version, profiled: Profiled, spec: IngestSpec) -> None:
    from dizuo.catalog import service

    drift = service.schema_drift(latest.schema, profiled.schema)
    if drift:
        parts = []
        if drift.get("added"):
            parts.append(tr("新增列 {c}", "added {c}", c=", ".join(drift["added"])))
        if drift.get("removed"):
            parts.append(tr("缺少列 {c}", "missing {c}", c=", ".join(drift["removed"])))
        for r in drift.get("retyped", []):
            parts.append(
                tr(
                    "列 {n} 类型 {a}→{b}",
                    "{n} retyped {a}→{b}",
                    n=r["name"],
                    a=r["from"],
                    b=r["to"],
                )
            )
        raise InvalidInput(
            tr(
                "追加的数据与第 {v} 版结构不同: {d}",
                "appended data differs in structure from version {v}: {d}",
                v=latest.number,
                d="; ".join(parts),
            ),
            hint=tr("结构变化请用 --mode replace", "use --mode replace for a new structure"),
        )


def _commit(
    ws: Workspace,
    spec: IngestSpec,
    dataset: Dataset | None,
    latest: Version | None,
    staged: readers.Staged,
    profiling: Future[Profiled],
    params: dict[str, Any],
    p_hash: str,
    identity: str,
    size: int,
) -> IngestResult:
    import pyarrow.parquet as pq

    from dizuo.catalog import service

    ident = f"raw.{table_name(spec.dataset)}"  # the raw zone (原始库)
    schema = pq.read_schema(staged.files[0])
    if len(staged.files) > 1:
        import pyarrow as pa

        schema = pa.unify_schemas(
            [pq.read_schema(f) for f in staged.files], promote_options="permissive"
        )
    commit = ws.lake.commit(
        ident,
        staged.files,
        schema=schema,
        mode=spec.mode if latest is not None else "replace",
        expected_snapshot=latest.snapshot_id if latest is not None else None,
        properties={"dizuo.dataset": spec.dataset, "dizuo.operation": spec.mode},
    )
    append = spec.mode == "append" and latest is not None
    operation = "append" if append else "ingest"
    profiled = profiling.result()
    if append:
        # the version is the whole table: profile all of its files, old and new
        profiled = profile(ws.engine, [Path(f) for f in ws.lake.files(ident, commit.snapshot_id)])
    with ws.session(write=True) as s:
        ds = service.find_dataset(s, spec.dataset) if dataset is not None else None
        if ds is None:
            org = service.get_org(s, spec.org) if spec.org else None
            meta = spec.meta.model_dump(exclude_none=True)
            meta.setdefault(
                "name", Path(staged.source).stem if "://" not in spec.source else spec.dataset
            )
            ds = service.create_dataset(s, spec.dataset, org, format=staged.format, **meta)
        rows = profiled.rows
        total_bytes = size + (latest.bytes if append and latest else 0)
        version = service.record_version(
            s,
            ds,
            service.NewVersion(
                operation=operation,
                params=params,
                params_hash=p_hash,
                rows=rows,
                bytes=total_bytes,
                schema=profiled.schema,
                profiles=profiled.profiles,
                content_hash=identity
                if not (append and latest)
                else hashlib.sha256(f"{latest.content_hash}+{identity}".encode()).hexdigest(),
                source=staged.source,
                source_fingerprint=staged.fingerprint,
                table_ident=commit.ident,
                snapshot_id=commit.snapshot_id,
                parents=[latest.id] if append and latest else [],
            ),
            created_by=ws.actor,
        )
        number, drift = version.number, version.drift
        audit.record(
            ws,
            s,
            actor=ws.actor,
            action=f"version.{operation}",
            target=f"{spec.dataset}@{number}",
            dataset=spec.dataset,
            details={"rows": rows, "bytes": total_bytes, "format": staged.format},
        )
    return IngestResult(
        spec.dataset,
        number,
        True,
        rows,
        total_bytes,
        staged.format,
        drift=drift,
        notes=staged.notes,
        message=tr(
            "已创建 {c}@{n}: {r} 行",
            "created {c}@{n}: {r} rows",
            c=spec.dataset,
            n=number,
            r=f"{rows:,}",
        ),
    )
