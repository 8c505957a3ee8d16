"""People across registries: views, attributes, private encodings, clusters, person keys,
pairwise scores and the demo city against its ground truth (dizuo.link.persons, .evaluate)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from stdnum.cn import ric

from dizuo.link import persons
from dizuo.link.evaluate import against_truth, by_kind, pairwise
from dizuo.link.persons import View, attributes, cluster, encode_private, person_keys, views
from dizuo.protect.transforms import pseudonymise

KEY = bytes(range(32))
DS = "edu_students@1"


def valid_id(body17: str) -> str:
    return body17 + ric.calc_check_digit(body17 + "?")  # stdnum skips the last character


# -- views --------------------------------------------------------------------------------------


def test_views_group_attributes_under_the_name_before_them() -> None:
    classified: list[tuple[str, str | None]] = [
        ("学号", "student_number"),
        ("姓名", "person_name"),
        ("性别", "gender"),
        ("出生日期", "birth_date"),
        ("身份证号", "resident_id"),
        ("学校", None),
        ("监护人姓名", "person_name"),
        ("监护人电话", "mobile_phone"),
        ("备用电话", "landline_phone"),  # a second phone: the first one is kept
    ]
    found = views(DS, classified)
    assert found == [
        View(DS, "姓名", {"name": "姓名", "sex": "性别", "birth": "出生日期", "id": "身份证号"}),
        View(DS, "监护人姓名", {"name": "监护人姓名", "phone": "监护人电话"}),
    ]


def test_views_edge_cases() -> None:
    # an ID before any name belongs to the first name
    early = views(
        DS, [("身份证号", "resident_id"), ("姓名", "person_name"), ("电话", "mobile_phone")]
    )
    assert early == [View(DS, "姓名", {"name": "姓名", "id": "身份证号", "phone": "电话"})]
    # no name: no view; a name alone: nothing to link it by
    assert views(DS, [("电话", "mobile_phone"), ("身份证号", "resident_id")]) == []
    assert views(DS, [("姓名", "person_name"), ("备注", None), ("地址", "address")]) == []
    assert views(DS, []) == []


# -- attributes ---------------------------------------------------------------------------------

ZHANG = valid_id("51010820090408145")  # 51010820090408145X
LEGACY = "110105491231002"
LEGACY18 = valid_id("11010519491231002")


def test_attributes_normalise_every_field() -> None:
    fullwidth = ZHANG.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789X"})
    typo = ZHANG[:5] + ("1" if ZHANG[5] != "1" else "2") + ZHANG[6:]
    assert not ric.is_valid(typo)
    table = pa.table(
        {
            "姓名": ["张　伟", "陳偉", "李娜", None, "王芳", "赵敏"],
            "性别": ["男", "F", "女", None, "M", None],
            "出生日期": ["2009-04-08", None, None, None, "1985年2月2日", None],
            "身份证号": [fullwidth, LEGACY, typo, None, " ", f" {LEGACY18.lower()} "],
            "电话": [
                "+86 138 1234 5678",
                "１３９１２３４５６７８",
                "028-8765 4321",
                None,
                "12",
                None,
            ],
        }
    )
    view = View("t@1", "姓名", {"name": "姓名", "sex": "性别", "birth": "出生日期"})
    view.columns.update({"id": "身份证号", "phone": "电话"})
    rows = attributes(table, view).to_pylist()
    assert [r["name"] for r in rows] == [
        "张伟\tzan wei",  # the pinyin with the common mergers folded: zh → z, -ng → -n
        "陈伟\tcen wei",  # traditional → simplified
        "李娜\tli la",  # n → l
        None,
        "王芳\twan han",  # f → h
        "赵敏\tzao min",
    ]
    assert [r["pinyin"] for r in rows][:3] == ["zanwei", "cenwei", "lila"]
    assert [r["id_valid"] for r in rows] == [ZHANG, LEGACY18, None, None, None, LEGACY18]
    assert [r["id"] for r in rows] == [ZHANG, LEGACY18, typo, None, None, LEGACY18]
    # the birth column first, else the birth date in the ID (also in one whose check fails)
    assert [r["birth"] for r in rows] == [
        "20090408",
        "19491231",
        "20090408",
        None,
        "19850202",
        "19491231",
    ]
    # sex words, else the ID's 17th digit
    assert [r["sex"] for r in rows] == ["M", "F", "F", None, "M", "F"]
    assert [r["phone"] for r in rows] == [
        "13812345678",
        "13912345678",
        "028-87654321",
        None,
        None,
        None,
    ]


def test_attributes_of_a_view_without_birth_or_sex_columns() -> None:
    table = pa.table({"n": ["张伟", "李娜"], "i": [ZHANG, None]})
    rows = attributes(table, View("t", "n", {"name": "n", "id": "i"})).to_pylist()
    assert [(r["birth"], r["sex"], r["phone"]) for r in rows] == [
        ("20090408", "M", None),
        (None, None, None),
    ]


def test_attributes_read_birth_dates_stored_as_timestamps() -> None:
    table = pa.table(
        {
            "姓名": ["张伟", "李娜"],
            "出生日期": pa.array([dt.datetime(2009, 4, 8), dt.datetime(1990, 1, 1)]),
        }
    )
    rows = attributes(table, View("t", "姓名", {"name": "姓名", "birth": "出生日期"}))
    assert rows.column("birth").to_pylist() == ["20090408", "19900101"]


def test_attributes_read_date_typed_birth_columns() -> None:
    table = pa.table({"n": ["张伟", "李娜"], "b": pa.array([dt.date(2009, 4, 8), None])})
    rows = attributes(table, View("t", "n", {"name": "n", "birth": "b"}))
    assert rows.column("birth").to_pylist() == ["20090408", None]


# -- private encodings --------------------------------------------------------------------------


def _people_table() -> tuple[pa.Table, View]:
    rng = np.random.default_rng(12)
    surnames, given = "王李张刘陈杨黄赵吴周", "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超"
    names, ids, phones, births = [], [], [], []
    for i in range(40):
        names.append(surnames[i % 10] + given[int(rng.integers(0, 17))] + given[i % 17])
        born = dt.date(1950, 1, 1) + dt.timedelta(days=int(rng.integers(0, 20_000)))
        ids.append(valid_id(f"510104{born:%Y%m%d}{int(rng.integers(100, 999))}"))
        phones.append("139" + "".join(str(d) for d in rng.integers(0, 10, 8)))
        births.append(f"{born:%Y-%m-%d}")
    table = pa.table({"姓名": names, "身份证号": ids, "手机": phones, "出生日期": births})
    view = View("p@1", "姓名", {"name": "姓名", "id": "身份证号", "phone": "手机"})
    view.columns["birth"] = "出生日期"
    return table, view


def test_private_encodings_hold_no_plaintext() -> None:
    table, view = _people_table()
    attrs = attributes(table, view)
    encoded = encode_private(attrs, KEY)
    assert encoded.num_rows == table.num_rows
    secrets = set()
    for column in ("姓名", "身份证号", "手机"):
        secrets.update(table.column(column).to_pylist())
    for column in ("name_plain", "pinyin", "id", "birth", "phone"):
        secrets.update(v for v in attrs.column(column).to_pylist() if v)
    assert len(secrets) > 150
    for name in encoded.column_names:
        values = encoded.column(name).to_pylist()
        for value in values:
            if value is None:
                continue
            data = value if isinstance(value, bytes) else value.encode()
            text = value if isinstance(value, str) else None
            for secret in secrets:
                assert secret.encode() not in data, (name, secret)
            if text is not None:  # pseudonyms: 32 hex characters
                assert len(text) == 32 and set(text) <= set("0123456789abcdef"), name
    # deterministic under one key (departments' encodings compare), different under another
    assert encode_private(attrs, KEY).equals(encoded)
    other = encode_private(attrs, bytes(range(1, 33)))
    for name in encoded.column_names:
        if name == "sex":
            continue
        mine = set(encoded.column(name).to_pylist()) - {None}
        assert mine and not mine & set(other.column(name).to_pylist()), name
    # the deterministic key is the pseudonym of the valid ID
    want = pseudonymise(attrs.column("id_valid"), KEY, normalise="none")
    assert encoded.column("id_valid").to_pylist() == want.to_pylist()


def test_private_and_plain_linkage_find_the_same_people() -> None:
    table, view = _people_table()
    # a second registry: the same people, IDs missing for a quarter, a homophone typo
    other = table.to_pydict()
    other["身份证号"] = [None if i % 4 == 0 else v for i, v in enumerate(other["身份证号"])]
    other["姓名"][1] = other["姓名"][1][0] + "卫" + other["姓名"][1][2:]
    frames = [attributes(table, view), attributes(pa.table(other), view)]
    truth = np.r_[np.arange(40), np.arange(40)]
    for mode in ("plain", "private"):
        result = persons.link_persons(frames, KEY, mode=mode)
        assert len(result.labels) == 80
        assert pairwise(result.labels, truth)["f1"] == 1.0, mode


# -- clusters and person keys -------------------------------------------------------------------

A, B = valid_id("11010519491231002"), ZHANG


def test_cluster_anchors_on_ids() -> None:
    anchor = pa.array([A, B, None, None, A, None, None, None, None])
    pairs = [
        (0, 1, 30.0),  # two different valid IDs: never one person, however strong the match
        (0, 2, 5.0),
        (1, 2, 8.0),  # 2 has no ID: it joins its best anchored match, B
        (2, 3, 4.0),  # 3 reaches B through 2 (a second round)
        (5, 6, 3.0),
        (6, 7, 3.0),  # 5, 6, 7: a component without an ID
    ]
    left, right, weight = (np.array(x) for x in zip(*pairs, strict=True))
    labels = cluster(anchor, left.astype(np.int64), right.astype(np.int64), weight)
    groups = {frozenset(np.flatnonzero(labels == x).tolist()) for x in np.unique(labels)}
    assert groups == {
        frozenset({0, 4}),
        frozenset({1, 2, 3}),
        frozenset({5, 6, 7}),
        frozenset({8}),
    }


@pytest.mark.parametrize("seed", range(4))
def test_cluster_invariants_on_random_graphs(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 120
    ids = [valid_id(f"510104{1950 + i}0101{100 + i:03d}") for i in range(15)]
    anchor_list = [ids[int(rng.integers(0, 15))] if rng.random() < 0.4 else None for _ in range(n)]
    m = 150
    left = rng.integers(0, n, m)
    right = rng.integers(0, n, m)
    keep = left != right
    left, right = left[keep].astype(np.int64), right[keep].astype(np.int64)
    weight = rng.permutation(len(left)).astype(np.float64)  # distinct weights
    labels = cluster(pa.array(anchor_list, pa.string()), left, right, weight)
    # one valid ID per person, one person per valid ID
    by_label: dict[int, set[str]] = {}
    for label, a in zip(labels.tolist(), anchor_list, strict=True):
        if a is not None:
            by_label.setdefault(label, set()).add(a)
    assert all(len(v) == 1 for v in by_label.values())
    for x, y in itertools.combinations(range(n), 2):
        if anchor_list[x] is not None and anchor_list[x] == anchor_list[y]:
            assert labels[x] == labels[y]
    # a record without an ID and a direct match to ID holders joins the best of them
    for r in range(n):
        if anchor_list[r] is not None:
            continue
        direct = [
            (w, o)
            for a, b, w in zip(left.tolist(), right.tolist(), weight.tolist(), strict=True)
            for s, o in ((a, b), (b, a))
            if s == r and anchor_list[o] is not None
        ]
        if direct:
            assert labels[r] == labels[max(direct)[1]]
    # persons without any ID: exactly the connected components of their records
    loose = [r for r in range(n) if labels[r] not in by_label]
    parent = {r: r for r in loose}

    def find(x: int) -> int:
        while parent[x] != x:
            x = parent[x]
        return x

    for a, b in zip(left.tolist(), right.tolist(), strict=True):
        if a in parent and b in parent:
            parent[find(a)] = find(b)
    for x, y in itertools.combinations(loose, 2):
        assert (labels[x] == labels[y]) == (find(x) == find(y))


def test_person_keys() -> None:
    anchor = pa.array([A, B, None, None, A, None, None, None, None])
    left = np.array([0, 1, 2, 5, 6], dtype=np.int64)
    right = np.array([2, 2, 3, 6, 7], dtype=np.int64)
    weight = np.array([5.0, 8.0, 4.0, 3.0, 3.0])
    labels = cluster(anchor, left, right, weight)
    anchors = pseudonymise(anchor, KEY, normalise="none")
    refs = pa.array([f"{DS}#姓名#{i}" for i in range(9)])
    keys = person_keys(labels, anchors, refs, KEY).to_pylist()
    pa_ = pseudonymise(pa.array([A]), KEY, normalise="none")[0].as_py()
    pb = pseudonymise(pa.array([B]), KEY, normalise="none")[0].as_py()
    assert keys[0] == keys[4] == pa_
    assert keys[1] == keys[2] == keys[3] == pb  # the records without an ID take B's key
    assert keys[5] == keys[6] == keys[7] != keys[8]
    for k in (keys[5], keys[8]):
        assert k.startswith("U") and len(k) == 33
    # the key of a person without an ID is its first record's reference, keyed
    assert keys[5] == pseudonymise(refs.slice(5, 1), KEY, normalise="none", prefix="U")[0].as_py()
    assert not pa_.startswith("U") and not pb.startswith("U")


# -- pairwise scores ----------------------------------------------------------------------------


def _pair_oracle(
    predicted: list[int], truth: list[int], flagged: list[bool] | None
) -> tuple[int, int, int]:
    tp = fp = fn = 0
    for i, j in itertools.combinations(range(len(truth)), 2):
        if flagged is not None and not (flagged[i] or flagged[j]):
            continue
        same_p, same_t = predicted[i] == predicted[j], truth[i] == truth[j]
        tp += same_p and same_t
        fp += same_p and not same_t
        fn += same_t and not same_p
    return tp, fp, fn


@pytest.mark.parametrize("seed", range(3))
def test_pairwise_scores_against_counting_pairs(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 150
    truth = rng.integers(0, 40, n)
    predicted = np.where(rng.random(n) < 0.8, truth, rng.integers(0, 60, n))
    flagged = rng.random(n) < 0.2
    for mask in (None, flagged):
        got = pairwise(predicted, truth, mask)
        tp, fp, fn = _pair_oracle(
            predicted.tolist(), truth.tolist(), None if mask is None else mask.tolist()
        )
        assert (got["tp"], got["fp"], got["fn"]) == (tp, fp, fn)
        assert got["precision"] == pytest.approx(tp / (tp + fp))
        assert got["recall"] == pytest.approx(tp / (tp + fn))
    scores = by_kind(predicted, truth, {"typo": flagged, "none": np.zeros(n, dtype=bool)})
    assert set(scores) == {"all", "typo", "no_error"}  # a kind nobody carries is left out
    assert scores["typo"]["records"] == flagged.sum()
    # "no_error": the pairs involving a record that carries none of the kinds
    clean = (~flagged).tolist()
    tp, fp, fn = _pair_oracle(predicted.tolist(), truth.tolist(), clean)
    assert (scores["no_error"]["tp"], scores["no_error"]["fp"]) == (tp, fp)
    assert scores["no_error"]["records"] == sum(clean)
    perfect = pairwise(truth, truth)
    assert perfect["f1"] == 1.0 and perfect["fp"] == perfect["fn"] == 0


# -- the demo city ------------------------------------------------------------------------------


@dataclass
class DemoLinks:
    truth: Path
    scores: dict[str, dict[str, dict[str, float]]]
    keys: dict[str, list[str]]
    anchored: list[bool]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoLinks]:
    """A small demo city, its person datasets ingested and classified, linked in both modes
    and scored against the ground truth (which the linkage never sees)."""
    from dizuo.demo.errors import ALL_KINDS
    from dizuo.demo.generate import generate_city
    from dizuo.demo.tour import register_departments, spec_for
    from dizuo.i18n import set_lang
    from dizuo.ingest import ingest
    from dizuo.link.run import _read
    from dizuo.workspace import Workspace

    with pytest.MonkeyPatch.context() as mp:
        set_lang(None)
        mp.setenv("DIZUO_LANG", "en")
        mp.delenv("DIZUO_HOME", raising=False)
        mp.delenv("DIZUO_DATABASE_URL", raising=False)
        manifest = generate_city(tmp_path_factory.mktemp("city"), scale=0.05, seed=20221)
        truth = Path(manifest.folder) / "truth"
        columns = pq.read_table(truth / "columns.parquet")
        named = set(
            columns.filter(pc.equal(columns.column("entity_type"), "person_name"))
            .column("dataset")
            .to_pylist()
        )
        ws = Workspace.init(tmp_path_factory.mktemp("ws") / "ws")
        try:
            register_departments(ws, manifest)
            items = [d for d in manifest.datasets if d.code in named]
            for item in items:
                ingest(ws, spec_for(manifest, item))
            inputs = [_read(ws, item.code) for item in items]
            tables = {i.ref: i.read(ws) for i in inputs}
        finally:
            ws.close()
        found = [(i, v) for i in inputs for v in persons.views(i.ref, i.classified)]
        frames = [attributes(tables[i.ref], v) for i, v in found]
        dataset = pa.array(
            [i.ref for (i, _), f in zip(found, frames, strict=True) for _ in range(f.num_rows)]
        )
        role = pa.array(
            [v.role for (_, v), f in zip(found, frames, strict=True) for _ in range(f.num_rows)]
        )
        row = pa.array([r for f in frames for r in range(f.num_rows)], pa.int64())
        refs = pc.binary_join_element_wise(dataset, role, pc.cast(row, pa.string()), "#")
        scores, keys = {}, {}
        anchored: list[bool] = []
        for mode in ("plain", "private"):
            result = persons.link_persons(frames, KEY, mode=mode)
            key = person_keys(result.labels, result.anchors, refs, KEY)
            index = pa.table({"dataset": dataset, "row": row, "role": role, "person_key": key})
            scores[mode] = against_truth(index, truth, ALL_KINDS)
            keys[mode] = key.to_pylist()
            anchored = pc.is_valid(result.anchors).to_pylist()
        yield DemoLinks(truth, scores, keys, anchored)


def test_demo_city_plain_linkage(demo: DemoLinks) -> None:
    overall = demo.scores["plain"]["all"]
    assert overall["tp"] + overall["fn"] > 1000  # the truth has many same-person pairs
    assert overall["f1"] >= 0.9, overall
    # the deterministic part is exact: records with a valid ID are never wrongly merged
    assert overall["precision"] >= 0.99, overall


def test_demo_city_private_linkage_is_within_two_f1_points(demo: DemoLinks) -> None:
    plain = demo.scores["plain"]["all"]["f1"]
    private = demo.scores["private"]["all"]["f1"]
    assert private >= plain - 0.02, (plain, private)
    assert private >= 0.9


def test_demo_city_id_holders_get_the_same_key_in_both_modes(demo: DemoLinks) -> None:
    both = [
        (p, q)
        for p, q, a in zip(demo.keys["plain"], demo.keys["private"], demo.anchored, strict=True)
        if a
    ]
    assert len(both) > 1000
    assert all(p == q and not p.startswith("U") for p, q in both)


def test_an_id_that_fails_its_check_still_gives_birth_date_and_sex() -> None:
    from dizuo.link.persons import View, attributes

    valid = "11010519491231002X"
    typo = valid[:16] + "3" + valid[17]  # the 17th digit changed: the check no longer fits
    table = pa.table({"姓名": ["张伟", "张伟", "张伟"], "身份证号": [valid, typo, "12345"]})
    out = attributes(table, View("t", "姓名", {"name": "姓名", "id": "身份证号"}))
    assert out.column("id_valid").to_pylist() == [valid, None, None]
    assert out.column("id").to_pylist() == [valid, typo, None]
    assert out.column("birth").to_pylist() == ["19491231", "19491231", None]
    assert out.column("sex").to_pylist() == ["F", "M", None]
