"""The personal-information policy and dataset grading, on the demo city and on broken files."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import fastexcel
import pytest
import yaml

from dizuo.classify.columns import classify_columns
from dizuo.classify.entities import Entity
from dizuo.classify.policy import (
    DatasetJudgement,
    Policy,
    birth_column,
    judge,
    load_policy,
    minors_share_sql,
)
from dizuo.demo.generate import generate_city
from dizuo.engine.duckdb import DuckDBEngine, quote_ident, sql_literal
from dizuo.errors import InvalidInput

#: the demo's school year: ages are computed at its start
SCHOOL_YEAR = date(2024, 9, 1)
MINORS_BASIS = "PIPL art. 28 (不满十四周岁未成年人的个人信息)"


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> DuckDBEngine:
    """The demo city's person datasets registered as views named by their code."""
    city = tmp_path_factory.mktemp("city")
    tmp = tmp_path_factory.mktemp("utf8")
    generate_city(city, scale=0.2)
    manifest = json.loads((city / "manifest.json").read_text(encoding="utf-8"))
    engine = DuckDBEngine()
    for d in manifest["datasets"]:
        path, name = city / d["path"], d["code"]
        if path.suffix == ".xlsx":
            sheet = fastexcel.read_excel(str(path)).load_sheet(d["sheet"] or 0)
            engine.register_arrow(name, sheet.to_arrow())
            continue
        if path.suffix in {".csv", ".tsv"}:
            utf8 = tmp / f"{name}{path.suffix}"
            utf8.write_text(path.read_bytes().decode(d["encoding"] or "utf-8"), encoding="utf-8")
            source = f"read_csv({sql_literal(str(utf8))})"
        elif path.suffix == ".parquet":
            source = f"read_parquet({sql_literal(str(path))})"
        else:
            source = f"read_json({sql_literal(str(path))})"
        engine.execute(f"CREATE TEMP VIEW {name} AS SELECT * FROM {source}")
    return engine


def _judge(engine: DuckDBEngine, name: str, policy: Policy | None = None) -> DatasetJudgement:
    types = {str(r[0]): str(r[1]) for r in engine.rows(f"DESCRIBE SELECT * FROM {name}")}
    results = classify_columns(engine, name, list(types))
    rows = int(engine.rows(f"SELECT count(*) FROM {name}")[0][0])
    share = None
    found = birth_column(results)
    if found is not None:
        expr = minors_share_sql(quote_ident(found[0]), found[1], SCHOOL_YEAR)
        share = engine.rows(f"SELECT {expr} FROM {name}")[0][0]
    return judge(
        results,
        rows=rows,
        minors_share=share,
        column_types=types,
        policy=policy or load_policy(),
    )


def _field(j: DatasetJudgement, column: str) -> Any:
    return next(f for f in j.fields if f.column == column)


def test_student_register_is_about_children(engine: DuckDBEngine) -> None:
    j = _judge(engine, "edu_student_roll")
    assert j.minors and not j.health_data and not j.whereabouts
    for column in ("xm", "xb", "csrq", "sfzh", "jtzz"):
        f = _field(j, column)
        assert f.pi and f.sensitive, column
        assert MINORS_BASIS in f.legal_basis, column
        assert any("children under 14" in r for r in f.reasons)
    assert _field(j, "xm").entity is Entity.PERSON_NAME
    assert _field(j, "xb").entity is Entity.GENDER
    guardian = _field(j, "监护人姓名")  # an adult's name: personal, not sensitive
    assert guardian.pi and not guardian.sensitive
    assert not _field(j, "学校名称").pi


def test_minors_share_sql() -> None:
    engine = DuckDBEngine()
    engine.execute(
        "CREATE TEMP TABLE p AS SELECT * FROM (VALUES "
        "('2015-03-05', '110101201503050017', '110101150305001'), "
        "('2012/9/2', '110101201209020014', '110101120902001'), "  # 14 on 2026-09-02
        "('20000101', '11010120000101001X', '110101000101001'), "
        "('２０１０年１月１日', ' 1101 0120 1001 01001 x', 'x'), "  # full-width, spaced
        "('garbage', NULL, NULL)) t(d, id18, id15)"
    )
    on = date(2026, 9, 1)

    def share(column: str, entity: Entity) -> Any:
        return engine.rows(f"SELECT {minors_share_sql(column, entity, on)} FROM p")[0][0]

    assert share("d", Entity.BIRTH_DATE) == pytest.approx(2 / 4)
    assert share("id18", Entity.RESIDENT_ID) == pytest.approx(2 / 4)
    # 15-digit IDs are 19YY: nobody is a child; 'x' is unreadable and left out
    assert share("id15", Entity.RESIDENT_ID_15) == 0
    empty = f"SELECT {minors_share_sql('d', Entity.BIRTH_DATE, on)} FROM p WHERE false"
    assert engine.rows(empty)[0][0] is None
    with pytest.raises(ValueError):
        minors_share_sql("d", Entity.GENDER, on)


