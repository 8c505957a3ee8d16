"""Catalog commands: organisations, datasets, versions, lineage."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from dizuo.cli.context import state
from dizuo.cli.options import JsonOpt
from dizuo.cli.output import console, human_bytes, print_json, table
from dizuo.errors import InvalidInput
from dizuo.i18n import tr

org_app = typer.Typer(
    help=tr("机构（提供方等）", "Organisations (providers and others)"), no_args_is_help=True
)
datasets_app = typer.Typer(
    help=tr("数据集（信息资源）", "Datasets (信息资源)"), no_args_is_help=True
)


def split_ref(ref: str) -> tuple[str, int | None]:
    """``code`` or ``code@N``."""
    code, sep, number = ref.rpartition("@")
    if not sep:
        return ref, None
    if not number.isdigit():
        raise InvalidInput(tr("版本号无效: {r}", "invalid version in {r}", r=ref))
    return code, int(number)


@org_app.command("add", help=tr("登记机构", "Register an organisation"))
def org_add(
    code: Annotated[str, typer.Argument(help=tr("机构代码", "organisation code"))],
    name: Annotated[str, typer.Argument(help=tr("机构名称，如 市教育局", "name, e.g. 市教育局"))],
    kind: Annotated[
        str, typer.Option("--kind", help="provider/operator/consumer/auditor")
    ] = "provider",
    as_json: JsonOpt = False,
) -> None:
    """Register an organisation."""
    from dizuo.catalog import service

    ws = state.workspace()
    with ws.session() as s:
        org = service.add_org(s, code, name, kind)
        data = {"code": org.code, "name": org.name, "kind": org.kind}
    if as_json:
        print_json(data)
    else:
        console.print(tr("已登记 {c} {n}", "registered {c} {n}", c=code, n=name))


@org_app.command("list", help=tr("列出机构", "List organisations"))
def org_list(as_json: JsonOpt = False) -> None:
    """List organisations."""
    from dizuo.catalog import service

    ws = state.workspace()
    with ws.session() as s:
        rows = [{"code": o.code, "name": o.name, "kind": o.kind} for o in service.list_orgs(s)]
    if as_json:
        print_json(rows)
        return
    table(
        None,
        [tr("代码", "code"), tr("名称", "name"), tr("类型", "kind")],
        [list(r.values()) for r in rows],
    )


def _dataset_summary(dataset: Any, version: Any) -> dict[str, Any]:
    return {
        "code": dataset.code,
        "name": dataset.name,
        "provider": dataset.organisation.code if dataset.organisation else None,
        "provider_name": dataset.organisation.name if dataset.organisation else None,
        "category": dataset.category,
        "format": dataset.format,
        "share_type": dataset.share_type,
        "open_type": dataset.open_type,
        "zone": dataset.zone,
        "version": version.number if version else None,
        "rows": version.rows if version else None,
        "bytes": version.bytes if version else None,
        "updated_at": version.created_at if version else dataset.updated_at,
    }


@datasets_app.command("list", help=tr("列出数据集", "List datasets"))
def datasets_list(as_json: JsonOpt = False) -> None:
    """List datasets."""
    from dizuo.catalog import service

    ws = state.workspace()
    with ws.session() as s:
        rows = [_dataset_summary(d, v) for d, v in service.list_datasets(s)]
    if as_json:
        print_json(rows)
        return
    table(
        tr("数据资源目录", "Data catalog"),
        [
            tr("代码", "code"),
            tr("名称", "name"),
            tr("提供方", "provider"),
            tr("分类", "category"),
            tr("共享", "sharing"),
            tr("版本", "version"),
            tr("行数", "rows"),
            tr("大小", "size"),
        ],
        [
            [
                r["code"],
                r["name"],
                r["provider_name"],
                r["category"],
                r["share_type"],
                r["version"],
                f"{r['rows']:,}" if r["rows"] is not None else "",
                human_bytes(r["bytes"]),
            ]
            for r in rows
        ],
    )


@datasets_app.command(
    "show", help=tr("显示数据集的目录信息和字段", "Show a dataset's metadata and fields")
)
def datasets_show(
    ref: Annotated[
        str, typer.Argument(help=tr("数据集代码，或 code@N", "dataset code, or code@N"))
    ],
    as_json: JsonOpt = False,
) -> None:
    """Show a dataset's metadata and fields."""
    from dizuo.catalog import service

    code, number = split_ref(ref)
    ws = state.workspace()
    with ws.session() as s:
        dataset = service.get_dataset(s, code)
        version = (
            service.get_version(s, dataset, number)
            if (number or service.latest_version(s, dataset))
            else None
        )
        fields = service.version_fields(s, version) if version else []
        data = _dataset_summary(dataset, version) | {
            "summary": dataset.summary,
            "update_cycle": dataset.update_cycle,
            "share_condition": dataset.share_condition,
            "published_on": dataset.published_on,
            "keywords": dataset.keywords,
            "drift": version.drift if version else {},
            "fields": [
                {
                    "name": f.name,
                    "type": f.type,
                    "nullable": f.nullable,
                    "description": f.description,
                    "profile": f.profile,
                }
                for f in fields
            ],
        }
    if as_json:
        print_json(data)
        return
    console.print(f"{data['name']}  ({data['code']})", style="bold")
    labels = [
        (tr("提供方", "provider"), data["provider_name"]),
        (tr("摘要", "summary"), data["summary"]),
        (tr("资源分类", "category"), data["category"]),
        (tr("格式", "format"), data["format"]),
        (tr("更新周期", "update cycle"), data["update_cycle"]),
        (
            tr("共享属性", "sharing"),
            f"{data['share_type']} {data['share_condition'] or ''}".strip(),
        ),
        (tr("开放属性", "opening"), data["open_type"]),
        (tr("关键字", "keywords"), "，".join(data["keywords"] or [])),
        (tr("版本", "version"), data["version"]),
        (tr("行数", "rows"), data["rows"]),
    ]
    for label, value in labels:
        if value not in (None, ""):
            console.print(f"  {label}: {value}")
    if data["drift"]:
        console.print(tr("  结构变化: {d}", "  schema drift: {d}", d=data["drift"]))
    table(
        tr("信息项", "Fields"),
        [
            tr("字段", "field"),
            tr("类型", "type"),
            tr("空值率", "nulls"),
            tr("约不同值", "distinct≈"),
            tr("范围", "range"),
            tr("常见值", "top values"),
        ],
        [
            [
                f["name"],
                f["type"],
                f"{f['profile'].get('null_rate', 0):.1%}",
                f["profile"].get("distinct_approx"),
                _range(f["profile"]),
                _top(f["profile"]),
            ]
            for f in data["fields"]
        ],
    )


