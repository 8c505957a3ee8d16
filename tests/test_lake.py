"""The lake: snapshots per version, append without rewriting, time travel, identical content,
expiry, and crash safety (an error or a killed process leaves no partial version)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dizuo.catalog import service
from dizuo.lake.maintenance import expire_versions
from dizuo.lake.query import run_sql
from dizuo.workspace import Workspace
from tests.helpers import add_org, load, version_count, write


def count(ws: Workspace, ref: str) -> int:
    return int(run_sql(ws, f"select count(*) as n from {ref}").column("n")[0].as_py())


def files_of(ws: Workspace, code: str, number: int) -> set[str]:
    with ws.session() as s:
        version = service.get_version(s, service.get_dataset(s, code), number)
    return set(ws.lake.files(version.table_ident, version.snapshot_id))


def test_replace_append_and_time_travel(ws: Workspace, tmp_path: Path) -> None:
    load(ws, write(tmp_path / "a.csv", "id,v\n1,a\n2,b\n"), "t")
    load(ws, write(tmp_path / "b.csv", "id,v\n3,c\n"), "t", mode="append")
    load(ws, write(tmp_path / "c.csv", "id,v\n9,z\n"), "t")  # replace
    assert count(ws, "t@1") == 2
    assert count(ws, "t@2") == 3
    assert count(ws, "t@3") == 1
    assert count(ws, "t") == 1
    # the append added one file and kept the first untouched
    assert files_of(ws, "t", 1) < files_of(ws, "t", 2)
    assert len(files_of(ws, "t", 2) - files_of(ws, "t", 1)) == 1
    assert files_of(ws, "t", 3).isdisjoint(files_of(ws, "t", 2))
    rows = run_sql(ws, "select id from t@2 order by id").column("id").to_pylist()
    assert rows == [1, 2, 3]


def test_identical_content_creates_no_version(ws: Workspace, tmp_path: Path) -> None:
    first = load(ws, write(tmp_path / "a.csv", "id,v\n1,a\n2,b\n"), "t")
    assert first.created and first.version == 1
    again = load(ws, tmp_path / "a.csv", "t")
    assert not again.created and again.version == 1
    assert "identical to version 1" in again.message
    # identity is the source's bytes and the options it was read with
    write(tmp_path / "copy.csv", "id,v\n1,a\n2,b\n")
    assert not load(ws, tmp_path / "copy.csv", "t").created  # another name, same bytes
    write(tmp_path / "b.csv", "id,v\n2,b\n1,a\n", "gbk")
    changed = load(ws, tmp_path / "b.csv", "t")
    assert changed.created and changed.version == 2
    assert not load(ws, tmp_path / "b.csv", "t").created
    # the same chunk appended twice is refused the second time
    write(tmp_path / "c.csv", "id,v\n3,c\n")
    assert load(ws, tmp_path / "c.csv", "t", mode="append").created
    repeat = load(ws, tmp_path / "c.csv", "t", mode="append")
    assert not repeat.created and "already appended in version 3" in repeat.message
    assert version_count(ws, "t") == 3


def test_append_with_another_structure_is_refused(ws: Workspace, tmp_path: Path) -> None:
    from dizuo.errors import InvalidInput

    load(ws, write(tmp_path / "a.csv", "id,v\n1,a\n"), "t")
    with pytest.raises(InvalidInput, match="added w"):
        load(ws, write(tmp_path / "b.csv", "id,v,w\n1,a,x\n"), "t", mode="append")
    assert version_count(ws, "t") == 1


def test_expire_keeps_the_newest_and_deletes_old_files(ws: Workspace, tmp_path: Path) -> None:
    for i in range(3):
        load(ws, write(tmp_path / f"{i}.csv", f"id\n{i}\n"), "t")
    old = files_of(ws, "t", 1) | files_of(ws, "t", 2)
    report = expire_versions(ws, "t", keep=1)
    assert report[0]["expired_versions"] == [1, 2]
    assert all(not Path(f).exists() for f in old)
    assert count(ws, "t") == 1
    from dizuo.errors import NotFound

    with pytest.raises(NotFound, match="expired"):
        run_sql(ws, "select * from t@1")
    with ws.session() as s:  # the history stays in the catalog
        assert [v.expired for v in service.list_versions(s, service.get_dataset(s, "t"))] == [
            True,
            True,
            False,
        ]
    assert expire_versions(ws, "t", keep=1) == []


def test_failure_after_the_lake_commit_leaves_no_version(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process dies between the Iceberg commit and the catalog row: nothing is visible,
    and the next ingest builds on the last recorded version, not on the orphan snapshot."""
    load(ws, write(tmp_path / "a.csv", "id\n1\n2\n"), "t")

    def crash(*args: object, **kwargs: object) -> None:
        raise SystemExit("killed")

    monkeypatch.setattr(service, "record_version", crash)
    with pytest.raises(SystemExit):
        load(ws, write(tmp_path / "b.csv", "id\n3\n"), "t", mode="append")
    monkeypatch.undo()
    assert version_count(ws, "t") == 1
    assert count(ws, "t") == 2
    load(ws, write(tmp_path / "c.csv", "id\n4\n"), "t", mode="append")
    assert sorted(run_sql(ws, "select id from t").column("id").to_pylist()) == [1, 2, 4]
    report = expire_versions(ws, "t", keep=2)
    assert report and report[0]["files_deleted"] == 1  # the orphan file of the crashed run


def test_killed_ingest_leaves_previous_version_readable(tmp_path: Path) -> None:
    """kill -9 an ingest of a large file mid-way: no version, no damage, clean retry."""
    ws = Workspace.init(tmp_path / "w")
    add_org(ws)
    load(ws, write(tmp_path / "small.csv", "id,name\n1,a\n"), "t")
    big = tmp_path / "big.csv"
    import duckdb

    duckdb.sql(
        f"COPY (SELECT range AS id, 'name_' || range AS name FROM range(6000000)) "
        f"TO '{big}' (HEADER)"
    )
    env = dict(os.environ, DIZUO_HOME=str(ws.home), DIZUO_LANG="en")
    proc = subprocess.Popen(
        [sys.executable, "-m", "dizuo.cli.main", "ingest", str(big), "-d", "t"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.time() + 60
    while time.time() < deadline and not any((ws.home / "tmp").glob("stage-*/data/*")):
        time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert version_count(ws, "t") == 1
    assert count(ws, "t") == 1
    assert any((ws.home / "tmp").glob("stage-*"))  # the killed run's leftovers …
    ws.lake.clean_tmp()
    assert not any((ws.home / "tmp").glob("stage-*"))  # … are cleaned up
    result = load(ws, big, "t")
    assert result.created and result.rows == 6_000_000
    ws.close()
