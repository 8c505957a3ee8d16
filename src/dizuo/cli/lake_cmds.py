"""Lake maintenance commands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer

from dizuo.cli.context import state
from dizuo.cli.output import console, print_json
from dizuo.errors import InvalidInput
from dizuo.i18n import tr

lake_app = typer.Typer(help=tr("数据湖维护", "Lake maintenance"), no_args_is_help=True)


@lake_app.command(
    "expire",
    help=tr("过期旧版本并删除其数据文件", "Expire old versions and delete their data files"),
)
def expire(
    dataset: Annotated[
        str | None, typer.Option("--dataset", "-d", help=tr("只处理该数据集", "only this dataset"))
    ] = None,
    keep: Annotated[
        int,
        typer.Option(
            "--keep", help=tr("每个数据集保留最新的版本数", "newest versions kept per dataset")
        ),
    ] = 1,
    older_than: Annotated[
        int | None,
        typer.Option(
            "--older-than",
            help=tr("只过期早于 N 天的版本", "only expire versions older than N days"),
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help=tr("输出 JSON", "print JSON"))] = False,
) -> None:
    """Expire old versions and delete their data files."""
    from dizuo.lake.maintenance import expire_versions

    if keep < 1:
        raise InvalidInput(tr("--keep 至少为 1", "--keep must be at least 1"))
    cutoff = datetime.now(UTC) - timedelta(days=older_than) if older_than is not None else None
    report = expire_versions(state.workspace(), dataset, keep=keep, cutoff=cutoff)
    if as_json:
        print_json(report)
        return
    for row in report:
        console.print(
            tr(
                "{d}: 过期 {v} 个版本，删除 {f} 个文件",
                "{d}: expired {v} versions, deleted {f} files",
                d=row["dataset"],
                v=len(row["expired_versions"]),
                f=row["files_deleted"],
            )
        )
    if not report:
        console.print(tr("没有需要过期的版本", "nothing to expire"))
