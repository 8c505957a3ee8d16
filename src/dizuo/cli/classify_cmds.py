"""Classification commands: ``dizuo classify`` and ``dizuo scan-text``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dizuo.cli.context import state
from dizuo.cli.options import DelimiterOpt, EncodingOpt, JsonOpt, SheetOpt, TargetArg
from dizuo.cli.output import console, print_json, table
from dizuo.errors import InvalidInput
from dizuo.i18n import current_lang, tr


def classify(
    target: TargetArg,
    full: Annotated[
        bool, typer.Option("--full", help=tr("检查每一行（默认抽样）", "read every row"))
    ] = False,
    sample: Annotated[
        int, typer.Option("--sample", help=tr("抽样行数", "rows to sample"))
    ] = 10_000,
    encoding: EncodingOpt = None,
    delimiter: DelimiterOpt = None,
    sheet: SheetOpt = None,
    policy: Annotated[
        Path | None,
        typer.Option(
            "--policy", help=tr("策略文件（默认内置策略）", "policy file (default: built in)")
        ),
    ] = None,
    save: Annotated[
        bool,
        typer.Option(
            "--save/--no-save",
            help=tr("数据集的结果存入目录（默认）", "store a dataset's result in the catalog"),
        ),
    ] = True,
    as_json: JsonOpt = False,
) -> None:
    """Classify the columns of a dataset or a file."""
    from dizuo.classify.run import classify_path, classify_version
    from dizuo.cli.catalog_cmds import split_ref

    if sample < 1:
        raise InvalidInput(tr("--sample 至少为 1", "--sample must be at least 1"))
    rows = None if full else sample
    if Path(target).exists() or "://" in target:
        from dizuo.ingest.spec import IngestSpec

        spec = IngestSpec(
            source=target,
            dataset="classify",
            encoding=encoding,
            delimiter=delimiter,
            sheet=sheet,
        )
        report = classify_path(spec, sample_rows=rows, policy_path=policy)
    else:
        code, number = split_ref(target)
        report = classify_version(
            state.workspace(), code, number, sample_rows=rows, policy_path=policy, save=save
        )
    lang = current_lang()
    if as_json:
        print_json(report.as_json(lang))
        return
    scope = (
        tr("全部 {n} 行", "all {n} rows", n=f"{report.rows:,}")
        if report.sampled_rows is None
        else tr(
            "抽样 {s} / {n} 行",
            "{s} of {n} rows sampled",
            s=f"{report.sampled_rows:,}",
            n=f"{report.rows:,}",
        )
    )
    console.print(f"{report.target}  ({scope})", style="bold")
    data = report.as_json(lang)
    flags = [
        label
        for key, label in (
            ("health_data", tr("健康医疗数据", "health data")),
            ("whereabouts", tr("行踪轨迹", "whereabouts")),
            ("minors", tr("未成年人信息", "children's data")),
        )
        if data[key]
    ]
    reasons = f"  ({'; '.join(data['grade_reasons'])})" if data["grade_reasons"] else ""
    marks = f"  [{', '.join(flags)}]" if flags else ""
    console.print(tr("分级: {g}", "grade: {g}", g=data["grade"]) + reasons + marks)
    headers = [
        tr("字段", "field"),
        tr("识别为", "entity"),
        tr("置信度", "confidence"),
        tr("匹配率", "match rate"),
        tr("个人信息", "PI"),
        tr("类别", "category"),
        tr("依据", "evidence"),
    ]
    lines: list[list[str]] = []
    for c in data["columns"]:
        found = c["entity"] is not None
        kind = (
            c["entity_label"] if found else (tr("自由文本", "free text") if c["free_text"] else "")
        )
        pi = tr("敏感", "sensitive") if c["sensitive"] else (tr("是", "yes") if c["pi"] else "")
        lines.append(
            [
                c["name"],
                kind,
                f"{c['confidence']:.2f}" if found else "",
                f"{c['match_rate']:.0%}" if found else "",
                pi,
                c["category"] or "",
                "; ".join(c["evidence"] + c["reasons"]),
            ]
        )
    table(None, headers, lines)


def scan_text(
    text: Annotated[str | None, typer.Argument(help=tr("要扫描的文本", "the text to scan"))] = None,
    file: Annotated[
        Path | None,
        typer.Option(
            "--file", help=tr("逐行扫描该 UTF-8 文本文件", "scan each line of this UTF-8 file")
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Find personal data in free text: entity, characters and offsets."""
    from dizuo.classify.text import scan_text as scan

    if (text is None) == (file is None):
        raise InvalidInput(tr("给出文本或 --file（二选一）", "give a text or --file (one of them)"))
    if file is not None:
        try:
            lines = file.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            raise InvalidInput(tr("文件不存在: {f}", "no such file: {f}", f=file)) from None
        except UnicodeDecodeError as exc:
            raise InvalidInput(
                tr(
                    "{f} 不是 UTF-8 文本（字节偏移 {o}）",
                    "{f} is not UTF-8 text (byte offset {o})",
                    f=file,
                    o=exc.start,
                )
            ) from None
    else:
        lines = [text or ""]
    spans = scan(lines)
    lang = current_lang()
    found = [
        {
            "line": i + 1,
            "start": s.start,
            "end": s.end,
            "entity": str(s.entity),
            "entity_label": s.entity.label(lang),
            "text": s.text,
        }
        for i, line_spans in enumerate(spans)
        for s in line_spans
    ]
    if as_json:
        print_json(found)
        return
    if not found:
        console.print(tr("没有发现个人信息", "no personal data found"))
        return
    table(
        None,
        [tr("行", "line"), tr("位置", "span"), tr("类型", "entity"), tr("文本", "text")],
        [[f["line"], f"{f['start']}–{f['end']}", f["entity_label"], f["text"]] for f in found],
    )


def override(
    dataset: Annotated[str, typer.Argument(help=tr("数据集代码", "dataset code"))],
    column: Annotated[
        str | None, typer.Argument(help=tr("列名（省略则针对分级）", "column (omit for the grade)"))
    ] = None,
    reason: Annotated[
        str, typer.Option("--reason", help=tr("理由（必填）", "why (required)"))
    ] = "",
    entity: Annotated[str | None, typer.Option("--entity", help=tr("类型", "entity type"))] = None,
    pi: Annotated[
        bool | None, typer.Option("--pi/--no-pi", help=tr("是否个人信息", "personal information"))
    ] = None,
    sensitive: Annotated[
        bool | None,
        typer.Option("--sensitive/--not-sensitive", help=tr("是否敏感个人信息", "sensitive PI")),
    ] = None,
    grade: Annotated[
        str | None, typer.Option("--grade", help="一般数据 / 重要数据 / 核心数据")
    ] = None,
) -> None:
    """Record an operator's decision on a column or on the grade; it outlives versions."""
    from dizuo.classify.store import add_override

    add_override(
        state.workspace(),
        dataset,
        column or "",
        reason=reason,
        entity=entity,
        pi=pi,
        sensitive=sensitive,
        grade=grade,
    )
    what = column or tr("分级", "the grade")
    console.print(
        tr(
            "已记录对 {d} {w} 的复核；重新分类时生效",
            "recorded the review of {d} {w}; it applies whenever the dataset is classified",
            d=dataset,
            w=what,
        )
    )
