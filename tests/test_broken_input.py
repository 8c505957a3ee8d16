"""Broken input to ``dizuo ingest``: every reader must handle a user's mistake well.

"Well" means: one clear line on stderr naming the file (and the line or row where known), a
non-zero exit, no traceback, and nothing half-written — no new catalog version, the previous
version still readable, and no staging folder left under ``<workspace>/tmp``.
"""

from __future__ import annotations

import json
import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import xlwt

from dizuo.catalog import service
from dizuo.errors import DizuoError, InvalidInput
from dizuo.ingest import IngestSpec, ingest
from dizuo.workspace import Workspace
from tests.conftest import CliResult

# More than the 1 MiB that the text readers sample, so the bad line is only seen by the loader.
BIG_ROWS = 70_000
GOOD_ROW = "1,abcdefghij,100\n"  # 17 bytes: 70,000 rows are 1.19 MB
HEADER = "id,name,v\n"
AFTER_BIG = BIG_ROWS + 2  # the line number right after the header and the big body

NAMES_ZH = ["姓名", "身份证号", "联系电话"]
ROW_ZH = ["张三", "110101199001011234", "13800138000"]


# -- harness ----------------------------------------------------------------------------


@dataclass
class Env:
    """A workspace with organisation ``o`` and a CLI runner that never lets an error escape."""

    ws: Workspace
    cli: Callable[..., CliResult]
    tmp: Path

    def run(self, *args: str) -> CliResult:
        try:
            return self.cli(self.ws, *args)
        except Exception:  # an escaped exception is what the user would see as a traceback
            return CliResult(-1, "", traceback.format_exc())

    def ingest(self, source: Path | str, *opts: str, dataset: str = "x") -> CliResult:
        return self.run("ingest", str(source), "--dataset", dataset, "--org", "o", *opts)

    def ok(self, source: Path | str, *opts: str, dataset: str = "x") -> dict[str, Any]:
        """Ingest that must succeed; returns the JSON result."""
        res = self.ingest(source, *opts, "--json", dataset=dataset)
        assert res.code == 0, f"ingest failed ({res.code}): {res.err}"
        data: dict[str, Any] = json.loads(res.out)
        return data

    def fails(
        self,
        source: Path | str,
        *opts: str,
        name: str | None = None,
        line: int | None = None,
        dataset: str = "x",
    ) -> str:
        """Ingest that must fail cleanly; returns the one error line."""
        before = self.versions(dataset)
        res = self.ingest(source, *opts, dataset=dataset)
        shown = name if name is not None else Path(str(source)).name
        err = assert_clean_failure(self, res, shown, dataset=dataset, before=before, line=line)
        return err.replace(str(self.tmp), "<tmp>")  # test names in the path must not match

    def versions(self, dataset: str = "x") -> list[tuple[int, int]]:
        """(number, rows) of every version of ``dataset`` (empty if it does not exist)."""
        with self.ws.session() as s:
            ds = service.find_dataset(s, dataset)
            if ds is None:
                return []
            return [(v.number, v.rows) for v in service.list_versions(s, ds)]

    def fields(self, dataset: str = "x") -> list[tuple[str, str]]:
        """(name, type) of the latest version's fields, from the catalog."""
        with self.ws.session() as s:
            ds = service.get_dataset(s, dataset)
            return [(f.name, f.type) for f in service.version_fields(s, service.get_version(s, ds))]

    def sql(self, query: str) -> list[dict[str, Any]]:
        res = self.run("sql", query, "--json", "--limit", "1000")
        assert res.code == 0, f"sql failed ({res.code}): {res.err}"
        rows: list[dict[str, Any]] = json.loads(res.out)
        return rows

    def count(self, dataset: str = "x") -> int:
        return int(self.sql(f'select count(*) as n from "{dataset}"')[0]["n"])


