"""Readers that work: encodings, delimiters, headers, types, Excel, JSON, Parquet, databases."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from dizuo.catalog import service
from dizuo.lake.query import run_sql
from dizuo.workspace import Workspace
from tests.helpers import load, write

ROWS = (
    "姓名,身份证号,电话,年龄,邮编\n"
    "张三,11010119900307123X,13800138000,12,010020\n"
    "李四,110101199003071234,13900139000,13,610041\n"
)


def table(ws: Workspace, ref: str) -> pa.Table:
    return run_sql(ws, f"select * from {ref}")


def schema(ws: Workspace, code: str) -> dict[str, str]:
    with ws.session() as s:
        version = service.get_version(s, service.get_dataset(s, code))
        return {c["name"]: c["type"] for c in version.schema}


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_csv_encodings(sqlite_ws: Workspace, tmp_path: Path, encoding: str) -> None:
    text = ROWS + "𠀀王,1,1,1,1\n" if encoding in ("utf-8", "gb18030", "utf-16") else ROWS
    result = load(sqlite_ws, write(tmp_path / "s.csv", text, encoding), "s")
    assert result.rows == text.count("\n") - 1
    got = table(sqlite_ws, "s")
    assert got.column_names == ["姓名", "身份证号", "电话", "年龄", "邮编"]
    assert got.column("姓名").to_pylist()[:2] == ["张三", "李四"]
    with sqlite_ws.session() as s:
        params = service.get_version(s, service.get_dataset(s, "s")).params
    assert params["encoding"] == encoding


def test_identifiers_keep_their_text(sqlite_ws: Workspace, tmp_path: Path) -> None:
    load(sqlite_ws, write(tmp_path / "s.csv", ROWS), "s")
    types = schema(sqlite_ws, "s")
    # ID numbers, phone numbers and zero-led postcodes are codes, not numbers
    assert types == {
        "姓名": "VARCHAR",
        "身份证号": "VARCHAR",
        "电话": "VARCHAR",
        "年龄": "BIGINT",
        "邮编": "VARCHAR",
    }
    assert table(sqlite_ws, "s").column("邮编").to_pylist() == ["010020", "610041"]


@pytest.mark.parametrize(
    ("delimiter", "suffix"),
    [(",", ".csv"), ("\t", ".tsv"), ("\t", ".csv"), (";", ".csv"), ("|", ".txt")],
)
def test_delimiters_are_detected(
    sqlite_ws: Workspace, tmp_path: Path, delimiter: str, suffix: str
) -> None:
    text = ROWS.replace(",", delimiter)
    load(sqlite_ws, write(tmp_path / f"s{suffix}", text), "s")
    assert table(sqlite_ws, "s").num_columns == 5


def test_quoted_fields_with_delimiters_and_newlines(sqlite_ws: Workspace, tmp_path: Path) -> None:
    text = 'id,note\n1,"成都市, 锦江区"\n2,"第一行\n第二行"\n3,"他说""好"""\n'
    load(sqlite_ws, write(tmp_path / "q.csv", text), "q")
    assert table(sqlite_ws, "q").column("note").to_pylist() == [
        "成都市, 锦江区",
        "第一行\n第二行",
        '他说"好"',
    ]


def test_no_header(sqlite_ws: Workspace, tmp_path: Path) -> None:
    load(sqlite_ws, write(tmp_path / "n.csv", "1,a\n2,b\n"), "n", header=False)
    got = table(sqlite_ws, "n")
    assert got.column_names == ["column_1", "column_2"] and got.num_rows == 2


def test_types_dates_and_nulls(sqlite_ws: Workspace, tmp_path: Path) -> None:
    text = (
        "d,ts,amount,flag,empty\n"
        "2024-01-02,2024-01-02 03:04:05,1.5,true,\n"
        "2024-02-03,,2.25,false,\n"
    )
    load(sqlite_ws, write(tmp_path / "t.csv", text), "t")
    types = schema(sqlite_ws, "t")
    assert types["d"] == "DATE" and types["ts"] == "TIMESTAMP"
    assert types["amount"] == "DOUBLE" and types["flag"] == "BOOLEAN"
    with sqlite_ws.session() as s:
        fields = service.version_fields(s, service.get_version(s, service.get_dataset(s, "t")))
    by_name = {f.name: f for f in fields}
    assert by_name["ts"].profile["nulls"] == 1
    assert by_name["empty"].profile["null_rate"] == 1.0
    assert by_name["amount"].profile["min"] == "1.5" and by_name["amount"].profile["max"] == "2.25"


