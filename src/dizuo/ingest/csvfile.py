"""CSV / TSV: dialect and header from a sample, types from DuckDB's sniffer, load in DuckDB.

DuckDB's own sniffer guesses delimiters and silently skips rows it cannot place, so dizuo
decides the dialect itself from the decoded sample (a bounded amount of text, parsed with the
standard library's C ``csv`` reader), checks that every sampled record has the header's width,
then hands DuckDB explicit options with ``strict_mode`` on. DuckDB still infers column types
from its sample; a later value that does not fit widens that column to text and the load is
retried, so no value is lost.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from dizuo.engine.duckdb import DuckDBEngine, quote_ident, sql_literal
from dizuo.errors import InvalidInput, Location
from dizuo.i18n import tr

DELIMITERS = (",", "\t", ";", "|")
SAMPLE_RECORDS = 5000
_DUCK_LINE = re.compile(r"CSV Error on Line: (\d+)")
_DUCK_COLUMN = re.compile(r'Error when converting column "((?:[^"]|"")*)"')
_DUCK_TYPE = re.compile(r"to '([A-Z0-9_]+)'")
_INTEGER_TYPES = {"BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT"}


@dataclass
class Dialect:
    delimiter: str
    header: list[str]
    types: dict[str, str] = field(default_factory=dict)


def _widths(sample: str, delimiter: str, complete: bool) -> list[tuple[int, int]]:
    """(line number, field count) of each record in the sample (the last, maybe cut, dropped)."""
    reader = csv.reader(io.StringIO(sample), delimiter=delimiter, quotechar='"', strict=False)
    out: list[tuple[int, int]] = []
    start = 1
    try:
        for record in reader:
            if record:  # blank lines are skipped, as DuckDB does
                out.append((start, len(record)))
            start = reader.line_num + 1
            if len(out) >= SAMPLE_RECORDS:
                return out
    except csv.Error:
        pass
    if not complete and out:
        out.pop()
    return out


def sniff_dialect(
    sample: str, *, complete: bool, delimiter: str | None, suffix: str, path: Path
) -> tuple[str, list[tuple[int, int]]]:
    """Choose the delimiter whose records have one consistent width (>1 if any has)."""
    scores: dict[str, tuple[float, int, list[tuple[int, int]]]] = {}
    for cand in DELIMITERS:
        widths = _widths(sample, cand, complete)
        if not widths:
            continue
        mode, hits = Counter(w for _, w in widths).most_common(1)[0]
        scores[cand] = (hits / len(widths), mode, widths)
    if not scores:
        raise InvalidInput(
            tr("文件为空，没有表头", "the file is empty: no header row"),
            where=Location(file=str(path)),
        )
    multi = {d: s for d, s in scores.items() if s[1] > 1}
    preferred = ["\t"] if suffix in (".tsv", ".tab") else []
    order = preferred + [d for d in DELIMITERS if d not in preferred]
    best = max(
        multi or scores,
        key=lambda d: ((multi or scores)[d][0], (multi or scores)[d][1] > 1, -order.index(d)),
    )
    if delimiter is not None:
        given = scores.get(delimiter)
        if (given is None or given[1] == 1) and multi and best != delimiter:
            raise InvalidInput(
                tr(
                    "按分隔符 {g!r} 只得到一列，文件看起来是用 {b!r} 分隔的",
                    "with delimiter {g!r} every line is one column; the file looks {b!r}-separated",
                    g=delimiter,
                    b=best,
                ),
                where=Location(file=str(path)),
                hint=tr("改用 --delimiter {b!r}", "use --delimiter {b!r}", b=best),
            )
        return delimiter, (given[2] if given else [])
    return best, scores[best][2]


def read_header(sample: str, delimiter: str) -> tuple[list[str], int]:
    """The first record with any non-blank field, and the physical line it starts on."""
    reader = csv.reader(io.StringIO(sample), delimiter=delimiter, quotechar='"', strict=False)
    start = 1
    for record in reader:
        if any(field.strip() for field in record):
            return [name.strip().lstrip("\ufeff") for name in record], start
        start = reader.line_num + 1
    return [], start


def check_quotes(sample: str, delimiter: str, *, complete: bool, path: Path) -> None:
    """A quoted field still open at the end of the whole file is a truncated file."""
    if not complete:
        return  # the sample may end inside a quoted field; DuckDB checks the rest
    reader = csv.reader(io.StringIO(sample), delimiter=delimiter, quotechar='"', strict=True)
    start = 1
    try:
        for _record in reader:
            start = reader.line_num + 1
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            raise InvalidInput(
                tr("引号未闭合（文件可能被截断）", "unterminated quote (is the file truncated?)"),
                where=Location(file=str(path), line=start),
            ) from None


def check_names(names: list[str], path: Path, *, dedupe: bool) -> list[str]:
    """Blank names become column_N; duplicates are an error unless ``dedupe``."""
    out = [name or f"column_{i + 1}" for i, name in enumerate(names)]
    seen: dict[str, int] = {}
    for i, name in enumerate(out):
        key = name.lower()
        if key in seen:
            if not dedupe:
                raise InvalidInput(
                    tr(
                        "列名重复: {n!r} 出现在第 {a} 列和第 {b} 列",
                        "duplicate column name {n!r} (columns {a} and {b})",
                        n=name,
                        a=seen[key] + 1,
                        b=i + 1,
                    ),
                    where=Location(file=str(path), line=1),
                    hint=tr(
                        "请修正表头，或加 --dedupe-columns 自动改名",
                        "fix the header, or pass --dedupe-columns to rename them",
                    ),
                )
            n = 2
            while f"{name}_{n}".lower() in seen or f"{name}_{n}" in out:
                n += 1
            out[i] = f"{name}_{n}"
            key = out[i].lower()
        seen[key] = i
    return out


def check_widths(widths: list[tuple[int, int]], expected: int, path: Path) -> None:
    for line, width in widths:
        if width != expected:
            raise InvalidInput(
                tr(
                    "该行有 {w} 个字段，表头有 {e} 个",
                    "this line has {w} fields, the header has {e}",
                    w=width,
                    e=expected,
                ),
                where=Location(file=str(path), line=line),
                hint=tr(
                    "检查分隔符、引号或缺失的字段",
                    "check the delimiter, quotes and missing fields",
                ),
            )


def _reader_options(utf8_path: Path, dialect: Dialect) -> str:
    return (
        f"{sql_literal(str(utf8_path))}, delim={sql_literal(dialect.delimiter)}, "
        "quote='\"', escape='\"', header=true, strict_mode=true, null_padding=false"
    )


def sniff_types(engine: DuckDBEngine, utf8_path: Path, dialect: Dialect) -> dict[str, str]:
    """DuckDB's type inference on its sample; long or zero-led digit strings stay text."""
    names = dialect.header
    rows = engine.rows(
        f"SELECT Columns FROM sniff_csv({_reader_options(utf8_path, dialect)}, sample_size=20480)"
    )
    sniffed = [c["type"] for c in rows[0][0]]
    if len(sniffed) != len(names):
        return dict.fromkeys(names, "VARCHAR")
    types = dict(zip(names, sniffed, strict=True))
    ints = [n for n, t in types.items() if t in _INTEGER_TYPES]
    if ints:
        checks = ", ".join(
            f"coalesce(bool_or(length(ltrim({quote_ident(n)}, '+-')) >= 11 "
            f"OR regexp_matches({quote_ident(n)}, '^[+]|^-?0[0-9]')), false)"
            for n in ints
        )
        columns = "{" + ", ".join(f"{sql_literal(n)}: 'VARCHAR'" for n in names) + "}"
        flags = engine.rows(
            f"SELECT {checks} FROM (SELECT * FROM read_csv({_reader_options(utf8_path, dialect)}, "
            f"auto_detect=false, columns={columns}) LIMIT 20480)"
        )[0]
        for name, is_code in zip(ints, flags, strict=True):
            if is_code:
                types[name] = "VARCHAR"  # identifiers (ID numbers, phones, codes) keep their text
    return types


