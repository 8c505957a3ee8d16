"""Workspace: init, open, config, key file, DIZUO_HOME, DIZUO_DATABASE_URL, migrations."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from dizuo.catalog.models import Base
from dizuo.errors import AlreadyExists, NotFound, Unavailable
from dizuo.workspace import Workspace, normalise_database_url, redact_url


def test_init_creates_config_catalog_lake_and_private_key(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "w")
    try:
        assert (ws.home / "dizuo.toml").is_file()
        assert (ws.home / "catalog.db").is_file()
        assert ws.lake_path.is_dir()
        key = ws.home / "secret.key"
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        assert len(ws.secret_key()) == 32
        tables = set(sa.inspect(ws.db).get_table_names())
        assert {"organisations", "datasets", "versions", "fields", "lineage_edges"} <= tables
    finally:
        ws.close()


def test_key_is_not_in_config_or_catalog(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "w")
    try:
        key_hex = ws.secret_key().hex()
        assert key_hex not in (ws.home / "dizuo.toml").read_text()
        assert key_hex.encode() not in (ws.home / "catalog.db").read_bytes()
    finally:
        ws.close()


def test_init_twice_is_refused(tmp_path: Path) -> None:
    Workspace.init(tmp_path / "w").close()
    with pytest.raises(AlreadyExists):
        Workspace.init(tmp_path / "w")


def test_open_a_folder_that_is_not_a_workspace(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="not a dizuo workspace"):
        Workspace.open(tmp_path)


def test_dizuo_home_selects_the_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Workspace.init(tmp_path / "a").close()
    monkeypatch.setenv("DIZUO_HOME", str(tmp_path / "a"))
    ws = Workspace.open()
    assert ws.home == (tmp_path / "a").resolve()
    ws.close()


def test_database_url_env_switches_the_catalog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pg_schema_url: str
) -> None:
    monkeypatch.setenv("DIZUO_DATABASE_URL", pg_schema_url)
    ws = Workspace.init(tmp_path / "w")
    try:
        assert ws.db.dialect.name == "postgresql"
        assert not (ws.home / "catalog.db").exists()
        assert "datasets" in sa.inspect(ws.db).get_table_names()
    finally:
        ws.close()


def test_unreachable_database_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(Unavailable, match="cannot reach the catalog database") as info:
        Workspace.init(tmp_path / "w", database_url="postgresql://u:hunter2@127.0.0.1:1/x")
    assert "hunter2" not in str(info.value)


def test_urls_are_normalised_and_redacted() -> None:
    assert normalise_database_url("postgresql://a@h/db") == "postgresql+psycopg://a@h/db"
    assert normalise_database_url("sqlite:///x.db") == "sqlite:///x.db"
    assert "secret" not in redact_url("postgresql://u:secret@h/db")


def test_migrations_match_the_models(ws: Workspace) -> None:
    """Alembic's schema is exactly the ORM's: no drift between migrations and models."""
    with ws.db.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "include_object": lambda obj, name, type_, *_: (
                    not (type_ == "table" and name.startswith("iceberg_"))
                )
            },
        )
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_migrate_is_idempotent(ws: Workspace) -> None:
    ws.migrate()
    ws.migrate()
    with ws.db.connect() as conn:
        revision = conn.execute(sa.text("select version_num from alembic_version")).scalar()
    assert revision == "0004"
