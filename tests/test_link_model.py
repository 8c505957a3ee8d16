"""Comparison levels and the Fellegi–Sunter engine (dizuo.link.compare, dizuo.link.model)."""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pytest
from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler

from dizuo.errors import InvalidInput
from dizuo.link import compare, model
from dizuo.link.compare import LEVEL_NAMES, date_digits, encode, pair_levels
from dizuo.link.model import Comparison, Linkage, Model, link
from dizuo.link.normalise import normalise_names

Ints = npt.NDArray[np.int64]

# -- helpers ------------------------------------------------------------------------------------


def levels(kind: str, a: Sequence[str | None], b: Sequence[str | None]) -> list[int]:
    """Levels of the pairs (a[i], b[i]), encoded as one column as the model does."""
    column = encode(pa.array([*a, *b], pa.string()), kind)
    n = len(a)
    return [int(x) for x in pair_levels(column, np.arange(n), np.arange(n, 2 * n))]


def chinese(names: list[str]) -> list[str]:
    """``name<TAB>pinyin`` as the person attributes build them."""
    table = normalise_names(pa.array(names))
    return [
        f"{n}\t{p}"
        for n, p in zip(
            table.column("name").to_pylist(), table.column("pinyin").to_pylist(), strict=True
        )
    ]


def level_of(kind: str, name: str) -> int:
    return LEVEL_NAMES[kind].index(name) + 1


# -- comparison levels --------------------------------------------------------------------------


def test_name_levels_follow_jaro_winkler_cuts() -> None:
    a = ["MARTHA", "STEVEN", "DWAYNE", "ABC", "MARTHA", None, "X"]
    b = ["MARHTA", "STEPHEN", "DUANE", "XYZ", "MARTHA", "MARTHA", " "]
    assert levels("name", a, b) == [2, 3, 4, 5, 1, 0, 0]
    assert [level_of("name", n) for n in ("jw>=0.92", "jw>=0.88", "jw>=0.70", "else")] == [
        2,
        3,
        4,
        5,
    ]
    assert levels("jaro_winkler", ["JOHN", "STEVEN", "ABC"], ["JON", "STEPHEN", "XYZ"]) == [
        2,
        3,
        4,
    ]


def test_edit_levels_count_a_transposition_as_one_edit() -> None:
    a = ["510108200904081450", "12345", "12345", "12345", "abc", "12345", "12345"]
    b = ["510108200904081405", "12355", "13354", "54321", "xyz", "12345", None]
    assert levels("edit", a, b) == [
        level_of("edit", "dl<=1"),  # two neighbouring digits swapped
        level_of("edit", "dl<=1"),
        level_of("edit", "dl<=2"),
        level_of("edit", "else"),
        level_of("edit", "else"),
        1,
        0,
    ]


def test_date_levels() -> None:
    pairs = [
        ("2012-03-05", "2012-05-03", "day/month swapped"),
        ("2012年3月5日", "20120305", "exact"),
        ("20121332", "20121323", "one digit apart"),  # not a calendar date: still compared
        ("19900101", "19900107", "one digit apart"),
        ("19900101", "19901231", "<=1 year"),
        ("19900315", "19981120", "<=10 years"),
        ("19900101", "20100101", "else"),
    ]
    a = [p[0] for p in pairs]
    b = [p[1] for p in pairs]
    assert levels("date", a, b) == [level_of("date", p[2]) for p in pairs]
    assert levels("date", ["19900101", "not a date", ""], [None, "19900101", "19900101"]) == [
        0,
        0,
        0,
    ]
    digits = date_digits(pa.array(["2012-3-5", "2012/03/05", "20121332", "2012-13-32x", None]))
    assert digits.to_pylist() == ["20120305", "20120305", "20121332", None, None]


