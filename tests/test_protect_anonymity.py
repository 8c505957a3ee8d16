"""Privacy models of ``dizuo.protect``: hierarchies, full-domain and Mondrian anonymisation, risk.

Every result that claims k-anonymity, l-diversity or t-closeness is checked by pyCANON on the
released records (suppressed ones removed), not by our own code; every LM we report is
recomputed here from the output strings and the hierarchy files; the optimum of the full-domain
search is compared with a brute force over the whole lattice on small tables, and with ARX's
published optimum on Adult.

Adult (ARX's copy, with ARX's hierarchies) is read from the shared data folder at test time
(``DIZUO_ADULT_DIR`` or ``../shared/data/adult``); the tests that need it are skipped, with the
reason, when it is absent.
"""

from __future__ import annotations

import csv
import itertools
import math
import os
import re
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pv
import pytest
from pycanon import anonymity as canon
from pycanon.anonymity.utils.aux_anonymity import get_equiv_class as canon_classes

from dizuo.errors import InvalidInput
from dizuo.protect import anonymity as A
from dizuo.protect import risk
from dizuo.protect.hierarchy import Hierarchy, from_spec

ADULT = Path(
    os.environ.get("DIZUO_ADULT_DIR", Path(__file__).resolve().parents[2] / "shared/data/adult")
)
QIS = ["age", "education", "marital-status", "native-country", "race", "sex", "workclass"]
SA = "occupation"
#: ARX 3.9.2's optimal LM on Adult (../shared/data/adult/README.md), rounded to 3 decimals
ARX_LM = {
    ("k2", 0.0): 0.599,
    ("k5", 0.0): 0.633,
    ("l2", 0.0): 0.599,
    ("k5t", 0.0): 0.919,
    ("k2", 0.05): 0.128,
    ("k5", 0.05): 0.191,
    ("k50", 0.05): 0.414,
    ("l2", 0.05): 0.138,
    ("k5t", 0.05): 0.817,
}
MODELS: dict[str, list[A.Model]] = {
    "k2": [A.KAnonymity(2)],
    "k5": [A.KAnonymity(5)],
    "k50": [A.KAnonymity(50)],
    "l2": [A.DistinctLDiversity(2, SA)],
    "el2": [A.EntropyLDiversity(2, SA)],
    "k5t": [A.KAnonymity(5), A.TCloseness(0.2, SA)],
}


# -- shared checks ------------------------------------------------------------------------


def released_frame(result: A.Result, columns: list[str]) -> pd.DataFrame:
    """The released records (suppressed ones removed) as pandas, for pyCANON."""
    return result.released_table().select(columns).to_pandas()


def check_with_pycanon(result: A.Result, qis: list[str], models: list[A.Model]) -> None:
    """Every model the result claims holds, as pyCANON measures it."""
    sensitive = sorted({m.attribute for m in models if not isinstance(m, A.KAnonymity)})
    frame = released_frame(result, [*qis, *sensitive])
    assert len(frame) == result.table.num_rows - result.suppressed_count
    for m in models:
        if isinstance(m, A.KAnonymity):
            assert canon.k_anonymity(frame, qis) >= m.k
        elif isinstance(m, A.DistinctLDiversity):
            assert canon.l_diversity(frame, qis, [m.attribute]) >= m.l
        elif isinstance(m, A.EntropyLDiversity):
            found = canon.entropy_l_diversity(frame, qis, [m.attribute])
            if found < m.l:  # pyCANON's int(e ** H) makes an exact 2 (a 50/50 class) 1.999… → 1
                assert found == math.ceil(m.l) - 1
                assert lowest_entropy(frame, qis, m.attribute) >= math.log(m.l) - 1e-12
        else:
            assert canon.t_closeness(frame, qis, [m.attribute]) <= m.t + 1e-9


