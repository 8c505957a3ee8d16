"""Detectors: valid values, decoys and dirty values; python-stdnum as the oracle."""

from __future__ import annotations

import random

import pyarrow as pa
import pytest
from stdnum import luhn as std_luhn
from stdnum.cn import ric, uscc

from dizuo.classify.detectors import DETECTORS, match_sql, matches, prepare
from dizuo.classify.entities import Entity
from dizuo.classify.regions import region_periods
from dizuo.engine.duckdb import DuckDBEngine

E = Entity


@pytest.fixture(scope="module")
def engine() -> DuckDBEngine:
    eng = DuckDBEngine()
    prepare(eng)
    return eng


def verdicts(engine: DuckDBEngine, entity: Entity, values: list[str]) -> list[bool]:
    engine.register_arrow("vals", pa.table({"v": pa.array(values, pa.string())}))
    rows = engine.rows(f"SELECT {match_sql(entity, 'v')} FROM vals")
    return [bool(r[0]) for r in rows]


CASES: dict[Entity, tuple[list[str], list[str]]] = {
    E.RESIDENT_ID: (
        [
            "51010820090408145X",
            "51010820090408145x",
            "５１０１０８２００９０４０８１４５Ｘ",
            " 5101 0820 0904 0814 5X ",
            "510108-20090408-145X",
        ],
        ["510108200904081451", "000000200904081458", "51010820091308145X", "51010820990408145X"],
    ),
    E.RESIDENT_ID_15: (["510108900408145"], ["510108901308145", "000000900408145"]),
    E.MOBILE_PHONE: (
        [
            "13812345678",
            "138-1234-5678",
            "138 1234 5678",
            "+8613812345678",
            "１３８１２３４５６７８",
        ],
        ["12345678901", "10012345678", "1381234567", "23812345678"],
    ),
    E.LANDLINE_PHONE: (["028-87654321", "0838-2345678", "01062345678"], ["02812345", "12345678"]),
    E.EMAIL: (["li.wei@example.com.cn", "A_B@x-y.org"], ["abc@", "a@b.c", "li wei@x.com"]),
    E.BANK_CARD: (
        ["4111111111111111", "6222 0202 0011 2233 446"],
        ["4111111111111112", "5101124063916058"],
    ),
    E.USCC: (
        ["91510106MA30UU7TXB", "915101006382029203"],
        ["91510106MA30UU7TX1", "91510106MA30UU7TXI"],
    ),
    E.ORG_CODE: (["MA30UU7TX", "63820292-0"], ["638202921", "MA30UU7T1"]),
    E.LICENSE_PLATE: (
        ["川A12345", "川AD12345", "川A12345D", "京A1234学"],
        ["川I12345", "AA12345", "川A1234"],
    ),
    E.PASSPORT: (["E12345678", "EA1234567"], ["X1234567", "E1234567"]),
    E.HK_MACAO_PERMIT: (["C12345678", "CA1234567"], ["C1234567"]),
    E.TAIWAN_PERMIT: (["L12345678", "T12345678"], ["L1234567"]),
    E.PERSON_NAME: (
        ["欧阳娜娜", "李建国", "王芳", "阿依古丽·买买提", "陳明"],
        ["高三", "成都市", "武侯区", "四川大学华西医院", "春熙路", "张三丰丰丰"],
    ),
    E.PERSON_NAME_LATIN: (["Li Wei", "ZHANG SAN", "Wang Xiao-Ming"], ["hello", "li wei"]),
    E.ADDRESS: (
        ["成都市成华区杉板桥路312号12栋2单元901室", "四川省成都市武侯区玉林北路"],
        ["双流区住房和城乡建设局", "成都", "锦江宾馆"],
    ),
    E.IPV4: (["192.168.1.1", "8.8.8.8"], ["256.1.1.1", "1.2.3"]),
    E.IPV6: (["2001:db8::1", "fe80:0:0:0:0:0:0:1"], ["1::2::3", "12345::"]),
    E.MAC_ADDRESS: (["00:1A:2B:3C:4D:5E", "00-1a-2b-3c-4d-5e", "001A.2B3C.4D5E"], ["00:1A:2B"]),
    E.LATITUDE: (["30.6571"], ["104.0665", "30"]),
    E.LONGITUDE: (["104.0665"], ["30.6571", "200.1234"]),
    E.GPS_TEXT: (["30.6571,104.0665", "104.0665，30.6571"], ["1.00,2.00"]),
    E.BIRTH_DATE: (
        ["2009-04-08", "2009/4/8", "20090408", "2009年4月8日"],
        ["2009-02-30", "2099-01-01", "1850-01-01"],
    ),
    E.GENDER: (["男", "女性", "female", "F"], ["1", "未知人"]),
    E.ETHNICITY: (["汉族", "彝", "土家族", "维吾尔族"], ["美国", "汉人"]),
    E.ICD10_CODE: (["J06.9", "I10", "E11.900"], ["U07.1", "J6", "123"]),
    E.DISEASE: (["急性上呼吸道感染", "2型糖尿病", "特发性（原发性）高血压"], ["成都市", "挂号费"]),
    E.VIN: (["1M8GDM9AXKP042788"], ["1M8GDM9A1KP042788", "11111111111111111"]),
}


