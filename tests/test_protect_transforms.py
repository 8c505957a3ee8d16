"""De-identification transforms: normal, dirty and edge values of every transform.

Pseudonyms are checked against ``cryptography``'s HMAC-SM3 and the standard library's
HMAC-SHA256; noise against the Laplace and normal distributions with SciPy's tests.
"""

from __future__ import annotations

import datetime as dt
import doctest
import hmac
import math
import random

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as chmac
from scipy import stats

from dizuo.errors import InvalidInput
from dizuo.protect import transforms as T
from dizuo.protect.crypto import derive_keys

KEY = derive_keys(b"workspace master key, 32 bytes..").pseudonym
ID = "51010820090408145X"


def ref_pseudonym(value: str, key: bytes = KEY, length: int = 32) -> str:
    h = chmac.HMAC(key, hashes.SM3())
    h.update(value.encode("utf-8"))
    return h.finalize().hex()[:length]


# -- pseudonyms ------------------------------------------------------------------------------


def test_pseudonym_is_hmac_sm3_of_the_normalised_value() -> None:
    dirty = [f" {ID[:-1]}x ", ID, "5101 0820 0904 0814 5X", "５１０１０８２００９０４０８１４５Ｘ"]
    out = T.pseudonymise(pa.array(dirty), KEY, normalise="compact")
    assert out.to_pylist() == [ref_pseudonym(ID)] * 4
    text = T.pseudonymise(pa.array([" 张三 ", "张三", "１３８", None, "", "  "]), KEY)
    expected = [ref_pseudonym("张三")] * 2 + [ref_pseudonym("138"), None, None, None]
    assert text.to_pylist() == expected
    raw = T.pseudonymise(pa.array([" a", ""]), KEY, normalise="none")
    assert raw.to_pylist() == [ref_pseudonym(" a"), ref_pseudonym("")]


def test_pseudonyms_are_stable_across_datasets_and_keyed() -> None:
    students = pa.array(["张三", ID, "李四", None])
    patients = pa.array(["王五", f"{ID[:-1]}x", "张三"] * 2)
    a = T.pseudonymise(students, KEY, normalise="compact").to_pylist()
    b = T.pseudonymise(patients, KEY, normalise="compact").to_pylist()
    assert T.pseudonymise(students, KEY, normalise="compact").to_pylist() == a
    assert b[2] == a[0] and b[1] == a[1] and b[5] == a[0]
    other = T.pseudonymise(students, derive_keys(b"another workspace key..").pseudonym)
    assert all(x != y for x, y in zip(a[:3], other.to_pylist()[:3], strict=True))
    assert len(set(a[:3])) == 3


def test_pseudonym_options() -> None:
    values = pa.array(["张三", None])
    sha = T.pseudonymise(values, KEY, algorithm="hmac-sha256", length=64).to_pylist()
    assert sha == [hmac.new(KEY, "张三".encode(), "sha256").hexdigest(), None]
    short = T.pseudonymise(values, KEY, length=8, prefix="P-").to_pylist()
    assert short == ["P-" + ref_pseudonym("张三", length=8), None]
    ints = T.pseudonymise(pa.array([42, None]), KEY).to_pylist()
    assert ints == [ref_pseudonym("42"), None]
    assert T.pseudonymise(pa.array([], pa.string()), KEY).to_pylist() == []
    for bad in ({"length": 0}, {"length": 65}, {"algorithm": "md5"}, {"normalise": "upper"}):
        with pytest.raises(InvalidInput):
            T.pseudonymise(values, KEY, **bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="too short"):
        T.pseudonymise(values, b"short")


def test_a_million_pseudonyms() -> None:
    values = pa.array([f"5101082009{i:08d}" for i in range(1_000_000)])
    out = T.pseudonymise(values, KEY, normalise="compact")
    assert len(out) == 1_000_000 and out.null_count == 0
    assert pc.count_distinct(out).as_py() == 1_000_000
    for i in (0, 123_456, 999_999):
        assert out[i].as_py() == ref_pseudonym(values[i].as_py())


# -- masking ---------------------------------------------------------------------------------


