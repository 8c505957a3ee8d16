"""Delivery under a grant: downloads (Parquet / CSV), a paged query API and statistics.

Every call is checked against the grant (owner, status, expiry, delivery mode, quotas), reads
only the granted fields and rows of the product's protected version, and is metered and
audited in one transaction with a conditional update, so two concurrent calls cannot both
spend the last of a quota. A refused call is audited too.

The data is read by DuckDB on a connection of its own that can see nothing but the lake and
whose configuration is locked; filters reach it only as SQL re-rendered by SQLGlot from an
allow-listed grammar (:mod:`dizuo.share.filters`).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import sqlalchemy as sa

from dizuo.audit import log as audit
from dizuo.auth.service import Principal
from dizuo.catalog.models import ShareType
from dizuo.engine.duckdb import quote_ident, sql_list, sql_literal
from dizuo.errors import Conflict, DizuoError, Forbidden, InvalidInput, QuotaExceeded
from dizuo.i18n import tr
from dizuo.lake.query import version_select
from dizuo.share import service
from dizuo.share.filters import RowFilter, combine, parse_filter
from dizuo.share.models import Grant, Usage

if TYPE_CHECKING:
    from dizuo.workspace import Workspace

Mode = Literal["download", "query", "statistics"]
MAX_GROUPS = 10_000  # statistics: groups in one answer

_files_lock = threading.Lock()
_files_cache: dict[tuple[str, str, int], list[str]] = {}


def _files(ws: Workspace, ident: str, snapshot: int) -> list[str]:
    """A snapshot's files (immutable, so cached per process)."""
    key = (str(ws.lake_path), ident, snapshot)
    with _files_lock:
        cached = _files_cache.get(key)
        if cached is None:
            cached = ws.lake.files(ident, snapshot)
            _files_cache[key] = cached
        return cached


@dataclass
class Source:
    """What one call may read."""

    grant_id: uuid.UUID
    product: str
    dataset: str
    columns: list[str]
    files: list[str]
    schema: list[dict[str, str]]
    where: str
    filters: list[RowFilter]
    rows_left: int | None
    calls_left: int | None
    min_cell: int
    details: dict[str, Any] = field(default_factory=dict)

    def from_clause(self) -> str:
        if not self.files:
            return f"({version_select([], self.schema)})"
        return (
            f"read_parquet({sql_list(self.files)}, union_by_name = true, "
            "filename = '__dizuo_file', file_row_number = true)"
        )

    def order(self) -> str:
        # One file (what ingest and every derived commit write): its own order is the row
        # order, kept by the connection's preserve_insertion_order, so a page can stop early
        # instead of sorting the whole filtered table.
        if len(self.files) <= 1:
            return ""
        return f"ORDER BY list_position({sql_list(self.files)}, __dizuo_file), file_row_number"

    def select(self, columns: list[str]) -> str:
        cols = ", ".join(quote_ident(c) for c in columns)
        return f"SELECT {cols} FROM {self.from_clause()} WHERE {self.where or 'true'}"


def _denied(
    ws: Workspace, principal: Principal, grant_id: str, mode: str, error: DizuoError
) -> None:
    try:
        gid = str(uuid.UUID(str(grant_id)))
    except ValueError:
        gid = None
    with ws.session() as s:
        if isinstance(error, BadQuery) and gid is not None:
            # a query the engine refused still costs a call: refusals must not be a free
            # oracle over the data
            s.execute(
                sa.update(Grant)
                .where(Grant.id == uuid.UUID(gid), Grant.user_id == principal.user_id)
                .values(calls_used=Grant.calls_used + 1)
                .execution_options(synchronize_session=False)
            )
        audit.record(
            ws,
            s,
            actor=principal.username,
            action=f"data.{mode}",
            outcome="denied",
            target=f"grant:{gid or '?'}",
            grant_id=gid,
            details={"reason": error.kind},
        )


def _guarded(
    ws: Workspace, principal: Principal, grant_id: str, mode: str, work: Callable[[], Any]
) -> Any:
    try:
        return work()
    except DizuoError as exc:
        _denied(ws, principal, grant_id, mode, exc)
        raise