def select_sql(utf8_path: Path, dialect: Dialect) -> str:
    columns = (
        "{"
        + ", ".join(f"{sql_literal(n)}: {sql_literal(t)}" for n, t in dialect.types.items())
        + "}"
    )
    return (
        f"SELECT * FROM read_csv({_reader_options(utf8_path, dialect)}, auto_detect=false, "
        f"columns={columns})"
    )


def widen_from_error(message: str, dialect: Dialect) -> str | None:
    """If DuckDB failed to convert a value, widen that column to text; return its name."""
    match = _DUCK_COLUMN.search(message)
    if match is None:
        return None
    name = match.group(1).replace('""', '"')
    if name in dialect.types and dialect.types[name] != "VARCHAR":
        dialect.types[name] = "VARCHAR"
        return name
    return None


def physical_line(path: Path, encoding: str, delimiter: str, record: int) -> int | None:
    """The physical line on which the 0-based ``record`` (header = 0, blank lines not
    counted) starts in the original file — quoted fields may span lines. Used on the error
    path only; files over 2 GB are not scanned."""
    if path.stat().st_size > 2 << 30:
        return None
    with path.open(encoding=encoding, errors="replace", newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter, quotechar='"', strict=False)
        start, index = 1, 0
        for row in reader:
            if any(field.strip() for field in row):
                if index == record:
                    return start
                index += 1
            start = reader.line_num + 1
    return start


def duck_record(message: str) -> int | None:
    """The 0-based record (header = 0) DuckDB names in a CSV error, if it names one."""
    found = _DUCK_LINE.search(message)
    return int(found.group(1)) - 1 if found else None


def explain_error(message: str, path: Path, encoding: str, line: int | None = None) -> InvalidInput:
    """Turn a DuckDB CSV error into one line that names the file and line, without values."""
    where = Location(file=str(path), line=line)
    if "Invalid unicode" in message:
        return InvalidInput(
            tr(
                "该行不是有效的 {enc} 文本",
                "this line is not valid {enc} text",
                enc="UTF-8" if encoding.startswith("utf-8") else encoding,
            ),
            where=where,
            hint=tr(
                "文件可能混用了多种编码；请修正文件或用 --encoding 指定",
                "the file may mix encodings; fix it or pass --encoding",
            ),
        )
    if "Expected Number of Columns" in message:
        found = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", message)
        exp, got = (found.group(1), found.group(2)) if found else ("?", "?")
        return InvalidInput(
            tr(
                "该行有 {w} 个字段，表头有 {e} 个",
                "this line has {w} fields, the header has {e}",
                w=got,
                e=exp,
            ),
            where=where,
            hint=tr(
                "检查分隔符、引号或缺失的字段", "check the delimiter, quotes and missing fields"
            ),
        )
    if "unterminated quote" in message:
        return InvalidInput(
            tr("引号未闭合（文件可能被截断）", "unterminated quote (is the file truncated?)"),
            where=where,
        )
    first = message.splitlines()[0] if message else ""
    first = re.sub(r"^[A-Za-z ]*Error: ", "", first)
    return InvalidInput(tr("无法读取 CSV: {m}", "cannot read the CSV: {m}", m=first), where=where)