def test_outpatient_visits_are_health_data(engine: DuckDBEngine) -> None:
    j = _judge(engine, "health_outpatient_visits")
    assert j.health_data and not j.minors
    for column in ("诊断编码", "诊断名称", "医生备注"):
        f = _field(j, column)
        assert f.pi and f.sensitive and f.category == "医疗健康", column
        assert "PIPL art. 28 (医疗健康)" in f.legal_basis
    assert _field(j, "姓名").pi and not _field(j, "姓名").sensitive


@pytest.mark.parametrize(
    ("dataset", "places", "times"),
    [
        ("tourism_hotel_checkins", {"旅馆名称"}, {"rzsj", "ldsj"}),
        ("transit_card_taps", {"zdmc"}, {"jysj"}),
        ("tourism_scenic_entries", {"scenic_spot"}, {"entry_time"}),
    ],
)
def test_trips_and_check_ins_are_whereabouts(
    engine: DuckDBEngine, dataset: str, places: set[str], times: set[str]
) -> None:
    j = _judge(engine, dataset)
    assert j.whereabouts and not j.health_data
    trace = {f.column for f in j.fields if f.category == "行踪轨迹"}
    assert trace == places | times
    for column in trace:
        f = _field(j, column)
        assert f.pi and f.sensitive and "行踪轨迹" in f.legal_basis


def test_enterprise_registry(engine: DuckDBEngine) -> None:
    j = _judge(engine, "market_enterprise_registry")
    assert not (j.whereabouts or j.health_data or j.minors)
    uscc = _field(j, "统一社会信用代码")
    assert uscc.entity is Entity.USCC and not uscc.pi and uscc.category == "组织机构信息"
    rep = _field(j, "法定代表人")
    assert rep.pi and not rep.sensitive and rep.legal_basis.startswith("PIPL art. 4")
    assert j.grade == "一般数据"


