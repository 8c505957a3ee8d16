"""Expiring old versions: their snapshots leave the Iceberg table and their files the disk."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dizuo.catalog import service
from dizuo.workspace import Workspace


def _utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes (stored as UTC); PostgreSQL aware ones."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def expire_versions(
    ws: Workspace, code: str | None, *, keep: int = 1, cutoff: datetime | None = None
) -> list[dict[str, Any]]:
    """Expire all but the newest ``keep`` versions (only those created before ``cutoff``).

    The catalog rows stay — lineage and history are never deleted — but are marked expired;
    their snapshots are expired in the lake and files no longer referenced are deleted. A
    version that a live version was derived from (a lineage parent) is expired like any other:
    its children were written as whole tables and stay readable.
    """
    report: list[dict[str, Any]] = []
    with ws.session() as s:
        datasets = (
            [service.get_dataset(s, code)] if code else [d for d, _ in service.list_datasets(s)]
        )
        plans = []
        for dataset in datasets:
            versions = service.list_versions(s, dataset)
            if not versions:
                continue
            live = [v for v in versions if not v.expired]
            newest = live[-keep:]
            to_expire = [
                v
                for v in live
                if v not in newest and (cutoff is None or _utc(v.created_at) < cutoff)
            ]
            kept = {v.snapshot_id for v in live if v not in to_expire}
            plans.append((dataset.code, versions[-1].table_ident, to_expire, kept))
    for dataset_code, ident, to_expire, kept in plans:
        dropped, deleted = ws.lake.expire(ident, kept)
        if to_expire:
            with ws.session() as s:
                dataset = service.get_dataset(s, dataset_code)
                for version in service.list_versions(s, dataset):
                    if version.id in {v.id for v in to_expire}:
                        version.expired = True
        if to_expire or deleted:
            report.append(
                {
                    "dataset": dataset_code,
                    "expired_versions": [v.number for v in to_expire],
                    "snapshots_expired": dropped,
                    "files_deleted": deleted,
                }
            )
    ws.lake.clean_tmp()
    return report