def test_mask_counts_characters_and_hides_short_values() -> None:
    values = pa.array(["13812345678", "张三丰李四", "abc", "abcdefg", "", None])
    out = T.mask(values, keep_first=3, keep_last=4)
    assert out.to_pylist() == ["138****5678", "*****", "***", "*******", "", None]
    assert T.mask(values, keep_last=2, char="#").to_pylist()[:2] == ["#########78", "###李四"]
    assert T.mask(values).to_pylist()[2] == "***"
    for bad in ({"keep_first": -1}, {"char": "**"}, {"char": ""}):
        with pytest.raises(InvalidInput):
            T.mask(values, **bad)  # type: ignore[arg-type]


DIRTY = ["garbage", "", None, "  "]


@pytest.mark.parametrize(
    ("preset", "values", "expected"),
    [
        (
            "resident_id",
            [
                "110105199001011234",
                " 5101 0820 0904 0814 5x",
                "５１０１０８２００９０４０８１４５ｘ",
            ],
            ["110***********1234", "510***********145X", "510***********145X"],
        ),
        (
            "mobile_phone",
            ["13812345678", "138-1234-5678", "+86 138 1234 5678", "１３８１２３４５６７８"],
            ["138****5678"] * 4,
        ),
        (
            "bank_card",
            ["6222020200112233446", "6222 0202 0011 2233 446"],
            ["622202*********3446"] * 2,
        ),
        (
            "person_name",
            ["张三", " 张三丰 ", "欧阳娜娜", "欧阳", "张", "阿依古丽·买买提"],
            ["张*", "张**", "欧阳**", "欧*", "*", "阿*******"],
        ),
        (
            "email",
            ["li.wei@example.com", " Ａ@x.cn ", "@x.cn", "a@b@c.org"],
            ["l***@example.com", "A***@x.cn", "***@x.cn", "a***@c.org"],
        ),
        (
            "address",
            ["四川省成都市武侯区人民南路四段1号", "北京市 朝阳区 建国路88号", "广东省东莞市虎门镇"],
            ["四川省成都市武侯区***", "北京市朝阳区***", "广东省东莞市***"],
        ),
    ],
)
def test_mask_presets(preset: T.MaskPreset, values: list[str], expected: list[str]) -> None:
    out = T.mask_preset(pa.array(values + DIRTY), preset).to_pylist()
    assert out[: len(values)] == expected
    assert out[len(values) + 1 :] == [None, None, None]  # blanks and nulls are null
    garbage = out[len(values)]
    assert garbage is not None and "garbage" not in garbage  # garbage is hidden too


def test_mask_preset_rejects_an_unknown_preset() -> None:
    with pytest.raises(InvalidInput, match="preset"):
        T.mask_preset(pa.array(["x"]), "passport")  # type: ignore[arg-type]


# -- numbers ---------------------------------------------------------------------------------


def test_generalise_integers() -> None:
    values = pa.array([0, 23, 29, 30, -1, None], pa.int32())
    assert T.generalise_number(values, width=10).to_pylist() == [
        "0-9",
        "20-29",
        "20-29",
        "30-39",
        "-10--1",
        None,
    ]
    assert T.generalise_number(values, width=5, origin=3).to_pylist()[:4] == [
        "-2-2",
        "23-27",
        "28-32",
        "28-32",
    ]
    assert T.generalise_number(values, width=10, labels="lower").to_pylist()[:3] == [0, 20, 20]
    assert T.generalise_number(values, width=10, labels="midpoint").to_pylist()[1] == 24.5


def test_generalise_floats_and_text() -> None:
    values = pa.array([23.5, 30.0, -0.5, None, float("nan"), float("inf")])
    assert T.generalise_number(values, width=10).to_pylist() == [
        "[20.0, 30.0)",
        "[30.0, 40.0)",
        "[-10.0, 0.0)",
        None,
        None,
        None,
    ]
    tenths = T.generalise_number(pa.array([0.31, 0.29, 1.0]), width=0.1).to_pylist()
    assert tenths == ["[0.3, 0.4)", "[0.2, 0.3)", "[1.0, 1.1)"]
    text = pa.array(["23", " ２５ ", "abc", "", None, "1e1", "7.5"])
    assert T.generalise_number(text, width=5).to_pylist() == [
        "[20.0, 25.0)",
        "[25.0, 30.0)",
        None,
        None,
        None,
        "[10.0, 15.0)",
        "[5.0, 10.0)",
    ]
    whole = T.generalise_number(pa.array(["23", "40"]), width=10).to_pylist()
    assert whole == ["20-29", "40-49"]
    with pytest.raises(InvalidInput, match="width"):
        T.generalise_number(values, width=0)
    with pytest.raises(InvalidInput, match="expected numbers"):
        T.generalise_number(pa.array([dt.date(2024, 1, 1)]), width=1)