def _default_data() -> dict[str, Any]:
    text = (Path(__file__).parents[1] / "src/dizuo/classify/policy.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def _write(tmp_path: Path, data: dict[str, Any] | str) -> Path:
    path = tmp_path / "policy.yaml"
    text = data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_default_policy_is_complete() -> None:
    policy = load_policy()
    assert set(policy.entities) == set(Entity)
    assert not policy.entities[Entity.USCC].pi and not policy.entities[Entity.ORG_CODE].pi
    assert policy.default_grade == "一般数据"
    assert all(rule.grade != "核心数据" for rule in policy.grading)


def test_grade_rules_fire_at_thresholds(engine: DuckDBEngine, tmp_path: Path) -> None:
    data = _default_data()
    data["grading"] = [
        {"grade": "重要数据", "when": {"sensitive_pi_people_at_least": 2000}, "reason": "many"},
        {"grade": "重要数据", "when": {"pi_people_at_least": 30_000}, "reason": "huge"},
        {"grade": "一般数据", "when": {"health_data": True}, "reason": "health"},
    ]
    policy = load_policy(_write(tmp_path, data))
    hotel = _judge(engine, "tourism_hotel_checkins", policy)  # 2,000 rows, sensitive PI
    assert (hotel.grade, hotel.grade_reasons) == ("重要数据", ["many"])
    roll = _judge(engine, "edu_student_roll", policy)  # 1,200 rows
    assert roll.grade == "一般数据"
    taps = _judge(engine, "transit_card_taps", policy)  # ~30,000 rows
    assert taps.grade == "重要数据" and "many" in taps.grade_reasons
    health = _judge(engine, "health_outpatient_visits", policy)  # 4,000 rows
    assert health.grade == "重要数据" and health.grade_reasons == ["many"]
    registry = _judge(engine, "market_enterprise_registry", policy)  # no sensitive PI
    assert registry.grade == "一般数据"
    # the exact threshold fires, one fewer person does not
    results = classify_columns(engine, "tourism_hotel_checkins", ["zjhm"])
    for rows, grade in ((2000, "重要数据"), (1999, "一般数据")):
        j = judge(results, rows=rows, minors_share=None, column_types={}, policy=policy)
        assert j.grade == grade
    j = judge(results, rows=10, minors_share=None, column_types={}, policy=policy, people=5000)
    assert j.grade == "重要数据"


def test_default_thresholds() -> None:
    policy = load_policy()
    from dizuo.classify.columns import ColumnResult

    sfzh = ColumnResult("sfzh", Entity.RESIDENT_ID, 0.99, 1.0, 100)
    xm = ColumnResult("xm", Entity.PERSON_NAME, 0.9, 1.0, 100)
    assert judge([sfzh], rows=999_999, minors_share=None, column_types={}, policy=policy).grade == (
        "一般数据"
    )
    assert judge([sfzh], rows=10**6, minors_share=None, column_types={}, policy=policy).grade == (
        "重要数据"
    )
    assert judge([xm], rows=10**6, minors_share=None, column_types={}, policy=policy).grade == (
        "一般数据"
    )
    assert judge([xm], rows=10**7, minors_share=None, column_types={}, policy=policy).grade == (
        "重要数据"
    )


def test_reasons_speak_chinese_by_default(engine: DuckDBEngine) -> None:
    from dizuo.classify.columns import ColumnResult
    from dizuo.i18n import set_lang

    sfzh = ColumnResult("sfzh", Entity.RESIDENT_ID, 0.99, 1.0, 100)
    set_lang("zh")
    try:
        j = judge([sfzh], rows=10**6, minors_share=None, column_types={}, policy=load_policy())
        assert j.fields[0].reasons == ["居民身份证号码属于敏感个人信息"]
        assert j.grade == "重要数据" and "敏感个人信息" in j.grade_reasons[0]
        roll = _judge(engine, "edu_student_roll")
        assert any("不满十四周岁" in r for r in _field(roll, "xm").reasons)
        evidence = classify_columns(engine, "edu_student_roll", ["sfzh"])[0].evidence
        assert any("校验位" in e for e in evidence), evidence
    finally:
        set_lang(None)
    english = judge([sfzh], rows=10, minors_share=None, column_types={}, policy=load_policy())
    assert english.fields[0].reasons == ["居民身份证号码 is sensitive personal information"]


def _broken(data: dict[str, Any], change: str) -> dict[str, Any]:
    if change == "unknown entity":
        data["entities"]["shoe_size"] = data["entities"]["gender"]
    elif change == "wrong type":
        data["entities"]["gender"]["pi"] = "perhaps"
    elif change == "unknown rule kind":
        data["context"].append({"kind": "astrology"})
    elif change == "core grade":
        data["grading"][0]["grade"] = "核心数据"
    elif change == "missing entity":
        del data["entities"]["vin"]
    elif change == "bad pattern":
        data["context"][0]["exclude_name_patterns"] = ["("]
    return data


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ("unknown entity", "entities", "shoe_size"),
        ("wrong type", "entities.gender.pi", "bool"),
        ("unknown rule kind", "context.3", "astrology"),
        ("core grade", "grading.0.grade", "override"),
        ("missing entity", "entities", "vin"),
        ("bad pattern", "context.0.exclude_name_patterns", "regular expression"),
    ],
)
def test_broken_policy_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str, field: str, words: str
) -> None:
    monkeypatch.setenv("DIZUO_LANG", "en")
    path = _write(tmp_path, _broken(_default_data(), change))
    with pytest.raises(InvalidInput) as info:
        load_policy(path)
    message = str(info.value)
    assert str(path) in message and field in message and words in message, message


def test_yaml_syntax_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIZUO_LANG", "en")
    path = _write(tmp_path, "version: 1\nentities:\n  gender: {pi: true\n")
    with pytest.raises(InvalidInput) as info:
        load_policy(path)
    assert info.value.where is not None and info.value.where.file == str(path)
    assert info.value.where.line is not None
    assert "not valid YAML" in str(info.value)
