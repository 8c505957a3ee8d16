"""Committing a table that dizuo derived (protected data, a person index…) as a new version of
a shared-zone dataset (共享库), with lineage to the versions it came from."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from dizuo.audit import log as audit
from dizuo.errors import InvalidInput
from dizuo.i18n import tr

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from dizuo.catalog.models import Version
    from dizuo.workspace import Workspace


@dataclass
class Derived:
    """What to record with the new version.

    Attributes:
        code: Target dataset code (created in the shared zone when new).
        operation: Catalog operation name (``protect``, ``link``…).
        params: Parameters to record (no keys, no data values).
        params_hash: Hash of the parameters.
        identity: Content identity: the same inputs, parameters and key give the same identity,
            and an identical latest version makes no new one.
        parents: Catalog ids of the input versions.
        source: Human-readable source (``code@N`` or several joined by ``,``).
        meta: Dataset metadata for a new dataset (name, summary, category…).
        org_code: Owning organisation of a new dataset.
    """

    code: str
    operation: str
    params: dict[str, Any]
    params_hash: str
    identity: str
    parents: list[Any]
    source: str
    meta: dict[str, Any]
    org_code: str | None = None


def check_target(ws: Workspace, code: str, hint: str | None = None) -> None:
    """Refuse to write derived data into a raw-zone dataset (``hint``: how to name another)."""
    from dizuo.catalog import service
    from dizuo.catalog.models import Zone

    service.check_code(code)
    with ws.session() as s:
        existing = service.find_dataset(s, code)
        if existing is not None and existing.zone != Zone.shared.value:
            raise InvalidInput(
                tr(
                    "{c} 是原始库的数据集，不能作为派生数据的输出",
                    "{c} is a raw-zone dataset: it cannot receive derived output",
                    c=code,
                ),
                hint=hint,
            )


def unchanged(ws: Workspace, code: str, identity: str) -> tuple[str, int] | None:
    """``(code@N, rows)`` of the latest version when it has this identity already."""
    from dizuo.catalog import service

    with ws.session() as s:
        existing = service.find_dataset(s, code)
        latest = service.latest_version(s, existing) if existing is not None else None
        if latest is not None and latest.content_hash == identity:
            return f"{code}@{latest.number}", latest.rows
    return None


def commit_table(
    ws: Workspace,
    table: pa.Table,
    d: Derived,
    extra: Callable[[Session, Version], None] | None = None,
    hint: str | None = None,
) -> tuple[str, int]:
    """Write ``table`` as Parquet, commit it to the lake and record the version.

    Returns:
        ``(code@N, rows)``. ``extra`` runs in the catalog session that records the version.
    """
    from dizuo.lake.files import staging_dir

    check_target(ws, d.code, hint)
    stage = staging_dir(ws.tmp_path)
    try:
        name = f"derived_{stage.name.replace('-', '_')}"
        ws.engine.register_arrow(name, table)
        try:
            ws.engine.copy_to_parquet(f"SELECT * FROM {name}", stage / "data", into_folder=True)
        finally:
            ws.engine.con.unregister(name)
        staged = sorted((stage / "data").glob("*.parquet"))
        return _record(ws, staged, table.schema, d, extra)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _record(
    ws: Workspace,
    staged: list[Any],
    schema: pa.Schema,
    d: Derived,
    extra: Callable[[Session, Version], None] | None,
) -> tuple[str, int]:
    from dizuo.catalog import service
    from dizuo.catalog.models import Zone
    from dizuo.ingest.profile import profile
    from dizuo.lake.files import table_name

    ident = f"shared.{table_name(d.code)}"  # the shared zone (共享库)
    with ws.session() as s:
        existing = service.find_dataset(s, d.code)
        latest = service.latest_version(s, existing) if existing is not None else None
        expected = latest.snapshot_id if latest is not None else None
    profiled = profile(ws.engine, staged)
    commit = ws.lake.commit(
        ident,
        staged,
        schema=schema,
        mode="replace",
        expected_snapshot=expected,
        properties={"dizuo.dataset": d.code, "dizuo.operation": d.operation},
    )
    size = sum(p.stat().st_size for p in staged)
    with ws.session(write=True) as s:
        dataset = service.find_dataset(s, d.code)
        if dataset is None:
            org = service.get_org(s, d.org_code) if d.org_code else None
            dataset = service.create_dataset(
                s, d.code, org, format="parquet", **{k: v for k, v in d.meta.items() if v}
            )
            dataset.zone = Zone.shared.value
        version = service.record_version(
            s,
            dataset,
            service.NewVersion(
                operation=d.operation,
                params=d.params,
                params_hash=d.params_hash,
                rows=profiled.rows,
                bytes=size,
                schema=profiled.schema,
                profiles=profiled.profiles,
                content_hash=d.identity,
                source=d.source,
                source_fingerprint=d.identity,
                table_ident=commit.ident,
                snapshot_id=commit.snapshot_id,
                parents=d.parents,
            ),
            created_by=ws.actor,
        )
        if extra is not None:
            extra(s, version)
        number = version.number
        audit.record(
            ws,
            s,
            actor=ws.actor,
            action=f"version.{d.operation}",
            target=f"{d.code}@{number}",
            dataset=d.code,
            details={"rows": profiled.rows, "parents": d.source, "params_hash": d.params_hash},
        )
    return f"{d.code}@{number}", profiled.rows