def test_age_band() -> None:
    values = pa.array([0, 4, 5, 47, 89.9, 90, 120, -1, 200, None])
    assert T.age_band(values).to_pylist()[:5] == ["0-4", "0-4", "5-9", "45-49", "85-89"]
    assert T.age_band(values, width=10, top=90).to_pylist() == [
        "0-9",
        "0-9",
        "0-9",
        "40-49",
        "80-89",
        "90+",
        "90+",
        None,
        None,
        None,
    ]
    assert T.age_band(pa.array([84, 85]), width=10, top=85).to_pylist() == ["80-84", "85+"]
    assert T.age_band(pa.array(["35", "三十", " ４０ "]), width=10).to_pylist() == [
        "30-39",
        None,
        "40-49",
    ]
    with pytest.raises(InvalidInput):
        T.age_band(values, width=0)


def test_top_bottom_code() -> None:
    ints = pa.array([1, 50, 200, None], pa.int16())
    out = T.top_bottom_code(ints, low=10, high=100)
    assert out.to_pylist() == [10, 50, 100, None] and out.type == pa.int16()
    floats = T.top_bottom_code(pa.array([1.5, float("inf"), None]), high=1).to_pylist()
    assert floats == [1.0, 1.0, None]
    assert T.top_bottom_code(pa.array([1, 9]), low=2.5).to_pylist() == [2.5, 9.0]
    assert T.top_bottom_code(pa.array(["7", "x"]), high=5).to_pylist() == [5.0, None]
    with pytest.raises(InvalidInput, match="low"):
        T.top_bottom_code(ints, low=5, high=1)


def test_suppress() -> None:
    out = T.suppress(pa.array(["a", None, "b"]))
    assert out.to_pylist() == [None] * 3 and out.type == pa.string()
    assert T.suppress(pa.chunked_array([[1], [2]])).type == pa.int64()


# -- noise -----------------------------------------------------------------------------------


def test_laplace_noise_keeps_the_mean_and_the_scale() -> None:
    rng = np.random.default_rng(1)
    base = rng.uniform(0, 100, 100_000)
    noisy = np.asarray(T.add_noise(pa.array(base), scale=2.0).to_numpy())
    noise = noisy - base
    assert abs(noise.mean()) < 0.05  # the standard error is 2·√2 / √100000 ≈ 0.009
    assert noise.var() == pytest.approx(2 * 2.0**2, rel=0.05)
    # an independent check of the distribution's shape (SciPy's Kolmogorov–Smirnov test)
    assert stats.kstest(noise, "laplace", args=(0, 2.0)).pvalue > 1e-6
    assert abs(noisy.mean() - base.mean()) < 0.05


def test_gaussian_noise() -> None:
    base = np.full(20_000, 10.0)
    noise = np.asarray(T.add_noise(pa.array(base), mechanism="gaussian", scale=3.0)) - base
    assert abs(noise.mean()) < 0.15  # standard error 3 / √20000 ≈ 0.02
    assert noise.std() == pytest.approx(3.0, rel=0.05)
    assert stats.kstest(noise, "norm", args=(0, 3.0)).pvalue > 1e-6


def test_integer_noise_and_nulls() -> None:
    values = pa.array([10, None, 20] * 10_000)
    out = T.add_noise(values, scale=1.0, integer=True)
    assert out.type == pa.int64() and out.null_count == 10_000
    noise = np.asarray(pc.subtract(out, values).drop_null())
    # discrete Laplace(t): P(k) ∝ exp(-|k| / t), variance 2q / (1 - q)² with q = exp(-1 / t)
    q = math.exp(-1.0)
    assert abs(noise.mean()) < 0.05 and noise.var() == pytest.approx(2 * q / (1 - q) ** 2, rel=0.08)
    ks = np.arange(-6, 7)
    pmf = np.exp(-np.abs(ks)) * (1 - q) / (1 + q)
    observed = np.array([np.count_nonzero(noise == k) for k in ks])
    expected = pmf / pmf.sum() * observed.sum()
    assert stats.chisquare(observed, expected).pvalue > 1e-6
    floats = T.add_noise(pa.array([1.0, None, float("nan"), 2.0]), scale=0.1).to_pylist()
    assert floats[1] is None and math.isnan(floats[2]) and abs(floats[3] - 2.0) < 5
    text = T.add_noise(pa.array(["5", "x", None]), scale=0.5).to_pylist()
    assert text[1:] == [None, None] and abs(text[0] - 5) < 20
    assert T.add_noise(pa.array([], pa.float64()), scale=1.0).to_pylist() == []
    assert T.add_noise(pa.array([None, None], pa.float64()), scale=1.0).null_count == 2
    with pytest.raises(InvalidInput, match="scale"):
        T.add_noise(values, scale=0)
    with pytest.raises(InvalidInput, match="mechanism"):
        T.add_noise(values, scale=1, mechanism="uniform")  # type: ignore[arg-type]