def lowest_entropy(frame: pd.DataFrame, qis: list[str], attribute: str) -> float:
    """The lowest entropy of ``attribute`` in a class, from pyCANON's equivalence classes."""
    lowest = math.inf
    for members in canon_classes(frame, qis):
        counts = Counter(frame[attribute].iloc[members])
        size = sum(counts.values())
        lowest = min(lowest, -math.fsum(c / size * math.log(c / size) for c in counts.values()))
    return lowest


def read_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return [row for row in csv.reader(f, delimiter=";") if row]


RANGE = re.compile(r"^(-?\d+(?:\.\d+)?)-(-?\d+(?:\.\d+)?)$")


def covered_by(
    value: str, present: list[str], hierarchy: list[list[str]], level: int | None, numeric: bool
) -> int:
    """How many of the distinct original values ``present`` the released ``value`` stands for.

    Full-domain (``level`` given): those whose label at that level is ``value`` (ARX's age
    hierarchy puts 20 under ``0-19``, so labels are not read as ranges). Mondrian: a numeric
    range ``a-b`` covers the values between a and b; a categorical label, those under it at the
    lowest level that has it.
    """
    by_leaf = {r[0]: r for r in hierarchy}
    if value == "*":
        return len(present)
    if level is not None:
        return sum(1 for v in present if by_leaf[v][level] == value)
    if numeric:
        match = RANGE.match(value)
        lo, hi = (float(match[1]), float(match[2])) if match else (float(value),) * 2
        return sum(1 for v in present if lo <= float(v) <= hi)
    for j in range(len(hierarchy[0])):
        under = [v for v in present if by_leaf[v][j] == value]
        if under:
            return len(under)
    raise AssertionError(f"{value!r} is not a label of the hierarchy")


def independent_lm(
    original: pa.Table,
    result: A.Result,
    rows: dict[str, list[list[str]]],
    numeric: set[str],
) -> float:
    """LM recomputed from the output strings and the hierarchy rows, in plain Python.

    M is the number of distinct original values in the data, m what :func:`covered_by` counts
    for the released value; a suppressed record costs 1.
    """
    suppressed = result.suppressed.tolist()
    total = 0.0
    for q, hierarchy in rows.items():
        present = sorted(set(map(str, original[q].to_pylist())))
        level = None if result.levels is None else result.levels[q]
        counts = {
            v: covered_by(v, present, hierarchy, level, q in numeric)
            for v in set(result.table[q].to_pylist())
        }
        cost = 0.0
        for value, gone in zip(result.table[q].to_pylist(), suppressed, strict=True):
            cost += 1.0 if gone else (counts[value] - 1) / (len(present) - 1)
        total += cost / len(suppressed)
    return total / len(rows)


# -- Adult ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def adult() -> pa.Table:
    if not (ADULT / "adult.csv").exists():
        pytest.skip(f"the Adult benchmark data is not at {ADULT} (set DIZUO_ADULT_DIR)")
    return pv.read_csv(ADULT / "adult.csv", parse_options=pv.ParseOptions(delimiter=";"))


@pytest.fixture(scope="module")
def adult_rows(adult: pa.Table) -> dict[str, list[list[str]]]:
    return {q: read_rows(ADULT / f"adult_hierarchy_{q}.csv") for q in QIS}


@pytest.fixture(scope="module")
def adult_hierarchies(adult: pa.Table) -> dict[str, Hierarchy]:
    return {q: Hierarchy.from_csv(ADULT / f"adult_hierarchy_{q}.csv", name=q) for q in QIS}


