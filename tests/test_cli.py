"""The CLI as a user meets it: every command, --json for programs, Chinese by default."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dizuo.workspace import Workspace
from tests.helpers import write


@pytest.fixture
def home(tmp_path: Path, cli) -> Path:  # type: ignore[no-untyped-def]
    home = tmp_path / "w"
    assert cli(None, "init", str(home)).code == 0
    assert cli(home, "org", "add", "edu", "市教育局").code == 0
    return home


def test_a_tour_through_every_command(home: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    src = write(tmp_path / "学生.csv", "姓名,年龄\n张三,12\n李四,13\n", "gbk")
    r = cli(
        home,
        "ingest",
        src,
        "-d",
        "edu_students",
        "--org",
        "edu",
        "--name",
        "学生学籍信息",
        "--category",
        "教育",
        "--keywords",
        "学籍,学生",
        "--share",
        "有条件共享",
        "--share-condition",
        "教育统计",
        "--json",
    )
    assert r.code == 0, r.err
    result = json.loads(r.out)
    assert result["created"] and result["version"] == 1 and result["rows"] == 2

    r = cli(home, "datasets", "list", "--json")
    [ds] = json.loads(r.out)
    assert ds["code"] == "edu_students" and ds["name"] == "学生学籍信息" and ds["version"] == 1

    r = cli(home, "datasets", "show", "edu_students", "--json")
    shown = json.loads(r.out)
    assert [f["name"] for f in shown["fields"]] == ["姓名", "年龄"]
    assert shown["keywords"] == ["学籍", "学生"]

    r = cli(
        home, "datasets", "update", "edu_students", "--summary", "全市学生", "--open", "有条件开放"
    )
    assert r.code == 0, r.err

    write(tmp_path / "more.csv", "姓名,年龄\n王五,14\n")
    assert (
        cli(home, "ingest", tmp_path / "more.csv", "-d", "edu_students", "--mode", "append").code
        == 0
    )

    versions = json.loads(cli(home, "versions", "edu_students", "--json").out)
    assert [(v["version"], v["operation"], v["rows"]) for v in versions] == [
        (1, "ingest", 2),
        (2, "append", 3),
    ]
    lineage = json.loads(cli(home, "lineage", "edu_students@2", "--json").out)
    assert lineage["ancestors"][0]["number"] == 1

    rows = json.loads(cli(home, "sql", "select count(*) as n from edu_students@1", "--json").out)
    assert rows == [{"n": 2}]

    hits = json.loads(cli(home, "search", "学生", "--json").out)
    assert [h["code"] for h in hits] == ["edu_students"]

    dcat = json.loads(cli(home, "export").out)
    assert dcat["dcat:dataset"][0]["dct:description"]["@value"] == "全市学生"
    r = cli(home, "export", "--format", "csv", "--out", tmp_path / "c.csv")
    assert r.code == 0 and (tmp_path / "c.csv").read_text("utf-8-sig").startswith("信息资源代码")
    assert cli(home, "export", "--format", "xlsx", "--out", tmp_path / "c.xlsx").code == 0

    expired = json.loads(cli(home, "lake", "expire", "--json").out)
    assert expired[0]["expired_versions"] == [1]
    assert cli(home, "org", "list", "--json").out.count("市教育局") == 1


def test_human_output_is_chinese_by_default(home: Path, tmp_path: Path, cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DIZUO_LANG", "zh")
    src = write(tmp_path / "a.csv", "a\n1\n")
    r = cli(home, "ingest", src, "-d", "a", "--org", "edu")
    assert "已创建 a@1" in r.out
    r = cli(home, "datasets", "show", "nope")
    assert r.code != 0 and "没有数据集 nope" in r.err
    r = cli(home, "--lang", "en", "datasets", "show", "nope")
    assert "no dataset nope" in r.err


def test_help_speaks_both_languages(tmp_path: Path) -> None:
    env = dict(os.environ, DIZUO_LANG="zh")
    zh = subprocess.run(
        [sys.executable, "-m", "dizuo.cli.main", "--help"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "城市公共数据底座" in zh.stdout
    en = subprocess.run(
        [sys.executable, "-m", "dizuo.cli.main", "--lang", "en", "ingest", "--help"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Ingest a file or database table" in en.stdout


def test_user_errors_are_one_line_without_traceback(home: Path, cli) -> None:  # type: ignore[no-untyped-def]
    cases = [
        ("ingest", "missing.csv", "-d", "x", "--org", "edu"),
        ("ingest", "missing.csv", "-d", "bad code!", "--org", "edu"),
        ("sql", "select * from nope"),
        ("sql", "select from where"),
        ("sql", "drop table x"),
        ("lineage", "x@y"),
        ("export", "--format", "pdf"),
        ("org", "add", "edu", "again"),
        ("ingest", "x.csv", "-d", "x", "--mode", "merge"),
    ]
    for args in cases:
        r = cli(home, *args)
        assert r.code != 0, args
        lines = [line for line in r.err.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error:"), (args, r.err)
        assert "Traceback" not in r.err + r.out


def test_commands_without_a_workspace_say_so(tmp_path: Path, cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    r = cli(None, "datasets", "list")
    assert r.code != 0 and "not a dizuo workspace" in r.err and "dizuo init" in r.err


def test_init_on_postgres_through_the_environment(
    tmp_path: Path, cli, monkeypatch, pg_schema_url: str
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DIZUO_DATABASE_URL", pg_schema_url)
    r = cli(None, "init", str(tmp_path / "pg"), "--json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["database"].startswith("postgresql")
    ws = Workspace.open(tmp_path / "pg")
    assert ws.db.dialect.name == "postgresql"
    ws.close()
