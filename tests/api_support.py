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