@pytest.mark.parametrize(
    ("name", "limit"),
    [("k2", 0.0), ("k5", 0.05), ("l2", 0.0), ("l2", 0.05), ("k5t", 0.05), ("el2", 0.0)],
)
def test_adult_full_domain(
    adult: pa.Table,
    adult_rows: dict[str, list[list[str]]],
    adult_hierarchies: dict[str, Hierarchy],
    name: str,
    limit: float,
) -> None:
    models = MODELS[name]
    result = A.full_domain(adult, adult_hierarchies, models, limit)
    check_with_pycanon(result, QIS, models)
    assert result.suppressed_count <= limit * adult.num_rows
    assert result.loss == pytest.approx(independent_lm(adult, result, adult_rows, {"age"}))
    if (name, limit) in ARX_LM:  # no worse than ARX's optimum (rounded to 3 decimals)
        assert result.loss <= ARX_LM[(name, limit)] + 5e-4
    assert result.levels is not None and set(result.levels) == set(QIS)
    assert 0 < result.nodes_evaluated <= result.lattice_size == 2160
    # the generalised values are the hierarchy's labels at the chosen levels
    kept = ~result.suppressed
    for q in QIS:
        level = result.levels[q]
        label = {r[0]: r[level] for r in adult_rows[q]}
        original = np.array([label[str(v)] for v in adult[q].to_pylist()], dtype=object)
        released = np.array(result.table[q].to_pylist(), dtype=object)
        assert (original[kept] == released[kept]).all()
        assert (released[~kept] == "*").all()
    assert result.table.column("occupation").equals(adult.column("occupation"))


@pytest.mark.parametrize(("name", "limit"), [("k5", 0.0), ("l2", 0.05), ("k5t", 0.05)])
def test_adult_mondrian(
    adult: pa.Table,
    adult_rows: dict[str, list[list[str]]],
    adult_hierarchies: dict[str, Hierarchy],
    name: str,
    limit: float,
) -> None:
    models = MODELS[name]
    result = A.mondrian(adult, adult_hierarchies, models, limit)
    check_with_pycanon(result, QIS, models)
    assert result.suppressed_count <= limit * adult.num_rows
    assert result.loss == pytest.approx(independent_lm(adult, result, adult_rows, {"age"}))
    optimum = A.full_domain(adult, adult_hierarchies, models, limit)
    assert result.loss <= 0.8 * optimum.loss  # local recoding loses at least 20 % less


def test_adult_metrics_and_risk(adult: pa.Table, adult_hierarchies: dict[str, Hierarchy]) -> None:
    result = A.full_domain(adult, adult_hierarchies, MODELS["k5"], 0.05)
    summary = result.summary()
    assert summary["suppressed"] == result.suppressed_count
    assert summary["loss_lm"] == result.loss
    assert 0 < A.generalisation_intensity(result) < 1
    assert 0 < A.non_uniform_entropy(result) < 1
    sizes = released_frame(result, QIS).groupby(QIS).size()
    n = adult.num_rows
    assert A.discernibility(result) == float((sizes**2).sum() + result.suppressed_count * n)
    both = risk.before_after(adult, result.table, QIS, [SA], result.suppressed)
    before, after = both["before"], both["after"]
    assert before.k == 1 and before.prosecutor_max == 1.0 and before.unique_share > 0.2
    assert after.k >= 5 and after.prosecutor_max <= 0.2 and after.at_risk == 0
    assert after.records == n - result.suppressed_count
    assert after.classes == result.classes == len(sizes)
    assert after.marketer == pytest.approx(after.classes / after.records)


# -- small tables: optimality against a brute force ------------------------------------------


def small_table(seed: int, n: int = 48) -> tuple[pa.Table, dict[str, list[list[str]]]]:
    """A random table with an age, a sex, a 5-digit zip code and a disease, and hierarchies."""
    rng = np.random.default_rng(seed)
    ages = rng.integers(20, 60, n)
    zips = rng.choice(["10001", "10002", "10011", "10012", "20001", "20002"], n)
    table = pa.table(
        {
            "age": ages,
            "sex": rng.choice(["F", "M"], n),
            "zip": zips,
            "disease": rng.choice(["flu", "cold", "asthma", "ulcer", "gastritis"], n),
            "score": rng.integers(1, 6, n),
        }
    )
    age_rows = [
        [str(a), f"{a // 5 * 5}-{a // 5 * 5 + 4}", f"{a // 10 * 10}-{a // 10 * 10 + 9}", "*"]
        for a in range(20, 60)
    ]
    zip_rows = [[z, z[:4] + "*", z[:3] + "**", "*"] for z in sorted(set(zips.tolist()))]
    rows = {"age": age_rows, "sex": [["F", "*"], ["M", "*"]], "zip": zip_rows}
    return table, rows


