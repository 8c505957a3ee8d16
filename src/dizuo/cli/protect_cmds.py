"""Protection commands: ``dizuo protect`` and ``dizuo propose-recipe``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from dizuo.cli.context import state
from dizuo.cli.options import DelimiterOpt, EncodingOpt, JsonOpt, SheetOpt, TargetArg
from dizuo.cli.output import console, print_json, table
from dizuo.errors import InvalidInput
from dizuo.i18n import tr


def protect(
    target: TargetArg,
    recipe: Annotated[
        Path, typer.Option("--recipe", help=tr("配方文件（YAML 或 JSON）", "recipe (YAML or JSON)"))
    ],
    to: Annotated[
        str | None,
        typer.Option(
            "--to", help=tr("共享库中的输出数据集代码", "output dataset code in the shared zone")
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help=tr(
                "文件模式：输出文件（.parquet 或 .csv）", "file mode: output (.parquet or .csv)"
            ),
        ),
    ] = None,
    encoding: EncodingOpt = None,
    delimiter: DelimiterOpt = None,
    sheet: SheetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """De-identify a dataset version (into the shared zone) or a file by a recipe."""
    from dizuo.protect.run import protect_path, protect_version

    if Path(target).exists() or "://" in target:
        from dizuo.ingest.spec import IngestSpec

        if out is None:
            raise InvalidInput(
                tr("文件模式需要 --out 输出文件", "file mode needs --out FILE"),
                hint=tr(
                    "密钥取自环境变量 DIZUO_PROTECT_KEY",
                    "the key comes from the DIZUO_PROTECT_KEY environment variable",
                ),
            )
        spec = IngestSpec(
            source=target, dataset="protect", encoding=encoding, delimiter=delimiter, sheet=sheet
        )
        result = protect_path(spec, recipe, out)
    else:
        from dizuo.cli.catalog_cmds import split_ref

        if out is not None:
            raise InvalidInput(
                tr(
                    "--out 只用于文件；数据集的结果写入共享库（--to）",
                    "--out is for files; a dataset's result goes to the shared zone (--to)",
                )
            )
        code, number = split_ref(target)
        result = protect_version(state.workspace(), code, recipe, number=number, output=to)
    if as_json:
        print_json(result.to_dict())
        return
    show(result.to_dict())


def show(data: dict[str, Any]) -> None:
    """Print a protection result for a person."""
    made = (
        tr("已写入", "wrote")
        if data.get("created", True)
        else tr("无变化，已有", "unchanged, already")
    )
    console.print(
        f"{data['source']} → {data['target']}  ({made}, "
        + tr("{n} 行", "{n} rows", n=f"{data['rows']:,}")
        + ")",
        style="bold",
    )
    rows = [[name, how] for name, how in data["fields"].items()]
    rows += [[name, tr("删除", "drop")] for name in data["dropped"]]
    table(None, [tr("字段", "field"), tr("处理", "transform")], rows)
    privacy = data["report"].get("privacy")
    if not privacy:
        return
    result = privacy["result"]
    console.print(
        tr(
            "隐私模型：{m}；算法 {a}；隐匿 {s} 条记录；信息损失 LM {lm:.3f}",
            "privacy model: {m}; algorithm {a}; {s} records suppressed; information loss LM "
            "{lm:.3f}",
            m=", ".join(_model_text(m) for m in privacy["models"]),
            a=privacy["algorithm"],
            s=result.get("suppressed", 0),
            lm=result.get("loss_lm", 0.0),
        )
    )
    headers = [
        tr("重识别风险", "re-identification risk"),
        tr("处理前", "before"),
        tr("处理后", "after"),
    ]
    before, after = privacy["risk_before"], privacy["risk_after"]
    lines = []
    for key, label in (
        ("prosecutor_max", tr("检察官攻击（最大）", "prosecutor (max)")),
        ("prosecutor_avg", tr("检察官攻击（平均）", "prosecutor (average)")),
        ("journalist_max", tr("记者攻击（最大）", "journalist (max)")),
        ("marketer", tr("营销者攻击", "marketer")),
        ("unique_share", tr("唯一记录占比", "unique records")),
        ("k", "k"),
    ):
        if key in before or key in after:
            lines.append([label, _fmt(before.get(key)), _fmt(after.get(key))])
    table(None, headers, lines)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return "" if value is None else str(value)


def _model_text(model: dict[str, Any]) -> str:
    ((name, value),) = model.items()
    if isinstance(value, dict):
        inner = ", ".join(f"{k}={v}" for k, v in value.items())
        return f"{name}({inner})"
    return f"{name}={value}"


def propose_recipe(
    dataset: Annotated[
        str, typer.Argument(help=tr("数据集代码（code 或 code@N）", "code or code@N"))
    ],
    out: Annotated[
        Path | None,
        typer.Option("--out", help=tr("写入文件（默认打印）", "write to a file (default: print)")),
    ] = None,
    k: Annotated[int, typer.Option("--k", help=tr("k-匿名的 k", "the k of k-anonymity"))] = 5,
) -> None:
    """Propose a protection recipe from the dataset's classification, for the operator to edit."""
    from dizuo.cli.catalog_cmds import split_ref
    from dizuo.protect.recipe import propose
    from dizuo.protect.run import stored_classification

    code, number = split_ref(dataset)
    columns = stored_classification(state.workspace(), code, number)
    text = propose(columns, k=k)
    if out is None:
        console.print(text, end="")
        return
    out.write_text(text, encoding="utf-8")
    console.print(tr("已写入 {p}", "wrote {p}", p=str(out)))