def _range(profile: dict[str, Any]) -> str:
    if "min_length" in profile:
        lo, hi = profile.get("min_length"), profile.get("max_length")
        return tr("长度 {a}–{b}", "length {a}–{b}", a=lo, b=hi) if lo is not None else ""
    lo, hi = profile.get("min"), profile.get("max")
    return f"{lo} – {hi}" if lo is not None else ""


def _top(profile: dict[str, Any]) -> str:
    return ", ".join(f"{t['value']}({t['share']:.0%})" for t in profile.get("top", [])[:5])


@datasets_app.command(
    "update", help=tr("修改数据集的目录信息", "Edit a dataset's catalog metadata")
)
def datasets_update(
    code: Annotated[str, typer.Argument(help=tr("数据集代码", "dataset code"))],
    name: Annotated[str | None, typer.Option("--name")] = None,
    summary: Annotated[str | None, typer.Option("--summary")] = None,
    category: Annotated[str | None, typer.Option("--category")] = None,
    update_cycle: Annotated[str | None, typer.Option("--update-cycle")] = None,
    share: Annotated[
        str | None, typer.Option("--share", help="无条件共享/有条件共享/不予共享")
    ] = None,
    share_condition: Annotated[str | None, typer.Option("--share-condition")] = None,
    open_type: Annotated[
        str | None, typer.Option("--open", help="无条件开放/有条件开放/不予开放")
    ] = None,
    published_on: Annotated[str | None, typer.Option("--published", help="YYYY-MM-DD")] = None,
    keywords: Annotated[str | None, typer.Option("--keywords")] = None,
) -> None:
    """Edit a dataset's catalog metadata."""
    from datetime import date

    from dizuo.catalog import service

    published = None
    if published_on:
        try:
            published = date.fromisoformat(published_on)
        except ValueError:
            raise InvalidInput(tr("日期应为 YYYY-MM-DD", "dates are YYYY-MM-DD")) from None
    ws = state.workspace()
    with ws.session() as s:
        dataset = service.get_dataset(s, code)
        service.update_dataset(
            s,
            dataset,
            name=name,
            summary=summary,
            category=category,
            update_cycle=update_cycle,
            share_type=share,
            share_condition=share_condition,
            open_type=open_type,
            published_on=published,
            keywords=[k.strip() for k in keywords.replace("，", ",").split(",") if k.strip()]
            if keywords
            else None,
        )
    console.print(tr("已更新 {c}", "updated {c}", c=code))


