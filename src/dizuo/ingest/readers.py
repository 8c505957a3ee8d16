"""Readers: each turns one source into staged zstd Parquet files, in the engine.

A reader never writes into the lake: it writes into a staging folder that the pipeline moves
into an Iceberg table only when everything succeeded.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from dizuo.engine.duckdb import DuckDBEngine, quote_ident, sql_literal
from dizuo.errors import DizuoError, InvalidInput, Location, NotFound, Unavailable
from dizuo.i18n import tr
from dizuo.ingest import csvfile, text
from dizuo.ingest.spec import IngestSpec

Progress = Callable[[float], None]

EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"}
FORMAT_BY_SUFFIX = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".json": "json",
    ".ndjson": "json",
    ".jsonl": "json",
    ".parquet": "parquet",
    ".pq": "parquet",
    **dict.fromkeys(EXCEL_SUFFIXES, "excel"),
}
MAX_WIDEN_RETRIES = 20
SQL_BATCH_ROWS = 50_000


@dataclass
class Staged:
    """What a reader produced."""

    files: list[Path]
    source: str
    fingerprint: str
    format: str  # 格式 as recorded in the catalog
    resolved: dict[str, Any] = field(default_factory=dict)  # options the reader settled on
    notes: list[str] = field(default_factory=list)


class FileFingerprint:
    """SHA-256 of a file, computed on a thread while the engine loads it (hashlib frees the GIL)."""

    def __init__(self, path: Path) -> None:
        self._digest = ""
        self._thread = threading.Thread(target=self._run, args=(path,), daemon=True)
        self._thread.start()

    def _run(self, path: Path) -> None:
        with path.open("rb") as fh:
            self._digest = "sha256:" + hashlib.file_digest(fh, "sha256").hexdigest()

    def result(self) -> str:
        self._thread.join()
        return self._digest


def detect_format(spec: IngestSpec) -> str:
    if spec.format != "auto":
        return spec.format
    if "://" in spec.source:
        return "sql"
    suffix = Path(spec.source).suffix.lower()
    if suffix not in FORMAT_BY_SUFFIX:
        raise InvalidInput(
            tr(
                "无法从扩展名 {s!r} 判断格式",
                "cannot tell the format from the extension {s!r}",
                s=suffix or "",
            ),
            where=Location(file=spec.source),
            hint=tr(
                "用 --format 指定 csv/tsv/excel/json/parquet",
                "pass --format csv/tsv/excel/json/parquet",
            ),
        )
    return FORMAT_BY_SUFFIX[suffix]


def _existing_file(source: str) -> Path:
    path = Path(source)
    if not path.exists():
        raise NotFound(tr("文件不存在", "no such file"), where=Location(file=source))
    if not path.is_file():
        raise InvalidInput(tr("不是文件", "not a file"), where=Location(file=source))
    if path.stat().st_size == 0:
        raise InvalidInput(
            tr("文件为空（0 字节）", "the file is empty (0 bytes)"), where=Location(file=source)
        )
    return path


def stage(
    engine: DuckDBEngine, spec: IngestSpec, out: Path, progress: Progress | None = None
) -> Staged:
    """Read ``spec.source`` into Parquet files under ``out``."""
    fmt = detect_format(spec)
    if fmt == "sql":
        return stage_sql(engine, spec, out)
    path = _existing_file(spec.source)
    fingerprint = FileFingerprint(path)
    if fmt in ("csv", "tsv"):
        staged = stage_csv(engine, spec, path, out, fmt, progress)
    elif fmt == "excel":
        staged = stage_excel(engine, spec, path, out)
    elif fmt == "json":
        staged = stage_json(engine, spec, path, out, progress)
    else:
        staged = stage_parquet(engine, spec, path, out, progress)
    staged.fingerprint = fingerprint.result()
    staged.source = str(path.resolve())  # errors name the path as typed; the catalog the full one
    return staged


def _parquet_files(out: Path) -> list[Path]:
    files = sorted(p for p in out.rglob("*.parquet") if p.stat().st_size > 0)
    return files


# -- CSV / TSV ---------------------------------------------------------------------------


def stage_csv(
    engine: DuckDBEngine,
    spec: IngestSpec,
    path: Path,
    out: Path,
    fmt: str,
    progress: Progress | None,
) -> Staged:
    detected = text.detect(path, spec.encoding)
    suffix = path.suffix.lower()
    delimiter = spec.delimiter
    if delimiter is not None:
        delimiter = {"\\t": "\t", "tab": "\t"}.get(delimiter, delimiter)
    elif fmt == "tsv":
        delimiter = "\t"
    delimiter, widths = csvfile.sniff_dialect(
        detected.sample,
        complete=detected.complete,
        delimiter=delimiter,
        suffix=suffix,
        path=path,
    )
    raw_header, header_line = csvfile.read_header(detected.sample, delimiter)
    if not raw_header:
        raise InvalidInput(
            tr("文件为空，没有表头", "the file is empty: no header row"),
            where=Location(file=str(path)),
        )
    csvfile.check_quotes(detected.sample, delimiter, complete=detected.complete, path=path)
    if not spec.header:
        raw_header = [f"column_{i + 1}" for i in range(len(raw_header))]
    header = csvfile.check_names(raw_header, path, dedupe=spec.dedupe_columns)
    csvfile.check_widths(widths, len(header), path)
    encoding = detected.encoding

    def explain(message: str) -> InvalidInput:
        record = csvfile.duck_record(message)
        line = None
        if record is not None:
            # DuckDB counts records of the file it read; map back to the user's file
            record -= 0 if spec.header else 1
            line = csvfile.physical_line(path, encoding, delimiter, max(record, 0))
        return csvfile.explain_error(message, path, encoding, line)

    notes: list[str] = []
    utf8_path = path
    if encoding not in ("utf-8", "utf-8-sig"):
        utf8_path = out / "source.utf8.csv"
        text.transcode_to_utf8(path, utf8_path, encoding)
    dialect = csvfile.Dialect(delimiter=delimiter, header=header)
    if not spec.header:
        # DuckDB must not take the first record as names: write a header line in front.
        utf8_path = _with_header(utf8_path, out, header, delimiter)
    elif header != raw_header or header_line > 1:
        utf8_path = _replace_header(utf8_path, out, header, delimiter)
    try:
        dialect.types = csvfile.sniff_types(engine, utf8_path, dialect)
    except duckdb.Error as exc:
        raise explain(str(exc)) from None
    data_dir = out / "data"
    for _ in range(MAX_WIDEN_RETRIES):
        try:
            engine.copy_to_parquet(
                csvfile.select_sql(utf8_path, dialect),
                data_dir,
                into_folder=True,
                progress=progress,
            )
            break
        except duckdb.Error as exc:
            message = str(exc)
            if detected.ascii_only and spec.encoding is None and "Invalid unicode" in message:
                # the first megabyte was plain ASCII; the rest is not UTF-8: try GB18030
                return _retry_as(engine, spec, path, out, fmt, progress, "gb18030")
            widened = csvfile.widen_from_error(message, dialect)
            if widened is None:
                raise explain(message) from None
            notes.append(
                tr(
                    "列 {c!r} 含非数字值，按文本保存",
                    "column {c!r} holds values that are not numbers; stored as text",
                    c=widened,
                )
            )
            _clear(data_dir)
    else:
        raise InvalidInput(
            tr("类型推断失败", "type inference failed"), where=Location(file=str(path))
        )
    if utf8_path != path:
        utf8_path.unlink(missing_ok=True)
    resolved = {
        "encoding": encoding,
        "delimiter": delimiter,
        "types": dialect.types,
    }
    return Staged(_parquet_files(data_dir), str(path), "", fmt.upper(), resolved, notes)


def _retry_as(
    engine: DuckDBEngine,
    spec: IngestSpec,
    path: Path,
    out: Path,
    fmt: str,
    progress: Progress | None,
    encoding: str,
) -> Staged:
    _clear(out)
    return stage_csv(
        engine, spec.model_copy(update={"encoding": encoding}), path, out, fmt, progress
    )


def _clear(folder: Path) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)


def _header_line(header: list[str], delimiter: str) -> bytes:
    import csv
    import io

    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\n").writerow(header)
    return buf.getvalue().encode()


def _with_header(source: Path, out: Path, header: list[str], delimiter: str) -> Path:
    target = out / "source.header.csv"
    import shutil

    with target.open("wb") as dst, source.open("rb") as src:
        dst.write(_header_line(header, delimiter))
        shutil.copyfileobj(src, dst, 8 << 20)
    if source.parent == out:
        source.unlink()
    return target


def _replace_header(source: Path, out: Path, header: list[str], delimiter: str) -> Path:
    """Rewrite the header line (renamed duplicates or blank names), streaming the rest."""
    import shutil

    target = out / "source.renamed.csv"
    with target.open("wb") as dst, source.open("rb") as src:
        first = src.readline()
        while first and first.strip() == b"":
            first = src.readline()
        dst.write(_header_line(header, delimiter))
        shutil.copyfileobj(src, dst, 8 << 20)
    if source.parent == out:
        source.unlink()
    return target


# -- Excel -------------------------------------------------------------------------------


def stage_excel(engine: DuckDBEngine, spec: IngestSpec, path: Path, out: Path) -> Staged:
    import fastexcel

    where = Location(file=str(path))
    try:
        reader = fastexcel.read_excel(str(path))
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0]
        raise InvalidInput(
            tr("无法打开 Excel 工作簿: {r}", "cannot open the Excel workbook: {r}", r=reason),
            where=where,
            hint=tr("文件可能已损坏或不是 Excel 格式", "the file may be damaged or not Excel"),
        ) from None
    sheets = list(reader.sheet_names)
    if not sheets:
        raise InvalidInput(tr("工作簿没有工作表", "the workbook has no sheets"), where=where)
    sheet: str | int = 0
    if spec.sheet is not None:
        if spec.sheet in sheets:
            sheet = spec.sheet
        elif spec.sheet.isdigit() and 1 <= int(spec.sheet) <= len(sheets):
            sheet = int(spec.sheet) - 1
        else:
            raise NotFound(
                tr(
                    "没有工作表 {s!r}；可用: {all}",
                    "no sheet {s!r}; the workbook has: {all}",
                    s=spec.sheet,
                    all=", ".join(sheets),
                ),
                where=where,
            )
    sheet_name = sheets[sheet] if isinstance(sheet, int) else sheet
    notes = []
    if len(sheets) > 1 and spec.sheet is None:
        notes.append(
            tr(
                "读取第一个工作表 {s!r}（共 {n} 个，可用 --sheet 选择）",
                "read the first sheet {s!r} of {n} (choose with --sheet)",
                s=sheet_name,
                n=len(sheets),
            )
        )
    try:
        head = reader.load_sheet(sheet, header_row=None, n_rows=1).to_arrow()
        raw_header = (
            [
                "" if v is None else str(v).strip()
                for v in (head.column(i)[0].as_py() for i in range(head.num_columns))
            ]
            if head.num_rows
            else []
        )
        if not raw_header:
            raise InvalidInput(
                tr("工作表 {s!r} 为空", "sheet {s!r} is empty", s=sheet_name), where=where
            )
        if not spec.header:
            raw_header = [f"column_{i + 1}" for i in range(len(raw_header))]
        header = csvfile.check_names(raw_header, path, dedupe=spec.dedupe_columns)
        table = reader.load_sheet(
            sheet,
            header_row=None,
            skip_rows=1 if spec.header else None,
            column_names=header,
            schema_sample_rows=None,
        ).to_arrow()
    except InvalidInput:
        raise
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0]
        raise InvalidInput(
            tr("无法读取工作表 {s!r}: {r}", "cannot read sheet {s!r}: {r}", s=sheet_name, r=reason),
            where=where,
        ) from None
    if isinstance(table, pa.RecordBatch):
        table = pa.Table.from_batches([table])
    table = _drop_null_type(table)
    data_dir = out / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    engine.register_arrow("__dizuo_excel", table)
    try:
        engine.copy_to_parquet(
            lake_select(engine, "SELECT * FROM __dizuo_excel"),
            data_dir / "part-0.parquet",
            into_folder=False,
        )
    finally:
        engine.con.unregister("__dizuo_excel")
    fmt = path.suffix.lstrip(".").upper()
    return Staged(_parquet_files(data_dir), str(path), "", fmt, {"sheet": sheet_name}, notes)


def _drop_null_type(table: pa.Table) -> pa.Table:
    """Columns with no values at all get a text type (Parquet and Iceberg have no null type);
    number columns whose values are all whole become integers (Excel stores every number as a
    float: a year 2024 should not come back as 2024.0)."""
    import pyarrow.compute as pc

    for i, f in enumerate(table.schema):
        column = table.column(i)
        if pa.types.is_null(f.type):
            table = table.set_column(i, f.name, pa.nulls(table.num_rows, pa.string()))
        elif pa.types.is_floating(f.type) and column.null_count < len(column):
            whole = pc.all(pc.equal(pc.floor(column), column)).as_py()
            small = pc.max(pc.abs(column)).as_py() < 2**53
            if whole and small:
                table = table.set_column(i, f.name, pc.cast(column, pa.int64()))
    return table


# -- JSON --------------------------------------------------------------------------------


def stage_json(
    engine: DuckDBEngine, spec: IngestSpec, path: Path, out: Path, progress: Progress | None
) -> Staged:
    detected = text.detect(path, spec.encoding)
    source = path
    if detected.encoding not in ("utf-8", "utf-8-sig"):
        source = out / "source.utf8.json"
        text.transcode_to_utf8(path, source, detected.encoding)
    data_dir = out / "data"
    select = f"SELECT * FROM read_json({sql_literal(str(source))}, format='auto')"
    try:
        select = lake_select(engine, select)
        engine.copy_to_parquet(select, data_dir, into_folder=True, progress=progress)
    except duckdb.Error as exc:
        raise _json_error(str(exc), path) from None
    if source != path:
        source.unlink(missing_ok=True)
    files = _parquet_files(data_dir)
    if sum(pq.read_metadata(f).num_rows for f in files) == 0:
        raise InvalidInput(
            tr(
                "JSON 中没有记录（需要对象数组或每行一个对象）",
                "the JSON holds no records (expected an array of objects, or one object a line)",
            ),
            where=Location(file=str(path)),
        )
    return Staged(files, str(path), "", "JSON", {"encoding": detected.encoding})


def _json_error(message: str, path: Path) -> InvalidInput:
    import re

    found = re.search(r"line (\d+)", message)
    line = None
    if found:
        # DuckDB may name the line after a record cut at the end of the file
        line = min(int(found.group(1)), _count_lines(path))
    first = re.sub(r"^[A-Za-z ]*Error: ", "", message.splitlines()[0])
    first = re.sub(r' in file "[^"]*"', "", first)
    first = re.sub(r",? ?in line \d+", "", first)
    return InvalidInput(
        tr("无法读取 JSON: {m}", "cannot read the JSON: {m}", m=first),
        where=Location(file=str(path), line=line),
    )


def _count_lines(path: Path) -> int:
    """Lines in a file, counting a last line without a newline (error path only)."""
    count, last = 0, b"\n"
    with path.open("rb") as fh:
        while chunk := fh.read(8 << 20):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (0 if last == b"\n" else 1)


# Types Iceberg (and so the lake) cannot hold, and what they are stored as instead.
_LAKE_CASTS = {
    "JSON": "VARCHAR",
    "HUGEINT": "DECIMAL(38,0)",
    "UHUGEINT": "DECIMAL(38,0)",
    "UBIGINT": "DECIMAL(20,0)",
    "UINTEGER": "BIGINT",
    "USMALLINT": "INTEGER",
    "UTINYINT": "SMALLINT",
    "INTERVAL": "VARCHAR",
    "BIT": "VARCHAR",
    "BIGNUM": "VARCHAR",
    "VARINT": "VARCHAR",
    "UUID": "VARCHAR",
    "TIME WITH TIME ZONE": "VARCHAR",
    "TIMESTAMP_NS": "TIMESTAMP",
}
_LAKE_UNSAFE_IN_NESTED = ("JSON", "HUGEINT", "UBIGINT", "INTERVAL", "UNION", "MAP", "BIT")


def lake_select(engine: DuckDBEngine, select_sql: str, names: list[str] | None = None) -> str:
    """Wrap ``select_sql`` so every column has a type the lake can store, named ``names``.

    ``names`` (by position) replaces the engine's own column names, e.g. to apply the same
    duplicate-name rule to every reader.
    """
    described = engine.rows(f"DESCRIBE {select_sql}")
    exprs, changed = [], False
    for i, row in enumerate(described):
        name, duck_type = str(row[0]), str(row[1])
        target = names[i] if names is not None else name
        expr = quote_ident(name)
        cast = _LAKE_CASTS.get(duck_type)
        if cast is None and duck_type.startswith(("ENUM", "UNION")):
            cast = "VARCHAR"
        if (
            cast is None
            and ("(" in duck_type or duck_type.endswith("]"))
            and any(token in duck_type for token in _LAKE_UNSAFE_IN_NESTED)
        ):
            cast = "VARCHAR"
        if cast is not None:
            expr, changed = f"CAST({expr} AS {cast})", True
        if target != name:
            changed = True
        exprs.append(f"{expr} AS {quote_ident(target)}")
    if not changed:
        return select_sql
    return f"SELECT {', '.join(exprs)} FROM ({select_sql})"


# -- Parquet -----------------------------------------------------------------------------


def stage_parquet(
    engine: DuckDBEngine, spec: IngestSpec, path: Path, out: Path, progress: Progress | None
) -> Staged:
    try:
        pq.read_metadata(path)
    except Exception as exc:
        raise InvalidInput(
            tr("不是有效的 Parquet 文件: {r}", "not a valid Parquet file: {r}", r=exc),
            where=Location(file=str(path)),
        ) from None
    names = csvfile.check_names(pq.read_schema(path).names, path, dedupe=spec.dedupe_columns)
    data_dir = out / "data"
    try:
        engine.copy_to_parquet(
            lake_select(engine, f"SELECT * FROM read_parquet({sql_literal(str(path))})", names),
            data_dir,
            into_folder=True,
            progress=progress,
        )
    except duckdb.Error as exc:
        first = str(exc).splitlines()[0]
        raise InvalidInput(
            tr("无法读取 Parquet: {m}", "cannot read the Parquet file: {m}", m=first),
            where=Location(file=str(path)),
        ) from None
    return Staged(_parquet_files(data_dir), str(path), "", "Parquet")


# -- SQL databases -----------------------------------------------------------------------


def stage_sql(engine: DuckDBEngine, spec: IngestSpec, out: Path) -> Staged:
    """Stream a table or query from any SQLAlchemy database in batches of Arrow."""
    import sqlalchemy as sa

    from dizuo.workspace import normalise_database_url, redact_url

    url = normalise_database_url(spec.source)
    shown = redact_url(url)
    if bool(spec.table) == bool(spec.query):
        raise InvalidInput(
            tr(
                "数据库来源需要 --table 或 --query（二选一）",
                "a database source needs --table or --query (one of them)",
            ),
            where=Location(file=shown),
        )
    try:
        parsed = sa.engine.make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            if not Path(parsed.database).is_file():  # SQLite would create an empty file
                raise NotFound(
                    tr("SQLite 数据库文件不存在", "no such SQLite database file"),
                    where=Location(file=shown),
                )
        db = sa.create_engine(url)
    except DizuoError:
        raise
    except Exception as exc:
        raise InvalidInput(
            tr("无效的数据库地址: {e}", "invalid database URL: {e}", e=exc),
            where=Location(file=shown),
        ) from None
    if spec.table:
        schema_name, _, table_name = spec.table.rpartition(".")
        source_table = sa.table(table_name, schema=schema_name or None)
        statement: sa.Executable = sa.select(sa.text("*")).select_from(source_table)
        what = spec.table
    else:
        statement = sa.text(spec.query or "")
        what = "query"
    parts = out / "parts"
    parts.mkdir(parents=True)
    n = 0
    try:
        conn = db.connect()
    except sa.exc.SQLAlchemyError as exc:
        db.dispose()
        raise Unavailable(
            tr(
                "无法连接数据库 {u}: {e}",
                "cannot reach the database {u}: {e}",
                u=shown,
                e=_first_line(exc),
            )
        ) from None
    names: list[str] = []
    try:
        with conn:
            result = conn.execution_options(stream_results=True, yield_per=SQL_BATCH_ROWS).execute(
                statement
            )
            names = list(result.keys())
            for batch in result.partitions(SQL_BATCH_ROWS):
                columns = list(zip(*batch, strict=True)) if batch else [() for _ in names]
                arrays = [_to_arrow(c) for c in columns]
                pq.write_table(pa.table(arrays, names=names), parts / f"part-{n:06d}.parquet")
                n += 1
            if n == 0:
                pq.write_table(
                    pa.table([pa.array([], pa.string()) for _ in names], names=names),
                    parts / "part-000000.parquet",
                )
    except sa.exc.SQLAlchemyError as exc:
        detail = _first_line(exc)
        raise InvalidInput(
            tr(
                "数据库读取失败（{w}）: {e}",
                "reading from the database failed ({w}): {e}",
                w=what,
                e=detail,
            ),
            where=Location(file=shown),
        ) from None
    finally:
        db.dispose()
    final_names = csvfile.check_names(names, Path(shown), dedupe=spec.dedupe_columns)
    data_dir = out / "data"
    parts_glob = sql_literal(str(parts / "*.parquet"))
    engine.copy_to_parquet(
        lake_select(
            engine, f"SELECT * FROM read_parquet({parts_glob}, union_by_name=true)", final_names
        ),
        data_dir,
        into_folder=True,
    )
    import shutil

    shutil.rmtree(parts)
    fingerprint = (
        "sql:" + hashlib.sha256(f"{shown}\n{spec.table or spec.query}".encode()).hexdigest()
    )
    return Staged(_parquet_files(data_dir), shown, fingerprint, "数据库", {"source": what})


def _first_line(exc: Exception) -> str:
    """The driver's own message, first line only (no SQL, no parameters)."""
    orig = getattr(exc, "orig", None)
    text_ = str(orig if orig is not None else exc).strip()
    return text_.splitlines()[0] if text_ else type(exc).__name__


def _to_arrow(values: tuple[Any, ...]) -> pa.Array:
    try:
        array = pa.array(values, from_pandas=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        array = pa.array([None if v is None else str(v) for v in values], pa.string())
    if pa.types.is_null(array.type):
        array = pa.nulls(len(values), pa.string())
    return array