def brute_force(
    table: pa.Table, rows: dict[str, list[list[str]]], models: list[A.Model], limit: float
) -> float | None:
    """The least LM over every node of the lattice, in plain Python (same semantics)."""
    frame = table.to_pandas()
    n = len(frame)
    qis = list(rows)
    leaf = {q: {r[0]: r for r in rows[q]} for q in qis}
    present = {q: sorted(set(map(str, frame[q]))) for q in qis}
    best = None
    for node in itertools.product(*(range(len(rows[q][0])) for q in qis)):
        gen = {
            q: [leaf[q][str(v)][lvl] for v in frame[q]] for q, lvl in zip(qis, node, strict=True)
        }
        covered = {
            q: Counter(leaf[q][v][lvl] for v in present[q])
            for q, lvl in zip(qis, node, strict=True)
        }
        keys = list(zip(*(gen[q] for q in qis), strict=True))
        classes: dict[tuple[str, ...], list[int]] = {}
        for i, key in enumerate(keys):
            classes.setdefault(key, []).append(i)

        def violates(members: list[int], priors: dict[str, dict[Any, float]]) -> bool:
            for m in models:
                if isinstance(m, A.KAnonymity):
                    if len(members) < m.k:
                        return True
                    continue
                values = Counter(frame[m.attribute].iloc[members])
                if isinstance(m, A.DistinctLDiversity) and len(values) < m.l:
                    return True
                if isinstance(m, A.EntropyLDiversity):
                    ps = [c / len(members) for c in values.values()]
                    if -sum(p * math.log(p) for p in ps) < math.log(m.l) - 1e-9:
                        return True
                if isinstance(m, A.TCloseness):
                    prior = priors[m.attribute]
                    emd = 0.5 * sum(
                        abs(values.get(v, 0) / len(members) - p) for v, p in prior.items()
                    )
                    if emd > m.t + 1e-9:
                        return True
            return False

        def distribution(members: list[int]) -> dict[str, dict[Any, float]]:
            out = {}
            for m in models:
                if isinstance(m, A.TCloseness):
                    counts = Counter(frame[m.attribute].iloc[members])
                    out[m.attribute] = {v: c / len(members) for v, c in counts.items()}
            return out

        everyone = list(range(n))
        bad = {key for key, members in classes.items() if violates(members, distribution(everyone))}
        closeness = any(isinstance(m, A.TCloseness) for m in models)
        while closeness and bad and len(bad) < len(classes):
            if sum(len(classes[k]) for k in bad) > limit * n + 1e-9:
                break
            kept = [i for k, members in classes.items() if k not in bad for i in members]
            prior = distribution(kept)
            more = {k for k, members in classes.items() if violates(members, prior)} | bad
            if more == bad:
                break
            bad = more
        gone = {i for k in bad for i in classes[k]}
        if len(gone) > limit * n + 1e-9:
            continue
        loss = 0.0
        for q in qis:
            m_all = len(present[q])
            for i, value in enumerate(gen[q]):
                loss += 1.0 if i in gone else (covered[q][value] - 1) / (m_all - 1)
        loss /= n * len(qis)
        if best is None or loss < best:
            best = loss
    return best


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize(
    ("models", "limit"),
    [
        ([A.KAnonymity(3)], 0.0),
        ([A.KAnonymity(4)], 0.1),
        ([A.DistinctLDiversity(2, "disease")], 0.05),
        ([A.EntropyLDiversity(2, "disease")], 0.1),
        ([A.KAnonymity(2), A.TCloseness(0.35, "disease")], 0.1),
    ],
)
def test_full_domain_is_optimal(seed: int, models: list[A.Model], limit: float) -> None:
    table, rows = small_table(seed)
    hierarchies = {q: Hierarchy.from_rows(r, name=q) for q, r in rows.items()}
    expected = brute_force(table, rows, models, limit)
    if expected is None:
        with pytest.raises(InvalidInput, match="no generalisation"):
            A.full_domain(table, hierarchies, models, limit)
        return
    result = A.full_domain(table, hierarchies, models, limit)
    assert result.loss == pytest.approx(expected, abs=1e-12)
    assert result.loss == pytest.approx(independent_lm(table, result, rows, {"age"}))
    check_with_pycanon(result, list(rows), models)
    mondrian = A.mondrian(table, hierarchies, models, limit)
    check_with_pycanon(mondrian, list(rows), models)
    assert mondrian.loss == pytest.approx(independent_lm(table, mondrian, rows, {"age"}))