def versions(
    code: Annotated[str, typer.Argument(help=tr("数据集代码", "dataset code"))],
    as_json: JsonOpt = False,
) -> None:
    """List a dataset's versions."""
    from dizuo.catalog import service

    ws = state.workspace()
    with ws.session() as s:
        dataset = service.get_dataset(s, code)
        rows: list[dict[str, Any]] = [
            {
                "version": v.number,
                "created_at": v.created_at,
                "created_by": v.created_by,
                "operation": v.operation,
                "rows": v.rows,
                "bytes": v.bytes,
                "content_hash": v.content_hash,
                "source": v.source,
                "source_fingerprint": v.source_fingerprint,
                "snapshot_id": v.snapshot_id,
                "drift": v.drift,
                "expired": v.expired,
            }
            for v in service.list_versions(s, dataset)
        ]
    if as_json:
        print_json(rows)
        return
    table(
        tr("{c} 的版本", "versions of {c}", c=code),
        [
            tr("版本", "version"),
            tr("时间", "created"),
            tr("操作人", "by"),
            tr("操作", "operation"),
            tr("行数", "rows"),
            tr("大小", "size"),
            tr("结构变化", "drift"),
            tr("状态", "state"),
        ],
        [
            [
                r["version"],
                r["created_at"].isoformat(timespec="seconds"),
                r["created_by"],
                r["operation"],
                f"{r['rows']:,}",
                human_bytes(r["bytes"]),
                _drift_text(r["drift"]),
                tr("已过期", "expired") if r["expired"] else "",
            ]
            for r in rows
        ],
    )


def _drift_text(drift: dict[str, Any]) -> str:
    parts = []
    if drift.get("added"):
        parts.append("+" + ",".join(drift["added"]))
    if drift.get("removed"):
        parts.append("-" + ",".join(drift["removed"]))
    for r in drift.get("retyped", []):
        parts.append(f"~{r['name']}:{r['from']}→{r['to']}")
    return " ".join(parts)


def lineage(
    ref: Annotated[str, typer.Argument(help=tr("code 或 code@N", "code or code@N"))],
    as_json: JsonOpt = False,
) -> None:
    """Show a version's lineage."""
    from dizuo.catalog import service

    code, number = split_ref(ref)
    ws = state.workspace()
    with ws.session() as s:
        dataset = service.get_dataset(s, code)
        version = service.get_version(s, dataset, number)
        nodes = service.lineage(s, version)
        me = {
            "dataset": code,
            "version": version.number,
            "operation": version.operation,
            "created_by": version.created_by,
            "created_at": version.created_at.isoformat(timespec="seconds"),
            "params": version.params,
            "params_hash": version.params_hash,
            "source": version.source,
        }
    data = {
        "version": me,
        "ancestors": [n.__dict__ for n in nodes if n.depth < 0],
        "descendants": [n.__dict__ for n in nodes if n.depth > 0],
    }
    if as_json:
        print_json(data)
        return
    console.print(
        f"{code}@{me['version']} ← {me['operation']} "
        f"{tr('由', 'by')} {me['created_by']} {me['created_at']}  "
        f"{tr('来源', 'source')}: {me['source']}"
    )
    rows = [
        [n.depth, f"{n.dataset}@{n.number}", n.operation, n.created_by, n.created_at] for n in nodes
    ]
    if rows:
        table(
            None,
            [
                tr("层级", "depth"),
                tr("版本", "version"),
                tr("操作", "operation"),
                tr("操作人", "by"),
                tr("时间", "when"),
            ],
            rows,
        )
    else:
        console.print(tr("  没有上游或下游版本", "  no parent or child versions"))
