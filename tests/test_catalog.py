"""Catalog on SQLite and PostgreSQL: organisations, datasets, versions, drift, lineage,
search (Chinese included) and export (DCAT JSON-LD, GB/T 21063 CSV and Excel)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from dizuo.catalog import export, search, service
from dizuo.errors import AlreadyExists, InvalidInput, NotFound
from dizuo.ingest import DatasetMeta
from dizuo.workspace import Workspace
from tests.helpers import load, write


@pytest.fixture
def estate(ws: Workspace, tmp_path: Path) -> Workspace:
    """Two providers, three datasets."""
    with ws.session() as s:
        service.add_org(s, "edu", "市教育局")
        service.add_org(s, "health", "市卫生健康委")
    load(
        ws,
        write(tmp_path / "students.csv", "姓名,身份证号,学校\n张三,11010119900307123X,一中\n"),
        "edu_students",
        meta=DatasetMeta(
            name="学生学籍信息",
            summary="全市中小学学生学籍",
            category="教育",
            keywords=["学籍", "学生", "义务教育"],
            update_cycle="每月",
            share_type="有条件共享",
            share_condition="仅用于教育统计",
        ),
    )
    load(
        ws,
        write(tmp_path / "visits.csv", "patient_name,diagnosis,fee\n李四,J06.9,12.5\n"),
        "health_visits",
        org="health",
        meta=DatasetMeta(name="门诊就诊记录", summary="医院门诊", category="卫生健康"),
    )
    load(
        ws,
        write(tmp_path / "schools.csv", "school,district\n一中,锦江区\n"),
        "edu_schools",
        meta=DatasetMeta(name="学校名录", category="教育", share_type="无条件共享"),
    )
    return ws


def test_organisations(ws: Workspace) -> None:
    with ws.session() as s:
        service.add_org(s, "edu", "市教育局")
    with ws.session() as s, pytest.raises(AlreadyExists):
        service.add_org(s, "edu", "again")
    with ws.session() as s:
        assert [o.name for o in service.list_orgs(s)] == ["市教育局"]
        with pytest.raises(NotFound, match="did you mean edu"):
            service.get_org(s, "edv")


def test_dataset_items_follow_gbt21063(estate: Workspace) -> None:
    with estate.session() as s:
        ds = service.get_dataset(s, "edu_students")
        assert ds.name == "学生学籍信息"
        assert ds.organisation is not None and ds.organisation.name == "市教育局"
        assert ds.category == "教育"
        assert ds.format == "CSV"
        assert ds.share_type == "有条件共享" and ds.share_condition == "仅用于教育统计"
        assert ds.open_type == "不予开放"
        assert ds.keywords == ["学籍", "学生", "义务教育"]
        version = service.get_version(s, ds)
        fields = service.version_fields(s, version)
        assert [f.name for f in fields] == ["姓名", "身份证号", "学校"]
        assert version.rows == 1 and version.bytes > 0
        assert version.created_by == "tester"
        assert version.content_hash and version.source_fingerprint.startswith("sha256:")


def test_invalid_share_type_is_refused(ws: Workspace, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="share type"):
        load(
            ws,
            write(tmp_path / "a.csv", "a\n1\n"),
            "x",
            meta=DatasetMeta(share_type="随便共享"),
        )


def test_versions_drift_and_field_descriptions_carry_over(
    estate: Workspace, tmp_path: Path
) -> None:
    with estate.session() as s:
        v1 = service.get_version(s, service.get_dataset(s, "edu_students"))
        service.version_fields(s, v1)[0].description = "学生姓名"
    load(
        estate,
        write(tmp_path / "s2.csv", "姓名,身份证号,年级\n张三,1,初一\n"),
        "edu_students",
    )
    with estate.session() as s:
        ds = service.get_dataset(s, "edu_students")
        v2 = service.get_version(s, ds)
        assert v2.number == 2
        assert v2.drift == {
            "added": ["年级"],
            "removed": ["学校"],
            "retyped": [{"name": "身份证号", "from": "VARCHAR", "to": "BIGINT"}],
        }
        fields = service.version_fields(s, v2)
        assert fields[0].description == "学生姓名"
        assert [v.number for v in service.list_versions(s, ds)] == [1, 2]


def test_lineage_of_an_append(estate: Workspace, tmp_path: Path) -> None:
    load(
        estate,
        write(tmp_path / "more.csv", "school,district\n二中,青羊区\n"),
        "edu_schools",
        mode="append",
    )
    with estate.session() as s:
        ds = service.get_dataset(s, "edu_schools")
        v1, v2 = service.list_versions(s, ds)
        assert v2.operation == "append" and v2.rows == 2
        up = service.lineage(s, v2)
        assert [(n.dataset, n.number, n.depth) for n in up] == [("edu_schools", 1, -1)]
        down = service.lineage(s, v1)
        assert [(n.dataset, n.number, n.depth) for n in down] == [("edu_schools", 2, 1)]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("学生", ["edu_students"]),  # a Chinese word inside a name
        ("学籍", ["edu_students"]),
        ("义务", ["edu_students"]),  # only in a keyword
        ("学生信息", ["edu_students"]),  # not a substring: found by its bigrams
        ("身份证号", ["edu_students"]),  # a field name
        ("diagnosis", ["health_visits"]),  # an English field name
        ("门诊", ["health_visits"]),  # summary
        ("教育", ["edu_schools", "edu_students"]),  # category
        ("PATIENT", ["health_visits"]),  # case-insensitive
        ("学校 锦江", []),  # every word must match
        ("100%", []),  # LIKE wildcards are literal
    ],
)
def test_search(estate: Workspace, query: str, expected: list[str]) -> None:
    with estate.session() as s:
        hits = search.search(s, query)
        assert sorted(h.dataset.code for h in hits) == sorted(expected)


def test_search_ranks_name_hits_first(estate: Workspace) -> None:
    with estate.session() as s:
        hits = search.search(s, "学校")
        assert [h.dataset.code for h in hits][0] == "edu_schools"  # name beats field name


def test_dcat_export(estate: Workspace) -> None:
    with estate.session() as s:
        doc = export.dcat(s)
    json.dumps(doc)  # serialisable
    assert doc["@type"] == "dcat:Catalog"
    by_id = {d["dct:identifier"]: d for d in doc["dcat:dataset"]}
    students = by_id["edu_students"]
    assert students["dct:title"]["@value"] == "学生学籍信息"
    assert students["dct:publisher"]["foaf:name"] == "市教育局"
    assert students["dct:accrualPeriodicity"]["@id"].endswith("/monthly")
    columns = students["dcat:distribution"][0]["csvw:tableSchema"]["csvw:column"]
    assert [c["csvw:name"] for c in columns] == ["姓名", "身份证号", "学校"]
    with estate.session() as s:
        one = export.dcat(s, ["health_visits"])
        assert [d["dct:identifier"] for d in one["dcat:dataset"]] == ["health_visits"]
        with pytest.raises(NotFound):
            export.dcat(s, ["nope"])


def test_gbt21063_table_csv_and_excel(estate: Workspace, tmp_path: Path) -> None:
    with estate.session() as s:
        rows = export.gbt21063_rows(s)
    text = export.gbt21063_csv(rows)
    table = list(csv.DictReader(io.StringIO(text)))
    assert table[0].keys() >= {"信息资源代码", "信息资源名称", "信息资源提供方", "共享类型"}
    students = next(r for r in table if r["信息资源代码"] == "edu_students")
    assert students["信息资源提供方"] == "市教育局"
    assert students["信息项信息"].startswith("姓名（VARCHAR）")
    out = tmp_path / "catalog.xlsx"
    export.gbt21063_xlsx(rows, out)
    sheet = load_workbook(out).active
    assert sheet is not None
    values = list(sheet.values)
    assert values[0][0] == "信息资源代码" and len(values) == 4