def test_every_entity_has_a_detector_and_cases() -> None:
    assert set(DETECTORS) == set(Entity)
    assert set(CASES) == set(Entity)
    assert all(e.label_zh and e.label_en for e in Entity)


@pytest.mark.parametrize("entity", list(CASES), ids=lambda e: e.value)
def test_valid_and_decoy_values(engine: DuckDBEngine, entity: Entity) -> None:
    good, bad = CASES[entity]
    assert verdicts(engine, entity, good) == [True] * len(good)
    assert verdicts(engine, entity, bad) == [False] * len(bad)


def test_nulls_and_garbage_are_false(engine: DuckDBEngine) -> None:
    for entity in Entity:
        assert verdicts(engine, entity, [None, "", "  ", "？？", "x" * 200]) == [False] * 5  # type: ignore[list-item]


def _random_ric(rng: random.Random) -> str:
    codes = [c for c, a, b in region_periods() if a <= 1950 and b >= 2010]
    code = str(rng.choice(codes)).zfill(6)
    body = code + f"{rng.randint(1950, 2010)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    body += f"{rng.randint(0, 999):03d}"
    return body + ric.calc_check_digit(body + "0")


def _corrupt(rng: random.Random, value: str, alphabet: str) -> str:
    pos = rng.randrange(len(value))
    return value[:pos] + rng.choice(alphabet) + value[pos + 1 :]


def test_resident_id_agrees_with_stdnum(engine: DuckDBEngine) -> None:
    rng = random.Random(7)
    values = [_random_ric(rng) for _ in range(2000)]
    values += [_corrupt(rng, v, "0123456789X") for v in values[:2000]]
    # random region codes, including retired ones tested against the birth year
    values += [
        f"{rng.choice(region_periods())[0]:06d}{rng.randint(1950, 2020)}0101001"
        for _ in range(1000)
    ]
    values = [v if len(v) == 18 else v + ric.calc_check_digit(v + "0") for v in values]
    oracle = [ric.is_valid(v) for v in values]
    assert 0.2 < sum(oracle) / len(oracle) < 0.8
    assert verdicts(engine, E.RESIDENT_ID, values) == oracle
    assert matches(E.RESIDENT_ID, pa.array(values)).tolist() == oracle


def test_luhn_and_uscc_agree_with_stdnum(engine: DuckDBEngine) -> None:
    rng = random.Random(11)
    cards = []
    for _ in range(3000):
        prefix = rng.choice(["62", "4", "53", "60"])
        length = rng.randint(16, 19)  # with the check digit
        body = prefix + "".join(rng.choice("0123456789") for _ in range(length - 1 - len(prefix)))
        cards.append(body + std_luhn.calc_check_digit(body) if rng.random() < 0.5 else body + "7")
    oracle = [std_luhn.is_valid(c) for c in cards]
    assert verdicts(engine, E.BANK_CARD, cards) == oracle
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    codes = []
    for _ in range(3000):
        org = "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(8))
        org += _org_check(org)
        body = "91" + f"{rng.randint(110000, 659000)}" + org
        code = body + uscc.calc_check_digit(body)
        codes.append(_corrupt(rng, code, alphabet) if rng.random() < 0.5 else code)
    oracle = [uscc.is_valid(c) and _org_check(c[8:16]) == c[16] for c in codes]
    assert 0.3 < sum(oracle) / len(oracle) < 0.7
    assert verdicts(engine, E.USCC, codes) == oracle
    assert matches(E.USCC, pa.array(codes)).tolist() == oracle


def _org_check(org: str) -> str:
    """GB 11714, written independently of the package."""
    values = [int(c) if c.isdigit() else ord(c) - ord("A") + 10 for c in org]
    check = 11 - sum(v * w for v, w in zip(values, [3, 7, 9, 10, 5, 8, 4, 2], strict=True)) % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def _vin_check(vin: str) -> str:
    """ISO 3779 check digit, written independently (python-stdnum has no VIN module)."""
    translit = dict(zip("ABCDEFGHJKLMNPRSTUVWXYZ", "12345678123457923456789", strict=True))
    weights = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]
    total = sum(int(translit.get(c, c)) * w for c, w in zip(vin, weights, strict=True))
    return "X" if total % 11 == 10 else str(total % 11)


def test_vin_agrees_with_independent_check(engine: DuckDBEngine) -> None:
    rng = random.Random(13)
    chars = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
    vins = []
    for _ in range(2000):
        v = "L" + "".join(rng.choice(chars) for _ in range(16))
        v = v[:8] + _vin_check(v) + v[9:]
        vins.append(_corrupt(rng, v, chars) if rng.random() < 0.5 else v)
    oracle = [_vin_check(v) == v[8] for v in vins]
    assert verdicts(engine, E.VIN, vins) == oracle