def assert_clean_failure(
    env: Env,
    res: CliResult,
    name: str,
    *,
    dataset: str = "x",
    before: list[tuple[int, int]] | None = None,
    line: int | None = None,
) -> str:
    """The project's rule for a user's mistake; returns the error line."""
    everything = res.out + res.err
    assert "Traceback" not in everything, everything
    assert res.code != 0, f"expected a failure, got exit 0: {res.out}"
    err = res.err.strip()
    assert err, "nothing on stderr"
    assert "\n" not in err, f"more than one line on stderr:\n{err}"
    assert not res.out.strip(), f"stdout should be empty on failure: {res.out!r}"
    assert name in err, f"{name!r} not named in: {err}"
    if line is not None:
        assert re.search(rf"\bline {line}\b", err), f"line {line} not named in: {err}"
    if before is not None:
        assert env.versions(dataset) == before, "a version was recorded"
        if before:
            assert env.count(dataset) == before[-1][1], "the previous version is not readable"
    leftovers = list((env.ws.home / "tmp").glob("stage-*"))
    assert not leftovers, f"staging folders left behind: {leftovers}"
    return err


def assert_command_fails(env: Env, *args: str, name: str) -> str:
    """A non-ingest command that must fail cleanly with one line naming ``name``."""
    return assert_clean_failure(env, env.run(*args), name)


@pytest.fixture
def env(sqlite_ws: Workspace, cli: Callable[..., CliResult], tmp_path: Path) -> Env:
    res = cli(sqlite_ws, "org", "add", "o", "机构")
    assert res.code == 0, res.err
    data = tmp_path / "data"
    data.mkdir()
    return Env(sqlite_ws, cli, data)


def api_error(env: Env, source: Path | str, **options: Any) -> DizuoError:
    """Ingest through the Python API; it must raise a DizuoError (never anything else)."""
    spec = IngestSpec(source=str(source), dataset="x", org="o", **options)
    with pytest.raises(DizuoError) as info:
        ingest(env.ws, spec)
    return info.value


# -- file builders ----------------------------------------------------------------------


def write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def big_csv(tail: str, *, delimiter: str = ",") -> str:
    """A header, more than 1 MB of good rows, then ``tail`` (starting at line AFTER_BIG)."""
    text = HEADER + GOOD_ROW * BIG_ROWS + tail
    return text.replace(",", delimiter) if delimiter != "," else text


def small_csv(tail: str, *, rows: int = 20, delimiter: str = ",") -> str:
    """A header, ``rows`` good rows, then ``tail`` (starting at line rows + 2)."""
    text = HEADER + GOOD_ROW * rows + tail
    return text.replace(",", delimiter) if delimiter != "," else text


