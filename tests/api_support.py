"""A real dizuo server on a loopback port, and a small HTTP client for the API tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx2 as httpx
import uvicorn

from dizuo.audit import log as audit
from dizuo.auth import service as auth
from dizuo.catalog import service as catalog
from dizuo.workspace import Workspace

API = "/api/v1"
PASSWORD = "correct-horse-battery"

# organisation code → (name, kind); user → (org, roles)
ORGS = {
    "edu": ("市教育局", "provider"),
    "health": ("市卫健委", "provider"),
    "datagroup": ("市数据集团", "operator"),
    "acme": ("某科技公司", "consumer"),
    "uni": ("某大学", "consumer"),
    "regulator": ("市网信办", "auditor"),
}
USERS = {
    "admin": ("datagroup", ["admin"]),
    "edu_provider": ("edu", ["provider"]),
    "health_provider": ("health", ["provider"]),
    "operator": ("datagroup", ["operator"]),
    "consumer": ("acme", ["consumer"]),
    "consumer2": ("uni", ["consumer"]),
    "auditor": ("regulator", ["auditor"]),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(ws: Workspace) -> Iterator[str]:
    """Run the API over ``ws`` in a thread; yield its base URL."""
    from dizuo.api.app import create_app

    port = free_port()
    config = uvicorn.Config(
        create_app(ws), host="127.0.0.1", port=port, log_level="warning", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def seed_accounts(ws: Workspace) -> None:
    """Organisations and one account per role (what `dizuo user add` does)."""
    with ws.session() as s:
        for code, (name, kind) in ORGS.items():
            catalog.add_org(s, code, name, kind)
        for username, (org, roles) in USERS.items():
            auth.add_user(s, username, PASSWORD, org=org, roles=roles)
            audit.record(ws, s, actor="tester", action="user.add", target=f"user:{username}")


@dataclass
class Api:
    """An HTTP client speaking English, with or without a bearer token."""

    base: str
    token: str | None = None

    def _client(self) -> httpx.Client:
        headers = {"Accept-Language": "en"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return httpx.Client(base_url=self.base + API, headers=headers, timeout=120)

    def get(self, path: str, **kw: Any) -> httpx.Response:
        with self._client() as c:
            return c.get(path, **kw)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        with self._client() as c:
            return c.post(path, **kw)

    def delete(self, path: str, **kw: Any) -> httpx.Response:
        with self._client() as c:
            return c.delete(path, **kw)

    def as_user(self, username: str) -> Api:
        r = Api(self.base).post("/auth/login", json={"username": username, "password": PASSWORD})
        assert r.status_code == 200, r.text
        return Api(self.base, r.json()["token"])


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    return response.json()


def error(response: httpx.Response, status: int, kind: str | None = None) -> dict[str, Any]:
    """Assert the one error shape and return its body."""
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    body = response.json()
    assert set(body) == {"error"} and {"kind", "message"} <= set(body["error"]), body
    if kind is not None:
        assert body["error"]["kind"] == kind, body
    detail: dict[str, Any] = body["error"]
    return detail


@dataclass
class World:
    """A workspace with accounts, a protected dataset published as ``edu.scores`` (public)
    and ``edu.private`` (restricted to organisation ``uni``), and one active grant of
    ``consumer`` on ``edu.scores``."""

    ws: Workspace
    rows: list[dict[str, object]]
    grant_id: str
    request_id: str


def build_world(ws: Workspace, folder: Any) -> World:
    """Everything the end-to-end test does over HTTP, done through the services (fast)."""
    from pathlib import Path

    import yaml

    from dizuo.classify.run import classify_version
    from dizuo.ingest.pipeline import ingest
    from dizuo.ingest.spec import IngestSpec
    from dizuo.protect.run import protect_version
    from dizuo.share import service as share
    from dizuo.share.schemas import DecisionIn, GrantTerms, ProductIn, RequestIn
    from tests.test_api_e2e import RECIPE, student_csv

    folder = Path(folder)
    seed_accounts(ws)
    source = folder / "学生名册.csv"
    rows = student_csv(source)
    with ws.session() as s:
        edu = catalog.get_org(s, "edu")
        catalog.create_dataset(s, "edu_roll", edu, name="学生名册", share_type="有条件共享")
    ingest(ws, IngestSpec(source=str(source), dataset="edu_roll"))
    classify_version(ws, "edu_roll", sample_rows=None, save=True)
    recipe = folder / "recipe.yaml"
    recipe.write_text(yaml.safe_dump(RECIPE, allow_unicode=True), encoding="utf-8")
    protect_version(ws, "edu_roll", recipe)

    who = auth.principal_of

    with ws.session() as s:
        operator = who(s, "operator")
        for code, visibility, audience in (
            ("edu.scores", "public", []),
            ("edu.private", "restricted", ["uni"]),
        ):
            share.publish(
                ws,
                s,
                operator,
                ProductIn(
                    code=code,
                    name="学生成绩（去标识化）",
                    dataset="edu_roll_shared",
                    columns=["身份证号", "姓名", "区县", "年龄", "成绩"],
                    purposes=["教育研究"],
                    delivery=["download", "query", "statistics"],
                    visibility=visibility,  # type: ignore[arg-type]
                    audience=audience,
                    min_cell=5,
                ),
            )
        request = share.create_request(
            ws,
            s,
            who(s, "consumer"),
            RequestIn(
                product="edu.scores", purpose="教育研究", columns=["身份证号", "区县", "成绩"]
            ),
        )
        share.decide(ws, s, who(s, "edu_provider"), request.id, DecisionIn(decision="approve"))
        _, grant = share.decide(
            ws,
            s,
            operator,
            request.id,
            DecisionIn(decision="approve", terms=GrantTerms(max_calls=1000)),
        )
        assert grant is not None
        return World(ws, rows, str(grant.id), str(request.id))
