"""``dizuo link``: the person index, organisation index and person view in the shared zone."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from stdnum.cn import ric, uscc

from dizuo.catalog import service
from dizuo.catalog.models import Zone
from dizuo.errors import InvalidInput
from dizuo.lake.query import run_sql
from dizuo.link.run import ORG_INDEX, PERSON_INDEX, PERSON_VIEW, link_datasets
from dizuo.protect.crypto import derive_keys
from dizuo.protect.run import protect_version
from dizuo.protect.transforms import pseudonymise
from dizuo.workspace import Workspace
from tests.helpers import load, version_count, write

OUTPUTS = (PERSON_INDEX, ORG_INDEX, PERSON_VIEW)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰"
FULL_WIDTH = {ord(c): ord(c) + 0xFEE0 for c in "0123456789X"}


def valid_id(born: dt.date, seq: int) -> str:
    body = f"110105{born:%Y%m%d}{seq:03d}"
    number = body + ric.calc_check_digit(body + "?")  # stdnum skips the last character
    assert ric.is_valid(number)
    return number


def valid_uscc(i: int) -> str:
    org = f"{7000 + i:08d}"
    total = sum(int(c) * w for c, w in zip(org, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    check = 11 - total % 11
    body = f"91510104{org}" + ("X" if check == 10 else "0" if check == 11 else str(check))
    code = body + uscc.calc_check_digit(body)
    assert uscc.is_valid(code)
    return code


class City:
    """Seventy people: thirty students, their thirty guardians and ten others, in a student
    roll, a clinic's visits and a company register."""

    def __init__(self) -> None:
        rng = np.random.default_rng(6)
        used: set[str] = set()
        self.names: list[str] = []
        while len(self.names) < 70:
            name = SURNAMES[int(rng.integers(0, 20))] + "".join(
                GIVEN[int(k)] for k in rng.integers(0, len(GIVEN), int(rng.integers(1, 3)))
            )
            if name not in used:
                used.add(name)
                self.names.append(name)
        self.born = [
            dt.date(2008 if i < 30 else 1975, 1, 1) + dt.timedelta(days=int(rng.integers(0, 1500)))
            for i in range(70)
        ]
        self.sex = ["男" if rng.random() < 0.5 else "女" for _ in range(70)]
        self.ids = [
            valid_id(b, 100 + 2 * i + (1 if s == "男" else 0))
            for i, (b, s) in enumerate(zip(self.born, self.sex, strict=True))
        ]
        self.phones = [f"139{10_000_000 + 7919 * i:08d}" for i in range(70)]

    def students(self) -> str:
        lines = ["学号,姓名,性别,出生日期,身份证号,监护人姓名,监护人电话"]
        for i in range(30):
            g = 30 + i
            lines.append(
                f"S{i:04d},{self.names[i]},{self.sex[i]},{self.born[i]:%Y-%m-%d},{self.ids[i]},"
                f"{self.names[g]},{self.phones[g]}"
            )
        return "\n".join(lines) + "\n"

    def visits(self) -> str:
        """Students 0–14 and guardians 30–44 (with their own IDs), and ten others (60–69)."""
        lines = ["姓名,性别,身份证号,联系电话,诊断"]
        for i in [*range(15), *range(30, 45), *range(60, 70)]:
            pid = self.ids[i]
            if i == 3:
                pid = pid.translate(FULL_WIDTH)  # the same ID, full width
            lines.append(f"{self.names[i]},{self.sex[i]},{pid},{self.phones[i]},J06.9")
        return "\n".join(lines) + "\n"

    def companies(self) -> str:
        """Guardians 45–54 are legal representatives; the last code has a wrong check."""
        lines = ["企业名称,统一社会信用代码,法定代表人,联系电话"]
        for k, i in enumerate(range(45, 55)):
            code = valid_uscc(k)
            if k == 9:
                code = code[:-1] + ("0" if code[-1] != "0" else "1")
            lines.append(f"成都{self.names[i]}商贸有限公司,{code},{self.names[i]},{self.phones[i]}")
        return "\n".join(lines) + "\n"


CITY = City()
STATIONS = "站点名称,线路\n天府广场,1号线\n春熙路,2号线\n火车北站,1号线\n"


def add_city(ws: Workspace, folder: Path) -> None:
    load(ws, write(folder / "students.csv", CITY.students()), "students")
    load(ws, write(folder / "visits.csv", CITY.visits()), "visits", org="health")
    load(ws, write(folder / "companies.csv", CITY.companies()), "companies", org="market")