def write_excel(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    """An .xlsx (openpyxl) or .xls (xlwt) workbook with the given sheets and cell rows."""
    if path.suffix == ".xls":
        book = xlwt.Workbook(encoding="utf-8")
        for title, rows in sheets.items():
            sheet = book.add_sheet(title)
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    sheet.write(r, c, value)
        book.save(str(path))
        return path
    wb = openpyxl.Workbook()
    first = True
    for title, rows in sheets.items():
        ws = wb.active if first else wb.create_sheet()
        assert ws is not None
        ws.title = title
        first = False
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def write_parquet(path: Path, columns: dict[str, list[Any]]) -> Path:
    pq.write_table(pa.table(columns), path)
    return path


EXCEL = pytest.mark.parametrize("suffix", [".xlsx", ".xls"])


# -- truncated files --------------------------------------------------------------------


@pytest.mark.parametrize(
    "tail",
    ['3,x,"unfinished\n', '3,"unfinished,100\n', '3,x,"cut off here'],
    ids=["last-field", "middle-field", "no-final-newline"],
)
def test_csv_unterminated_quote_in_sample(env: Env, tail: str) -> None:
    path = write_bytes(env.tmp / "cut.csv", small_csv(tail).encode())
    err = env.fails(path, line=22)
    assert re.search(r"unterminated|truncated|unclosed", err), err


@pytest.mark.parametrize(
    "tail", ['3,x,"unfinished\n', '3,x,"cut off here'], ids=["newline", "no-final-newline"]
)
def test_csv_unterminated_quote_beyond_sample(env: Env, tail: str) -> None:
    path = write_bytes(env.tmp / "cut.csv", big_csv(tail).encode())
    err = env.fails(path, line=AFTER_BIG)
    assert re.search(r"unterminated|truncated|unclosed", err), err


@EXCEL
def test_truncated_excel(env: Env, suffix: str) -> None:
    rows = [["id", "name"], *([i, f"name {i}"] for i in range(2000))]
    whole = write_excel(env.tmp / f"full{suffix}", {"Sheet1": rows}).read_bytes()
    path = write_bytes(env.tmp / f"cut{suffix}", whole[: len(whole) // 2])
    env.fails(path)


@pytest.mark.parametrize("keep", [0.5, -4], ids=["half", "no-footer-magic"])
def test_truncated_parquet(env: Env, keep: float) -> None:
    whole = write_parquet(
        env.tmp / "full.parquet", {"id": list(range(5000)), "s": [f"v{i}" for i in range(5000)]}
    ).read_bytes()
    cut = int(len(whole) * keep) if keep > 0 else len(whole) + int(keep)
    path = write_bytes(env.tmp / "cut.parquet", whole[:cut])
    env.fails(path)


def test_json_array_cut_midway(env: Env) -> None:
    records = [{"id": i, "name": f"n{i}"} for i in range(2000)]
    text = json.dumps(records, indent=1)
    path = write_bytes(env.tmp / "cut.json", text[: len(text) // 2].encode())
    env.fails(path)


def test_ndjson_broken_last_line(env: Env) -> None:
    good = "".join(json.dumps({"id": i, "name": f"n{i}"}) + "\n" for i in range(100))
    path = write_bytes(env.tmp / "cut.ndjson", (good + '{"id": 100, "name": "n1').encode())
    env.fails(path, line=101)


# -- mixed encodings --------------------------------------------------------------------


ZH_ROW = "1,张三,100\n"


def test_utf8_file_with_gbk_line_beyond_sample(env: Env) -> None:
    rows = 90_000  # 13 bytes each in UTF-8: 1.17 MB of Chinese text before the bad line
    data = (
        HEADER.encode()
        + ZH_ROW.encode() * rows
        + "2,李四,200\n".encode("gbk")
        + ZH_ROW.encode() * 10
    )
    path = write_bytes(env.tmp / "mixed.csv", data)
    err = env.fails(path, line=rows + 2)
    assert "UTF-8" in err, err
    error = api_error(env, path)
    assert error.where is not None and error.where.line == rows + 2


def test_utf8_file_with_gbk_line_in_sample(env: Env) -> None:
    data = (
        HEADER.encode()
        + ZH_ROW.encode() * 300
        + "2,李四,200\n".encode("gbk")
        + ZH_ROW.encode() * 300
    )
    path = write_bytes(env.tmp / "mixed.csv", data)
    env.fails(path, line=302)
    error = api_error(env, path)
    assert error.where is not None and error.where.line == 302


def test_ascii_start_then_gbk_is_read_as_gbk(env: Env) -> None:
    """ASCII is valid GBK: a file whose first megabyte is ASCII and the rest GBK is GBK."""
    data = big_csv("").encode() + "2,李四,200\n".encode("gbk")
    path = write_bytes(env.tmp / "late_gbk.csv", data)
    result = env.ok(path)
    assert result["rows"] == BIG_ROWS + 1
    assert env.sql("select name from x where id = 2") == [{"name": "李四"}]


@pytest.mark.parametrize("rows", [50, 100_000], ids=["in-sample", "beyond-sample"])
def test_gbk_file_with_invalid_bytes(env: Env, rows: int) -> None:
    data = (
        "编号,姓名,数值\n".encode("gbk")
        + ZH_ROW.encode("gbk") * rows  # 11 bytes each: 100,000 rows are 1.1 MB
        + b"2,\xff\xfe,200\n"
        + ZH_ROW.encode("gbk") * 5
    )
    path = write_bytes(env.tmp / "bad_gbk.csv", data)
    env.fails(path, line=rows + 2)
    error = api_error(env, path)
    assert error.where is not None and error.where.line == rows + 2


def test_given_encoding_that_does_not_fit(env: Env) -> None:
    path = write_bytes(env.tmp / "gbk.csv", ("姓名,年龄\n" + "张三,30\n" * 10).encode("gbk"))
    env.fails(path, "--encoding", "utf-8", line=1)


def test_unsupported_encoding_name(env: Env) -> None:
    path = write_bytes(env.tmp / "t.csv", small_csv("").encode())
    env.fails(path, "--encoding", "latin-9", name="latin-9")


# -- wrong delimiter --------------------------------------------------------------------


@pytest.mark.parametrize(("actual", "given"), [(";", ","), (",", ";"), ("\t", ","), ("|", "\\t")])
def test_wrong_delimiter_suggests_the_right_one(env: Env, actual: str, given: str) -> None:
    text = small_csv("", delimiter=actual)
    path = write_bytes(env.tmp / "delim.csv", text.encode())
    err = env.fails(path, "--delimiter", given)
    assert repr(actual) in err, f"{actual!r} not suggested: {err}"


# -- ragged rows ------------------------------------------------------------------------


RAGGED = pytest.mark.parametrize(
    ("bad", "found"), [("2,x\n", 2), ("2,x,3,4\n", 4)], ids=["too-few", "too-many"]
)
TEXT_FORMATS = pytest.mark.parametrize(
    ("suffix", "delimiter"), [(".csv", ","), (".tsv", "\t")], ids=["csv", "tsv"]
)


@RAGGED
@TEXT_FORMATS
def test_ragged_row_in_sample(env: Env, bad: str, found: int, suffix: str, delimiter: str) -> None:
    path = write_bytes(
        env.tmp / f"ragged{suffix}", small_csv(bad + GOOD_ROW, delimiter=delimiter).encode()
    )
    err = env.fails(path, line=22)
    assert f"{found} fields" in err, err


@RAGGED
@TEXT_FORMATS
def test_ragged_row_beyond_sample(
    env: Env, bad: str, found: int, suffix: str, delimiter: str
) -> None:
    path = write_bytes(
        env.tmp / f"ragged{suffix}", big_csv(bad + GOOD_ROW, delimiter=delimiter).encode()
    )
    err = env.fails(path, line=AFTER_BIG)
    assert f"{found} fields" in err, err
    error = api_error(env, path)
    assert isinstance(error, InvalidInput)
    assert error.where is not None and error.where.line == AFTER_BIG


def test_ragged_row_in_gbk_file_beyond_sample(env: Env) -> None:
    """A GBK file is transcoded first; the line numbers must still be the file's."""
    rows = 100_000
    data = ("编号,姓名,数值\n" + ZH_ROW * rows + "2,李四\n" + ZH_ROW).encode("gbk")
    path = write_bytes(env.tmp / "ragged_gbk.csv", data)
    env.fails(path, line=rows + 2)


def test_ragged_row_after_multiline_fields_beyond_sample(env: Env) -> None:
    """Quoted fields with line breaks: the message must name the physical line."""
    records = 60_000  # two physical lines each: 1.2 MB
    data = HEADER + '1,"first\nsecond",100\n' * records + "2,x,3,4\n"
    path = write_bytes(env.tmp / "multiline.csv", data.encode())
    env.fails(path, line=1 + 2 * records + 1)


def test_ragged_row_beyond_sample_without_header(env: Env) -> None:
    """With --no-header the file has no header line; the line numbers must not shift."""
    data = GOOD_ROW * BIG_ROWS + "2,x,3,4\n"
    path = write_bytes(env.tmp / "noheader.csv", data.encode())
    env.fails(path, "--no-header", line=BIG_ROWS + 1)


def test_ragged_row_beyond_sample_with_renamed_header(env: Env) -> None:
    """A leading blank line and --dedupe-columns: the header is rewritten, lines must not shift."""
    data = "\nid,v,v\n" + GOOD_ROW * BIG_ROWS + "2,x,3,4\n"
    path = write_bytes(env.tmp / "renamed.csv", data.encode())
    env.fails(path, "--dedupe-columns", line=BIG_ROWS + 3)


# -- empty files ------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".xlsx", ".xls", ".json", ".parquet"])
def test_zero_byte_file(env: Env, suffix: str) -> None:
    path = write_bytes(env.tmp / f"empty{suffix}", b"")
    err = env.fails(path)
    assert "empty" in err, err


@pytest.mark.timeout(10)  # a hang must fail fast
@pytest.mark.parametrize("content", ["\n\n\n", "   \n\t\n  \r\n\n"], ids=["blank", "whitespace"])
def test_csv_with_only_blank_lines(env: Env, content: str) -> None:
    path = write_bytes(env.tmp / "blank.csv", content.encode())
    err = env.fails(path)
    assert "empty" in err, err


@pytest.mark.parametrize(
    "text", [HEADER, "\ufeff" + HEADER.rstrip("\n")], ids=["plain", "bom-no-newline"]
)
def test_header_only_csv_is_zero_rows(env: Env, text: str) -> None:
    path = write_bytes(env.tmp / "header_only.csv", text.encode())
    result = env.ok(path)
    assert result["rows"] == 0
    assert env.versions() == [(1, 0)]
    assert [name for name, _ in env.fields()] == ["id", "name", "v"]
    assert env.count() == 0


def test_json_values_of_mixed_kinds(env: Env) -> None:
    """One key holding an object in one record and a list in the next: read it or say why."""
    path = write_bytes(env.tmp / "mixed.json", b'[{"a": 1, "b": {"x": 1}}, {"a": 2, "b": [1, 2]}]')
    res = env.ingest(path)
    if res.code == 0:
        assert env.count() == 2
    else:
        assert_clean_failure(env, res, path.name, before=[])


def test_empty_json_array(env: Env) -> None:
    """``[]`` holds no records: either a version with zero rows or one clear error."""
    path = write_bytes(env.tmp / "empty.json", b"[]\n")
    res = env.ingest(path)
    if res.code == 0:
        assert env.versions() == [(1, 0)]
    else:
        assert_clean_failure(env, res, path.name, before=[])


@EXCEL
def test_excel_sheet_without_cells(env: Env, suffix: str) -> None:
    path = write_excel(env.tmp / f"blank{suffix}", {"空表": []})
    err = env.fails(path)
    assert "空表" in err, err


@EXCEL
def test_excel_header_only_is_zero_rows(env: Env, suffix: str) -> None:
    path = write_excel(env.tmp / f"header{suffix}", {"Sheet1": [["id", "name"]]})
    result = env.ok(path)
    assert result["rows"] == 0
    assert [name for name, _ in env.fields()] == ["id", "name"]


# -- duplicate column names -------------------------------------------------------------


def dup_file(env: Env, suffix: str) -> Path:
    rows = [["a", "b", "a"], [1, 2, 3], [4, 5, 6]]
    if suffix == ".parquet":
        arrays = [pa.array([r[i] for r in rows[1:]]) for i in range(3)]
        pq.write_table(pa.Table.from_arrays(arrays, names=rows[0]), env.tmp / "dup.parquet")
        return env.tmp / "dup.parquet"
    if suffix in (".xlsx", ".xls"):
        return write_excel(env.tmp / f"dup{suffix}", {"Sheet1": rows})
    delimiter = "\t" if suffix == ".tsv" else ","
    text = "".join(delimiter.join(map(str, r)) + "\n" for r in rows)
    return write_bytes(env.tmp / f"dup{suffix}", text.encode())


DUP_FORMATS = pytest.mark.parametrize("suffix", [".csv", ".tsv", ".xlsx", ".xls", ".parquet"])


@DUP_FORMATS
def test_duplicate_column_names(env: Env, suffix: str) -> None:
    err = env.fails(dup_file(env, suffix))
    assert "'a'" in err, err
    assert re.search(r"columns? 1\b.*\b3\b", err), f"column positions 1 and 3 not named: {err}"


@DUP_FORMATS
def test_duplicate_column_names_deduped(env: Env, suffix: str) -> None:
    env.ok(dup_file(env, suffix), "--dedupe-columns")
    assert [name for name, _ in env.fields()] == ["a", "b", "a_2"]
    rows = env.sql("select a, b, a_2 from x order by a")
    assert [(r["a"], r["b"], r["a_2"]) for r in rows] == [(1, 2, 3), (4, 5, 6)]


def test_duplicate_column_names_differing_in_case(env: Env) -> None:
    path = write_bytes(env.tmp / "case.csv", b"Name,name\n1,2\n")
    err = env.fails(path)
    assert "name" in err.lower()


# -- Chinese column names ---------------------------------------------------------------


def zh_csv(env: Env, encoding: str) -> Path:
    text = (
        ",".join(NAMES_ZH)
        + "\n"
        + ",".join(ROW_ZH)
        + "\n"
        + "李四,110101199202021234,13900139000\n"
    )
    suffix = encoding.replace("-", "")
    return write_bytes(env.tmp / f"人员_{suffix}.csv", text.encode(encoding))


ZH_SOURCES: dict[str, Callable[[Env], Path]] = {
    "csv-utf8": lambda env: zh_csv(env, "utf-8"),
    "csv-utf8-bom": lambda env: zh_csv(env, "utf-8-sig"),
    "csv-gbk": lambda env: zh_csv(env, "gbk"),
    "xlsx": lambda env: write_excel(env.tmp / "人员.xlsx", {"人员": [NAMES_ZH, ROW_ZH]}),
    "xls": lambda env: write_excel(env.tmp / "人员.xls", {"人员": [NAMES_ZH, ROW_ZH]}),
    "json": lambda env: write_bytes(
        env.tmp / "人员.json",
        json.dumps([dict(zip(NAMES_ZH, ROW_ZH, strict=True))], ensure_ascii=False).encode(),
    ),
    "ndjson": lambda env: write_bytes(
        env.tmp / "人员.ndjson",
        (json.dumps(dict(zip(NAMES_ZH, ROW_ZH, strict=True)), ensure_ascii=False) + "\n").encode(),
    ),
    "parquet": lambda env: write_parquet(
        env.tmp / "人员.parquet", {n: [v] for n, v in zip(NAMES_ZH, ROW_ZH, strict=True)}
    ),
}


@pytest.mark.parametrize("kind", list(ZH_SOURCES))
def test_chinese_column_names(env: Env, kind: str) -> None:
    path = ZH_SOURCES[kind](env)
    env.ok(path)
    assert [name for name, _ in env.fields()] == NAMES_ZH
    rows = env.sql('select "姓名", "身份证号", "联系电话" from x where "姓名" = \'张三\'')
    assert rows == [dict(zip(NAMES_ZH, ROW_ZH, strict=True))]


def test_chinese_sql_on_sqlite_source(env: Env) -> None:
    import sqlite3

    db = env.tmp / "人员库.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute('create table "人员" ("姓名" text, "身份证号" text, "联系电话" text)')
        conn.execute('insert into "人员" values (?, ?, ?)', ROW_ZH)
    conn.close()
    env.ok(f"sqlite:///{db}", "--table", "人员")
    assert [name for name, _ in env.fields()] == NAMES_ZH
    assert env.sql('select "姓名" from x') == [{"姓名": "张三"}]


# -- Excel sheets -----------------------------------------------------------------------


def two_sheets(env: Env, suffix: str) -> Path:
    return write_excel(
        env.tmp / f"book{suffix}",
        {"总表": [["id", "name"], [1, "first"]], "明细": [["k", "v"], [7, "second"], [8, "x"]]},
    )


@EXCEL
@pytest.mark.parametrize("sheet", ["不存在", "3"])
def test_unknown_sheet_lists_the_sheets(env: Env, suffix: str, sheet: str) -> None:
    err = env.fails(two_sheets(env, suffix), "--sheet", sheet)
    assert sheet in err, err
    assert "总表" in err and "明细" in err, f"available sheets not listed: {err}"


@EXCEL
@pytest.mark.parametrize("sheet", ["2", "明细"])
def test_sheet_by_number_or_name(env: Env, suffix: str, sheet: str) -> None:
    result = env.ok(two_sheets(env, suffix), "--sheet", sheet)
    assert result["rows"] == 2
    assert [name for name, _ in env.fields()] == ["k", "v"]
    assert env.sql("select v from x order by k") == [{"v": "second"}, {"v": "x"}]


def test_not_excel_with_excel_extension(env: Env) -> None:
    path = write_bytes(env.tmp / "fake.xlsx", b"id,name\n1,a\n")
    env.fails(path)


# -- paths and formats ------------------------------------------------------------------


def test_missing_file(env: Env) -> None:
    err = env.fails(env.tmp / "nope.csv")
    assert "no such file" in err


def test_directory_instead_of_file(env: Env) -> None:
    folder = env.tmp / "folder.csv"
    folder.mkdir()
    err = env.fails(folder)
    assert "not a file" in err


@pytest.mark.parametrize("name", ["data.dat", "noextension"])
def test_unknown_extension(env: Env, name: str) -> None:
    path = write_bytes(env.tmp / name, small_csv("").encode())
    err = env.fails(path)
    assert "--format" in err, err


def test_unknown_extension_with_format(env: Env) -> None:
    path = write_bytes(env.tmp / "data.dat", small_csv("").encode())
    assert env.ok(path, "--format", "csv")["rows"] == 20


def test_bad_format_option(env: Env) -> None:
    path = write_bytes(env.tmp / "data.csv", small_csv("").encode())
    err = env.fails(path, "--format", "xml", name="format")
    assert "xml" in err or "format" in err


@pytest.mark.parametrize("name", ["list[v2].csv", "a[/b].csv", "数据[初稿].csv"])
def test_file_name_with_brackets_is_shown_as_is(env: Env, name: str) -> None:
    """File names are data, not markup: the message must show them exactly."""
    env.fails(env.tmp / name)


# -- database sources -------------------------------------------------------------------


def test_unreachable_database_hides_the_password(env: Env) -> None:
    url = "postgresql://u:secret@127.0.0.1:1/x"
    res = env.ingest(url, "--table", "t")
    err = assert_clean_failure(env, res, "127.0.0.1", before=[])
    assert "secret" not in res.out + res.err, err


def test_unreachable_database_without_password(env: Env) -> None:
    res = env.ingest("postgresql://postgres@127.0.0.1:1/none", "--table", "t")
    assert_clean_failure(env, res, "127.0.0.1", before=[])


def make_sqlite(env: Env) -> Path:
    import sqlite3

    db = env.tmp / "source.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("create table people (id integer, name text)")
        conn.executemany("insert into people values (?, ?)", [(1, "a"), (2, "b")])
    conn.close()
    return db


def test_sqlite_missing_table(env: Env) -> None:
    db = make_sqlite(env)
    err = env.fails(f"sqlite:///{db}", "--table", "nosuch", name=db.name)
    assert "nosuch" in err
    assert "cannot reach" not in err, f"a missing table is not an unreachable database: {err}"


def test_sqlite_bad_query(env: Env) -> None:
    db = make_sqlite(env)
    err = env.fails(f"sqlite:///{db}", "--query", "selec * from people", name=db.name)
    assert "cannot reach" not in err, f"bad SQL is not an unreachable database: {err}"


def test_sqlite_missing_database_file(env: Env) -> None:
    db = env.tmp / "missing.sqlite"
    env.fails(f"sqlite:///{db}", "--table", "people", name=db.name)
    assert not db.exists(), "reading a missing database created an empty file"


@pytest.mark.parametrize(
    "opts", [(), ("--table", "people", "--query", "select 1")], ids=["neither", "both"]
)
def test_table_or_query_required(env: Env, opts: tuple[str, ...]) -> None:
    db = make_sqlite(env)
    err = env.fails(f"sqlite:///{db}", *opts, name=db.name)
    assert "--table" in err and "--query" in err


def test_sqlite_table_then_query(env: Env) -> None:
    db = make_sqlite(env)
    assert env.ok(f"sqlite:///{db}", "--table", "people")["rows"] == 2
    query = "select * from people where id = 2"
    assert env.ok(f"sqlite:///{db}", "--query", query)["rows"] == 1


def test_bad_database_url(env: Env) -> None:
    env.fails("nosuchdriver://host/db", "--table", "t", name="nosuchdriver")


# -- unknown datasets and bad SQL -------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("sql", "select * from ghost"),
        ("sql", "select * from ghost@2"),
        ("datasets", "show", "ghost"),
        ("datasets", "show", "ghost@1"),
        ("versions", "ghost"),
    ],
    ids=" ".join,
)
def test_unknown_dataset(env: Env, args: tuple[str, ...]) -> None:
    assert_command_fails(env, *args, name="ghost")


def test_unknown_version(env: Env) -> None:
    env.ok(write_bytes(env.tmp / "t.csv", small_csv("").encode()))
    assert_command_fails(env, "sql", "select * from x@9", name="9")
    assert_command_fails(env, "datasets", "show", "x@9", name="9")


@pytest.mark.parametrize(
    "query",
    ["selec * from x", "select * from x where", "select nosuchcolumn from x", "select 'open"],
)
def test_bad_sql(env: Env, query: str) -> None:
    env.ok(write_bytes(env.tmp / "t.csv", small_csv("").encode()))
    err = assert_clean_failure(env, env.run("sql", query), "")
    assert "<class" not in err, f"Python internals in the message: {err}"


def test_sql_that_writes_is_refused(env: Env) -> None:
    env.ok(write_bytes(env.tmp / "t.csv", small_csv("").encode()))
    assert_clean_failure(env, env.run("sql", "drop table x"), "")
    assert env.count() == 20


# -- types after the sniff sample -------------------------------------------------------


@pytest.mark.parametrize(
    ("good", "odd"),
    [("7", "X"), ("1.5", "n/a"), ("2024-01-31", "unknown"), ("true", "maybe")],
    ids=["integer", "double", "date", "boolean"],
)
def test_late_value_that_does_not_fit_the_sniffed_type(env: Env, good: str, odd: str) -> None:
    before, after = 49_999, 10_000  # the odd value is data row 50,000
    text = "id,value\n" + f"1,{good}\n" * before + f"2,{odd}\n" + f"3,{good}\n" * after
    path = write_bytes(env.tmp / "late.csv", text.encode())
    result = env.ok(path)
    assert result["rows"] == before + 1 + after
    assert dict(env.fields())["value"] == "VARCHAR"
    query = (
        f"select count(*) filter (where value = {good!r}) as good, "
        "list(value) filter (where id = 2) as odd from x"
    )
    assert env.sql(query) == [{"good": before + after, "odd": [odd]}]


# -- a failure leaves the previous version readable -------------------------------------


BROKEN: dict[str, Callable[[Env], Path]] = {
    "csv-quote": lambda env: write_bytes(env.tmp / "b.csv", big_csv('2,"x').encode()),
    "xlsx-cut": lambda env: write_bytes(env.tmp / "b.xlsx", b"PK\x03\x04" + b"\0" * 100),
    "json-cut": lambda env: write_bytes(env.tmp / "b.json", b'[{"id": 1, "name": "a"}, {"id'),
    "parquet-cut": lambda env: write_bytes(env.tmp / "b.parquet", b"PAR1" + b"\0" * 100),
}


@pytest.mark.parametrize("kind", list(BROKEN))
def test_failed_ingest_keeps_previous_version(env: Env, kind: str) -> None:
    good = write_bytes(env.tmp / "good.csv", small_csv("").encode())
    env.ok(good)
    assert env.versions() == [(1, 20)]
    env.fails(BROKEN[kind](env))
    assert env.versions() == [(1, 20)]
    assert env.count() == 20
    latest = json.loads(env.run("datasets", "show", "x", "--json").out)
    assert latest["version"] == 1


def test_crash_after_lake_commit_keeps_previous_version(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash between the lake commit and the catalog row: v1 stays, the next ingest works."""
    env.ok(write_bytes(env.tmp / "good.csv", small_csv("").encode()))

    def crash(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("simulated crash")

    with monkeypatch.context() as m:
        m.setattr(service, "record_version", crash)
        spec = IngestSpec(source=str(env.tmp / "v2.csv"), dataset="x")
        write_bytes(env.tmp / "v2.csv", small_csv("", rows=35).encode())
        with pytest.raises(RuntimeError):
            ingest(env.ws, spec)
    assert env.versions() == [(1, 20)]
    assert env.count() == 20
    assert not list((env.ws.home / "tmp").glob("stage-*"))
    write_bytes(env.tmp / "v3.csv", small_csv("", rows=50).encode())
    assert env.ok(env.tmp / "v3.csv")["rows"] == 50
    assert env.versions() == [(1, 20), (2, 50)]
    assert env.count() == 50
    assert int(env.sql("select count(*) as n from x@1")[0]["n"]) == 20


def test_failed_append_keeps_previous_version(env: Env) -> None:
    env.ok(write_bytes(env.tmp / "good.csv", small_csv("").encode()))
    broken = write_bytes(env.tmp / "more.csv", big_csv("2,x,3,4\n").encode())
    env.fails(broken, "--mode", "append", line=AFTER_BIG)
    assert env.count() == 20
