"""Linkage command: ``dizuo link``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from dizuo.cli.context import state
from dizuo.cli.options import JsonOpt
from dizuo.cli.output import console, print_json, table
from dizuo.i18n import tr


def link(
    datasets: Annotated[
        str,
        typer.Option(
            "--datasets",
            help=tr(
                "要链接的数据集，逗号分隔（可写 code@N）",
                "datasets to link, comma-separated (code@N allowed)",
            ),
        ),
    ],
    mode: Annotated[
        str,
        typer.Option(
            "--mode",
            help=tr(
                "plain：明文比对；private：仅比对密钥化编码（布隆过滤器、假名）",
                "plain: compare plaintext; private: compare keyed encodings only (Bloom "
                "filters, pseudonyms)",
            ),
        ),
    ] = "plain",
    one_to_one: Annotated[
        bool,
        typer.Option(
            "--one-to-one",
            help=tr(
                "每条记录在其他每个数据集中至多匹配一条",
                "at most one match per record in each other dataset",
            ),
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Link people across datasets into a person index, an organisation index and an
    integrated view (shared zone)."""
    from dizuo.link.run import link_datasets

    run = link_datasets(state.workspace(), datasets.split(","), mode=mode, one_to_one=one_to_one)
    if as_json:
        print_json(run.to_dict())
        return
    show(run.to_dict())


def show(data: dict[str, Any]) -> None:
    """Print a linkage run for a person."""
    made = tr("已写入", "wrote") if data["created"] else tr("无变化，已有", "unchanged, already")
    console.print(
        tr(
            "{r} 条记录 → {p} 人（{m} 模式，{made}）",
            "{r} records → {p} persons ({m} mode, {made})",
            r=f"{data['records']:,}",
            p=f"{data['persons']:,}",
            m=data["mode"],
            made=made,
        ),
        style="bold",
    )
    table(
        None,
        [
            tr("数据集", "dataset"),
            tr("人员视图", "person view"),
            tr("列", "columns"),
            tr("记录", "records"),
        ],
        [
            [
                v["dataset"],
                v["role"],
                ", ".join(f"{k}={c}" for k, c in v["columns"].items()),
                f"{v['records']:,}",
            ]
            for v in data["views"]
        ],
    )
    by = data["linked_by"]
    console.print(
        tr(
            "按身份证号确定链接 {i} 条，概率链接 {q} 条，未与他人链接 {o} 条",
            "linked by ID {i}, probabilistically {q}, not linked {o}",
            i=f"{by.get('id', 0):,}",
            q=f"{by.get('probabilistic', 0):,}",
            o=f"{by.get('single', 0):,}",
        )
    )
    e = data["expected"]
    if e:
        console.print(
            tr(
                "模型估计（无标签）：精确率 {p:.4f}，召回率 {r:.4f}，F1 {f:.4f}；阈值 {t:.3f}"
                "（使期望 F1 最大）",
                "model estimate (no labels): precision {p:.4f}, recall {r:.4f}, F1 {f:.4f}; "
                "threshold {t:.3f} (maximises the expected F1)",
                p=e.get("precision", 0.0),
                r=e.get("recall", 0.0),
                f=e.get("f1", 0.0),
                t=data["threshold"],
            )
        )
    if data.get("organisations"):
        console.print(
            tr(
                "机构 {n} 个（统一社会信用代码）",
                "{n} organisations (USCC)",
                n=f"{data['organisations']:,}",
            )
        )
    for ref in data["outputs"].values():
        console.print(f"  → {ref}")