def index_rows(ws: Workspace, ref: str = PERSON_INDEX) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = run_sql(
        ws, f"SELECT * FROM {ref} ORDER BY dataset, role, row"
    ).to_pylist()
    return rows


def keys_by_record(rows: list[dict[str, object]]) -> dict[tuple[str, str, int], str]:
    return {
        (str(r["dataset"]).split("@")[0], str(r["role"]), int(r["row"])): str(r["person_key"])  # type: ignore[call-overload]
        for r in rows
    }


def test_link_commits_three_shared_outputs_with_lineage(ws: Workspace, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    add_city(ws, tmp_path)
    out = cli(ws, "link", "--datasets", "students,visits,companies", "--json")
    assert out.code == 0, out.err
    run = json.loads(out.out)
    assert run["created"] is True and run["mode"] == "plain"
    assert run["inputs"] == ["students@1", "visits@1", "companies@1"]
    assert run["outputs"] == {code: f"{code}@1" for code in OUTPUTS}
    assert [(v["dataset"], v["role"]) for v in run["views"]] == [
        ("students@1", "姓名"),
        ("students@1", "监护人姓名"),
        ("visits@1", "姓名"),
        ("companies@1", "法定代表人"),
    ]
    assert run["records"] == 30 + 30 + 40 + 10
    assert run["persons"] == 70
    assert run["organisations"] == 9  # the decoy code with a wrong check is not one
    assert set(run["expected"]) >= {"precision", "recall", "f1"}
    with ws.session() as s:
        for code in OUTPUTS:
            dataset = service.get_dataset(s, code)
            assert dataset.zone == Zone.shared.value
            version = service.get_version(s, dataset)
            assert version.operation == "link"
            parents = {(n.dataset, n.number) for n in service.lineage(s, version) if n.depth == -1}
            assert parents == {("students", 1), ("visits", 1), ("companies", 1)}
        index_version = service.get_version(s, service.get_dataset(s, PERSON_INDEX))
        assert index_version.params["mode"] == "plain"
        assert index_version.params["model"]["comparisons"]
    # the person index: pseudonymous keys only
    rows = index_rows(ws)
    assert len(rows) == run["records"]
    assert list(rows[0]) == [
        "dataset",
        "row",
        "role",
        "person_key",
        "linked_by",
        "match_weight",
        "person_records",
    ]
    secrets = set(CITY.names) | set(CITY.ids) | set(CITY.phones)
    secrets |= {i.translate(FULL_WIDTH) for i in CITY.ids}
    for code in OUTPUTS:
        for row in run_sql(ws, f"SELECT * FROM {code}").to_pylist():
            for value in row.values():
                text = str(value)
                assert not any(s in text for s in secrets if len(s) > 1), (code, row)
    # the same run again: nothing new
    again = cli(ws, "link", "--datasets", "students,visits,companies", "--json")
    assert again.code == 0, again.err
    second = json.loads(again.out)
    assert second["created"] is False and second["outputs"] == run["outputs"]
    assert (second["records"], second["persons"]) == (run["records"], run["persons"])
    assert second["linked_by"] == run["linked_by"]
    assert all(version_count(ws, code) == 1 for code in OUTPUTS)


def test_the_person_index_links_the_right_records(sqlite_ws: Workspace, tmp_path: Path) -> None:
    ws = sqlite_ws
    add_city(ws, tmp_path)
    run = link_datasets(ws, ["students", "visits", "companies"])
    keys = keys_by_record(index_rows(ws))
    secret = derive_keys(ws.secret_key()).pseudonym
    pseudonyms = pseudonymise(pa.array(CITY.ids), secret, normalise="none").to_pylist()
    visit_people = [*range(15), *range(30, 45), *range(60, 70)]
    for row, i in enumerate(visit_people):
        assert keys[("visits", "姓名", row)] == pseudonyms[i], row  # the ID's pseudonym
    for i in range(30):
        assert keys[("students", "姓名", i)] == pseudonyms[i]
    # guardians have no ID in the student roll: name and phone find the clinic's records
    for i in range(15):
        assert keys[("students", "监护人姓名", i)] == pseudonyms[30 + i], i
    # guardians 45–54 have no ID anywhere: one unanchored person with the company register's
    # legal representative; 55–59 are alone
    for k in range(10):
        key = keys[("companies", "法定代表人", k)]
        assert key.startswith("U") and key == keys[("students", "监护人姓名", 15 + k)], k
    alone = [keys[("students", "监护人姓名", i)] for i in range(25, 30)]
    assert all(k.startswith("U") for k in alone) and len(set(alone)) == 5
    index = {(str(r["dataset"]), str(r["role"]), int(r["row"])): r for r in index_rows(ws)}  # type: ignore[call-overload]
    guardian = index[("students@1", "监护人姓名", 0)]
    assert guardian["linked_by"] == "probabilistic" and guardian["match_weight"] is not None
    assert index[("visits@1", "姓名", 0)]["linked_by"] == "id"
    lonely = index[("visits@1", "姓名", 39)]  # person 69 appears once
    assert lonely["linked_by"] == "single" and lonely["person_records"] == 1
    # by ID: students 0–14 in both registries; probabilistic: guardians 30–44 (two records,
    # one ID) and 45–54 (no ID); single: students 15–29, guardians 55–59, ten other patients
    assert run.linked_by == {"id": 15 * 2, "probabilistic": 15 * 2 + 10 * 2, "single": 15 + 5 + 10}
    # the integrated view: one row per person, records per dataset
    view = run_sql(ws, f"SELECT * FROM {PERSON_VIEW} ORDER BY person_key").to_pylist()
    assert len(view) == run.persons == 70
    assert set(view[0]) == {"person_key", "records", "datasets", "students", "visits", "companies"}
    first = next(v for v in view if v["person_key"] == pseudonyms[0])
    assert (first["students"], first["visits"], first["companies"], first["datasets"]) == (
        1,
        1,
        0,
        2,
    )
    rep = next(v for v in view if v["person_key"] == keys[("companies", "法定代表人", 0)])
    assert (rep["students"], rep["visits"], rep["companies"]) == (1, 0, 1)
    orgs = run_sql(ws, f"SELECT * FROM {ORG_INDEX} ORDER BY row").to_pylist()
    assert [o["uscc"] for o in orgs] == [valid_uscc(k) for k in range(9)]
    assert {o["column"] for o in orgs} == {"统一社会信用代码"}


def test_person_keys_join_the_protected_id_column(sqlite_ws: Workspace, tmp_path: Path) -> None:
    ws = sqlite_ws
    add_city(ws, tmp_path)
    link_datasets(ws, ["students", "visits"])
    recipe = write(tmp_path / "r.yaml", "fields:\n  身份证号: {transform: pseudonymise}\n")
    protect_version(ws, "visits", recipe)
    joined = run_sql(
        ws,
        f"SELECT count(*) AS n FROM visits_shared v JOIN {PERSON_INDEX} i "
        "ON i.dataset = 'visits@1' AND i.person_key = v.身份证号",
    ).to_pylist()
    # every visit's ID pseudonym (full-width one included) is its person's key
    assert joined == [{"n": 40}]


def test_private_mode_and_one_to_one(sqlite_ws: Workspace, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    ws = sqlite_ws
    add_city(ws, tmp_path)
    plain = link_datasets(ws, ["students", "visits", "companies"])
    plain_keys = keys_by_record(index_rows(ws))
    out = cli(ws, "link", "--datasets", "students,visits,companies", "--mode", "private")
    assert out.code == 0, out.err
    assert "110 records → 70 persons (private mode, wrote)" in out.out
    assert f"{PERSON_INDEX}@2" in out.out
    private_keys = keys_by_record(index_rows(ws))
    assert private_keys == plain_keys  # the same people, the same keys
    with ws.session() as s:
        version = service.get_version(s, service.get_dataset(s, PERSON_INDEX))
        assert version.params["mode"] == "private" and version.number == 2
    again = link_datasets(ws, ["students", "visits", "companies"], mode="private")
    assert not again.created and again.persons == plain.persons
    one = cli(ws, "link", "--datasets", "students,visits,companies", "--one-to-one", "--json")
    assert one.code == 0, one.err
    result = json.loads(one.out)
    assert result["created"] is True and result["outputs"][PERSON_INDEX] == f"{PERSON_INDEX}@3"
    assert result["persons"] == 70


def test_a_new_input_version_gives_a_new_index(sqlite_ws: Workspace, tmp_path: Path) -> None:
    ws = sqlite_ws
    add_city(ws, tmp_path)
    first = link_datasets(ws, ["students", "visits"])
    assert first.outputs[PERSON_INDEX] == f"{PERSON_INDEX}@1"
    more = CITY.visits() + f"{CITY.names[20]},{CITY.sex[20]},{CITY.ids[20]},{CITY.phones[20]},I10\n"
    load(ws, write(tmp_path / "visits2.csv", more), "visits", org="health")
    second = link_datasets(ws, ["students", "visits"])
    assert second.created and second.outputs[PERSON_INDEX] == f"{PERSON_INDEX}@2"
    assert second.inputs == ["students@1", "visits@2"] and second.records == first.records + 1
    with ws.session() as s:
        version = service.get_version(s, service.get_dataset(s, PERSON_INDEX), 2)
        parents = {(n.dataset, n.number) for n in service.lineage(s, version) if n.depth == -1}
    assert parents == {("students", 1), ("visits", 2)}
    # a pinned version is read as it was
    pinned = link_datasets(ws, ["students@1", "visits@1"])
    assert pinned.inputs == ["students@1", "visits@1"] and pinned.records == first.records


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--datasets", "students,nope"), "no dataset nope"),
        (("--datasets", "students", "--mode", "bogus"), "plain or private: bogus"),
        (("--datasets", ""), "no dataset given"),
        (("--datasets", " , "), "no dataset given"),
        (("--datasets", "stations"), "none of these datasets has a name column"),
        (("--datasets", "students,students"), "named twice"),
        (("--datasets", "students@x"), "must be an integer: students@x"),
        (("--datasets", "students@9"), "no version 9"),
    ],
)
def test_link_errors_are_one_line(  # type: ignore[no-untyped-def]
    sqlite_ws: Workspace, tmp_path: Path, cli, args: tuple[str, ...], says: str
) -> None:
    ws = sqlite_ws
    load(ws, write(tmp_path / "students.csv", CITY.students()), "students")
    load(ws, write(tmp_path / "stations.csv", STATIONS), "stations", org="transit")
    r = cli(ws, "link", *args)
    assert r.code != 0
    lines = [line for line in r.err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), r.err
    assert says in lines[0], r.err
    assert "Traceback" not in r.err + r.out
    with ws.session() as s:
        assert service.find_dataset(s, PERSON_INDEX) is None


