"""Process settings, read from the environment (``DIZUO_*``)."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything dizuo reads from the environment.

    Attributes:
        home: the workspace folder (``DIZUO_HOME``).
        database_url: catalog database; overrides the workspace's own (``DIZUO_DATABASE_URL``),
            e.g. ``postgresql://postgres@127.0.0.1:5432/test``.
        lang: ``zh`` (default) or ``en`` (``DIZUO_LANG``).
        user: who is acting, recorded in versions and lineage (``DIZUO_USER``; default: the
            operating-system user).
        memory_limit: DuckDB memory limit (``DIZUO_MEMORY_LIMIT``), e.g. ``1GB``.
        threads: DuckDB threads (``DIZUO_THREADS``); default: all cores.
        audit_algorithm: the audit chain's hash, ``sm3`` (default) or ``sha256``.
        audit_checkpoint_every: sign a checkpoint of the audit chain every N entries.
        session_hours: how long a login token lives.
    """

    model_config = SettingsConfigDict(env_prefix="DIZUO_", extra="ignore")

    home: Path | None = None
    database_url: str | None = None
    lang: str = "zh"
    user: str | None = None
    memory_limit: str = "1GB"
    threads: int | None = None
    audit_algorithm: str = "sm3"
    audit_checkpoint_every: int = 256
    session_hours: int = 12
