"""`dizuo demo`: the city generated, ingested and listed, as `make run` does it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
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

    # the share stage: one account per role, the protected datasets published, one grant
    assert "Demo accounts" in run.stdout
    accounts_file = home / "demo-accounts.json"
    assert accounts_file.stat().st_mode & 0o777 == 0o600
    passwords = json.loads(accounts_file.read_text("utf-8"))
    users = json.loads(dizuo("user", "list", "--json", home=home).stdout)
    assert {r for u in users for r in u["roles"]} == {
        "admin",
        "operator",
        "consumer",
        "auditor",
        "provider",
    }
    assert set(passwords) == {u["username"] for u in users}
    assert dizuo("audit", "verify", home=home).returncode == 0

    # without --no-serve the demo ends with the service running
    import httpx2

    from tests.api_support import free_port

    port = free_port()
    env = dict(os.environ, DIZUO_LANG="en")
    server = subprocess.Popen(
        [sys.executable, "-m", "dizuo.cli.main", "demo", "--home", str(home), "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx2.get(base + "/health", timeout=2).status_code == 200:
                    break
            except httpx2.HTTPError:
                pass
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            assert time.monotonic() < deadline, "the demo's server did not start"
            time.sleep(0.5)
        login = httpx2.post(
            base + "/api/v1/auth/login",
            json={"username": "researcher", "password": passwords["researcher"]},
        )
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['token']}"}
        products = httpx2.get(base + "/api/v1/products", headers=headers).json()
        assert products["page"]["total"] >= 1
        grants = httpx2.get(base + "/api/v1/grants", headers=headers).json()["items"]
        assert len(grants) == 1
        page = httpx2.post(
            base + f"/api/v1/grants/{grants[0]['id']}/query", json={"limit": 3}, headers=headers
        )
        assert page.status_code == 200 and len(page.json()["rows"]) == 3
    finally:
        server.terminate()
        server.wait(timeout=30)