def test_a_raw_dataset_is_never_an_output(sqlite_ws: Workspace, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    ws = sqlite_ws
    load(ws, write(tmp_path / "students.csv", CITY.students()), "students")
    load(ws, write(tmp_path / "x.csv", STATIONS), PERSON_VIEW, org="transit")
    r = cli(ws, "link", "--datasets", "students")
    assert r.code != 0 and "Traceback" not in r.err
    assert PERSON_VIEW in r.err and "raw-zone" in r.err
    with pytest.raises(InvalidInput, match=PERSON_VIEW):
        link_datasets(ws, ["students"])
    with ws.session() as s:  # nothing half-written: not even the outputs checked before it
        assert service.find_dataset(s, PERSON_INDEX) is None
        assert service.find_dataset(s, ORG_INDEX) is None
    assert version_count(ws, PERSON_VIEW) == 1


def test_the_link_hint_names_its_own_options(sqlite_ws: Workspace, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    ws = sqlite_ws
    load(ws, write(tmp_path / "students.csv", CITY.students()), "students")
    load(ws, write(tmp_path / "x.csv", STATIONS), PERSON_INDEX, org="transit")
    r = cli(ws, "link", "--datasets", "students")
    assert r.code != 0 and PERSON_INDEX in r.err
    if "--to" in r.err:
        assert cli(ws, "link", "--help").out.count("--to") > 0


def _two_visit_versions(ws: Workspace, folder: Path) -> None:
    load(ws, write(folder / "visits.csv", CITY.visits()), "visits", org="health")
    more = CITY.visits() + f"{CITY.names[20]},{CITY.sex[20]},{CITY.ids[20]},{CITY.phones[20]},I10\n"
    load(ws, write(folder / "visits2.csv", more), "visits", org="health")


def _clean_outcome(ws: Workspace, r) -> None:  # type: ignore[no-untyped-def]
    """Either a run or one error line; the three outputs all written or none."""
    if r.code != 0:
        lines = [line for line in r.err.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error:"), r.err
    assert len({version_count(ws, code) for code in OUTPUTS}) == 1


def test_the_same_version_named_twice(sqlite_ws: Workspace, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    _two_visit_versions(sqlite_ws, tmp_path)
    _clean_outcome(sqlite_ws, cli(sqlite_ws, "link", "--datasets", "visits,visits@2"))


def test_two_versions_of_one_dataset(sqlite_ws: Workspace, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    _two_visit_versions(sqlite_ws, tmp_path)
    _clean_outcome(sqlite_ws, cli(sqlite_ws, "link", "--datasets", "visits@1,visits@2"))
