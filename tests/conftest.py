"""Test fixtures: workspaces on SQLite and on PostgreSQL, and a CLI runner.

The PostgreSQL server is taken from ``DIZUO_TEST_POSTGRES_URL`` (default: the local server at
127.0.0.1:5432, database ``test``). Each test gets its own schema, dropped afterwards; if the
server is down, the PostgreSQL variants are skipped and ``-ra`` prints why.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from dizuo.workspace import Workspace

PG_URL = os.environ.get(
    "DIZUO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
_pg_state: dict[str, str | None] = {}


def postgres_unavailable() -> str | None:
    """None if the test server answers, else the reason (checked once per session)."""
    if "reason" not in _pg_state:
        try:
            engine = sa.create_engine(PG_URL, connect_args={"connect_timeout": 3})
            with engine.connect() as conn:
                conn.execute(sa.text("select 1"))
            engine.dispose()
            _pg_state["reason"] = None
        except Exception as exc:  # the reason is shown in the skip message
            first = str(exc).strip().splitlines()[0]
            _pg_state["reason"] = f"PostgreSQL at {PG_URL} unavailable: {first}"
    return _pg_state["reason"]


@pytest.fixture(autouse=True)
def _english(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests read English messages unless they ask for Chinese; no stray workspace env."""
    from dizuo.i18n import set_lang

    set_lang(None)
    monkeypatch.setenv("DIZUO_LANG", "en")
    monkeypatch.delenv("DIZUO_HOME", raising=False)
    monkeypatch.delenv("DIZUO_DATABASE_URL", raising=False)
    monkeypatch.setenv("DIZUO_USER", "tester")


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema (dropped afterwards)."""
    reason = postgres_unavailable()
    if reason:
        pytest.skip(reason)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    """Parametrise a test over both catalog databases."""
    return str(request.param)


@pytest.fixture
def ws(tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> Iterator[Workspace]:
    """A new workspace, its catalog on SQLite or PostgreSQL."""
    url = None
    if backend == "postgres":
        url = request.getfixturevalue("pg_schema_url")
    workspace = Workspace.init(tmp_path / "ws", database_url=url)
    try:
        yield workspace
    finally:
        workspace.close()


@pytest.fixture
def sqlite_ws(tmp_path: Path) -> Iterator[Workspace]:
    """A new workspace on SQLite only (for reader tests that do not concern the catalog)."""
    workspace = Workspace.init(tmp_path / "ws")
    try:
        yield workspace
    finally:
        workspace.close()


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Run ``dizuo`` in-process against a workspace: ``cli(ws, "datasets", "list")``."""
    from dizuo.cli.app import run

    def invoke(workspace: Workspace | Path | None, *args: str) -> CliResult:
        capsys.readouterr()
        if workspace is not None:
            home = workspace.home if isinstance(workspace, Workspace) else workspace
            monkeypatch.setenv("DIZUO_HOME", str(home))
            if isinstance(workspace, Workspace) and not workspace.database_url.startswith("sqlite"):
                monkeypatch.setenv("DIZUO_DATABASE_URL", workspace.database_url)
        code = run([str(a) for a in args])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return invoke


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path
