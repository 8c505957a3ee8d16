"""Classification results in the catalog (SQLite and PostgreSQL), and overrides that survive
re-classification of a new version."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from stdnum.cn import ric

from dizuo.catalog.models import ColumnClassification, DatasetClassification
from dizuo.classify.run import classify_version
from dizuo.classify.store import add_override
from dizuo.errors import InvalidInput, NotFound, PolicyViolation
from dizuo.workspace import Workspace
from tests.helpers import load, write


def people(tmp_path: Path, name: str, n: int = 40) -> Path:
    rows = []
    for i in range(n):
        body = f"51010419{90 + i % 10:02d}0{1 + i % 9}{10 + i % 18:02d}{100 + i:03d}"
        pid = body + ric.calc_check_digit(body + "0")
        rows.append(f"{['张伟', '王芳', '李娜', '刘洋'][i % 4]},{pid},1390000{i:04d},备注{i}\n")
    return write(tmp_path / name, "姓名,证件号,电话,remark\n" + "".join(rows))


def stored(ws: Workspace, code: str, number: int) -> dict[str, ColumnClassification]:
    from dizuo.catalog import service

    with ws.session() as s:
        version = service.get_version(s, service.get_dataset(s, code), number)
        rows = s.scalars(
            sa.select(ColumnClassification).where(ColumnClassification.version_id == version.id)
        )
        return {r.column: r for r in rows}


def grade_of(ws: Workspace, code: str, number: int) -> DatasetClassification:
    from dizuo.catalog import service

    with ws.session() as s:
        version = service.get_version(s, service.get_dataset(s, code), number)
        found = s.get(DatasetClassification, version.id)
        assert found is not None
        return found


def test_results_are_stored_and_overrides_survive_a_new_version(
    ws: Workspace, tmp_path: Path
) -> None:
    load(ws, people(tmp_path, "v1.csv"), "p")
    classify_version(ws, "p", save=True)
    first = stored(ws, "p", 1)
    assert first["证件号"].entity == "resident_id" and first["证件号"].sensitive
    assert first["remark"].pi is False
    assert grade_of(ws, "p", 1).grade == "一般数据"

    add_override(ws, "p", "remark", reason="备注含就诊信息", pi=True, sensitive=True)
    add_override(ws, "p", "", reason="涉及全市人口", grade="重要数据")
    classify_version(ws, "p", save=True)  # the same version again: replaced, not duplicated
    again = stored(ws, "p", 1)
    assert len(again) == 4 and again["remark"].sensitive and again["remark"].override_id
    assert grade_of(ws, "p", 1).grade == "重要数据"

    load(ws, people(tmp_path, "v2.csv", 60), "p")  # a new version
    classify_version(ws, "p", save=True)
    second = stored(ws, "p", 2)
    assert second["remark"].sensitive  # the review outlives the version
    assert any("备注含就诊信息" in r for r in second["remark"].reasons)
    assert grade_of(ws, "p", 2).grade == "重要数据"
    assert second["证件号"].entity == "resident_id"  # other columns keep the classifier's word

    add_override(ws, "p", "remark", reason="复核后确认无个人信息", pi=False, sensitive=False)
    classify_version(ws, "p", save=True)
    assert not stored(ws, "p", 2)["remark"].pi  # the newest review replaces the older one


def test_broken_overrides(ws: Workspace, tmp_path: Path) -> None:
    load(ws, people(tmp_path, "v1.csv"), "p")
    with pytest.raises(InvalidInput, match="has no column"):
        add_override(ws, "p", "nope", reason="x", pi=True)
    with pytest.raises(InvalidInput, match="say why"):
        add_override(ws, "p", "姓名", reason=" ", pi=True)
    with pytest.raises(InvalidInput, match="unknown entity"):
        add_override(ws, "p", "姓名", reason="x", entity="shoe_size")
    with pytest.raises(InvalidInput, match="the grade must be"):
        add_override(ws, "p", "", reason="x", grade="很重要")
    with pytest.raises(PolicyViolation):
        add_override(ws, "p", "姓名", reason="x", grade="重要数据")
    with pytest.raises(InvalidInput, match="at least"):
        add_override(ws, "p", "姓名", reason="x")
    with pytest.raises(NotFound):
        add_override(ws, "nope", "姓名", reason="x", pi=True)


def test_override_from_the_cli(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    home = tmp_path / "w"
    assert cli(None, "init", str(home)).code == 0
    assert cli(home, "org", "add", "o", "机构").code == 0
    assert cli(home, "ingest", str(people(tmp_path, "a.csv")), "-d", "p", "--org", "o").code == 0
    r = cli(home, "override", "p", "remark", "--sensitive", "--reason", "含病情")
    assert r.code == 0, r.err
    import json

    report = json.loads(cli(home, "classify", "p", "--json").out)
    remark = next(c for c in report["columns"] if c["name"] == "remark")
    assert remark["sensitive"] is True
    r = cli(home, "override", "p", "remark", "--reason", "")
    assert r.code != 0 and len(r.err.strip().splitlines()) == 1
