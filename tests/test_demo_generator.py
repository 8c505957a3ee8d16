"""The demo-city generator keeps its promises: valid (and deliberately invalid) identifiers,
planted error rates, ground truth that matches the files, exact spans, determinism, scale.

python-stdnum is the oracle for resident IDs, USCCs and Luhn; the GB 11714 organisation-code
check is re-implemented here independently of the generator.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import re
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

import fastexcel
import numpy as np
import pyarrow.parquet as pq
import pytest
from stdnum import luhn, numdb
from stdnum.cn import ric, uscc

from dizuo.demo import chars, errors, health, hotline, places, transit, vocab
from dizuo.demo.generate import generate_city
from dizuo.demo.manifest import CityManifest, DemoDataset

SCALE = 0.5
Row = dict[str, Any]


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> CityManifest:
    with pytest.MonkeyPatch.context() as mp:  # small parts, so the multi-part paths run too
        mp.setattr(health, "PART_ROWS", 3_000)
        mp.setattr(transit, "CHUNK_ROWS", 20_000)
        return generate_city(tmp_path_factory.mktemp("city"), scale=SCALE, seed=7)


def folder(m: CityManifest) -> Path:
    return Path(m.folder)


def dataset(m: CityManifest, code: str) -> DemoDataset:
    return next(d for d in m.datasets if d.code == code)


def load(m: CityManifest, code: str) -> list[Row]:
    """A dataset's rows as dicts of strings (None for empty), read the way a person would."""
    d = dataset(m, code)
    path = folder(m) / d.path
    suffix = path.suffix
    if suffix == ".xlsx":
        table = fastexcel.read_excel(str(path)).load_sheet(d.sheet or 0, dtypes="string")
        rows: list[Row] = table.to_arrow().to_pylist()
        return rows
    if suffix == ".parquet":
        return pq.read_table(path).to_pylist()
    text = path.read_bytes().decode(d.encoding or "utf-8")
    if suffix == ".json":
        data: list[Row] = json.loads(text)
        return data
    if suffix == ".ndjson":
        return [json.loads(line) for line in text.splitlines() if line]
    delimiter = "\t" if suffix == ".tsv" else ","
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=delimiter)
    return [{k: (v if v != "" else None) for k, v in r.items()} for r in reader]


def table(m: CityManifest, name: str) -> list[Row]:
    return pq.read_table(folder(m) / m.truth[name]).to_pylist()


@pytest.fixture(scope="module")
def persons(city: CityManifest) -> list[Row]:
    return table(city, "persons")


@pytest.fixture(scope="module")
def records(city: CityManifest) -> list[Row]:
    return table(city, "record_person")


@pytest.fixture(scope="module")
def columns(city: CityManifest) -> list[Row]:
    return table(city, "columns")


@pytest.fixture(scope="module")
def data(city: CityManifest) -> dict[str, list[Row]]:
    return {d.code: load(city, d.code) for d in city.datasets}


def nfkc(value: str) -> str:
    return unicodedata.normalize("NFKC", value)


# -- the manifest and its files ------------------------------------------------------------


def test_manifest_describes_every_file(city: CityManifest, data: dict[str, list[Row]]) -> None:
    again = CityManifest.read(folder(city))
    assert again == city
    orgs = {d.code for d in city.departments}
    for d in city.datasets:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", d.code)
        assert d.org in orgs
        for text in (d.name, d.summary, d.category, d.update_cycle, d.share_type, d.open_type):
            assert re.search(r"[\u4e00-\u9fff]", text), (d.code, text)
        assert d.update_cycle in ("实时", "每日", "每月", "每年", "不定期")
        assert d.share_type in ("无条件共享", "有条件共享", "不予共享")
        assert (d.share_condition == "") == (d.share_type == "无条件共享")
        assert d.open_type in ("无条件开放", "有条件开放", "不予开放")
        assert d.keywords
        assert len(data[d.code]) == d.rows, d.code
    suffixes = Counter(Path(d.path).suffix for d in city.datasets)
    assert suffixes[".xlsx"] >= 1 and suffixes[".json"] + suffixes[".ndjson"] >= 1
    encodings = {(Path(d.path).suffix, d.encoding) for d in city.datasets}
    assert (".csv", "gbk") in encodings and (".csv", "utf-8") in encodings
    for name, rel in city.truth.items():
        assert (folder(city) / rel).is_file(), name