def test_profile_hides_rare_values_and_text_extremes(sqlite_ws: Workspace, tmp_path: Path) -> None:
    rows = "".join(f"name{i},{'男' if i % 2 else '女'}\n" for i in range(40))
    load(sqlite_ws, write(tmp_path / "p.csv", "name,sex\n" + rows), "p")
    with sqlite_ws.session() as s:
        fields = service.version_fields(s, service.get_version(s, service.get_dataset(s, "p")))
    name, sex = fields
    assert "min" not in name.profile and name.profile["max_length"] == 6
    assert "top" not in name.profile  # 40 distinct names: no top values
    assert {t["value"] for t in sex.profile["top"]} == {"男", "女"}
    assert name.profile["distinct_approx"] >= 35


def test_excel_xlsx_sheet_choice(sqlite_ws: Workspace, tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    first = wb.active
    assert first is not None
    first.title = "说明"
    first.append(["本表说明"])
    data = wb.create_sheet("学生")
    data.append(["姓名", "身份证号", "年龄"])
    data.append(["张三", "11010119900307123X", 12])
    data.append(["李四", "110101199003071234", 13])
    wb.save(tmp_path / "s.xlsx")
    result = load(sqlite_ws, tmp_path / "s.xlsx", "x", sheet="学生")
    assert result.rows == 2 and result.format == "XLSX"
    got = table(sqlite_ws, "x")
    assert got.column("身份证号").to_pylist() == ["11010119900307123X", "110101199003071234"]
    assert schema(sqlite_ws, "x")["年龄"] == "BIGINT"  # whole Excel numbers are integers
    load(sqlite_ws, tmp_path / "s.xlsx", "y", sheet="2")
    assert table(sqlite_ws, "y").num_rows == 2
    first_sheet = load(sqlite_ws, tmp_path / "s.xlsx", "z")
    assert any("first sheet" in n for n in first_sheet.notes)


def test_excel_xls(sqlite_ws: Workspace, tmp_path: Path) -> None:
    import xlwt

    book = xlwt.Workbook()
    sheet = book.add_sheet("s1")
    for r, row in enumerate([["姓名", "分数"], ["王五", 90], ["赵六", 85.5]]):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    book.save(str(tmp_path / "s.xls"))
    result = load(sqlite_ws, tmp_path / "s.xls", "x")
    assert result.format == "XLS"
    assert table(sqlite_ws, "x").column("分数").to_pylist() == [90, 85.5]


@pytest.mark.parametrize("layout", ["array", "ndjson"])
def test_json(sqlite_ws: Workspace, tmp_path: Path, layout: str) -> None:
    records = [
        {"姓名": "张三", "年龄": 12, "地址": {"区": "锦江区", "街道": "春熙路"}},
        {"姓名": "李四", "年龄": None, "地址": {"区": "青羊区", "街道": "草市街"}},
    ]
    if layout == "array":
        text = json.dumps(records, ensure_ascii=False)
        path = write(tmp_path / "r.json", text)
    else:
        text = "\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n"
        path = write(tmp_path / "r.ndjson", text)
    load(sqlite_ws, path, "j")
    got = run_sql(sqlite_ws, "select 姓名, 地址.区 as d from j order by 姓名")
    assert got.to_pylist() == [{"姓名": "张三", "d": "锦江区"}, {"姓名": "李四", "d": "青羊区"}]


def test_parquet(sqlite_ws: Workspace, tmp_path: Path) -> None:
    pq.write_table(pa.table({"a": [1, 2, 3], "名称": ["x", "y", None]}), tmp_path / "p.parquet")
    result = load(sqlite_ws, tmp_path / "p.parquet", "p")
    assert result.rows == 3 and result.format == "Parquet"
    assert table(sqlite_ws, "p").column("名称").to_pylist() == ["x", "y", None]


def test_sqlite_database_table_and_query(sqlite_ws: Workspace, tmp_path: Path) -> None:
    db = sa.create_engine(f"sqlite:///{tmp_path / 'src.db'}")
    with db.begin() as conn:
        conn.execute(sa.text("create table 企业 (uscc text, name text, capital real)"))
        conn.execute(
            sa.text("insert into 企业 values (:u, :n, :c)"),
            [{"u": f"91510100MA{i:08d}", "n": f"公司{i}", "c": i * 1.5} for i in range(120_000)],
        )
    db.dispose()
    url = f"sqlite:///{tmp_path / 'src.db'}"
    result = load(sqlite_ws, url, "ent", table="企业")
    assert result.rows == 120_000 and result.format == "数据库"
    q = load(sqlite_ws, url, "ent_q", query="select name from 企业 where capital > 10")
    assert q.rows == 120_000 - 7


def test_postgres_database_source(sqlite_ws: Workspace, pg_schema_url: str) -> None:
    db = sa.create_engine(pg_schema_url)
    with db.begin() as conn:
        conn.execute(
            sa.text("create table visits (id int, name text, fee numeric(10,2), at timestamptz)")
        )
        conn.execute(
            sa.text(
                "insert into visits select g, 'p' || g, g * 0.5, now() "
                "from generate_series(1, 1000) g"
            )
        )
    db.dispose()
    result = load(sqlite_ws, pg_schema_url, "visits", table="visits")
    assert result.rows == 1000
    got = run_sql(sqlite_ws, "select sum(fee) as s from visits").column("s")[0].as_py()
    assert float(got) == pytest.approx(sum(i * 0.5 for i in range(1, 1001)))


def test_gbk_whose_first_bytes_look_like_utf8(sqlite_ws: Workspace, tmp_path: Path) -> None:
    """学 is D1 A7 in GBK, which is also a valid two-byte UTF-8 sequence: still GBK."""
    text = "学校名称,学段,区县\n成都市第七中学,高中,武侯区\n成都石室中学,高中,青羊区\n"
    load(sqlite_ws, write(tmp_path / "s.csv", text, "gbk"), "s")
    assert table(sqlite_ws, "s").column("学校名称").to_pylist() == [
        "成都市第七中学",
        "成都石室中学",
    ]


def test_profile_of_a_large_table_without_a_second_scan(
    sqlite_ws: Workspace, tmp_path: Path
) -> None:
    """Nulls and ranges are exact (from the Parquet footers); distinct counts are estimated
    from a sample and checked here against DuckDB's exact count."""
    import duckdb

    src = tmp_path / "big.parquet"
    duckdb.sql(
        f"COPY (SELECT range AS id, (range % 1000) AS code, "
        f"CASE WHEN range % 7 = 0 THEN NULL ELSE 'v' || (range % 50000) END AS label, "
        f"['男', '女'][(range % 2) + 1] AS sex, DATE '2020-01-01' + (range % 365)::INT AS d "
        f"FROM range(1000000)) TO '{src}' (FORMAT parquet)"
    )
    load(sqlite_ws, src, "big")
    with sqlite_ws.session() as s:
        fields = service.version_fields(s, service.get_version(s, service.get_dataset(s, "big")))
    p = {f.name: f.profile for f in fields}
    exact = duckdb.sql(
        f"SELECT count(DISTINCT id), count(DISTINCT code), count(DISTINCT label), "
        f"count(*) FILTER (WHERE label IS NULL) FROM '{src}'"
    ).fetchall()[0]
    assert p["label"]["nulls"] == exact[3]
    assert p["id"]["min"] == "0" and p["id"]["max"] == "999999"
    assert p["d"]["min"] == "2020-01-01" and p["d"]["max"] == "2020-12-30"
    for name, truth in (("id", exact[0]), ("code", exact[1]), ("label", exact[2])):
        assert abs(p[name]["distinct_approx"] - truth) / truth < 0.1, (name, p[name], truth)
    assert p["sex"]["distinct_approx"] == 2
    assert {t["value"] for t in p["sex"]["top"]} == {"男", "女"}
    assert p["label"]["sampled_rows"] < 1_000_000