def test_noise_privacy() -> None:
    assert T.noise_privacy("laplace", 2.0, 1.0) == pytest.approx(0.5)
    assert T.noise_privacy("gaussian", 2.0, 1.0) == pytest.approx(1 / 8)
    assert T.noise_privacy("laplace", 1.0, 3, integer=True) == pytest.approx(3.0)


# -- dates -----------------------------------------------------------------------------------

DATES = [
    "2024-03-05",
    "2024/3/5",
    "2024.03.05",
    "2024年3月5日",
    "20240305",
    "2024-03-05 10:30:00",
    "2024-03-05T10:30:00+08:00",
    " ２０２４－０３－０５ ",
]


@pytest.mark.parametrize(
    ("level", "expected"), [("month", "2024-03"), ("quarter", "2024-Q1"), ("year", "2024")]
)
def test_generalise_date_text(level: T.DateLevel, expected: str) -> None:
    out = T.generalise_date(pa.array(DATES + ["2024-02-30", "2024-13-01", "abc", "", None]), level)
    assert out.to_pylist() == [expected] * len(DATES) + [None] * 5


def test_generalise_date_partial_and_typed() -> None:
    partial = pa.array(["2024-11", "202411", "2024年11月", "2024", "2024年"])
    assert T.generalise_date(partial, "quarter").to_pylist() == ["2024-Q4"] * 3 + [None] * 2
    assert T.generalise_date(partial, "year").to_pylist() == ["2024"] * 5
    dates = pa.array([dt.date(2024, 12, 31), dt.date(999, 1, 1), None])
    assert T.generalise_date(dates, "month").to_pylist() == ["2024-12", "0999-01", None]
    stamps = pa.array([dt.datetime(2024, 6, 30, 23, 0)], pa.timestamp("s", tz="UTC"))
    assert T.generalise_date(stamps, "quarter").to_pylist() == ["2024-Q2"]
    shanghai = stamps.cast(pa.timestamp("s", tz="Asia/Shanghai"))
    assert T.generalise_date(shanghai, "quarter").to_pylist() == ["2024-Q3"]  # local date
    assert T.generalise_date(pa.array([20240305]), "month").to_pylist() == ["2024-03"]
    with pytest.raises(InvalidInput, match="level"):
        T.generalise_date(dates, "week")  # type: ignore[arg-type]


# -- regions and addresses -------------------------------------------------------------------


def test_generalise_region() -> None:
    codes = pa.array(["510107", " 510107 ", "５１０１０７", "110105", "510100", "510000"])
    dirty = pa.array(["999999", "51010", "abcdef", "", None])
    values = pa.concat_arrays([codes, dirty])
    city = T.generalise_region(values, "city")
    assert city.to_pylist() == ["510100"] * 3 + ["110100", "510100", "510000"] + [None] * 5
    assert T.invalid_count(values, city) == 3  # 999999, 51010, abcdef; blanks do not count
    assert T.generalise_region(values, "province").to_pylist()[:6] == ["510000"] * 3 + [
        "110000",
        "510000",
        "510000",
    ]
    assert T.generalise_region(values, "district").to_pylist()[:4] == ["510107"] * 3 + ["110105"]
    ints = T.generalise_region(pa.array([510107, 12, None]), "city")
    assert ints.to_pylist() == [510100, None, None] and ints.type == pa.int64()
    # a code that no longer exists is still a real code: 110103 崇文区 until 2010
    assert T.generalise_region(pa.array(["110103"]), "city").to_pylist() == ["110100"]