def open_source(
    ws: Workspace,
    principal: Principal,
    grant_id: str,
    mode: Mode,
    *,
    columns: list[str] | None = None,
    extra_filter: str = "",
) -> Source:
    """Check the grant for this call and say what it may read."""
    principal.require("data:read")
    with ws.session() as s:
        # only the grant's own consumer reads through it (a token scoped to data:read is
        # enough); anybody else's grant does not exist for this call
        grant = s.get(Grant, service.as_uuid(grant_id, "grant"))
        if grant is None or grant.user_id != principal.user_id:
            raise service.missing("grant", grant_id)
        state = service.effective_status(grant)
        reasons = {
            "suspended": tr("授权已暂停", "the grant is suspended"),
            "revoked": tr("授权已撤销", "the grant was revoked"),
            "expired": tr("授权已过期", "the grant has expired"),
        }
        if state in reasons:
            raise Forbidden(reasons[state])
        product = grant.product
        if product.status != "published":
            raise Forbidden(tr("该数据产品已下架", "the product was withdrawn"))
        if product.dataset.share_type == ShareType.none.value:
            raise Forbidden(tr("数据已改为不予共享", "the data is now 不予共享 (not shareable)"))
        if product.version.expired:
            raise Conflict(
                tr(
                    "该数据产品的版本已过期清理，请联系运营方",
                    "the product's version was expired from the lake: ask the operator",
                )
            )
        if mode not in grant.delivery:
            raise Forbidden(
                tr(
                    "授权不含 {m} 方式（可用: {a}）",
                    "the grant does not include {m} (it allows {a})",
                    m=mode,
                    a=", ".join(grant.delivery),
                )
            )
        calls_left = None if grant.max_calls is None else grant.max_calls - grant.calls_used
        rows_left = None if grant.max_rows is None else grant.max_rows - grant.rows_used
        if calls_left is not None and calls_left <= 0:
            raise QuotaExceeded(
                tr(
                    "调用次数已用完（{n} 次）",
                    "the call quota is spent ({n} calls)",
                    n=grant.max_calls,
                )
            )
        if rows_left is not None and rows_left <= 0:
            raise QuotaExceeded(
                tr(
                    "行数额度已用完（{n} 行）",
                    "the row quota is spent ({n} rows)",
                    n=grant.max_rows,
                )
            )
        granted = list(grant.columns)
        chosen = (
            granted
            if not columns
            else service.check_names(columns, granted, tr("该授权", "the grant"))
        )
        version = product.version
        names = [c["name"] for c in version.schema]
        filters = [
            parse_filter(product.row_filter, names),
            parse_filter(grant.row_filter, names),
            # the caller's own narrowing may name granted fields only
            parse_filter(extra_filter, granted, what="query filter"),
        ]
        source = Source(
            grant_id=grant.id,
            product=product.code,
            dataset=product.dataset.code,
            columns=chosen,
            files=[],
            schema=list(version.schema),
            where=combine(*filters),
            filters=filters,
            rows_left=rows_left,
            calls_left=calls_left,
            min_cell=product.min_cell,
        )
        ident, snapshot = version.table_ident, version.snapshot_id
    source.files = _files(ws, ident, snapshot)
    return source


_databases: dict[str, duckdb.DuckDBPyConnection] = {}
_databases_lock = threading.Lock()


def _connect(ws: Workspace) -> duckdb.DuckDBPyConnection:
    """A cursor on this process's delivery database for the workspace: an in-memory DuckDB
    that can read nothing but the lake, whose configuration is locked, and whose memory limit
    bounds all deliveries together. Opening a database per call cost half a query's time."""
    key = str(ws.lake_path.resolve())
    with _databases_lock:
        database = _databases.get(key)
        if database is None:
            config: dict[str, Any] = {"memory_limit": ws.settings.memory_limit}
            if ws.settings.threads:
                config["threads"] = ws.settings.threads
            database = duckdb.connect(config=config)
            database.execute(f"SET allowed_directories = [{sql_literal(key + '/')}]")
            database.execute("SET enable_external_access = false")
            database.execute("SET lock_configuration = true")
            _databases[key] = database
        return database.cursor()


