"""Operators' SQL over the lake: ``dizuo sql "SELECT … FROM code"``.

Tables are named by dataset code (latest version) or ``code@N`` (version N). The statement is
tokenised and parsed with SQLGlot — never patched as a string — so ``code@3`` inside a string
literal or a comment is left alone. Only queries are accepted, and they run on a separate
DuckDB connection that can read nothing but the lake's files and whose configuration is locked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb
import pyarrow as pa
import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import TokenType  # type: ignore[attr-defined]

from dizuo.catalog import service
from dizuo.engine.duckdb import quote_ident, sql_list, sql_literal
from dizuo.errors import InvalidInput, PolicyViolation
from dizuo.i18n import tr
from dizuo.workspace import Workspace

DIALECT = "duckdb"
_NAME_TOKENS = {TokenType.VAR, TokenType.IDENTIFIER}


@dataclass(frozen=True)
class TableRef:
    code: str
    number: int | None

    @property
    def view_name(self) -> str:
        return self.code if self.number is None else f"{self.code}@{self.number}"


def _bad_sql(exc: Exception) -> InvalidInput:
    errors = getattr(exc, "errors", None)
    if errors:
        first = errors[0]
        description = re.sub(r"\s*(for|but got) <.*$", "", str(first.get("description", "")))
        return InvalidInput(
            tr(
                "SQL 有误（第 {l} 行第 {c} 列，{h!r} 附近）: {m}",
                "bad SQL (line {l}, column {c}, near {h!r}): {m}",
                l=first.get("line"),
                c=first.get("col"),
                h=first.get("highlight", ""),
                m=description,
            )
        )
    return InvalidInput(tr("SQL 有误: {m}", "bad SQL: {m}", m=str(exc).splitlines()[0]))


def rewrite_versions(sql: str) -> str:
    """Turn ``name@3`` (three adjacent tokens) into the quoted identifier ``"name@3"``."""
    try:
        tokens = sqlglot.Dialect.get_or_raise(DIALECT).tokenize(sql)
    except TokenError as exc:
        raise _bad_sql(exc) from None
    pieces: list[str] = []
    cursor = 0
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if (
            t.token_type in _NAME_TOKENS
            and i + 2 < len(tokens)
            and tokens[i + 1].token_type == TokenType.PARAMETER
            and tokens[i + 1].start == t.end + 1
            and tokens[i + 2].token_type == TokenType.NUMBER
            and tokens[i + 2].start == tokens[i + 1].end + 1
        ):
            pieces.append(sql[cursor : t.start])
            pieces.append(quote_ident(f"{t.text}@{tokens[i + 2].text}"))
            cursor = tokens[i + 2].end + 1
            i += 3
            continue
        i += 1
    pieces.append(sql[cursor:])
    return "".join(pieces)


def parse_query(sql: str) -> tuple[exp.Query, list[TableRef]]:
    """Parse one read-only query and list the dataset tables it reads."""
    try:
        statements = sqlglot.parse(rewrite_versions(sql), read=DIALECT)
    except (ParseError, TokenError) as exc:
        raise _bad_sql(exc) from None
    statements = [s for s in statements if s is not None]
    if len(statements) != 1:
        raise InvalidInput(tr("只能有一条 SQL 语句", "give exactly one SQL statement"))
    tree = statements[0]
    if not isinstance(tree, exp.Query):
        raise PolicyViolation(tr("只允许查询（SELECT）", "only queries (SELECT) are allowed here"))
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    refs: dict[str, TableRef] = {}
    for table in tree.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            raise PolicyViolation(
                tr(
                    "只能查询湖中的数据集，不能调用表函数",
                    "only lake datasets can be queried, not table functions",
                )
            )
        if table.db or table.catalog:
            raise InvalidInput(
                tr("表名不能带库名: {t}", "table names take no schema: {t}", t=table.sql(DIALECT))
            )
        name = table.name
        if name in ctes:
            continue
        code, _, number = name.partition("@")
        if number and not number.isdigit():
            raise InvalidInput(tr("版本号无效: {t}", "invalid version: {t}", t=name))
        refs[name] = TableRef(code, int(number) if number else None)
    return tree, list(refs.values())


def version_select(files: list[str], schema: list[dict[str, str]]) -> str:
    """SELECT of exactly a version's columns over its files (an empty version has none)."""
    if not files:
        columns = ", ".join(
            f"CAST(NULL AS {c['type']}) AS {quote_ident(c['name'])}" for c in schema
        )
        return f"SELECT {columns} WHERE false"
    columns = ", ".join(quote_ident(c["name"]) for c in schema)
    return f"SELECT {columns} FROM read_parquet({sql_list(files)}, union_by_name = true)"


def ordered_select(files: list[str], schema: list[dict[str, str]]) -> str:
    """Like :func:`version_select`, in the version's own row order (file by file, row by row):
    for work that names records by their row number."""
    if not files:
        return version_select(files, schema)
    columns = ", ".join(quote_ident(c["name"]) for c in schema)
    listed = sql_list(files)
    return (
        f"SELECT {columns} FROM read_parquet({listed}, union_by_name = true, "
        f"filename = '__dizuo_file', file_row_number = true) "
        f"ORDER BY list_position({listed}, __dizuo_file), file_row_number"
    )


def run_sql(ws: Workspace, sql: str, limit: int | None = None) -> pa.Table:
    """Run an operator's query over the lake and return the result."""
    tree, refs = parse_query(sql)
    views: list[tuple[str, str]] = []
    with ws.session() as s:
        for ref in refs:
            dataset = service.get_dataset(s, ref.code)
            version = service.get_version(s, dataset, ref.number)
            files = ws.lake.files(version.table_ident, version.snapshot_id)
            views.append((ref.view_name, version_select(files, version.schema)))
    con = duckdb.connect(config={"memory_limit": ws.settings.memory_limit})
    try:
        for name, select in views:
            con.execute(f"CREATE VIEW {quote_ident(name)} AS {select}")
        lake_dir = str(ws.lake_path.resolve()) + "/"
        con.execute(f"SET allowed_directories = [{sql_literal(lake_dir)}]")
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        final: exp.Query = tree
        if limit is not None:
            final = exp.select("*").from_(tree.subquery("q")).limit(limit)
        try:
            result: pa.Table = con.sql(final.sql(DIALECT)).to_arrow_table()
        except duckdb.Error as exc:
            first = str(exc).splitlines()[0]
            raise InvalidInput(tr("查询失败: {m}", "query failed: {m}", m=first)) from None
        return result
    finally:
        con.close()