ADDRESSES = [
    "四川省成都市武侯区人民南路四段1号",
    " 四川省 成都市 双流区 ",
    "北京市朝阳区建国路88号",
    "广西壮族自治区南宁市青秀区民族大道1号",
    "吉林省吉林市船营区",
    "江苏省苏州市昆山市前进路",
    "浙江省杭州市西湖区",
    "四川省阿坝藏族羌族自治州汶川县",
    "内蒙古自治区兴安盟乌兰浩特市",
    "成都市武侯区省体育馆路",
    "人民南路四段1号",
    "garbage",
    "",
    None,
]


def test_generalise_address() -> None:
    values = pa.array(ADDRESSES)
    assert T.generalise_address(values, "province").to_pylist() == [
        "四川省",
        "四川省",
        "北京市",
        "广西壮族自治区",
        "吉林省",
        "江苏省",
        "浙江省",
        "四川省",
        "内蒙古自治区",
        None,
        None,
        None,
        None,
        None,
    ]
    assert T.generalise_address(values, "city").to_pylist()[:10] == [
        "四川省成都市",
        "四川省成都市",
        "北京市",
        "广西壮族自治区南宁市",
        "吉林省吉林市",
        "江苏省苏州市",
        "浙江省杭州市",
        "四川省阿坝藏族羌族自治州",
        "内蒙古自治区兴安盟",
        "成都市",
    ]
    district = T.generalise_address(values, "district")
    assert district.to_pylist() == [
        "四川省成都市武侯区",
        "四川省成都市双流区",
        "北京市朝阳区",
        "广西壮族自治区南宁市青秀区",
        "吉林省吉林市船营区",
        "江苏省苏州市昆山市",
        "浙江省杭州市西湖区",
        "四川省阿坝藏族羌族自治州汶川县",
        "内蒙古自治区兴安盟乌兰浩特市",
        "成都市武侯区",
        None,
        None,
        None,
        None,
    ]
    assert T.invalid_count(values, district) == 2


# -- coordinates -----------------------------------------------------------------------------


def haversine(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return np.asarray(2 * 6_371_008.8 * np.arcsin(np.sqrt(a)))


def test_generalise_coordinates() -> None:
    rng = random.Random(3)
    lat = np.array([rng.uniform(18, 53) for _ in range(20_000)])
    lon = np.array([rng.uniform(73, 135) for _ in range(20_000)])
    a, b = T.generalise_coordinates(pa.array(lat), pa.array(lon), cell_m=500)
    snapped_lat, snapped_lon = np.asarray(a), np.asarray(b)
    # every point is within half a cell diagonal of its cell's centre (a little slack for
    # the cell's width varying with latitude)
    moved = haversine(lat, lon, snapped_lat, snapped_lon)
    assert moved.max() < 500 * math.sqrt(2) / 2 * 1.02
    # points of one cell share its centre; centres of one band are whole cells (500 m) apart
    pairs = T.generalise_coordinates(
        pa.array([30.65, 30.65, 30.65]), pa.array([104.0, 104.0005, 104.02]), cell_m=500
    )
    got = list(zip(pairs[0].to_pylist(), pairs[1].to_pylist(), strict=True))
    assert got[0] == got[1] and got[0] != got[2]
    centres = np.asarray(pairs[1])
    width = haversine(np.array([30.65]), centres[:1], np.array([30.65]), centres[2:])[0]
    assert width % 500 == pytest.approx(0, abs=30) or width % 500 == pytest.approx(500, abs=30)


def test_generalise_coordinates_dirty() -> None:
    lat = pa.array(["30.65", "x", None, "95", "-90", "１０.５"])
    lon = pa.array([104.0, 104.0, 104.0, 104.0, 179.999, 10.0])
    a, b = T.generalise_coordinates(lat, lon, cell_m=1000)
    assert [v is None for v in a.to_pylist()] == [False, True, True, True, False, False]
    assert a.null_count == b.null_count
    assert -180 <= b[4].as_py() < 180 and -90 <= a[4].as_py() <= 90
    with pytest.raises(InvalidInput, match="cell_m"):
        T.generalise_coordinates(lat, lon, cell_m=-1)
    with pytest.raises(InvalidInput):
        T.generalise_coordinates(lat, lon.slice(1), cell_m=1)


def test_docstring_examples() -> None:
    result = doctest.testmod(T, extraglobs={"pa": pa})
    assert result.failed == 0 and result.attempted >= 5
