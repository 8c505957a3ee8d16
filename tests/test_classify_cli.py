"""`dizuo classify` and `dizuo scan-text` as a user meets them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from stdnum.cn import ric

from tests.helpers import write


def valid_ids(n: int) -> list[str]:
    out = []
    for i in range(n):
        body = f"51010719{90 + i % 10:02d}0{1 + i % 9}{10 + i % 18:02d}{100 + i:03d}"
        out.append(body + ric.calc_check_digit(body + "0"))  # it ignores the last character
    return out


@pytest.fixture
def people_csv(tmp_path: Path) -> Path:
    ids = valid_ids(60)
    rows = "".join(
        f"{name},{pid},139{i:08d},{'男' if i % 2 else '女'},{20180001 + i}\n"
        for i, (name, pid) in enumerate(
            zip(["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊"] * 10, ids, strict=True)
        )
    )
    return write(tmp_path / "people.csv", "xm,col_2,lxdh,xb,ddh\n" + rows, "gbk")


def test_classify_a_file_without_a_workspace(people_csv: Path, cli) -> None:  # type: ignore[no-untyped-def]
    r = cli(None, "classify", str(people_csv), "--json")
    assert r.code == 0, r.err
    report = json.loads(r.out)
    entities = {c["name"]: c["entity"] for c in report["columns"]}
    assert entities == {
        "xm": "person_name",
        "col_2": "resident_id",  # an obscure name: decided by the values
        "lxdh": "mobile_phone",
        "xb": "gender",
        "ddh": None,  # order numbers are not phones or IDs
    }
    assert report["rows"] == 60 and report["sampled_rows"] is None
    by_name = {c["name"]: c for c in report["columns"]}
    assert by_name["col_2"]["pi"] and by_name["col_2"]["sensitive"]  # ID numbers: PIPL art. 28
    assert by_name["xm"]["pi"] and not by_name["xm"]["sensitive"]  # adults' names
    assert by_name["ddh"]["pi"] is False
    assert report["grade"] == "一般数据" and report["minors"] is False


def test_classify_a_catalogued_dataset(people_csv: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    home = tmp_path / "w"
    assert cli(None, "init", str(home)).code == 0
    assert cli(home, "org", "add", "o", "机构").code == 0
    assert cli(home, "ingest", str(people_csv), "-d", "people", "--org", "o").code == 0
    r = cli(home, "classify", "people@1", "--full", "--json")
    assert r.code == 0, r.err
    report = json.loads(r.out)
    assert report["target"] == "people@1"
    assert {c["name"]: c["entity"] for c in report["columns"]}["col_2"] == "resident_id"
    human = cli(home, "--lang", "en", "classify", "people")
    assert "resident ID" in human.out or "resident_id" in human.out


def test_scan_text(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    pid = valid_ids(1)[0]
    text = f"患者张三，身份证号{pid}，电话１３８００１３８０００，住成都市武侯区人民南路四段12号"
    r = cli(None, "scan-text", text, "--json")
    assert r.code == 0, r.err
    spans = json.loads(r.out)
    kinds = {s["entity"]: text[s["start"] : s["end"]] for s in spans}
    assert kinds["person_name"] == "张三"
    assert kinds["resident_id"] == pid
    assert kinds["mobile_phone"] == "１３８００１３８０００"
    assert kinds["address"].startswith("成都市武侯区")
    notes = write(tmp_path / "notes.txt", "无个人信息\n联系人王芳，电话13912345678\n")
    r = cli(None, "scan-text", "--file", str(notes), "--json")
    assert [s["line"] for s in json.loads(r.out)] == [2, 2]


@pytest.mark.parametrize(
    "args",
    [
        ("classify", "no_such_dataset_or_file"),
        ("classify", "missing.csv"),
        ("scan-text",),
        ("scan-text", "x", "--file", "y.txt"),
        ("scan-text", "--file", "missing.txt"),
        ("classify", "x.csv", "--sample", "0"),
    ],
)
def test_classify_errors_are_one_line(tmp_path: Path, cli, monkeypatch, args) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    if args[1:2] == ("x.csv",):
        write(tmp_path / "x.csv", "a\n1\n")
    bad = write(tmp_path / "bad.txt", "")
    bad.write_bytes(b"\xff\xfe\x00")
    r = cli(None, *args)
    assert r.code != 0
    lines = [line for line in r.err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), r.err


def test_a_broken_policy_file_is_one_error(people_csv: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    policy = write(tmp_path / "policy.yaml", "entities: [unclosed\n")
    r = cli(None, "classify", str(people_csv), "--policy", str(policy))
    assert r.code != 0
    lines = [line for line in r.err.splitlines() if line.strip()]
    assert len(lines) == 1 and "policy.yaml" in lines[0], r.err


def test_free_text_is_judged_by_what_it_mentions(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    ids = valid_ids(30)
    rows = "".join(
        f"{i},市民反映：噪音扰民，已处理。\n" if i % 2 else f"{i},患者王芳，身份证号{pid}，复诊。\n"
        for i, pid in enumerate(ids)
    )
    path = write(tmp_path / "notes.csv", "id,备注\n" + rows)
    report = json.loads(cli(None, "classify", str(path), "--json").out)
    note = next(c for c in report["columns"] if c["name"] == "备注")
    assert note["free_text"] and note["pi"] and note["sensitive"]
    assert any("resident ID" in r for r in note["reasons"])
    quiet = write(
        tmp_path / "quiet.csv",
        "id,备注\n" + "".join(f"{i},设备运行正常，无异常。\n" for i in range(30)),
    )
    plain = json.loads(cli(None, "classify", str(quiet), "--json").out)
    assert next(c for c in plain["columns"] if c["name"] == "备注")["pi"] is False
