"""Run the catalog's Alembic migrations against a workspace's database."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from dizuo.errors import Unavailable
from dizuo.i18n import tr

if TYPE_CHECKING:
    from dizuo.workspace import Workspace

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(connection: sa.Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(ws: Workspace, revision: str = "head") -> None:
    from dizuo.workspace import redact_url

    try:
        with ws.db.begin() as conn:
            command.upgrade(alembic_config(conn), revision)
    except sa.exc.OperationalError as exc:
        raise Unavailable(
            tr(
                "无法连接目录数据库 {url}: {e}",
                "cannot reach the catalog database {url}: {e}",
                url=redact_url(ws.database_url),
                e=str(exc.orig).strip().splitlines()[0] if exc.orig else exc,
            )
        ) from None
