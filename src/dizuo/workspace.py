"""The workspace: one folder holding a config file, the catalog, the lake and the key file.

A :class:`Workspace` is what commands, API routes and jobs receive. It opens the three stores
lazily: the catalog database (SQLAlchemy), the lake (Iceberg tables) and the engine (DuckDB).
"""

from __future__ import annotations

import getpass
import json
import os
import secrets
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from dizuo.errors import AlreadyExists, InvalidInput, NotFound, Unavailable
from dizuo.i18n import tr
from dizuo.settings import Settings

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.orm import Session

    from dizuo.engine.duckdb import DuckDBEngine
    from dizuo.lake.iceberg import Lake

CONFIG_FILE = "dizuo.toml"
_acting: ContextVar[str | None] = ContextVar("acting", default=None)


@contextmanager
def acting_as(username: str) -> Iterator[None]:
    """Record what happens inside the block as done by ``username`` (an API caller)."""
    token = _acting.set(username)
    try:
        yield
    finally:
        _acting.reset(token)


KEY_FILE = "secret.key"
DEFAULT_HOME = "dizuo-home"


def normalise_database_url(url: str) -> str:
    """Give PostgreSQL URLs the psycopg 3 driver; leave every other URL as it is."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def redact_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    import sqlalchemy as sa

    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<database url>"


def _json(value: object) -> str:
    """JSON for catalog columns: Chinese stays readable (and searchable with LIKE)."""
    return json.dumps(value, ensure_ascii=False, default=str)


def _write_config(path: Path, database_url: str | None) -> None:
    lines = [
        "# dizuo workspace",
        "[workspace]",
        f'created = "{datetime.now(UTC).isoformat(timespec="seconds")}"',
        "",
        "[catalog]",
        "# SQLAlchemy URL; relative SQLite paths are relative to this folder.",
        "# DIZUO_DATABASE_URL overrides it.",
        f'database_url = "{database_url or "sqlite:///catalog.db"}"',
        "",
        "[lake]",
        'location = "lake"',
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")


class Workspace:
    """An opened workspace. Create one with :meth:`init` or :meth:`open`."""

    def __init__(self, home: Path, settings: Settings | None = None) -> None:
        self.home = home.resolve()
        self.settings = settings or Settings()
        config_path = self.home / CONFIG_FILE
        try:
            self.config = tomllib.loads(config_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise NotFound(
                tr("{home} 不是 dizuo 工作区", "{home} is not a dizuo workspace", home=self.home),
                hint=tr("先运行 dizuo init", "run `dizuo init` first"),
            ) from None
        except tomllib.TOMLDecodeError as exc:
            raise InvalidInput(
                tr("配置文件无法解析: {e}", "cannot parse the config file: {e}", e=exc),
                where=None,
                hint=str(config_path),
            ) from None

    # -- creating and finding -------------------------------------------------------------

    @classmethod
    def init(cls, home: Path | None = None, *, database_url: str | None = None) -> Workspace:
        """Create a workspace folder: config, key file (0600), lake folder, catalog schema."""
        settings = Settings()
        home = (home or settings.home or Path(DEFAULT_HOME)).resolve()
        if (home / CONFIG_FILE).exists():
            raise AlreadyExists(
                tr("{home} 已经是工作区", "{home} is already a workspace", home=home)
            )
        home.mkdir(parents=True, exist_ok=True)
        (home / "lake").mkdir(exist_ok=True)
        (home / "tmp").mkdir(exist_ok=True)
        key_path = home / KEY_FILE
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32) + "\n")
        _write_config(home / CONFIG_FILE, database_url)
        ws = cls(home, settings)
        ws.migrate()
        return ws

    @classmethod
    def open(cls, home: Path | None = None) -> Workspace:
        """Open the workspace at ``home``, ``$DIZUO_HOME``, the current folder or ./dizuo-home."""
        settings = Settings()
        if home is None:
            home = settings.home
        if home is None:
            cwd = Path.cwd()
            home = cwd if (cwd / CONFIG_FILE).exists() else cwd / DEFAULT_HOME
        return cls(home, settings)

    # -- the three stores ------------------------------------------------------------------

    @property
    def database_url(self) -> str:
        url = self.settings.database_url or self.config.get("catalog", {}).get(
            "database_url", "sqlite:///catalog.db"
        )
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            rel = url[len("sqlite:///") :]
            if rel and rel != ":memory:":
                url = "sqlite:///" + str(self.home / rel)
        return normalise_database_url(url)

    @property
    def lake_path(self) -> Path:
        return self.home / str(self.config.get("lake", {}).get("location", "lake"))

    @property
    def tmp_path(self) -> Path:
        path = self.home / "tmp"
        path.mkdir(exist_ok=True)
        return path

    @cached_property
    def db(self) -> sa.Engine:
        import sqlalchemy as sa

        url = self.database_url
        if url.startswith("sqlite"):
            engine = sa.create_engine(url, connect_args={"timeout": 30}, json_serializer=_json)

            @sa.event.listens_for(engine, "connect")
            def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
                # the driver's own implicit BEGIN is turned off: _begin below says which kind
                dbapi_conn.isolation_level = None
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA foreign_keys=ON")
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA busy_timeout=30000")
                cur.close()

            @sa.event.listens_for(engine, "begin")
            def _begin(conn):  # type: ignore[no-untyped-def]
                # A writing transaction takes SQLite's write lock at BEGIN (waiting its turn):
                # one that read first and wrote later could fail at once when another writer
                # had committed in between, however long the busy timeout.
                write = conn.get_execution_options().get("dizuo_write")
                conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

            return engine
        return sa.create_engine(url, pool_pre_ping=True, json_serializer=_json)

    @cached_property
    def lake(self) -> Lake:
        from dizuo.lake.iceberg import Lake

        return Lake(self)

    @cached_property
    def engine(self) -> DuckDBEngine:
        from dizuo.engine.duckdb import DuckDBEngine

        return DuckDBEngine(
            temp_directory=self.tmp_path,
            memory_limit=self.settings.memory_limit,
            threads=self.settings.threads,
        )

    @contextmanager
    def session(self, *, write: bool = False) -> Iterator[Session]:
        """A catalog session that commits on success and rolls back on error.

        ``write``: the transaction will write after reading (an approval, a metered read);
        on SQLite it takes the write lock when it begins, so concurrent writers queue instead
        of failing. Transactions whose first statement writes need not say so."""
        import sqlalchemy as sa
        from sqlalchemy.orm import Session

        bind = self.db.execution_options(dizuo_write=True) if write else self.db
        try:
            with Session(bind, expire_on_commit=False) as session, session.begin():
                yield session
        except sa.exc.OperationalError as exc:
            raise Unavailable(
                tr(
                    "无法连接目录数据库 {url}: {e}",
                    "cannot reach the catalog database {url}: {e}",
                    url=redact_url(self.database_url),
                    e=str(exc.orig).strip().splitlines()[0] if exc.orig else exc,
                )
            ) from None

    def migrate(self) -> None:
        """Create or upgrade the catalog schema with Alembic."""
        from dizuo.catalog.migrate import upgrade

        upgrade(self)

    @property
    def actor(self) -> str:
        """Who is acting: the API caller (:func:`acting_as`), ``DIZUO_USER`` or the
        operating-system user."""
        caller = _acting.get()
        if caller:
            return caller
        if self.settings.user:
            return self.settings.user
        try:
            return getpass.getuser()
        except Exception:
            return "unknown"

    def secret_key(self) -> bytes:
        """The workspace secret (for keyed operations). Never stored in the catalog or lake."""
        env = os.environ.get("DIZUO_SECRET_KEY")
        if env:
            return bytes.fromhex(env.strip())
        return bytes.fromhex((self.home / KEY_FILE).read_text().strip())

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.close()
        if "db" in self.__dict__:
            self.db.dispose()
        if "lake" in self.__dict__:
            self.lake.close()