def test_lazy_lattice_order_gives_the_same_optimum(monkeypatch: pytest.MonkeyPatch) -> None:
    table, rows = small_table(7)
    hierarchies = {q: Hierarchy.from_rows(r, name=q) for q, r in rows.items()}
    eager = A.full_domain(table, hierarchies, [A.KAnonymity(3)], 0.05)
    monkeypatch.setattr(A, "EAGER_LATTICE", 0)
    lazy = A.full_domain(table, hierarchies, [A.KAnonymity(3)], 0.05)
    assert lazy.loss == eager.loss and lazy.node == eager.node


def test_ordered_t_closeness_with_numbers() -> None:
    table, rows = small_table(4, n=80)
    hierarchies = {q: Hierarchy.from_rows(r, name=q) for q, r in rows.items()}
    models: list[A.Model] = [A.TCloseness(0.15, "score", ordered=True)]
    for search in (A.full_domain, A.mondrian):
        result = search(table, hierarchies, models, 0.05)
        frame = released_frame(result, [*rows, "score"])
        assert pd.api.types.is_numeric_dtype(frame["score"])  # pyCANON's ordered distance
        assert canon.t_closeness(frame, list(rows), ["score"]) <= 0.15 + 1e-9


# -- a hand-made table ----------------------------------------------------------------------


def hand_table() -> tuple[pa.Table, dict[str, Hierarchy]]:
    table = pa.table(
        {
            "age": [21, 22, 23, 24, 31, 32, 33, 34, 35, 36],
            "sex": ["F", "M", "F", "M", "F", "F", "M", "M", "F", "M"],
            "disease": ["a", "b", "a", "c", "a", "b", "c", "a", "b", "c"],
        }
    )
    hierarchies = {
        "age": Hierarchy.interval(table["age"], [5, 10], name="age"),
        "sex": Hierarchy.flat(table["sex"], name="sex"),
    }
    return table, hierarchies


def test_hand_made_k_anonymity() -> None:
    table, hierarchies = hand_table()
    result = A.full_domain(table, hierarchies, A.KAnonymity(2))
    # ages 21-24 and 31-36 in two decades, sex kept: F/M in each decade, 2+ records each
    assert result.levels == {"age": 2, "sex": 0}
    assert result.table["age"].to_pylist()[:4] == ["20-29"] * 4
    # each age covers 1 of 10 values at level 0; a decade covers 4 or 6 of them
    expected = ((4 * (4 - 1) + 6 * (6 - 1)) / 9 / 10 + 0.0) / 2
    assert result.loss == pytest.approx(expected)
    assert A.discernibility(result) == 2 * 2 + 2 * 2 + 3 * 3 + 3 * 3
    assert A.generalisation_intensity(result) == pytest.approx((2 / 3 + 0) / 2)
    check_with_pycanon(result, ["age", "sex"], [A.KAnonymity(2)])


def test_hand_made_mondrian_ranges() -> None:
    table, hierarchies = hand_table()
    result = A.mondrian(table, hierarchies, A.KAnonymity(2))
    ages = result.table["age"].to_pylist()
    assert all(re.fullmatch(r"\d+(-\d+)?", a) for a in ages)  # ranges of the data's values
    for age, released in zip(table["age"].to_pylist(), ages, strict=True):
        lo, _, hi = released.partition("-")
        assert int(lo) <= age <= int(hi or lo)
    check_with_pycanon(result, ["age", "sex"], [A.KAnonymity(2)])
    assert result.loss < A.full_domain(table, hierarchies, A.KAnonymity(2)).loss


