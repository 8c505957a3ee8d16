"""What a review of the data service asked for: engine errors never quote data and still
cost a call, bodies are bounded and uploads authenticated before they are received, recipes
sent over the API cannot read server files, unexpected errors log no message, an expired
version is refused, and an expired grant is not listed as active."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from dizuo.auth.service import utcnow
from dizuo.share.models import Grant
from dizuo.workspace import Workspace
from tests.api_support import Api, build_world, error, ok, serve


@pytest.fixture
def world(sqlite_ws: Workspace, tmp_path: Path):  # type: ignore[no-untyped-def]
    return build_world(sqlite_ws, tmp_path)


def calls_used(ws: Workspace, gid: str) -> int:
    with ws.session() as s:
        grant = s.get(Grant, __import__("uuid").UUID(gid))
        assert grant is not None
        return grant.calls_used


def test_engine_errors_never_quote_data_and_cost_a_call(world, sqlite_ws: Workspace) -> None:  # type: ignore[no-untyped-def]
    with serve(sqlite_ws) as base:
        consumer = Api(base).as_user("consumer")
        before = calls_used(sqlite_ws, world.grant_id)
        # a number compared with a text column: DuckDB's own message would quote a value
        body = error(
            consumer.post(f"/grants/{world.grant_id}/query", json={"filter": "身份证号 = 5"}),
            400,
            "invalid_input",
        )
        assert body["message"] == "a value in the filter does not match its column's type"
        page = ok(consumer.post(f"/grants/{world.grant_id}/query", json={"limit": 50}))
        shown = {str(r["身份证号"]) for r in page["rows"]}
        assert not any(v in str(body) for v in shown)
        # the refused call was charged, and audited as denied
        assert calls_used(sqlite_ws, world.grant_id) == before + 2
        auditor = Api(base).as_user("auditor")
        denied = ok(
            auditor.get("/audit/entries", params={"grant": world.grant_id, "action": "data.query"})
        )
        assert any(e["outcome"] == "denied" for e in denied["items"])


def test_bodies_are_bounded_and_uploads_authenticated_first(
    world,
    sqlite_ws: Workspace,  # type: ignore[no-untyped-def]
) -> None:
    uploads = lambda: list(sqlite_ws.tmp_path.glob("upload-*"))  # noqa: E731
    with serve(sqlite_ws) as base:
        junk = Api(base, "dz_not-a-real-token")
        r = junk.post("/datasets/edu_roll/versions", files={"file": ("a.csv", b"x,y\n" * 200_000)})
        error(r, 401, "unauthenticated")
        assert not uploads()
        provider = Api(base).as_user("edu_provider")
        big = {"code": "x", "name": "y" * (2 * 1024 * 1024)}
        assert provider.post("/datasets", json=big).status_code == 413
        # a file name of dots is a name, not the upload folder
        r = provider.post("/datasets/edu_roll/versions", files={"file": ("..", b"a,b\n1,2\n")})
        assert r.status_code in (201, 400), r.text
        assert not uploads()


def test_an_api_recipe_cannot_read_server_files(world, sqlite_ws: Workspace) -> None:  # type: ignore[no-untyped-def]
    recipe = {
        "version": 1,
        "fields": {"年龄": "keep", "区县": "keep"},
        "privacy": {
            "quasi_identifiers": {"年龄": {"kind": "file", "path": "../secret.key"}},
            "models": [{"k_anonymity": 2}],
        },
    }
    with serve(sqlite_ws) as base:
        operator = Api(base).as_user("operator")
        body = error(
            operator.post("/datasets/edu_roll/protect", json={"recipe": recipe}),
            403,
            "policy_violation",
        )
        assert "kind: file" in body["message"]


def test_an_unexpected_error_logs_no_message(
    sqlite_ws: Workspace, caplog: pytest.LogCaptureFixture
) -> None:
    from starlette.testclient import TestClient

    from dizuo.api.app import create_app

    app = create_app(sqlite_ws)

    @app.get("/boom")
    def boom() -> None:
        raise ValueError("510104201303130008 leaked")

    with caplog.at_level(logging.DEBUG), TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/boom", headers={"Authorization": "Bearer x", "Accept-Language": "en"})
    assert r.status_code == 500 and r.json()["error"]["kind"] == "internal"
    assert "510104201303130008" not in caplog.text and "ValueError" in caplog.text


def test_an_expired_version_and_an_expired_grant(world, sqlite_ws: Workspace) -> None:  # type: ignore[no-untyped-def]
    with serve(sqlite_ws) as base:
        consumer = Api(base).as_user("consumer")
        assert ok(consumer.get("/grants", params={"status": "active"}))["page"]["total"] == 1
        with sqlite_ws.db.begin() as conn:
            conn.execute(
                sa.text("UPDATE grants SET expires_at = :t"), {"t": utcnow() - timedelta(days=1)}
            )
        assert ok(consumer.get("/grants", params={"status": "active"}))["page"]["total"] == 0
        error(consumer.post(f"/grants/{world.grant_id}/query", json={}), 403, "forbidden")
        with sqlite_ws.db.begin() as conn:
            conn.execute(
                sa.text("UPDATE grants SET expires_at = :t"), {"t": utcnow() + timedelta(days=1)}
            )
            conn.execute(sa.text("UPDATE versions SET expired = :e"), {"e": True})
        error(consumer.post(f"/grants/{world.grant_id}/query", json={}), 409, "conflict")


def test_the_justification_reaches_the_approver_and_unshareable_data_stops(
    world,
    sqlite_ws: Workspace,  # type: ignore[no-untyped-def]
) -> None:
    with serve(sqlite_ws) as base:
        consumer2 = Api(base).as_user("consumer2")
        request = ok(
            consumer2.post(
                "/requests",
                json={
                    "product": "edu.private",
                    "purpose": "教育研究",
                    "justification": "区县间成绩差异研究，成果仅以统计形式发表",
                },
            ),
            201,
        )
        provider = Api(base).as_user("edu_provider")
        seen = ok(provider.get(f"/requests/{request['id']}"))
        assert seen["justification"] == "区县间成绩差异研究，成果仅以统计形式发表"
        # the provider reclassifies the source as 不予共享: no approval, no delivery
        with sqlite_ws.db.begin() as conn:
            conn.execute(sa.text("UPDATE datasets SET share_type = '不予共享'"))
        refused = error(
            provider.post(f"/requests/{request['id']}/decision", json={"decision": "approve"}),
            403,
            "policy_violation",
        )
        assert "不予共享" in refused["message"]
        ok(provider.post(f"/requests/{request['id']}/decision", json={"decision": "reject"}))
        consumer = Api(base).as_user("consumer")
        error(consumer.post(f"/grants/{world.grant_id}/query", json={}), 403, "forbidden")