def test_gbk_file_is_really_gbk(city: CityManifest) -> None:
    d = next(d for d in city.datasets if d.encoding == "gbk")
    raw = (folder(city) / d.path).read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert raw.decode("gbk").startswith("就诊流水号,姓名,")
    assert b"\r\n" in raw  # exported on Windows


def test_column_names_are_mixed(columns: list[Row]) -> None:
    names = {c["column"] for c in columns}
    assert {"姓名", "身份证号", "监护人姓名", "法定代表人"} <= names
    assert {"xm", "sfzh", "lxdh", "jtzz", "csrq", "xb", "mz"} <= names
    assert any(re.fullmatch(r"col_\d+", n) for n in names)
    assert any(re.fullmatch(r"[a-z]+(_[a-z]+)+", n) for n in names)  # English


# -- identifiers -------------------------------------------------------------------------------


def test_every_person_has_a_valid_resident_id(persons: list[Row]) -> None:
    ids = [p["resident_id"] for p in persons]
    assert len(set(ids)) == len(ids)
    for p in persons:
        rid = p["resident_id"]
        assert ric.is_valid(rid), rid
        assert ric.get_birth_date(rid) == p["birth_date"]
        assert int(rid[16]) % 2 == (1 if p["sex"] == "男" else 0)
        assert p["resident_id_15"] == rid[:6] + rid[8:17]
    phones = [p["mobile_phone"] for p in persons if p["mobile_phone"]]
    assert len(set(phones)) == len(phones)
    assert all(re.fullmatch(r"1[3-9]\d{9}", x) for x in phones)


def test_every_region_code_is_valid_in_stdnum() -> None:
    for code, first, last in places.code_periods():
        for year in {max(first, 1934), min(last, 2024)}:
            number = f"{code}{year}0101001"
            number += ric.calc_check_digit(number + "0")
            assert ric.is_valid(number), (code, year)
    counties = numdb.get("cn/loc")
    for code in places.all_region_codes():  # also the codes in USCCs
        assert any("county" in props for _, props in counties.info(str(code))), code
    for d in places.DISTRICTS:  # the history covers every birth year
        years = {y for _, a, b in d.history for y in range(max(a, 1934), min(b, 2024) + 1)}
        assert years == set(range(1934, 2025)), d.name


def test_ages_and_households_are_plausible(persons: list[Row]) -> None:
    ages = np.array([p["age"] for p in persons])
    assert ages.min() == 0 and 85 <= ages.max() <= 90
    assert 0.12 < (ages < 15).mean() < 0.25 and 0.1 < (ages >= 65).mean() < 0.25
    by_id = {p["person_id"]: p for p in persons}
    kids = [p for p in persons if p["father_id"] is not None]
    assert kids and all(p["age"] < 18 for p in kids)
    for k in kids[:2000]:
        father, mother = by_id[k["father_id"]], by_id[k["mother_id"]]
        assert father["sex"] == "男" and mother["sex"] == "女"
        assert father["age"] - k["age"] >= 18
        assert k["household_id"] == father["household_id"] == mother["household_id"]
        assert k["home_address"] == father["home_address"]


def test_uscc_codes_and_decoys(city: CityManifest, data: dict[str, list[Row]]) -> None:
    rows = data["market_enterprise_registry"]
    decoys = {
        d["row"] for d in table(city, "decoys") if d["dataset"] == "market_enterprise_registry"
    }
    assert 0 < len(decoys) < 0.06 * len(rows)
    for i, r in enumerate(rows):
        code = r["统一社会信用代码"]
        assert len(code) == 18 and code[0] == "9" and code[1] in "123"
        assert uscc.is_valid(code) == (i not in decoys), code
        assert organisation_code_ok(code[8:17]), code
        assert code[2:8] == "510100" or int(code[2:8]) in {d.code for d in places.DISTRICTS}


def organisation_code_ok(code: str) -> bool:
    """GB 11714-1997: eight characters, then 11 - (Σ value × weight mod 11), 10 → X, 11 → 0."""
    values = [int(c, 36) for c in code[:8]]
    c = 11 - sum(v * w for v, w in zip(values, [3, 7, 9, 10, 5, 8, 4, 2], strict=True)) % 11
    return code[8] == {10: "X", 11: "0"}.get(c, str(c))