def test_chinese_name_levels() -> None:
    a = chinese(["张伟", "王秀芳", "陳偉", "张伟", "李明华", "欧阳明", "李明", "张伟", "王芳"])
    b = chinese(["张卫", "玉秀芳", "陈伟", "张薇", "李敏花", "欧明", "王强", "张伟", "玉芳"])
    assert a[2] == b[2] == "陈伟\tchen wei"  # traditional → simplified before comparing
    assert levels("chinese_name", a, b) == [
        level_of("chinese_name", "same pinyin"),  # homophones
        level_of("chinese_name", "one character apart"),  # look-alikes: 王/玉 (3 characters)
        1,
        level_of("chinese_name", "same pinyin"),
        level_of("chinese_name", "surname+pinyin"),
        level_of("chinese_name", "else"),  # "ou yang ming" / "ou ming": JW 0.84 < 0.85
        level_of("chinese_name", "else"),
        1,
        # in a two-character name one character apart is only a shared given name or surname
        level_of("chinese_name", "else"),
    ]
    assert levels("chinese_name", [a[0], None], [None, b[0]]) == [0, 0]


def _filters(bits: list[set[int]], words: int = 4) -> pa.Array:
    matrix = np.zeros((len(bits), words), dtype=np.uint64)
    for row, on in enumerate(bits):
        for bit in on:
            matrix[row, bit // 64] |= np.uint64(1) << np.uint64(bit % 64)
    return pa.Array.from_buffers(pa.binary(words * 8), len(bits), [None, pa.py_buffer(matrix)])


def test_dice_levels() -> None:
    base = set(range(100))
    # b keeps `overlap` of a's 100 bits and sets others instead: Dice = overlap / 100
    others = {
        overlap: set(range(overlap)) | set(range(150, 150 + 100 - overlap))
        for overlap in (95, 85, 70, 50)
    }
    a = [base] * 6
    b = [set(base), others[95], others[85], others[70], others[50], set()]
    column = encode(_filters(a + b), "dice")
    got = pair_levels(column, np.arange(6), np.arange(6, 12)).tolist()
    names = ["dice=1", "dice>=0.9", "dice>=0.8", "dice>=0.65", "else"]
    assert got == [level_of("dice", n) for n in names] + [0]  # all-zero filter: missing
    nulls = encode(pa.array([bytes(32), None], pa.binary(32)), "dice")
    assert nulls.codes.tolist() == [-1, -1]


def test_dice_encoding_of_a_sliced_array() -> None:
    filters = _filters([{i} for i in range(10)])
    sliced = encode(filters.slice(3), "dice")
    whole = encode(filters, "dice")
    first = whole.dictionary[whole.codes[3]]
    assert (sliced.dictionary[sliced.codes[0]] == first).all()


@pytest.mark.parametrize("kind", ["name", "jaro_winkler", "edit"])
def test_matrix_and_pair_paths_agree(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    # short strings over a small alphabet: every level occurs
    words = sorted({"".join(rng.choice(list("ABCDE"), size=rng.integers(3, 7))) for _ in range(80)})
    values = words + [None, ""]
    column = encode(pa.array(values, pa.string()), kind)
    n = len(values)
    left, right = (x.reshape(-1).astype(np.int64) for x in np.meshgrid(range(n), range(n)))
    calls: list[int] = []
    real = compare.MATRIX[kind]

    def spy(a: npt.NDArray[np.object_], b: npt.NDArray[np.object_]) -> npt.NDArray[np.int8]:
        calls.append(len(a))
        return real(a, b)

    monkeypatch.setitem(compare.MATRIX, kind, spy)
    monkeypatch.setattr(compare, "MATRIX_CELLS", 10**9)
    by_matrix = pair_levels(column, left, right)
    assert calls  # the level matrix was used
    monkeypatch.setattr(compare, "MATRIX_CELLS", 0)
    calls.clear()
    by_pair = pair_levels(column, left, right)
    assert not calls
    np.testing.assert_array_equal(by_matrix, by_pair)
    assert set(np.unique(by_pair)) == set(range(compare.level_count(kind)))
    # and both agree with the documented cuts, pair by pair
    cuts: dict[str, Callable[[str, str], int]] = {
        "name": lambda x, y: _cut(JaroWinkler.similarity(x, y), (0.92, 0.88, 0.70)),
        "jaro_winkler": lambda x, y: _cut(JaroWinkler.similarity(x, y), (0.90, 0.70)),
        "edit": lambda x, y: 2 + min(max(DamerauLevenshtein.distance(x, y), 1), 3) - 1,
    }
    for i, j, got in zip(left.tolist(), right.tolist(), by_pair.tolist(), strict=True):
        x, y = values[i], values[j]
        if x and y and kind != "edit" and _on_a_cut(JaroWinkler.similarity(x, y)):
            continue  # a score equal to a cut up to rounding: either side is right
        want = 0 if not x or not y else 1 if x == y else cuts[kind](x, y)
        assert got == want, (x, y)


def _on_a_cut(score: float) -> bool:
    return any(abs(score - cut) < 1e-6 for cut in (0.92, 0.90, 0.88, 0.70))


def _cut(score: float, cuts: tuple[float, ...]) -> int:
    for i, cut in enumerate(cuts):
        if score >= cut:
            return 2 + i
    return 2 + len(cuts)


# -- blocking -----------------------------------------------------------------------------------


def _oracle_groups(key: list[int], max_pairs: int) -> tuple[set[tuple[int, int]], int, int]:
    groups: dict[int, list[int]] = {}
    for i, k in enumerate(key):
        if k >= 0:
            groups.setdefault(k, []).append(i)
    pairs: set[tuple[int, int]] = set()
    skipped_groups = skipped_pairs = 0
    for members in groups.values():
        count = len(members) * (len(members) - 1) // 2
        if count > max_pairs:
            skipped_groups += 1
            skipped_pairs += count
            continue
        pairs.update(itertools.combinations(sorted(members), 2))
    return pairs, skipped_groups, skipped_pairs


@pytest.mark.parametrize("seed", range(5))
def test_group_pairs_against_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 300))
    key = rng.integers(-1, max(n // 4, 1), n).astype(np.int64)
    key[rng.random(n) < 0.3] = 7  # one big group
    max_pairs = int(rng.integers(1, 200))
    left, right, groups, skipped, _ = model._group_pairs(key, max_pairs)
    got = list(zip(left.tolist(), right.tolist(), strict=True))
    want, want_groups, want_skipped = _oracle_groups(key.tolist(), max_pairs)
    assert len(got) == len(set(got))  # each pair once
    assert all(a < b for a, b in got)
    assert set(got) == want
    assert (groups, skipped) == (want_groups, want_skipped)


def test_group_pairs_of_nothing() -> None:
    for key in (np.zeros(0, dtype=np.int64), np.full(5, -1, dtype=np.int64)):
        left, right, groups, skipped, _ = model._group_pairs(key, 10)
        assert len(left) == len(right) == groups == skipped == 0


def _keyed_tables(rng: np.random.Generator, sizes: list[int], values: int) -> list[pa.Table]:
    return [
        pa.table(
            {
                "a": pa.array(rng.integers(0, values, n).astype(str)),
                "b": pa.array(rng.integers(0, values, n).astype(str)),
                "c": pa.array([None if x < 0.2 else str(int(x * 10)) for x in rng.random(n)]),
            }
        )
        for n in sizes
    ]


@pytest.mark.parametrize("link_type", ["link_only", "dedupe", "link_and_dedupe"])
def test_block_gives_each_allowed_pair_once(link_type: model.LinkType) -> None:
    rng = np.random.default_rng(11)
    tables = _keyed_tables(rng, [60, 50, 40], 8)
    rules = [("a",), ("b",), ("a", "c")]
    m = Model(comparisons=[Comparison("a")], blocking=rules, max_block_pairs=10**6)
    records = model._records(tables, m)
    left, right, report = model.block(records, m, link_type)
    got = list(zip(left.tolist(), right.tolist(), strict=True))
    assert len(got) == len(set(got))
    assert all(a < b for a, b in got)
    rows = [r for t in tables for r in t.to_pylist()]
    source = records.source.tolist()
    want = {
        (i, j)
        for i, j in itertools.combinations(range(len(rows)), 2)
        if any(all(rows[i][c] is not None and rows[i][c] == rows[j][c] for c in r) for r in rules)
        and (link_type != "link_only" or source[i] != source[j])
    }
    assert set(got) == want
    same_table = sum(source[i] == source[j] for i, j in got)
    assert (same_table == 0) == (link_type == "link_only")
    assert sum(int(r["pairs"]) for r in report) == len(got)  # type: ignore[call-overload]


def test_a_skipped_group_does_not_hide_pairs_of_later_rules() -> None:
    # forty records share a placeholder ID; two of them also share a phone number
    phones = [f"1380000{i:04d}" for i in range(39)] + ["13800000000"]
    table = pa.table({"id": ["000000000000000000"] * 40, "phone": phones})
    m = Model(
        comparisons=[Comparison("id", "edit"), Comparison("phone", "edit")],
        blocking=[("id",), ("phone",)],
        max_block_pairs=100,
    )
    left, right, report = model.block(model._records([table], m), m, "dedupe")
    assert report[0]["skipped_groups"] == 1
    assert list(zip(left.tolist(), right.tolist(), strict=True)) == [(0, 39)]


def test_candidate_pairs_grow_linearly_with_bounded_blocks() -> None:
    def pairs(copies: int) -> int:
        # each copy: 200 records in blocks of at most 6 records; copies never share a key
        tables = []
        for side in range(2):
            keys = [f"{c}-{i % 40}" for c in range(copies) for i in range(100 + side * 20)]
            tables.append(pa.table({"k": keys}))
        m = Model(comparisons=[Comparison("k")], blocking=[("k",)])
        left, _, _ = model.block(model._records(tables, m), m, "link_only")
        return len(left)

    one, two, four = pairs(1), pairs(2), pairs(4)
    assert one > 0 and two == 2 * one and four == 4 * one


def test_an_oversize_group_is_skipped_and_reported() -> None:
    names = ["WANG"] * 30 + [f"N{i}" for i in range(10)] * 2
    tables = [pa.table({"s": names[:35]}), pa.table({"s": names[35:] + ["WANG"]})]
    m = Model(comparisons=[Comparison("s")], blocking=[("s",)], max_block_pairs=100)
    _, _, report = model.block(model._records(tables, m), m, "link_only")
    # the WANG group: 31 records, 465 pairs > 100 → skipped
    assert report[0]["skipped_groups"] == 1 and report[0]["skipped_pairs"] == 31 * 30 // 2


# -- u from value frequencies -------------------------------------------------------------------


def test_exact_u_equals_brute_force_over_all_pairs() -> None:
    rng = np.random.default_rng(5)
    vocab = ["WANG", "LI", "ZHANG", "LIU", "OUYANG", "SIMA"]
    p = [0.4, 0.25, 0.15, 0.1, 0.06, 0.04]

    def column(n: int) -> list[str | None]:
        return [None if rng.random() < 0.1 else str(rng.choice(vocab, p=p)) for _ in range(n)]

    a, b, c = column(70), column(50), column(30)
    tables = [pa.table({"s": x}) for x in (a, b, c)]
    comp = Comparison("s", kind="name")
    m = Model(comparisons=[comp], blocking=[("s",)])
    records = model._records(tables, m)
    enc = records.columns["s"]

    def oracle(pairs: list[tuple[str | None, str | None]]) -> float:
        present = [(x, y) for x, y in pairs if x is not None and y is not None]
        return sum(x == y for x, y in present) / len(present)

    cross = [
        (x, y) for s, t in itertools.combinations((a, b, c), 2) for x in s for y in t
    ]  # every pair of records from two different tables
    freq = model.frequencies(records, enc, "link_only")
    assert freq.exact == pytest.approx(oracle(cross), rel=1e-12)
    u = model.u_levels(records, comp, freq, "link_only")
    assert u[1] == pytest.approx(oracle(cross), rel=1e-12)
    assert u[2:].sum() == pytest.approx(1 - u[1], rel=1e-6)  # the rest split between levels
    everyone = a + b + c
    within = list(itertools.combinations(everyone, 2))
    dedupe = model.frequencies(records, enc, "dedupe")
    assert dedupe.exact == pytest.approx(oracle(within), rel=1e-12)


def _rare_and_common(tf: bool) -> tuple[float, float]:
    """Weights of two true pairs alike in everything but a rare or a common surname."""
    n = 200
    surnames = ["WANG" if i % 2 else f"S{i}" for i in range(n)]
    dob = [f"{1950 + i % 50}{1 + i % 12:02d}{1 + i % 28:02d}" for i in range(n)]
    first = [f"F{i}" for i in range(n)]
    a = pa.table({"s": surnames, "dob": dob, "f": first})
    b = pa.table(
        {"s": surnames, "dob": dob, "f": [f"{x}X" if i % 3 else x for i, x in enumerate(first)]}
    )
    m = Model(
        comparisons=[
            Comparison("s", "name", tf=tf),
            Comparison("dob", "date"),
            Comparison("f", "name"),
        ],
        blocking=[("s",), ("dob",)],
    )
    pairs = link([a, b], m).pairs.to_pylist()
    weight = {(p["left"], p["right"]): p["weight"] for p in pairs}
    rare = next(i for i in range(0, n, 2) if i % 3 == 0)  # S<i>, first name unchanged
    common = next(i for i in range(1, n, 2) if i % 3 == 0)  # WANG, first name unchanged
    return weight[(rare, n + rare)], weight[(common, n + common)]


def test_term_frequency_makes_a_rare_value_weigh_more() -> None:
    rare, common = _rare_and_common(tf=True)
    assert rare > common + 3  # WANG is half the records; S<i> one in 200
    rare0, common0 = _rare_and_common(tf=False)
    assert rare0 == pytest.approx(common0)


def test_tf_adjustment_sign_by_value_share() -> None:
    tables = [pa.table({"s": ["WANG"] * 40 + ["OUYANG"] * 2 + ["LI"] * 8})]
    comp = Comparison("s", tf=True)
    m = Model(comparisons=[comp], blocking=[("s",)])
    records = model._records(tables, m)
    freq = model.frequencies(records, records.columns["s"], "dedupe")
    u = model.u_levels(records, comp, freq, "dedupe")
    left = np.array([0, 40, 42, 0], dtype=np.int64)
    right = np.array([1, 41, 43, 40], dtype=np.int64)
    lv = np.array([1, 1, 1, 2], dtype=np.int8)
    adj = model._tf_adjustment(records, comp, freq, u, left, right, lv)
    wang, ouyang, li, unequal = adj.tolist()
    assert ouyang > li > 0 > wang and unequal == 0.0
    assert ouyang == pytest.approx(math.log2(u[1] / (2 / 50)))


# -- EM, prior and threshold --------------------------------------------------------------------


def test_em_recovers_m_from_simulated_patterns() -> None:
    rng = np.random.default_rng(2024)
    m_true = [np.array([0, 0.85, 0.10, 0.05]), np.array([0, 0.7, 0.2, 0.05, 0.05])]
    u_true = [np.array([0, 0.02, 0.08, 0.90]), np.array([0, 0.01, 0.04, 0.15, 0.80])]
    m_true.append(np.array([0, 0.9, 0.06, 0.03, 0.01, 0.0]))
    u_true.append(np.array([0, 0.05, 0.05, 0.1, 0.3, 0.5]))
    lam, n = 0.12, 60_000
    match = rng.random(n) < lam
    columns = []
    for m, u in zip(m_true, u_true, strict=True):
        k = len(m)
        col = np.where(
            match,
            rng.choice(k, size=n, p=m),
            rng.choice(k, size=n, p=u),
        )
        col[rng.random(n) < 0.05] = 0  # missing values say nothing
        columns.append(col)
    radix = [len(m) for m in m_true]
    patterns, counts = model._patterns(np.stack(columns, axis=1).astype(np.int8), radix)
    assert counts.sum() == n and len(patterns) <= np.prod(radix)
    m_hat, lam_hat, matches = model.em(
        patterns, counts, [u.astype(float) for u in u_true], [model._initial_m(k) for k in radix]
    )
    assert lam_hat == pytest.approx(lam, abs=0.01)
    assert matches == pytest.approx(match.sum(), rel=0.05)
    for got, want in zip(m_hat, m_true, strict=True):
        assert got[0] == 0.0 and got[1:].sum() == pytest.approx(1.0)
        np.testing.assert_allclose(got[1:], want[1:], atol=0.02)


def test_patterns_round_trip() -> None:
    rng = np.random.default_rng(1)
    radix = [3, 5, 2]
    rows = np.stack([rng.integers(0, r, 500) for r in radix], axis=1).astype(np.int8)
    patterns, counts = model._patterns(rows, radix)
    want: dict[tuple[int, ...], int] = {}
    for r in rows.tolist():
        want[tuple(r)] = want.get(tuple(r), 0) + 1
    got = {tuple(p): int(c) for p, c in zip(patterns.tolist(), counts.tolist(), strict=True)}
    assert got == want


def test_prior_is_the_fixed_point() -> None:
    rng = np.random.default_rng(4)
    weight = np.concatenate([rng.normal(18, 3, 300), rng.normal(-6, 4, 5000)])
    possible = 2e6
    lam = model._prior(weight, possible)
    odds = lam / (1 - lam)
    post = odds * np.exp2(weight) / (1 + odds * np.exp2(weight))
    assert lam == pytest.approx(post.sum() / possible, rel=1e-4)
    assert 250 / possible < lam < 350 / possible  # the 300 strong pairs, nearly
    certain = np.r_[np.full(100, 40.0), np.full(900, -40.0)]
    assert model._prior(certain, 1e6) == pytest.approx(1e-4, rel=1e-3)
    assert model._prior(np.zeros(0), 1e6) == 1e-6


def _f1_oracle(prob: list[float]) -> tuple[float, float, float, float]:
    expected = sum(prob)
    best = (-1.0, 0.0, 0.0, 0.0)
    ranked = sorted(prob, reverse=True)
    for k in range(1, len(ranked) + 1):
        tp = sum(ranked[:k])
        f1 = 2 * tp / (k + expected)
        if f1 > best[0] + 1e-15:
            best = (f1, ranked[k - 1], tp / k, tp / expected)
    return best


def test_expected_f1_threshold() -> None:
    threshold, exp = model._expected_f1_threshold(np.array([0.1, 0.9, 0.8]))
    assert threshold == 0.8
    assert exp["precision"] == pytest.approx(0.85)
    assert exp["recall"] == pytest.approx(1.7 / 1.8)
    assert exp["f1"] == pytest.approx(3.4 / 3.8)
    assert exp["matches"] == pytest.approx(1.8)
    rng = np.random.default_rng(8)
    for _ in range(20):
        prob = rng.beta(0.3, 0.3, int(rng.integers(1, 60)))
        threshold, exp = model._expected_f1_threshold(prob)
        f1, cut, precision, recall = _f1_oracle(prob.tolist())
        assert threshold == pytest.approx(cut)
        assert exp["f1"] == pytest.approx(f1)
        assert exp["precision"] == pytest.approx(precision)
        assert exp["recall"] == pytest.approx(recall)
    assert model._expected_f1_threshold(np.zeros(3))[0] == 0.5


def test_one_to_one_takes_mutual_best_matches_in_rounds() -> None:
    tables = [pa.table({"k": ["a", "b", "c"]}), pa.table({"k": ["x", "y", "z"]})]
    records = model._records(tables, Model([Comparison("k")], [("k",)]))
    # A0-B0 is mutual best; then A1-B1 (A0-B1 is closed); A2's only pair is to B0 (taken)
    left = np.array([0, 0, 1, 2], dtype=np.int64)
    right = np.array([3, 4, 4, 3], dtype=np.int64)
    weight = np.array([10.0, 9.0, 5.0, 8.0])
    keep = model._one_to_one(records, left, right, weight)
    assert keep.tolist() == [True, False, True, False]


# -- end to end ---------------------------------------------------------------------------------

SYLLABLES = [
    "an", "bo", "chen", "da", "er", "fang", "gu", "hui", "jin", "kai", "lan", "ming", "na",
    "ou", "ping", "qin", "rui", "shan", "tao", "wen", "xia", "yu", "zhi", "lei",
]  # fmt: skip
SURNAMES = ["WANG", "LI", "ZHANG", "LIU", "CHEN", "YANG", "HUANG", "ZHAO", "WU", "ZHOU"] + [
    f"{a}{b}".upper() for a, b in itertools.product(SYLLABLES[:8], SYLLABLES[8:16])
]


def _people(rng: np.random.Generator, n: int) -> list[dict[str, str | None]]:
    common = rng.random(n) < 0.5
    out: list[dict[str, str | None]] = []
    for i in range(n):
        surname = SURNAMES[int(rng.integers(0, 10 if common[i] else len(SURNAMES)))]
        first = "".join(rng.choice(SYLLABLES, size=int(rng.integers(2, 4)))).upper()
        y, mo, d = int(rng.integers(1940, 2015)), int(rng.integers(1, 13)), int(rng.integers(1, 29))
        phone = "1" + "".join(str(x) for x in rng.integers(0, 10, 10))
        out.append({"first": first, "surname": surname, "dob": f"{y}-{mo}-{d}", "phone": phone})
    return out


def _typo(rng: np.random.Generator, text: str) -> str:
    i = int(rng.integers(0, len(text)))
    kind = rng.integers(0, 3)
    if kind == 0:  # substitute
        return text[:i] + str(rng.choice(list("AEIOUNGH"))) + text[i + 1 :]
    if kind == 1 and i < len(text) - 1:  # transpose
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    return text[:i] + text[i + 1 :]  # delete


def _dirty(rng: np.random.Generator, p: dict[str, str | None]) -> dict[str, str | None]:
    q = dict(p)
    if rng.random() < 0.3:
        q["first"] = _typo(rng, str(q["first"]))
    if rng.random() < 0.1:
        q["surname"] = _typo(rng, str(q["surname"]))
    y, mo, d = str(p["dob"]).split("-")
    if rng.random() < 0.1 and int(d) <= 12:
        q["dob"] = f"{y}-{d}-{mo}"
    elif rng.random() < 0.05:
        q["dob"] = None
    else:
        q["dob"] = f"{y}{int(mo):02d}{int(d):02d}"  # another way of writing the same date
    r = rng.random()
    if r < 0.15:
        q["phone"] = _typo(rng, str(p["phone"])[:-1]) + str(p["phone"])[-1]
    elif r < 0.25:
        q["phone"] = None
    return q


COLUMNS = ("first", "surname", "dob", "phone")


def _table(rows: list[dict[str, str | None]]) -> pa.Table:
    return pa.table({c: pa.array([r[c] for r in rows], pa.string()) for c in COLUMNS})


def person_model(one_to_one: bool = False) -> Model:
    return Model(
        comparisons=[
            Comparison("first", "name"),
            Comparison("surname", "name", tf=True),
            Comparison("dob", "date"),
            Comparison("phone", "edit"),
        ],
        blocking=[("surname",), ("dob",), ("phone",)],
        one_to_one=one_to_one,
    )


def _scores(found: set[tuple[int, int]], truth: set[tuple[int, int]]) -> float:
    tp = len(found & truth)
    precision = tp / len(found) if found else 0.0
    recall = tp / len(truth)
    return 2 * precision * recall / (precision + recall) if tp else 0.0


def _truth(person: list[int], sizes: list[int]) -> set[tuple[int, int]]:
    """Pairs of records of one person from two different tables."""
    source = np.repeat(np.arange(len(sizes)), sizes).tolist()
    return {
        (i, j)
        for i, j in itertools.combinations(range(len(person)), 2)
        if person[i] == person[j] and source[i] != source[j]
    }


@pytest.fixture(scope="module")
def two_tables() -> tuple[pa.Table, pa.Table, list[int]]:
    """400 people in a, 300 of them again in b with typos, and 100 others; a person id per
    record (a's then b's)."""
    rng = np.random.default_rng(20221)
    people = _people(rng, 500)
    in_b = [int(i) for i in rng.permutation(np.arange(100, 500))]
    a = _table(people[:400])
    b = _table([_dirty(rng, people[i]) for i in in_b])
    return a, b, list(range(400)) + in_b


def _pairs(result: Linkage, table: str = "matches") -> set[tuple[int, int]]:
    t = getattr(result, table)
    return set(zip(t.column("left").to_pylist(), t.column("right").to_pylist(), strict=True))


def test_link_two_tables_with_typos(two_tables: tuple[pa.Table, pa.Table, list[int]]) -> None:
    a, b, person = two_tables
    truth = _truth(person, [a.num_rows, b.num_rows])
    assert len(truth) == 300
    result = link([a, b], person_model())
    matches = _pairs(result)
    assert _scores(matches, truth) >= 0.95
    assert matches <= _pairs(result, "pairs")
    assert all(left < a.num_rows <= right for left, right in matches)  # across the tables
    prob = np.asarray(result.pairs.column("probability"))
    assert ((prob >= 1e-3) & (prob <= 1)).all()
    accepted = np.asarray(result.matches.column("probability"))
    assert (accepted >= result.threshold).all()
    assert 0 < result.threshold < 1
    assert set(result.expected) == {"precision", "recall", "f1", "matches"}
    assert result.expected["f1"] > 0.9  # the model's own estimate, without labels
    assert result.records == [a.num_rows, b.num_rows]
    assert [r["rule"] for r in result.blocking] == [["surname"], ["dob"], ["phone"]]
    params = result.parameters
    assert params.names == list(COLUMNS)
    assert 0 < params.prior < 1
    for weights in params.weights():  # exact agreement weighs more than total disagreement
        assert weights[0] == 0 and weights[1] > 0 > weights[-1]
    described = json.loads(json.dumps(params.as_dict()))
    assert [c["column"] for c in described["comparisons"]] == list(COLUMNS)
    assert described["sessions"]


def test_link_one_to_one(two_tables: tuple[pa.Table, pa.Table, list[int]]) -> None:
    a, b, person = two_tables
    # a third table holding fifty of b's records twice: without the constraint their
    # people match two records of that table
    c = pa.concat_tables([b.slice(0, 50), b.slice(0, 50)])
    sizes = [a.num_rows, b.num_rows, c.num_rows]
    source = np.repeat(np.arange(3), sizes)
    free = _pairs(link([a, b, c], person_model()))
    per_slot = [(left, int(source[right])) for left, right in free] + [
        (right, int(source[left])) for left, right in free
    ]
    assert len(per_slot) > len(set(per_slot))  # some record matches two of another table
    result = link([a, b, c], person_model(one_to_one=True))
    matches = _pairs(result)
    slots = [(left, int(source[right])) for left, right in matches] + [
        (right, int(source[left])) for left, right in matches
    ]
    assert len(slots) == len(set(slots))  # at most one match per record and other table
    assert matches <= free
    # between a and b (one record per person each) nothing is lost
    truth = _truth(person, sizes[:2])
    between = {(x, y) for x, y in matches if source[x] == 0 and source[y] == 1}
    assert _scores(between, truth) >= 0.95
    # each of the fifty b records takes one of its two copies in c
    to_c = [(x, y) for x, y in matches if source[x] == 1 and source[y] == 2]
    assert sorted(x for x, _ in to_c) == list(range(a.num_rows, a.num_rows + 50))
    assert all((y - sum(sizes[:2])) % 50 == x - a.num_rows for x, y in to_c)


def test_dedupe_one_table() -> None:
    rng = np.random.default_rng(7)
    people = _people(rng, 300)
    dup = [int(i) for i in rng.choice(300, 80, replace=False)]
    rows = people + [_dirty(rng, people[i]) for i in dup]
    truth = {(i, 300 + k) for k, i in enumerate(dup)}
    result = link([_table(rows)], person_model(), link_type="dedupe")
    matches = _pairs(result)
    assert all(left < right for left, right in matches)
    assert _scores(matches, truth) >= 0.95


def test_link_errors() -> None:
    a = pa.table({"first": ["A"], "surname": ["B"], "dob": ["19900101"], "phone": ["1"]})
    b = a.drop_columns(["dob"])
    with pytest.raises(InvalidInput, match=r"table 2 has no column dob"):
        link([a, b], person_model())
    with pytest.raises(InvalidInput, match="soundex"):
        Comparison("first", kind="soundex")
    with pytest.raises(InvalidInput, match="two tables"):
        link([a], person_model(), link_type="link_only")
    with pytest.raises(InvalidInput, match="nothing to link"):
        link([], person_model())
    with pytest.raises(InvalidInput, match="no blocking rule"):
        link([a, a], Model(comparisons=[Comparison("first")], blocking=[]))