def test_suppression_is_flagged_and_starred() -> None:
    table = pa.table({"zip": ["1"] * 9 + ["2"], "d": list("abcabcabca")})
    hierarchies = {"zip": Hierarchy.flat(table["zip"], name="zip")}
    result = A.full_domain(table, hierarchies, A.KAnonymity(3), 0.1)
    assert result.levels == {"zip": 0}
    assert result.suppressed.tolist() == [False] * 9 + [True]
    assert result.table["zip"].to_pylist() == ["1"] * 9 + ["*"]
    assert result.loss == pytest.approx(1 / 10)  # one record in one QI costs 1
    assert result.released_table().num_rows == 9


# -- hierarchies --------------------------------------------------------------------------


def test_builtin_hierarchies() -> None:
    interval = Hierarchy.interval([17, 23, 38, 90], [5, 10, 20, 40], name="age")
    assert interval.to_rows()[1] == ["23", "20-24", "20-29", "20-39", "0-39", "*"]
    assert interval.numeric
    assert Hierarchy.date(["2024-03-05"]).to_rows() == [
        ["2024-03-05", "2024-03", "2024-Q1", "2024", "*"]
    ]
    assert Hierarchy.region([110105]).to_rows() == [["110105", "110100", "110000", "*"]]
    assert Hierarchy.mask(["1234"]).to_rows() == [["1234", "123*", "12**", "1***", "*"]]
    assert Hierarchy.from_dict({"a": ["x", "*"], "b": ["x", "*"]}).leaf_counts(1).tolist() == [2]
    coded = interval.code(pa.array([23, 38, 23]), column="age")
    assert coded.codes(2).tolist() == [0, 1, 0]  # 20-29, 30-39
    assert coded.leaves[2].tolist() == [1, 1] and coded.domain == 2
    assert interval.generalise(pa.array([90]), 3).to_pylist() == ["80-99"]


def test_from_spec() -> None:
    class Spec:
        def __init__(self, kind: str, **kw: Any) -> None:
            self.kind, self.widths = kind, kw.get("widths")
            self.path, self.rows = kw.get("path"), kw.get("rows")

    values = pa.array(["110105", "110106"])
    assert from_spec(Spec("region"), values, name="r").levels == 4
    assert from_spec(Spec("values"), values, name="v").levels == 2
    assert from_spec(Spec("table", rows=[["a", "*"]]), values, name="t").levels == 2
    assert from_spec(Spec("interval", widths=[10]), pa.array([1, 2]), name="i").levels == 3
    with pytest.raises(InvalidInput, match="needs widths"):
        from_spec(Spec("interval"), values, name="i")


def test_adult_hierarchy_leaf_counts(adult_hierarchies: dict[str, Hierarchy]) -> None:
    education = adult_hierarchies["education"]
    assert education.levels == 4 and len(education.leaves) == 16
    counts = dict(
        zip(education.labels(2).to_pylist(), education.leaf_counts(2).tolist(), strict=True)
    )
    assert counts == {"Higher education": 7, "Secondary education": 6, "Primary education": 3}
    assert adult_hierarchies["age"].numeric and not education.numeric


# -- broken input: one clear error each -------------------------------------------------------


def test_hierarchy_missing_a_value() -> None:
    table = pa.table({"sex": ["M", "F", "X", "X", "Y"], "d": list("abcde")})
    hierarchies = {"sex": Hierarchy.from_rows([["M", "*"], ["F", "*"]], name="sex")}
    with pytest.raises(InvalidInput) as err:
        A.full_domain(table, hierarchies, A.KAnonymity(2))
    text = str(err.value)
    assert "'sex'" in text and "'X'" in text and "2 distinct values" in text
    assert "3 records" in text and err.value.where is not None and err.value.where.row == 3