def test_transit_cards_are_luhn_decoys(city: CityManifest, data: dict[str, list[Row]]) -> None:
    cards = table(city, "transit_cards")
    assert all(len(c["card_no"]) == 16 and c["card_no"].startswith("5101") for c in cards)
    assert all(luhn.is_valid(c["card_no"]) == c["luhn_valid"] for c in cards)
    assert sum(c["luhn_valid"] for c in cards) < 0.1 * len(cards)
    assert 0.3 < sum(c["registered"] for c in cards) / len(cards) < 0.5
    registered = {c["card_no"] for c in cards if c["registered"]}
    taps = data["transit_card_taps"]
    assert all((t["col_04"] is not None) == (t["kh"] in registered) for t in taps)
    assert [t["jylsh"] for t in taps] == list(range(1, len(taps) + 1))
    times = [t["jysj"] for t in taps if t["jylx"] != "出站"]
    assert times == sorted(times)  # chunks are runs of whole days, in order
    col = next(
        c
        for c in table(city, "columns")
        if c["dataset"] == "transit_card_taps" and c["column"] == "kh"
    )
    assert col["has_decoys"] and col["decoy_of"] == "bank_card"


# -- ground truth against the files ------------------------------------------------------------


def _by_dataset(records: list[Row]) -> dict[str, list[Row]]:
    out: dict[str, list[Row]] = {}
    for r in records:
        out.setdefault(r["dataset"], []).append(r)
    return out


def test_records_point_at_real_rows_and_persons(
    city: CityManifest, records: list[Row], persons: list[Row]
) -> None:
    sizes = {d.code: d.rows for d in city.datasets}
    for r in records:
        assert 0 <= r["row"] < sizes[r["dataset"]]
        assert 0 <= r["person_id"] < len(persons)
        assert set(r["errors"]) <= set(errors.ALL_KINDS)
    seen = {(r["dataset"], r["row"], r["role"]) for r in records}
    assert len(seen) == len(records)
    # the same people recur across departments
    per_person: dict[int, set[str]] = {}
    for r in records:
        per_person.setdefault(r["person_id"], set()).add(r["dataset"])
    assert sum(len(v) >= 3 for v in per_person.values()) > 100


def check_name(value: str, true: str, kinds: set[str]) -> None:
    if not kinds & set(errors.NAME_KINDS):
        assert value == true
        return
    assert len(value) == len(true) and value != true
    diff = [(a, b) for a, b in zip(true, value, strict=True) if a != b]
    if "name_homophone" in kinds:
        assert len(diff) == 1 and diff[0][1] in chars.homophones()[diff[0][0]]
    elif "name_lookalike" in kinds:
        assert len(diff) == 1 and diff[0][1] in chars.lookalikes()[diff[0][0]]
    else:
        assert all(chars.traditional()[a] == b for a, b in diff)


def check_id(value: str | None, person: Row, kinds: set[str]) -> None:
    true = person["resident_id"]
    if "id_missing" in kinds:
        assert value is None
    elif "id_legacy15" in kinds:
        assert value == person["resident_id_15"] and len(value) == 15
    elif "id_fullwidth" in kinds:
        assert value != true and nfkc(value) == true
    elif "id_check_typo" in kinds:
        assert value is not None and len(value) == 18 and not ric.is_valid(value)
        assert sum(a != b for a, b in zip(value, true, strict=True)) == 1
        assert value[17] == true[17]
    else:
        assert value == true


def check_phone(value: str | None, person: Row, kinds: set[str]) -> None:
    true = person["mobile_phone"]
    if "phone_changed" in kinds:
        assert value != true and re.fullmatch(r"1[3-9]\d{9}", value or "")
    elif "phone_fullwidth" in kinds:
        assert value != true and nfkc(value or "") == true
    else:
        assert value == true


