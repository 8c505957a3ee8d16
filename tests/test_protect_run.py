"""Protecting a catalogued version into the shared zone, and a plain file, by a recipe."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from dizuo.catalog import service
from dizuo.catalog.models import ProtectionRun, Zone
from dizuo.errors import InvalidInput
from dizuo.lake.query import run_sql
from dizuo.protect.run import key_id, protect_version
from dizuo.workspace import Workspace
from tests.helpers import load, write

PEOPLE = """姓名,身份证号,性别,出生日期,区县,电话,诊断,备注
张伟,51010820090408145X,男,2009-04-08,锦江区,13812345678,J06.9,无
李娜,510104199001011234,女,1990-01-01,青羊区,13912345678,I10,复诊
王芳,510107198502023456,女,1985-02-02,武侯区,13712345678,E11.9,无
"""

RECIPE = """
fields:
  姓名: {transform: mask, preset: person_name}
  身份证号: {transform: pseudonymise}
  性别: keep
  出生日期: {transform: generalise, kind: date, level: year}
  区县: keep
  电话: {transform: mask, preset: mobile_phone}
  诊断: keep
"""


@pytest.fixture
def people(ws: Workspace, tmp_path: Path) -> Workspace:
    load(ws, write(tmp_path / "people.csv", PEOPLE), "people")
    return ws


def test_protect_writes_a_shared_version_with_lineage(people: Workspace, tmp_path: Path) -> None:
    ws = people
    recipe = write(tmp_path / "r.yaml", RECIPE)
    result = protect_version(ws, "people", recipe)
    assert result.target == "people_shared@1" and result.rows == 3
    assert result.dropped == ["备注"]  # not named: dropped by default
    table = run_sql(ws, "SELECT * FROM people_shared ORDER BY 性别, 出生日期")
    assert "备注" not in table.column_names
    rows = table.to_pylist()
    assert {r["姓名"] for r in rows} == {"张*", "李*", "王*"}
    assert {r["电话"][:3] + r["电话"][-4:] for r in rows} == {"1385678", "1395678", "1375678"}
    assert all("****" in r["电话"] for r in rows)
    assert {r["出生日期"] for r in rows} == {"2009", "1990", "1985"}
    assert all(len(r["身份证号"]) == 32 for r in rows)
    with ws.session() as s:
        shared = service.get_dataset(s, "people_shared")
        assert shared.zone == Zone.shared.value
        version = service.get_version(s, shared)
        assert version.operation == "protect"
        assert version.params["parent"] == "people@1"
        assert version.params_hash == result.recipe_hash
        parents = service.lineage(s, version)
        assert any(n.dataset == "people" and n.depth < 0 for n in parents)
        run = s.get(ProtectionRun, version.id)
        assert run is not None and run.recipe_hash == result.recipe_hash
        assert run.report["key_id"] == key_id(ws.secret_key())
    # the same recipe, key and parent: no new version
    again = protect_version(ws, "people", recipe)
    assert not again.created and again.target == "people_shared@1"
    assert (again.fields, again.dropped, again.report) == (
        result.fields,
        result.dropped,
        result.report,
    )  # from the stored run, without reading the data again


def test_pseudonyms_are_stable_across_datasets_and_differ_by_key(
    people: Workspace, tmp_path: Path
) -> None:
    ws = people
    other = PEOPLE.replace("张伟", "张三").replace("无\n", "新\n")
    load(ws, write(tmp_path / "other.csv", other), "other")
    recipe = write(tmp_path / "r.yaml", RECIPE)
    protect_version(ws, "people", recipe)
    protect_version(ws, "other", recipe)
    first = run_sql(ws, "SELECT 身份证号 FROM people_shared ORDER BY 1").column(0).to_pylist()
    second = run_sql(ws, "SELECT 身份证号 FROM other_shared ORDER BY 1").column(0).to_pylist()
    assert first == second  # the same IDs in two datasets: the same pseudonyms
    # a lower-case x and spaces are the same ID
    load(ws, write(tmp_path / "dirty.csv", PEOPLE.replace("145X", "145x")), "dirty")
    protect_version(ws, "dirty", recipe)
    third = run_sql(ws, "SELECT 身份证号 FROM dirty_shared ORDER BY 1").column(0).to_pylist()
    assert third == first
    # another workspace (another key): other pseudonyms
    ws2 = Workspace.init(tmp_path / "ws2")
    try:
        load(ws2, write(tmp_path / "p2.csv", PEOPLE), "people")
        protect_version(ws2, "people", recipe)
        fourth = run_sql(ws2, "SELECT 身份证号 FROM people_shared ORDER BY 1").column(0)
        assert set(fourth.to_pylist()).isdisjoint(first)
    finally:
        ws2.close()


def test_the_key_is_nowhere_in_catalog_lake_or_output(
    people: Workspace, tmp_path: Path, cli, caplog: pytest.LogCaptureFixture
) -> None:
    ws = people
    key = ws.secret_key()
    recipe = write(tmp_path / "r.yaml", RECIPE + "  备注: {transform: encrypt}\n")
    out = cli(ws, "protect", "people", "--recipe", str(recipe), "--json")
    assert out.code == 0, out.err
    for text in (out.out, out.err, caplog.text):
        assert key.hex() not in text
    for path in [*ws.home.rglob("*")]:
        if path.is_file() and path.name != "secret.key":
            data = path.read_bytes()
            assert key not in data and key.hex().encode() not in data
    with ws.db.connect() as con:
        for table in ("protection_runs", "versions", "lineage_edges", "datasets"):
            dump = json.dumps(
                [list(r) for r in con.execute(sa.text(f"SELECT * FROM {table}"))], default=str
            )
            assert key.hex() not in dump


def test_broken_recipes_and_targets(people: Workspace, tmp_path: Path) -> None:
    ws = people
    bad = write(tmp_path / "bad.yaml", RECIPE.replace("区县: keep", "区域: keep"))
    with pytest.raises(InvalidInput, match="区域"):
        protect_version(ws, "people", bad)
    numeric = write(tmp_path / "n.yaml", "fields: {姓名: {transform: top_bottom, high: 3}}")
    with pytest.raises(InvalidInput, match="姓名") as info:
        protect_version(ws, "people", numeric)
    assert "people@1" in str(info.value) and "1" in str(info.value)  # the data, row 1
    recipe = write(tmp_path / "r.yaml", RECIPE)
    with pytest.raises(InvalidInput, match="people"):
        protect_version(ws, "people", recipe, output="people")  # a raw-zone dataset
    with ws.session() as s:
        assert service.find_dataset(s, "people_shared") is None  # nothing half-written


def test_file_mode_needs_a_key_and_writes_atomically(
    tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = write(tmp_path / "people.csv", PEOPLE)
    recipe = write(tmp_path / "r.yaml", RECIPE)
    out = tmp_path / "out.parquet"
    monkeypatch.delenv("DIZUO_PROTECT_KEY", raising=False)
    result = cli(None, "protect", str(source), "--recipe", str(recipe), "--out", str(out))
    assert result.code != 0 and "DIZUO_PROTECT_KEY" in result.err and not out.exists()
    monkeypatch.setenv("DIZUO_PROTECT_KEY", "00" * 32)
    result = cli(None, "protect", str(source), "--recipe", str(recipe), "--out", str(out))
    assert result.code == 0, result.err
    table = pq.read_table(out)
    assert table.num_rows == 3 and "备注" not in table.column_names
    assert not list(tmp_path.glob("*.partial"))
    csv_out = tmp_path / "out.csv"
    result = cli(None, "protect", str(source), "--recipe", str(recipe), "--out", str(csv_out))
    assert result.code == 0 and csv_out.read_text(encoding="utf-8").count("\n") == 4
    result = cli(None, "protect", str(source), "--recipe", str(recipe), "--out", "x.txt")
    assert result.code != 0 and ".parquet" in result.err


def test_a_privacy_model_in_the_recipe(people: Workspace, tmp_path: Path) -> None:
    import pandas as pd
    from pycanon import anonymity as canon

    ws = people
    privacy = """