class BadQuery(InvalidInput):
    """The engine refused a delivery query. Its own message is never shown: it can quote the
    data (a value that failed a conversion) or the server's paths."""


def _engine_error(exc: duckdb.Error) -> BadQuery:
    if isinstance(exc, duckdb.ConversionException):
        return BadQuery(
            tr(
                "过滤条件中的值与列的类型不符",
                "a value in the filter does not match its column's type",
            ),
            hint=tr("文本值加单引号，数值不加", "quote text values, not numbers"),
        )
    return BadQuery(tr("无法读取数据", "the data could not be read"))


def _run(ws: Workspace, sql: str) -> pa.Table:
    con = _connect(ws)
    try:
        try:
            return con.sql(sql).to_arrow_table()
        except duckdb.Error as exc:
            raise _engine_error(exc) from None
    finally:
        con.close()


def _meter(
    ws: Workspace, principal: Principal, source: Source, mode: str, rows: int, nbytes: int
) -> None:
    """Spend the quota, record the usage and the audit entry — or refuse, atomically."""
    with ws.session() as s:
        spent = s.execute(
            sa.update(Grant)
            .where(
                Grant.id == source.grant_id,
                Grant.status == "active",
                Grant.expires_at > service.now(),
                sa.or_(Grant.max_calls.is_(None), Grant.calls_used < Grant.max_calls),
                sa.or_(Grant.max_rows.is_(None), Grant.rows_used + rows <= Grant.max_rows),
            )
            .values(
                calls_used=Grant.calls_used + 1,
                rows_used=Grant.rows_used + rows,
                bytes_used=Grant.bytes_used + nbytes,
            )
            .execution_options(synchronize_session=False)
        )
        if spent.rowcount != 1:  # type: ignore[attr-defined]
            raise QuotaExceeded(
                tr(
                    "额度不足或授权状态已变化，本次调用被拒绝",
                    "the quota is spent or the grant changed: this call is refused",
                )
            )
        s.add(
            Usage(
                grant_id=source.grant_id,
                user_id=principal.user_id,
                mode=mode,
                rows=rows,
                bytes=nbytes,
            )
        )
        audit.record(
            ws,
            s,
            actor=principal.username,
            action=f"data.{mode}",
            target=f"product:{source.product}",
            dataset=source.dataset,
            grant_id=str(source.grant_id),
            details={
                "rows": rows,
                "bytes": nbytes,
                "columns": source.columns,
                "filters": [audit.keyed_digest(ws, f.sql) for f in source.filters if f.sql],
                **source.details,
            },
        )


def _quota(source: Source, rows: int) -> dict[str, int | None]:
    return {
        "rows_left": None if source.rows_left is None else source.rows_left - rows,
        "calls_left": None if source.calls_left is None else source.calls_left - 1,
    }


# -- the three delivery modes ------------------------------------------------------------


@dataclass
class Page:
    columns: list[str]
    rows: list[dict[str, Any]]
    offset: int
    next_offset: int | None
    clipped_by_quota: bool
    quota: dict[str, int | None]


def query(
    ws: Workspace,
    principal: Principal,
    grant_id: str,
    *,
    columns: list[str] | None,
    filter_text: str,
    offset: int,
    limit: int,
) -> Page:
    def work() -> Page:
        source = open_source(
            ws, principal, grant_id, "query", columns=columns, extra_filter=filter_text
        )
        take = limit if source.rows_left is None else min(limit, source.rows_left)
        sql = f"{source.select(source.columns)} {source.order()} LIMIT {take + 1} OFFSET {offset}"
        table = _run(ws, sql)
        more = table.num_rows > take
        table = table.slice(0, take)
        source.details = {"offset": offset}
        _meter(ws, principal, source, "query", table.num_rows, table.nbytes)
        return Page(
            columns=source.columns,
            rows=table.to_pylist(),
            offset=offset,
            next_offset=offset + take if more else None,
            clipped_by_quota=take < limit and more,
            quota=_quota(source, table.num_rows),
        )

    page: Page = _guarded(ws, principal, grant_id, "query", work)
    return page


