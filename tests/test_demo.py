"""`dizuo demo`: the city generated, ingested and listed, as `make run` does it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from dizuo.demo.manifest import CityManifest


def dizuo(*args: str, home: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DIZUO_LANG="en")
    if home is not None:
        env["DIZUO_HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-m", "dizuo.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_demo_then_datasets_list(tmp_path: Path) -> None:
    home = tmp_path / "demo"
    run = dizuo("demo", "--home", str(home), "--no-serve")
    assert run.returncode == 0, run.stderr
    assert "Try these" in run.stdout and f"DIZUO_HOME={home}" in run.stdout
    manifest = CityManifest.read(next((home / "city").iterdir()))
    listed = dizuo("datasets", "list", "--json", home=home)
    assert listed.returncode == 0, listed.stderr
    rows = {d["code"]: d for d in json.loads(listed.stdout)}
    raw = {d.code for d in manifest.datasets}
    shared = set(rows) - raw
    assert raw <= set(rows)
    # every personal dataset is protected into the shared zone; the statistics are not; the
    # linkage adds the person index, the organisation index and the integrated view
    linked = {"link_person_index", "link_org_index", "link_person_view"}
    assert linked <= shared
    protected = shared - linked
    assert protected and all(code.removesuffix("_shared") in raw for code in protected)
    assert all(rows[code]["rows"] > 0 for code in linked)
    assert "edu_student_roll_shared" in shared and "stats_digital_economy_shared" not in shared
    for item in manifest.datasets:
        assert rows[item.code]["rows"] == item.rows, item.code
        assert rows[item.code]["name"] == item.name
        assert rows[item.code]["version"] == 1
    # a second run finds everything unchanged: no new versions
    again = dizuo("demo", "--home", str(home), "--no-serve")
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("no new version") == len(manifest.datasets)
    relisted = {
        d["code"]: d for d in json.loads(dizuo("datasets", "list", "--json", home=home).stdout)
    }
    assert all(relisted[code]["version"] == 1 for code in shared)  # protect is idempotent too
    sql = dizuo(
        "sql", f"select count(*) as n from {manifest.datasets[0].code}", "--json", home=home
    )
    assert json.loads(sql.stdout) == [{"n": manifest.datasets[0].rows}]