privacy:
  quasi_identifiers:
    性别: {kind: values}
    区县: {kind: values}
    出生日期: {kind: values}
  models: [{k_anonymity: 2}]
"""
    result = protect_version(ws, "people", write(tmp_path / "r.yaml", RECIPE + privacy))
    report = result.report["privacy"]
    assert report["risk_before"]["prosecutor_max"] == 1.0
    assert report["risk_after"]["k"] >= 2 and report["risk_after"]["prosecutor_max"] <= 0.5
    table = run_sql(ws, "SELECT 性别, 区县, 出生日期 FROM people_shared").to_pandas()
    released = table[~(table == "*").all(axis=1)]
    assert isinstance(released, pd.DataFrame)
    if len(released):
        assert canon.k_anonymity(released, ["性别", "区县", "出生日期"]) >= 2  # checked by pyCANON
    too_big = RECIPE + privacy.replace("k_anonymity: 2", "k_anonymity: 50")
    with pytest.raises(InvalidInput, match="50"):
        protect_version(ws, "people", write(tmp_path / "big.yaml", too_big), output="people_k50")
    missing = RECIPE + privacy.replace(
        "区县: {kind: values}", "区县: {kind: table, rows: [[锦江区, 成都市, '*']]}"
    )
    with pytest.raises(InvalidInput, match="青羊区|武侯区"):
        protect_version(ws, "people", write(tmp_path / "miss.yaml", missing), output="people_h")


def test_coordinates_are_snapped_in_pairs(ws: Workspace, tmp_path: Path) -> None:
    text = "名称,纬度,经度\nA,30.657101,104.065501\nB,30.657302,104.065702\nC,31.2,121.4\n"
    load(ws, write(tmp_path / "poi.csv", text), "poi")
    recipe = write(
        tmp_path / "r.yaml",
        "default: keep\nfields:\n"
        "  纬度: {transform: generalise, kind: coordinates, cell_m: 1000, longitude: 经度}\n",
    )
    protect_version(ws, "poi", recipe)
    rows = run_sql(ws, "SELECT * FROM poi_shared ORDER BY 名称").to_pylist()
    assert (rows[0]["纬度"], rows[0]["经度"]) == (rows[1]["纬度"], rows[1]["经度"])  # one cell
    assert (rows[0]["纬度"], rows[0]["经度"]) != (rows[2]["纬度"], rows[2]["经度"])
    assert abs(rows[2]["经度"] - 121.4) < 0.01
    wrong = write(
        tmp_path / "w.yaml",
        "fields:\n"
        "  纬度: {transform: generalise, kind: coordinates, cell_m: 1000, longitude: lng}\n",
    )
    with pytest.raises(InvalidInput, match="lng"):
        protect_version(ws, "poi", wrong)


def test_blank_numbers_are_missing_not_errors(tmp_path: Path) -> None:
    import pyarrow as pa

    from dizuo.protect.recipe import load_recipe
    from dizuo.protect.run import apply_recipe

    recipe = load_recipe(
        write(tmp_path / "r.yaml", "fields: {费用: {transform: top_bottom, high: 100}}")
    )
    table = pa.table({"费用": ["50", " ", "", "250", None]})
    out, *_ = apply_recipe(table, recipe, b"k" * 32, source="r.yaml", data="visits.csv")
    assert out["费用"].to_pylist() == [50.0, None, None, 100.0, None]
    bad = pa.table({"费用": ["50", "abc"]})
    with pytest.raises(InvalidInput, match=r"visits\.csv, row 2, column '费用'"):
        apply_recipe(bad, recipe, b"k" * 32, source="r.yaml", data="visits.csv")