def test_inconsistent_hierarchy() -> None:
    with pytest.raises(InvalidInput, match="'a' at level 0 generalises to two values"):
        Hierarchy.from_rows([["a", "x", "*"], ["a", "y", "*"]], name="q")
    with pytest.raises(InvalidInput, match="'x' at level 1 generalises to two values"):
        Hierarchy.from_rows([["a", "x", "p"], ["b", "x", "q"]], name="q")


def test_ragged_hierarchy_file(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text("a;x;*\nb;*\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as err:
        Hierarchy.from_csv(path, name="q")
    assert err.value.where is not None and err.value.where.line == 2
    assert "h.csv" in str(err.value)


def test_k_larger_than_the_data() -> None:
    table, hierarchies = hand_table()
    with pytest.raises(InvalidInput, match="k = 11 is larger than the number of records"):
        A.full_domain(table, hierarchies, A.KAnonymity(11))


def test_unknown_attribute() -> None:
    table, hierarchies = hand_table()
    with pytest.raises(InvalidInput, match="no column 'salary'"):
        A.full_domain(table, {**hierarchies, "salary": hierarchies["sex"]}, A.KAnonymity(2))
    with pytest.raises(InvalidInput, match="no column 'illness'"):
        A.mondrian(table, hierarchies, A.DistinctLDiversity(2, "illness"))


def test_negative_suppression_limit() -> None:
    table, hierarchies = hand_table()
    with pytest.raises(InvalidInput, match="suppression limit -0.1 must be between 0 and 1"):
        A.full_domain(table, hierarchies, A.KAnonymity(2), -0.1)


def test_no_solution_and_bad_widths() -> None:
    table, hierarchies = hand_table()
    with pytest.raises(InvalidInput, match="no generalisation satisfies"):
        A.full_domain(table, hierarchies, A.DistinctLDiversity(4, "disease"))
    with pytest.raises(InvalidInput, match="no generalisation satisfies"):
        A.mondrian(table, hierarchies, A.DistinctLDiversity(4, "disease"))
    with pytest.raises(InvalidInput, match="interval widths"):
        Hierarchy.interval([1, 2], [5, 7])


def test_errors_speak_chinese_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIZUO_LANG", "zh")
    table, hierarchies = hand_table()
    with pytest.raises(InvalidInput, match="大于记录数"):
        A.full_domain(table, hierarchies, A.KAnonymity(11))


# -- risk -----------------------------------------------------------------------------------


def test_risk_by_hand() -> None:
    table = pa.table({"q": ["a", "a", "a", "b", "b", "c"], "s": [1, 2, 1, 1, 1, 2]})
    r = risk.assess(table, ["q"], ["s"])
    assert (r.records, r.classes, r.k) == (6, 3, 1)
    assert r.prosecutor_max == 1.0
    assert r.prosecutor_average == pytest.approx(3 / 6)  # Σ over records of 1/|class|
    assert r.marketer == pytest.approx(3 / 6)
    assert r.journalist_max == r.prosecutor_max and "journalist risk equals" in r.notes[0]
    assert r.unique_share == pytest.approx(1 / 6)
    assert (r.at_risk, r.at_risk_share) == (6, 1.0)  # 1/3, 1/2 and 1 all exceed 0.2
    s = r.sensitive[0]
    assert s.distinct_l == 1 and s.entropy_l == pytest.approx(1.0)
    # class b = {1, 1}: EMD to (4/6, 2/6) is 1/3
    assert s.t_equal == pytest.approx(2 / 3)  # class c = {2}
    population = pa.table({"q": ["a"] * 6 + ["b"] * 4 + ["c"] * 2})
    p = risk.assess(table, ["q"], population=population)
    assert p.journalist_max == pytest.approx(1 / 2)
    assert p.journalist_average == pytest.approx((3 / 6 + 2 / 4 + 1 / 2) / 6)
    suppressed = np.array([False] * 5 + [True])
    after = risk.assess(table, ["q"], suppressed=suppressed)
    assert (after.records, after.suppressed, after.k) == (5, 1, 2)
    with pytest.raises(InvalidInput, match="no column 'x'"):
        risk.assess(table, ["x"])