@dataclass
class Download:
    path: Path
    rows: int
    bytes: int
    media_type: str
    filename: str


def download(
    ws: Workspace, principal: Principal, grant_id: str, *, fmt: str, columns: list[str] | None
) -> Download:
    if fmt not in ("parquet", "csv"):
        raise InvalidInput(tr("格式须为 parquet 或 csv", "format must be parquet or csv"))

    def work() -> Download:
        source = open_source(ws, principal, grant_id, "download", columns=columns)
        con = _connect(ws)
        path = ws.tmp_path / f"download-{uuid.uuid4().hex}.{fmt}"
        try:
            counted = con.execute(
                f"SELECT count(*) FROM {source.from_clause()} WHERE {source.where or 'true'}"
            ).fetchall()
            rows = int(counted[0][0])
            if source.rows_left is not None and rows > source.rows_left:
                raise QuotaExceeded(
                    tr(
                        "本次下载有 {n} 行，授权只剩 {m} 行",
                        "this download holds {n} rows; the grant has {m} left",
                        n=f"{rows:,}",
                        m=f"{source.rows_left:,}",
                    )
                )
            reader = con.sql(f"{source.select(source.columns)} {source.order()}").to_arrow_reader()
            if fmt == "parquet":
                with pq.ParquetWriter(path, reader.schema, compression="zstd") as writer:
                    for batch in reader:
                        writer.write_batch(batch)
            else:
                with pacsv.CSVWriter(path, reader.schema) as csv_writer:
                    for batch in reader:
                        csv_writer.write_batch(batch)
        except duckdb.Error as exc:
            path.unlink(missing_ok=True)
            raise _engine_error(exc) from None
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        finally:
            con.close()
        size = path.stat().st_size
        source.details = {"format": fmt}
        try:
            _meter(ws, principal, source, "download", rows, size)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        media = "application/vnd.apache.parquet" if fmt == "parquet" else "text/csv"
        return Download(path, rows, size, media, f"{source.product}.{fmt}")

    result: Download = _guarded(ws, principal, grant_id, "download", work)
    return result


@dataclass
class Statistics:
    group_by: list[str]
    groups: list[dict[str, Any]]
    suppressed_groups: int
    min_cell: int
    quota: dict[str, int | None]


def statistics(
    ws: Workspace, principal: Principal, grant_id: str, *, group_by: list[str], filter_text: str
) -> Statistics:
    """Counts per group; groups smaller than the product's ``min_cell`` are withheld."""

    def work() -> Statistics:
        source = open_source(
            ws, principal, grant_id, "statistics", columns=group_by, extra_filter=filter_text
        )
        cols = ", ".join(quote_ident(c) for c in source.columns)
        grouped = (
            f"SELECT {cols}, count(*) AS __dizuo_count FROM {source.from_clause()} "
            f"WHERE {source.where or 'true'} GROUP BY ALL"
        )
        # one aggregation: the groups too small to show are counted, then withheld
        every = _run(ws, f"{grouped} ORDER BY {cols}")
        shown = pc.greater_equal(every.column("__dizuo_count"), int(source.min_cell))
        table = every.filter(shown)
        hidden = every.num_rows - table.num_rows
        if table.num_rows > MAX_GROUPS:
            raise InvalidInput(
                tr(
                    "分组过多（{n} 组，上限 {m}）：减少分组字段或加过滤条件",
                    "too many groups ({n}; at most {m}): group by fewer fields or filter",
                    n=f"{table.num_rows:,}",
                    m=f"{MAX_GROUPS:,}",
                )
            )
        if source.rows_left is not None and table.num_rows > source.rows_left:
            table = table.slice(0, source.rows_left)
        groups = table.rename_columns([*source.columns, "count"]).to_pylist()
        source.details = {"group_by": source.columns}
        _meter(ws, principal, source, "statistics", table.num_rows, table.nbytes)
        return Statistics(
            group_by=source.columns,
            groups=groups,
            suppressed_groups=hidden,
            min_cell=source.min_cell,
            quota=_quota(source, table.num_rows),
        )

    result: Statistics = _guarded(ws, principal, grant_id, "statistics", work)
    return result