def test_records_match_the_truth(
    data: dict[str, list[Row]], records: list[Row], persons: list[Row], columns: list[Row]
) -> None:
    checked: Counter[str] = Counter()
    for code, recs in _by_dataset(records).items():
        rows = data[code]
        cols = [c for c in columns if c["dataset"] == code and c["role"]]
        for r in recs[:6000]:
            person, kinds, row = persons[r["person_id"]], set(r["errors"]), rows[r["row"]]
            for c in (c for c in cols if c["role"] == r["role"]):
                value, entity = row[c["column"]], c["entity_type"]
                if entity == "person_name":
                    check_name(value, person["name"], kinds)
                elif entity == "resident_id":
                    check_id(value, person, kinds)
                elif entity == "mobile_phone":
                    check_phone(value, person, kinds)
                elif entity == "sex":
                    assert value == person["sex"]
                elif entity == "ethnicity":
                    assert value == person["ethnicity"]
                elif entity == "address":
                    assert value == person["home_address"]
                elif entity == "birth_date":
                    y, m, d = (int(x) for x in value.split("-"))
                    b = person["birth_date"]
                    expect = (
                        (b.year, b.day, b.month)
                        if "birthdate_swap" in kinds
                        else (b.year, b.month, b.day)
                    )
                    assert (y, m, d) == expect
                elif entity == "student_number":
                    assert value == "G" + person["resident_id"]
                else:
                    continue
                checked[entity] += 1
    assert checked["person_name"] > 1000 and checked["resident_id"] > 1000
    assert checked["mobile_phone"] > 1000 and checked["birth_date"] > 100


def test_planted_error_rates(
    city: CityManifest, records: list[Row], persons: list[Row], columns: list[Row]
) -> None:
    scope: dict[str, list[str]] = city.notes["error_scope"]
    holds: dict[tuple[str, str], set[str]] = {}
    for c in columns:
        if c["role"]:
            holds.setdefault((c["dataset"], c["role"]), set()).add(c["entity_type"])
    names = np.array([p["name"] for p in persons])
    name_ok = errors.name_eligibility(names)
    eligible: Counter[str] = Counter()
    planted: Counter[str] = Counter()
    for r in records:
        fields, p = holds[(r["dataset"], r["role"])], persons[r["person_id"]]
        for kind in scope[r["dataset"]]:
            if kind.startswith("name_") and "person_name" in fields:
                ok = bool(name_ok[kind][r["person_id"]])
            elif kind.startswith("id_") and "resident_id" in fields:
                ok = kind != "id_legacy15" or p["birth_date"].year < errors.LEGACY_BORN_BEFORE
            elif kind.startswith("phone_") and "mobile_phone" in fields:
                ok = p["mobile_phone"] is not None
            elif kind == "birthdate_swap" and "birth_date" in fields:
                ok = p["birth_date"].day <= 12 and p["birth_date"].day != p["birth_date"].month
            else:
                ok = False
            eligible[kind] += ok
            planted[kind] += ok and kind in r["errors"]
    for kind, rate in errors.ERROR_RATES.items():
        n = eligible[kind]
        assert n > 200, kind
        tolerance = 4.5 * math.sqrt(n * rate * (1 - rate)) + 2
        assert abs(planted[kind] - n * rate) <= tolerance, (kind, planted[kind], n * rate)


def test_spans_slice_exactly(
    city: CityManifest, data: dict[str, list[Row]], persons: list[Row]
) -> None:
    spans = table(city, "spans")
    assert {s["entity_type"] for s in spans} == {
        "person_name",
        "mobile_phone",
        "resident_id",
        "address",
    }
    fullwidth = 0
    for s in spans:
        text = data[s["dataset"]][s["row"]][s["column"]]
        value = text[s["start"] : s["end"]]
        assert value == s["text"]
        fullwidth += value != nfkc(value)
        if s["person_id"] is None:
            continue
        p = persons[s["person_id"]]
        if s["entity_type"] == "person_name":
            assert value == p["name"]
        elif s["entity_type"] == "mobile_phone":
            assert re.sub(r"[- ]", "", nfkc(value)) == p["mobile_phone"]
        elif s["entity_type"] == "resident_id":
            assert nfkc(value) == p["resident_id"] and ric.is_valid(nfkc(value))
        else:
            assert value == p["home_address"]
    assert fullwidth > 10
    hotline = [s for s in spans if s["dataset"] == "hotline_12345_tickets"]
    assert len({s["entity_type"] for s in hotline}) == 4


