"""The lake: Apache Iceberg tables (pyiceberg), their SQL catalog in the catalog database.

Every ingest or derivation commits one Iceberg snapshot; the catalog's version row points at
it. Data files are zstd Parquet written by the engine and *added* to the table (never
rewritten), so an append costs only its new rows and old snapshots stay readable until
:meth:`Lake.expire` removes them.

Crash safety: files are staged outside the table, linked in, then committed to Iceberg, then
recorded in the catalog. A crash before the catalog row leaves an Iceberg snapshot that no
version points at; :meth:`Lake.commit` rolls the table back to the last recorded snapshot
before it builds on it, and :meth:`Lake.expire` deletes what nobody references.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import pyarrow as pa
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.exceptions import CommitFailedException, NoSuchTableError
from pyiceberg.expressions import AlwaysTrue
from pyiceberg.table import Table

from dizuo.errors import Conflict, InvalidInput
from dizuo.i18n import tr
from dizuo.lake.files import owner_alive, staging_dir, uri_to_path

if TYPE_CHECKING:
    from dizuo.workspace import Workspace

Mode = Literal["append", "replace"]


def _optional(schema: pa.Schema) -> pa.Schema:
    """Every lake column is optional: a later version may hold nulls where this one had none."""
    return pa.schema([f.with_nullable(True) for f in schema])


@dataclass(frozen=True)
class Commit:
    ident: str
    snapshot_id: int
    files: list[str]


class Lake:
    """The workspace's Iceberg tables. Zones are Iceberg namespaces: ``raw`` and ``shared``."""

    def __init__(self, ws: Workspace) -> None:
        self.root = ws.lake_path
        self.root.mkdir(parents=True, exist_ok=True)
        self.tmp = ws.tmp_path
        self.catalog = SqlCatalog(
            "dizuo", uri=ws.database_url, warehouse=self.root.resolve().as_uri()
        )

    # -- writing ---------------------------------------------------------------------------

    def staging_dir(self) -> Path:
        return staging_dir(self.tmp)

    def _load_or_create(self, ident: str, schema: pa.Schema) -> Table:
        try:
            return self.catalog.load_table(ident)
        except NoSuchTableError:
            namespace, name = ident.split(".", 1)
            self.catalog.create_namespace_if_not_exists(namespace)
            location = (self.root / namespace / name).resolve().as_uri()
            return self.catalog.create_table(ident, schema=_optional(schema), location=location)

    def _evolve(self, table: Table, schema: pa.Schema) -> None:
        """Bring the table schema to a union with ``schema``; a retyped column is re-added."""
        schema = _optional(schema)
        current = {f.name: f for f in table.schema().fields}
        try:
            with table.update_schema() as update:
                update.union_by_name(schema)
        except (ValueError, TypeError, Exception):  # pyiceberg raises ValueError / ResolveError
            table = self.catalog.load_table(table.name())
            retyped = [f.name for f in schema if f.name in current]
            with table.update_schema(allow_incompatible_changes=True) as update:
                for name in retyped:
                    update.delete_column(name)
            table = self.catalog.load_table(table.name())
            with table.update_schema(allow_incompatible_changes=True) as update:
                update.union_by_name(schema)

    def commit(
        self,
        ident: str,
        staged: Sequence[Path],
        *,
        schema: pa.Schema,
        mode: Mode,
        expected_snapshot: int | None,
        properties: dict[str, str] | None = None,
    ) -> Commit:
        """Move staged Parquet files into the table and commit one snapshot.

        ``expected_snapshot`` is the snapshot of the dataset's latest catalog version (or None
        for a new dataset); if the table moved past it without a catalog row (a crash), the
        table is first rolled back to it.
        """
        table = self._load_or_create(ident, schema)
        current = table.current_snapshot()
        if current is not None and current.snapshot_id != expected_snapshot:
            if expected_snapshot is not None:
                table.manage_snapshots().set_current_snapshot(expected_snapshot).commit()
                table = self.catalog.load_table(ident)
            elif mode == "append":
                mode = "replace"  # nothing recorded yet: the orphaned rows must not survive
        self._evolve(table, schema)
        table = self.catalog.load_table(ident)
        data_dir = Path(uri_to_path(table.location())) / "data"
        data_dir.mkdir(parents=True, exist_ok=True)
        moved: list[str] = []
        for path in staged:
            # a hard link: the staged file stays readable (the profile may still be reading
            # it) until the staging folder is removed; a copy where links are not possible
            target = data_dir / f"{uuid.uuid4().hex}.parquet"
            try:
                os.link(path, target)
            except OSError:
                shutil.copyfile(path, target)
            moved.append(target.as_uri())
        try:
            with table.transaction() as tx:
                if mode == "replace" and table.current_snapshot() is not None:
                    tx.delete(AlwaysTrue())
                if moved:
                    tx.add_files(moved, snapshot_properties=properties or {})
        except CommitFailedException as exc:
            raise Conflict(
                tr(
                    "湖表 {t} 被并发修改，请重试: {e}",
                    "lake table {t} changed concurrently; try again: {e}",
                    t=ident,
                    e=exc,
                )
            ) from None
        table = self.catalog.load_table(ident)
        snapshot = table.current_snapshot()
        assert snapshot is not None
        return Commit(ident, snapshot.snapshot_id, [uri_to_path(u) for u in moved])

    # -- reading ---------------------------------------------------------------------------

    def files(self, ident: str, snapshot_id: int) -> list[str]:
        """The Parquet files that make up one snapshot, as local paths (or URIs)."""
        table = self.catalog.load_table(ident)
        if table.snapshot_by_id(snapshot_id) is None:
            raise InvalidInput(
                tr(
                    "快照 {s} 已不存在（已过期）",
                    "snapshot {s} no longer exists (expired)",
                    s=snapshot_id,
                )
            )
        return [
            uri_to_path(t.file.file_path) for t in table.scan(snapshot_id=snapshot_id).plan_files()
        ]

    # -- maintenance -----------------------------------------------------------------------

    def expire(self, ident: str, keep_snapshots: set[int]) -> tuple[int, int]:
        """Expire every snapshot not in ``keep_snapshots`` and delete unreferenced files.

        Returns (snapshots expired, files deleted).
        """
        table = self.catalog.load_table(ident)
        current = table.current_snapshot()
        keep = set(keep_snapshots)
        if current is not None and current.snapshot_id not in keep:
            # an unrecorded snapshot (a crash after the lake commit): roll back to the newest kept
            newest = max(
                (s for s in table.snapshots() if s.snapshot_id in keep),
                key=lambda s: s.sequence_number or 0,
                default=None,
            )
            if newest is not None:
                table.manage_snapshots().set_current_snapshot(newest.snapshot_id).commit()
                table = self.catalog.load_table(ident)
        drop = [s.snapshot_id for s in table.snapshots() if s.snapshot_id not in keep]
        if drop:
            table.maintenance.expire_snapshots().by_ids(drop).commit()
            table = self.catalog.load_table(ident)
        referenced: set[str] = set()
        for snapshot in table.snapshots():
            referenced.update(self.files(ident, snapshot.snapshot_id))
        data_dir = Path(uri_to_path(table.location())) / "data"
        deleted = 0
        if data_dir.is_dir():
            for path in data_dir.glob("*.parquet"):
                if str(path) not in referenced:
                    path.unlink()
                    deleted += 1
        return len(drop), deleted

    def clean_tmp(self) -> int:
        """Remove staging folders left by interrupted runs (their process is gone)."""
        removed = 0
        for path in self.tmp.glob("stage-*"):
            if owner_alive(path):
                continue
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
        return removed

    def close(self) -> None:
        engine = getattr(self.catalog, "engine", None)
        if engine is not None:
            engine.dispose()
