"""The few things every engine must do (Splink's DatabaseAPI, in our words)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import pyarrow as pa


class Engine(Protocol):
    """An engine runs SQL over Arrow tables and Parquet files.

    Implementations: :class:`dizuo.engine.duckdb.DuckDBEngine` (default, in-process); Spark
    arrives with the scale-out issue. SQL passed in is in the engine's own dialect; callers
    that hold dialect-neutral SQL transpile it with SQLGlot using :attr:`dialect`.
    """

    dialect: str

    def query(self, sql: str, params: Sequence[object] | None = None) -> pa.Table:
        """Run a query and return its whole result as an Arrow table."""
        ...

    def execute(self, sql: str, params: Sequence[object] | None = None) -> None:
        """Run a statement for its effect."""
        ...

    def register_parquet(self, name: str, files: Sequence[str]) -> None:
        """Make ``name`` a view over the given Parquet files."""
        ...

    def register_arrow(self, name: str, table: pa.Table) -> None:
        """Make ``name`` a view over an in-memory Arrow table."""
        ...

    def copy_to_parquet(self, select_sql: str, target: Path, *, into_folder: bool) -> None:
        """Write the result of ``select_sql`` as zstd Parquet to a file or folder.

        ``into_folder``: ``target`` is a folder; DuckDB writes it in parallel as one file in
        the order of the select (``part-0.parquet``), so that a version's rows keep the order
        of its source — row N of the file is row N of the version."""
        ...

    def close(self) -> None: ...
