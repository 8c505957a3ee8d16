"""Column classification on the demo city (against its truth) and on purpose-made decoys."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import fastexcel
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dizuo.classify.columns import ColumnResult, classify_columns
from dizuo.classify.entities import Entity
from dizuo.demo.decoys import decoy_columns
from dizuo.demo.generate import generate_city
from dizuo.engine.duckdb import DuckDBEngine, sql_literal

E = Entity

#: the demo truth names personal fields; these map it to detector entities
TRUTH_TO_ENTITY = {
    "person_name": E.PERSON_NAME,
    "resident_id": E.RESIDENT_ID,
    "mobile_phone": E.MOBILE_PHONE,
    "address": E.ADDRESS,
    "birth_date": E.BIRTH_DATE,
    "sex": E.GENDER,
    "ethnicity": E.ETHNICITY,
    "uscc": E.USCC,
}
#: columns whose values are an entity the truth does not label (it labels personal data only)
EXTRA = {
    ("health_outpatient_visits", "诊断编码"): E.ICD10_CODE,
    ("health_outpatient_visits", "诊断名称"): E.DISEASE,
    ("market_enterprise_registry", "住所"): E.ADDRESS,  # a business address
    ("transit_metro_stations", "纬度"): E.LATITUDE,
    ("transit_metro_stations", "经度"): E.LONGITUDE,
}


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("city")
    generate_city(folder, scale=0.2)
    return folder


def _relation(engine: DuckDBEngine, city: Path, tmp: Path, dataset: dict[str, object]) -> str:
    """Register a demo file as a view (transcoding GBK / GB18030 text first) and name it."""
    path = city / str(dataset["path"])
    name = str(dataset["code"])
    suffix = path.suffix
    if suffix == ".xlsx":
        sheet = fastexcel.read_excel(str(path)).load_sheet(str(dataset["sheet"]) or 0)
        engine.register_arrow(name, sheet.to_arrow())
        return name
    if suffix in {".csv", ".tsv"}:
        utf8 = tmp / f"{name}{suffix}"
        encoding = str(dataset["encoding"] or "utf-8")
        utf8.write_text(path.read_bytes().decode(encoding), encoding="utf-8")
        source = f"read_csv({sql_literal(str(utf8))})"
    elif suffix == ".parquet":
        source = f"read_parquet({sql_literal(str(path))})"
    else:
        source = f"read_json({sql_literal(str(path))})"
    engine.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM {source}")
    return name


@pytest.fixture(scope="module")
def verdicts(
    city: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[tuple[str, str], ColumnResult]:
    import json

    engine = DuckDBEngine()
    tmp = tmp_path_factory.mktemp("utf8")
    manifest = json.loads((city / "manifest.json").read_text(encoding="utf-8"))
    found: dict[tuple[str, str], ColumnResult] = {}
    for dataset in manifest["datasets"]:
        name = _relation(engine, city, tmp, dataset)
        columns = [r[0] for r in engine.rows(f"DESCRIBE SELECT * FROM {name}")]
        with pytest.MonkeyPatch.context() as mp:  # evidence in English, as the tests read it
            mp.setenv("DIZUO_LANG", "en")
            for result in classify_columns(engine, name, columns):
                found[(name, result.column)] = result
    return found


def _expected(city: Path) -> dict[tuple[str, str], tuple[Entity | None, bool]]:
    truth = pq.read_table(city / "truth" / "columns.parquet").to_pylist()
    out: dict[tuple[str, str], tuple[Entity | None, bool]] = {}
    for row in truth:
        key = (row["dataset"], row["column"])
        entity = EXTRA.get(key, TRUTH_TO_ENTITY.get(row["entity_type"] or ""))
        out[key] = (entity, row["entity_type"] == "free_text")
    return out


def test_demo_city_columns(city: Path, verdicts: dict[tuple[str, str], ColumnResult]) -> None:
    expected = _expected(city)
    assert set(expected) <= set(verdicts)
    tp: Counter[Entity] = Counter()
    fp: Counter[Entity] = Counter()
    fn: Counter[Entity] = Counter()
    wrong = []
    for key, (want, free) in expected.items():
        got = verdicts[key]
        if got.entity == want and got.free_text == free:
            if want is not None:
                tp[want] += 1
            continue
        wrong.append(f"{key}: want {want} (free text {free}), got {got.entity} {got.evidence}")
        if want is not None:
            fn[want] += 1
        if got.entity is not None:
            fp[got.entity] += 1
    report = {
        e.value: (tp[e] / max(1, tp[e] + fp[e]), tp[e] / max(1, tp[e] + fn[e]))
        for e in set(tp) | set(fp) | set(fn)
    }
    accuracy = 1 - len(wrong) / len(expected)
    assert accuracy >= 0.98, (accuracy, report, wrong)
    for entity, (precision, recall) in report.items():
        assert precision >= 0.95 and recall >= 0.95, (entity, report, wrong)


def test_verdicts_carry_evidence(verdicts: dict[tuple[str, str], ColumnResult]) -> None:
    sfzh = verdicts[("edu_student_roll", "sfzh")]
    assert sfzh.entity == E.RESIDENT_ID and sfzh.confidence > 0.9
    assert any("GB 11643" in e for e in sfzh.evidence)
    assert any("sfzh" in e for e in sfzh.evidence)
    col_07 = verdicts[("tourism_hotel_checkins", "col_07")]  # a name that says nothing
    assert col_07.entity == E.MOBILE_PHONE and not any("hint" in e for e in col_07.evidence)
    card = verdicts[("transit_card_taps", "kh")]  # 5 % pass Luhn by chance: a bank-card decoy
    assert card.entity is None and any("decoys" in e for e in card.evidence)
    founded = verdicts[("market_enterprise_registry", "成立日期")]
    assert founded.entity is None  # dates, but nothing says they are birth dates


def test_decoy_columns() -> None:
    rng = random.Random(5)
    n = 500
    table = pa.table(
        {
            **decoy_columns(n),
            "xm": [
                rng.choice(["四川大学华西医院", "成都市第七中学", "锦江宾馆"]) for _ in range(n)
            ],
            "xb": [rng.choice(["1", "2"]) for _ in range(n)],
            "code": [rng.choice(["1", "2"]) for _ in range(n)],
            "a": [30 + rng.random() for _ in range(n)],
            "b": [104 + rng.random() for _ in range(n)],
        }
    )
    engine = DuckDBEngine()
    engine.register_arrow("decoys", table)
    results = {r.column: r for r in classify_columns(engine, "decoys", table.column_names)}
    assert results["order_id"].entity is None
    assert any("decoys" in e for e in results["order_id"].evidence)
    assert results["serial_11"].entity is None
    assert results["reg_code"].entity is None
    assert any("decoys" in e for e in results["reg_code"].evidence)
    assert results["sfzh"].entity == E.MOBILE_PHONE
    assert any("overruled" in e for e in results["sfzh"].evidence)
    assert results["col_07"].entity == E.MOBILE_PHONE
    assert results["xm"].entity is None
    assert results["xb"].entity == E.GENDER
    assert results["code"].entity is None  # 1/2 is a gender code only under a gender name
    assert results["a"].entity == E.LATITUDE and results["b"].entity == E.LONGITUDE
    by_hint = classify_columns(engine, "decoys", ["sfzh", "xb"], name_hints=False)
    assert by_hint[0].entity == E.MOBILE_PHONE and by_hint[1].entity is None


def test_sample_and_full_scan_agree() -> None:
    rng = random.Random(3)
    phones = [f"139{rng.randint(0, 99_999_999):08d}" for _ in range(30_000)]
    engine = DuckDBEngine()
    engine.register_arrow("t", pa.table({"p": phones, "empty": pa.nulls(30_000, pa.string())}))
    sampled = classify_columns(engine, "t", ["p", "empty"], sample_rows=1000)
    full = classify_columns(engine, "t", ["p", "empty"], sample_rows=None)
    assert sampled[0].non_null == 1000 and full[0].non_null == 30_000
    assert sampled[0].entity == full[0].entity == E.MOBILE_PHONE
    assert full[1].entity is None and full[1].non_null == 0
    assert classify_columns(engine, "t", []) == []
