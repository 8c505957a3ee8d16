"""Normalisation of identity attributes for record linkage (dizuo.link.normalise)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest
from stdnum.cn import ric

from dizuo.errors import InvalidInput
from dizuo.link.normalise import (
    normalise_dates,
    normalise_ids,
    normalise_names,
    normalise_phones,
    repair_candidates,
    split_addresses,
    swapped_day_month,
)

VALID = "11010519491231002X"
LEGACY = ["110105491231002", "440106850101123", "110108700615456"]


def _upgrade_oracle(number15: str) -> str:
    body = number15[:6] + "19" + number15[6:]
    return body + ric.calc_check_digit(body + "?")  # stdnum skips the last character


def test_ids_dirty_values() -> None:
    values = pa.array(
        [
            VALID,
            " 1101 0519 4912 3100 2x ",
            "１１０１０５１９４９１２３１００２Ｘ",
            "110105-19491231-002X",
            None,
            "",
            "garbage",
            "11010519491231002Y",
            "110105194912310021",  # wrong check digit
        ]
    )
    table = normalise_ids(values)
    assert table.column("id18").to_pylist() == [VALID] * 4 + [None] * 5
    assert table.column("valid").to_pylist() == [True] * 4 + [False] * 5
    assert table.column("upgraded").to_pylist() == [False] * 9
    assert table.column("birth_date").to_pylist()[0] == dt.date(1949, 12, 31)
    assert table.column("sex").to_pylist()[:5] == ["F", "F", "F", "F", None]
    assert table.column("region").to_pylist()[0] == "110105"


def test_ids_upgrade_15_against_stdnum() -> None:
    table = normalise_ids(pa.array(LEGACY))
    expected = [_upgrade_oracle(n) for n in LEGACY]
    assert table.column("id18").to_pylist() == expected
    assert all(ric.is_valid(n) for n in expected)
    assert table.column("upgraded").to_pylist() == [True] * 3
    assert table.column("sex").to_pylist() == ["M" if int(n[16]) % 2 else "F" for n in expected]
    assert table.column("birth_date").to_pylist() == [ric.get_birth_date(n) for n in expected]


def test_ids_random_check_digits_match_stdnum() -> None:
    rng = np.random.default_rng(6)
    bodies = [
        f"110105{1950 + i % 60}{1 + i % 12:02d}{1 + i % 28:02d}{i % 1000:03d}"
        for i in rng.integers(0, 10_000, 200)
    ]
    numbers = [b + ric.calc_check_digit(b + "?") for b in bodies]
    table = normalise_ids(pa.array(numbers))
    assert table.column("valid").to_pylist() == [ric.is_valid(n) for n in numbers]
    assert table.column("id18").to_pylist() == [n if ric.is_valid(n) else None for n in numbers]
    assert sum(table.column("valid").to_pylist()) > 100


def test_ids_reject_non_arrow_input() -> None:
    with pytest.raises(InvalidInput):
        normalise_ids([VALID])  # type: ignore[arg-type]


def test_repair_single_digit_typo() -> None:
    typo = VALID[:8] + "5" + VALID[9:]  # 1949 -> 1959
    assert not ric.is_valid(typo)
    table = repair_candidates(pa.array([VALID, typo, None, "junk"]))
    rows = table.column("row").to_pylist()
    candidates = table.column("candidate").to_pylist()
    assert set(rows) == {1}
    assert VALID in candidates
    assert all(ric.is_valid(c) for c in candidates)
    assert all(sum(a != b for a, b in zip(c, typo, strict=True)) == 1 for c in candidates)


def test_repair_transposition() -> None:
    swapped = VALID[:10] + VALID[11] + VALID[10] + VALID[12:]  # 1231 -> 2131
    assert not ric.is_valid(swapped)
    table = repair_candidates(pa.array([swapped]))
    edits = dict(
        zip(table.column("candidate").to_pylist(), table.column("edit").to_pylist(), strict=True)
    )
    assert edits[VALID] == "transposition"


def test_repair_is_bounded() -> None:
    typo = VALID[:8] + "5" + VALID[9:]
    table = repair_candidates(pa.array([typo] * 3), max_per_value=2)
    assert table.num_rows == 6
    with pytest.raises(InvalidInput):
        repair_candidates(pa.array([typo]), max_per_value=0)


def test_names_traditional_compound_and_homophones() -> None:
    values = pa.array(
        [
            "陳小明",
            "劉德華",
            "張偉",
            " 欧阳娜娜 ",
            "张伟",
            "章伟",
            "张　伟",
            "买买提 • 艾力",
            None,
            "",
        ]
    )
    table = normalise_names(values)
    assert table.column("name").to_pylist() == [
        "陈小明",
        "刘德华",
        "张伟",
        "欧阳娜娜",
        "张伟",
        "章伟",
        "张伟",
        "买买提·艾力",
        None,
        None,
    ]
    pinyin = table.column("pinyin").to_pylist()
    assert pinyin[2] == pinyin[4] == pinyin[5] == pinyin[6] == "zhang wei"
    assert pinyin[3] == "ou yang na na"
    assert table.column("pinyin_tone").to_pylist()[4] == "zhang1 wei3"
    assert table.column("surname").to_pylist()[:4] == ["陈", "刘", "张", "欧阳"]
    assert table.column("given").to_pylist()[:4] == ["小明", "德华", "伟", "娜娜"]
    assert table.column("surname").to_pylist()[7:] == [None, None, None]


def test_phones() -> None:
    values = pa.array(
        [
            "+86 138-0013-8000",
            "0086 13800138000",
            "８６１３８００１３８０００",
            "(010) 6275 1234",
            "0755-86001234",
            "12345",
            "hello",
            None,
            "",
        ]
    )
    assert normalise_phones(values).to_pylist() == [
        "13800138000",
        "13800138000",
        "13800138000",
        "010-62751234",
        "0755-86001234",
        None,
        None,
        None,
        None,
    ]


def test_addresses_with_and_without_province_and_city() -> None:
    values = pa.array(
        [
            "广东省广州市天河区石牌街道天河路385号",
            "北京市朝阳区建国路1号",
            "广州市天河区体育西路 1 号",
            "天河区天河路",
            "朝阳区建国路1号",
            "江苏苏州市昆山市花桥镇XX路",
            None,
        ]
    )
    table = split_addresses(values).to_pylist()
    assert table[0] == {
        "province": "广东省",
        "city": "广州市",
        "district": "天河区",
        "street": "石牌街道",
        "rest": "天河路385号",
        "district_code": "440106",
    }
    assert (table[1]["province"], table[1]["district"], table[1]["district_code"]) == (
        "北京市",
        "朝阳区",
        "110105",
    )
    assert table[2]["rest"] == "体育西路1号" and table[2]["district_code"] == "440106"
    assert table[3]["province"] is None and table[3]["district_code"] == "440106"
    assert table[4]["district_code"] is None  # 朝阳区: Beijing and Changchun
    assert (table[5]["province"], table[5]["district"], table[5]["street"]) == (
        "江苏",
        "昆山市",
        "花桥镇",
    )
    assert table[5]["district_code"] == "320583"
    assert table[6]["district"] is None


def test_dates() -> None:
    values = pa.array(
        [
            "2009-04-08",
            "2009/4/8",
            "20090408",
            "2009年4月8日",
            "2009.04.08",
            "２００９-０４-０８",
            "2009-13-01",
            "2009-02-29",
            "200948",
            "x",
            None,
            "",
        ]
    )
    day = dt.date(2009, 4, 8)
    assert normalise_dates(values).to_pylist() == [day] * 6 + [None] * 6


def test_swapped_day_month() -> None:
    a = pa.array(["2009-04-08", "2009-05-05", "2009-04-08", None, "2009-04-13"])
    b = pa.array(["2009-08-04", "2009-05-05", "2009-04-09", "2009-01-01", "2009-04-13"])
    assert swapped_day_month(a, b).to_pylist() == [True, False, False, None, False]
    dates = normalise_dates(a)
    assert swapped_day_month(dates, normalise_dates(b)).to_pylist()[0] is True
    with pytest.raises(InvalidInput):
        swapped_day_month(a, b.slice(1))


def test_large_array_is_vectorised(monkeypatch: pytest.MonkeyPatch) -> None:
    """100k rows with few distinct names: OpenCC sees the distinct names, pypinyin the distinct
    characters (one call per pinyin style)."""
    import pypinyin

    n = 100_000
    ids = pa.array(([VALID, LEGACY[0], "garbage", None, VALID[:8] + "5" + VALID[9:]] * n)[:n])
    names = pa.array((["陳小明", "张伟", "欧阳娜娜", None] * n)[:n])
    calls = 0
    original = pypinyin.lazy_pinyin

    def counting(*args: object, **kwargs: object) -> list[str]:
        nonlocal calls
        calls += 1
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pypinyin, "lazy_pinyin", counting)
    table = normalise_ids(ids)
    assert table.num_rows == n and table.column("valid").to_pylist()[:3] == [True, True, False]
    assert calls == 0
    named = normalise_names(names)
    assert named.num_rows == n
    assert calls == 2  # one call per style, on the distinct characters
    assert normalise_dates(pa.array(["2009-04-08"] * n)).null_count == 0
    assert split_addresses(pa.array(["北京市朝阳区建国路1号"] * n)).num_rows == n
    assert normalise_phones(pa.array(["13800138000"] * n)).null_count == 0
    assert repair_candidates(ids).num_rows > 0


def test_fuzzy_pinyin_folds_the_common_mergers() -> None:
    from dizuo.link.normalise import fuzzy_pinyin

    got = fuzzy_pinyin(
        pa.array(["zhou jing", "zou jin", "huang fang", "wang hang", "niu nan", "liu lan", None])
    ).to_pylist()
    assert got[0] == got[1] == "zou jin"  # 周京 / 邹金: z/zh, -n/-ng
    assert got[2] == got[3]  # 黄芳 / 王航: huang/wang, f/h
    assert got[4] == got[5] == "liu lan"  # n/l
    assert got[6] is None
    # distinct sounds stay distinct
    assert len(set(fuzzy_pinyin(pa.array(["zhang wei", "li wei", "wang wei"])).to_pylist())) == 3