def test_special_forms_are_present(data: dict[str, list[Row]], records: list[Row]) -> None:
    ids = [r["zjhm"] for r in data["tourism_hotel_checkins"]]
    assert any(i is not None and len(i) == 15 and i.isdigit() for i in ids)
    assert any(i is not None and i != nfkc(i) for i in ids)
    phones = [r["lxdh"] for r in data["health_outpatient_visits"] if r["lxdh"]]
    assert any(p != nfkc(p) for p in phones)
    assert any(i is None for i in ids)
    typos = [r for r in records if "id_check_typo" in r["errors"]]
    assert typos


# -- datasets ------------------------------------------------------------------------------------


def test_students_are_minors_of_school_age(
    data: dict[str, list[Row]], records: list[Row], persons: list[Row]
) -> None:
    grades = [
        "一年级",
        "二年级",
        "三年级",
        "四年级",
        "五年级",
        "六年级",
        "初一",
        "初二",
        "初三",
        "高一",
        "高二",
        "高三",
    ]
    rows = data["edu_student_roll"]
    for r in records:
        if r["dataset"] != "edu_student_roll":
            continue
        p = persons[r["person_id"]]
        if r["role"] == "guardian":
            assert p["age"] >= 18
            continue
        b = p["birth_date"]
        at_cutoff = 2024 - b.year - (b.month > 8)
        assert 6 <= at_cutoff <= 17 and p["age"] < 18
        assert grades.index(rows[r["row"]]["年级"]) == at_cutoff - 6


def test_published_2022_indicators(city: CityManifest, data: dict[str, list[Row]]) -> None:
    rows = {int(float(r["年份"])): r for r in data["stats_digital_economy"]}
    assert sorted(rows) == list(range(2018, 2025))
    r = rows[2022]
    assert float(r["数字经济核心产业增加值（亿元）"]) == 2779.51
    assert float(r["占地区生产总值比重（%）"]) == 13.4
    assert float(r["比重比上年提高（百分点）"]) == 0.3
    assert float(r["占全省比重（%）"]) == 64.3
    assert float(rows[2021]["占地区生产总值比重（%）"]) == 13.1
    assert r["数据来源"] == "公开发布"
    assert {rows[y]["数据来源"] for y in rows if y != 2022} == {"模拟"}


def test_vocabulary_tables() -> None:
    assert len(hotline.TEMPLATES) >= 15
    assert len(vocab.DIAGNOSES) >= 40 and len(places.DISTRICTS) == 20
    surnames, _ = vocab.surnames()
    text = "".join(surnames) + vocab.MODERN_MALE_CHARS + vocab.MODERN_FEMALE_CHARS
    text += "".join(chars.HOMOPHONE_GROUPS) + "".join(sum(vocab.old_given_names(), ()))
    text.encode("gbk")
    assert len(chars.HOMOPHONE_GROUPS) >= 60
    assert "卫" in chars.homophones()["伟"] and "王" in chars.homophones()["黄"]
    assert chars.traditional()["陈"] == "陳"
    for ch in set(chars.traditional().values()) | set("".join(chars.LOOKALIKE_GROUPS)):
        ch.encode("gbk")  # everything a name can become fits the GBK file


# -- determinism and scale ---------------------------------------------------------------------


def digest(m: CityManifest) -> dict[str, str]:
    root = folder(m)
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != "manifest.json"
    }


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    a = generate_city(tmp_path / "a", scale=0.05, seed=3)
    b = generate_city(tmp_path / "b", scale=0.05, seed=3)
    c = generate_city(tmp_path / "c", scale=0.05, seed=4)
    assert digest(a) == digest(b)
    da, dc = digest(a), digest(c)
    fixed = {"stats_digital_economy", "transit_metro_stations"}
    for d in a.datasets:  # every file that depends on people differs
        assert (da[d.path] == dc[d.path]) == (d.code in fixed), d.code
    assert da["truth/persons.parquet"] != dc["truth/persons.parquet"]
    d = generate_city(tmp_path / "d", scale=0.1, seed=3)
    for small, large in zip(a.datasets, d.datasets, strict=True):
        if small.code in ("stats_digital_economy", "transit_metro_stations"):
            assert small.rows == large.rows
        else:
            assert 1.6 < large.rows / small.rows < 2.4, small.code
