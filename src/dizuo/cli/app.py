"""The ``dizuo`` command: one command group per package."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from dizuo.cli import (
    catalog_cmds,
    classify_cmds,
    lake_cmds,
    link_cmds,
    protect_cmds,
    share_cmds,
)
from dizuo.cli.context import state
from dizuo.cli.options import JsonOpt
from dizuo.cli.output import console, err_console, human_bytes, print_json, table
from dizuo.errors import DizuoError, InvalidInput
from dizuo.i18n import tr

app = typer.Typer(
    name="dizuo",
    help=tr(
        "dizuo（底座）：城市公共数据底座 —— 目录、数据湖、分类分级、脱敏、融合与共享。",
        "dizuo (底座): a public-data foundation for cities — catalog, lake, classification,"
        " protection, linkage and sharing.",
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)
app.add_typer(catalog_cmds.org_app, name="org")
app.add_typer(catalog_cmds.datasets_app, name="datasets")
app.add_typer(lake_cmds.lake_app, name="lake")
app.command("versions", help=tr("列出数据集的版本", "List a dataset's versions"))(
    catalog_cmds.versions
)
app.command("lineage", help=tr("显示版本的血缘", "Show a version's lineage"))(catalog_cmds.lineage)
app.command(
    "classify",
    help=tr("识别数据集或文件各列的个人信息类型", "Classify the columns of a dataset or a file"),
)(classify_cmds.classify)
app.command(
    "override",
    help=tr("人工复核某列的分类或数据集分级", "Override a column's classification or the grade"),
)(classify_cmds.override)
app.command("scan-text", help=tr("在自由文本中查找个人信息", "Find personal data in free text"))(
    classify_cmds.scan_text
)
app.command(
    "protect",
    help=tr(
        "按配方对数据集版本或文件去标识化（输出到共享库）",
        "De-identify a dataset version (into the shared zone) or a file by a recipe",
    ),
)(protect_cmds.protect)
app.command(
    "propose-recipe",
    help=tr(
        "按分类结果生成去标识化配方草稿", "Propose a protection recipe from the classification"
    ),
)(protect_cmds.propose_recipe)
app.command(
    "link",
    help=tr(
        "跨数据集链接人员，生成人员索引、机构索引与综合视图（共享库）",
        "Link people across datasets into a person index, an organisation index and an "
        "integrated view (shared zone)",
    ),
)(link_cmds.link)
app.add_typer(share_cmds.user_app, name="user")
app.add_typer(share_cmds.token_app, name="token")
app.add_typer(share_cmds.audit_app, name="audit")
app.command("serve", help=tr("启动数据服务（HTTP API）", "Start the data service (HTTP API)"))(
    share_cmds.serve
)


@app.callback()
def root(
    home: Annotated[
        Path | None,
        typer.Option(
            "--home",
            envvar="DIZUO_HOME",
            help=tr("工作区目录（默认 $DIZUO_HOME）", "workspace folder (default $DIZUO_HOME)"),
        ),
    ] = None,
    lang: Annotated[
        str | None,
        typer.Option("--lang", help=tr("界面语言 zh 或 en", "language: zh or en")),
    ] = None,
) -> None:
    state.home = home
    if lang:
        from dizuo.i18n import set_lang

        set_lang(lang)


@app.command(help=tr("创建工作区", "Create a workspace"))
def init(
    directory: Annotated[
        Path | None, typer.Argument(help=tr("工作区目录", "workspace folder"))
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            envvar="DIZUO_DATABASE_URL",
            help=tr("目录数据库（默认 SQLite）", "catalog database (default: SQLite)"),
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a workspace."""
    from dizuo.workspace import Workspace, redact_url

    ws = Workspace.init(directory or state.home, database_url=database_url)
    state.opened.append(ws)
    if as_json:
        print_json({"home": str(ws.home), "database": redact_url(ws.database_url)})
        return
    console.print(tr("已创建工作区 {h}", "Created workspace {h}", h=ws.home))
    console.print(tr("  目录数据库: {u}", "  catalog: {u}", u=redact_url(ws.database_url)))
    console.print(tr("  数据湖: {p}", "  lake: {p}", p=ws.lake_path))
    console.print(
        tr(
            "  下一步: export DIZUO_HOME={h}; dizuo org add …",
            "  next: export DIZUO_HOME={h}; dizuo org add …",
            h=ws.home,
        )
    )


@app.command(
    help=tr(
        "导入文件或数据库表为数据集的新版本", "Ingest a file or database table as a new version"
    )
)
def ingest(
    source: Annotated[
        str, typer.Argument(help=tr("文件路径或数据库 URL", "file path or database URL"))
    ],
    dataset: Annotated[
        str, typer.Option("--dataset", "-d", help=tr("数据集代码（资源代码）", "dataset code"))
    ],
    org: Annotated[
        str | None,
        typer.Option("--org", help=tr("提供方机构代码（新数据集必填）", "provider (new datasets)")),
    ] = None,
    mode: Annotated[
        str,
        typer.Option("--mode", help=tr("replace（默认）或 append", "replace (default) or append")),
    ] = "replace",
    fmt: Annotated[
        str, typer.Option("--format", help="auto/csv/tsv/excel/json/parquet/sql")
    ] = "auto",
    encoding: Annotated[
        str | None,
        typer.Option(
            "--encoding", help=tr("文本编码（默认自动识别）", "text encoding (default: detect)")
        ),
    ] = None,
    delimiter: Annotated[
        str | None,
        typer.Option(
            "--delimiter", help=tr("分隔符（默认自动识别）", "delimiter (default: detect)")
        ),
    ] = None,
    no_header: Annotated[
        bool, typer.Option("--no-header", help=tr("首行不是表头", "the first row is data"))
    ] = False,
    sheet: Annotated[
        str | None,
        typer.Option("--sheet", help=tr("Excel 工作表名或序号", "Excel sheet name or number")),
    ] = None,
    table_name: Annotated[
        str | None, typer.Option("--table", help=tr("数据库表", "database table"))
    ] = None,
    query: Annotated[
        str | None, typer.Option("--query", help=tr("数据库查询", "database query"))
    ] = None,
    dedupe_columns: Annotated[
        bool,
        typer.Option(
            "--dedupe-columns", help=tr("重复列名自动改名", "rename duplicate column names")
        ),
    ] = False,
    name: Annotated[
        str | None, typer.Option("--name", help=tr("信息资源名称", "dataset name"))
    ] = None,
    summary: Annotated[str | None, typer.Option("--summary", help=tr("摘要", "summary"))] = None,
    category: Annotated[
        str | None, typer.Option("--category", help=tr("资源分类，如 教育", "domain, e.g. 教育"))
    ] = None,
    update_cycle: Annotated[
        str | None, typer.Option("--update-cycle", help=tr("更新周期", "update cycle"))
    ] = None,
    share: Annotated[
        str | None, typer.Option("--share", help="无条件共享/有条件共享/不予共享")
    ] = None,
    share_condition: Annotated[
        str | None, typer.Option("--share-condition", help=tr("共享条件", "sharing condition"))
    ] = None,
    open_type: Annotated[
        str | None, typer.Option("--open", help="无条件开放/有条件开放/不予开放")
    ] = None,
    keywords: Annotated[
        str | None,
        typer.Option("--keywords", help=tr("关键字，逗号分隔", "keywords, comma-separated")),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Ingest a file or database table as a new version."""
    from pydantic import ValidationError

    from dizuo.ingest import DatasetMeta, IngestSpec
    from dizuo.ingest import ingest as run_ingest

    try:
        spec = IngestSpec(
            source=source,
            dataset=dataset,
            org=org,
            mode=mode,
            format=fmt,
            encoding=encoding,
            delimiter=delimiter,
            header=not no_header,
            sheet=sheet,
            table=table_name,
            query=query,
            dedupe_columns=dedupe_columns,
            meta=DatasetMeta(
                name=name,
                summary=summary,
                category=category,
                update_cycle=update_cycle,
                share_type=share,
                share_condition=share_condition,
                open_type=open_type,
                keywords=[
                    k.strip() for k in (keywords or "").replace("，", ",").split(",") if k.strip()
                ],
            ),
        )
    except ValidationError as exc:
        err = exc.errors()[0]
        raise InvalidInput(
            tr(
                "选项 {o} 无效: {m}",
                "invalid option {o}: {m}",
                o=".".join(map(str, err["loc"])),
                m=err["msg"],
            )
        ) from None
    ws = state.workspace()
    result = _with_progress(lambda progress: run_ingest(ws, spec, progress), source, quiet=as_json)
    if as_json:
        print_json(result.__dict__)
        return
    for note in result.notes:
        err_console.print(note, style="yellow")
    console.print(
        ("✓ " if result.created else "= ") + result.message,
        style="green" if result.created else "yellow",
    )
    if result.drift:
        console.print(
            tr(
                "  结构变化: {d}",
                "  schema drift: {d}",
                d=json.dumps(result.drift, ensure_ascii=False),
            )
        )


def _with_progress(work, label: str, quiet: bool):  # type: ignore[no-untyped-def]
    """Run ``work(progress)`` with a Rich progress bar on stderr (hidden for short jobs)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    if quiet or not err_console.is_terminal:
        return work(None)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task(tr("导入 {s}", "ingesting {s}", s=Path(label).name), total=100)
        return work(lambda pct: bar.update(task, completed=pct))


@app.command(
    help=tr("在数据湖上运行只读 SQL（运营方）", "Run read-only SQL over the lake (operators)")
)
def sql(
    query: Annotated[
        str,
        typer.Argument(
            help=tr(
                "SELECT 查询；表名为数据集代码，code@N 为旧版本",
                "a SELECT; tables are dataset codes, code@N an older version",
            )
        ),
    ],
    limit: Annotated[
        int, typer.Option("--limit", help=tr("最多显示行数", "maximum rows shown"))
    ] = 100,
    as_json: JsonOpt = False,
) -> None:
    """Run read-only SQL over the lake (operators)."""
    from dizuo.lake.query import run_sql

    result = run_sql(state.workspace(), query, limit=limit)
    if as_json:
        print_json(result.to_pylist())
        return
    table(None, result.column_names, [list(r.values()) for r in result.to_pylist()])
    console.print(tr("{n} 行", "{n} rows", n=result.num_rows))


@app.command(
    help=tr(
        "按名称、摘要、关键字和字段名检索数据集", "Find datasets by name, summary, keywords, fields"
    )
)
def search(
    words: Annotated[list[str], typer.Argument(help=tr("检索词", "search words"))],
    as_json: JsonOpt = False,
) -> None:
    """Find datasets by name, summary, keywords, fields."""
    from dizuo.catalog.search import search as run_search

    ws = state.workspace()
    with ws.session() as s:
        hits = run_search(s, " ".join(words))
        rows: list[dict[str, Any]] = [
            {
                "code": h.dataset.code,
                "name": h.dataset.name,
                "provider": h.dataset.organisation.name if h.dataset.organisation else None,
                "category": h.dataset.category,
                "score": round(h.score, 2),
                "matched": h.matched,
            }
            for h in hits
        ]
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print(tr("没有找到", "nothing found"))
        return
    table(
        None,
        [
            tr("代码", "code"),
            tr("名称", "name"),
            tr("提供方", "provider"),
            tr("分类", "category"),
            tr("匹配", "matched"),
        ],
        [
            [r["code"], r["name"], r["provider"], r["category"], ",".join(r["matched"])]
            for r in rows
        ],
    )


@app.command(
    help=tr(
        "导出目录（DCAT JSON-LD 或 GB/T 21063 目录表）", "Export the catalog (DCAT or GB/T 21063)"
    )
)
def export(
    codes: Annotated[
        list[str] | None,
        typer.Argument(help=tr("数据集代码（默认全部）", "dataset codes (default: all)")),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="dcat / csv / xlsx")] = "dcat",
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help=tr("输出文件（默认标准输出）", "output file (default: stdout)")
        ),
    ] = None,
) -> None:
    """Export the catalog (DCAT JSON-LD or a GB/T 21063 table)."""
    from dizuo.catalog import export as ex

    if fmt not in ("dcat", "csv", "xlsx"):
        raise InvalidInput(tr("格式必须是 dcat、csv 或 xlsx", "format must be dcat, csv or xlsx"))
    if fmt == "xlsx" and out is None:
        raise InvalidInput(tr("xlsx 需要 --out 文件", "xlsx needs --out FILE"))
    ws = state.workspace()
    with ws.session() as s:
        if fmt == "dcat":
            text = json.dumps(ex.dcat(s, codes or None), ensure_ascii=False, indent=2) + "\n"
        else:
            rows = ex.gbt21063_rows(s, codes or None)
            if fmt == "xlsx":
                assert out is not None
                ex.gbt21063_xlsx(rows, out)
                console.print(tr("已写入 {p}", "wrote {p}", p=out))
                return
            text = ex.gbt21063_csv(rows)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8-sig" if fmt == "csv" else "utf-8")
        console.print(tr("已写入 {p}", "wrote {p}", p=out))


@app.command(
    help=tr(
        "生成并导入模拟城市，运行各环节，显示导览", "Generate and ingest the demo city, then a tour"
    )
)
def demo(
    home: Annotated[
        Path | None,
        typer.Option(
            "--home",
            help=tr("演示工作区目录（默认 ./demo-city）", "demo workspace (default ./demo-city)"),
        ),
    ] = None,
    scale: Annotated[
        float, typer.Option("--scale", help=tr("数据规模倍数", "size multiplier"))
    ] = 1.0,
    seed: Annotated[int, typer.Option("--seed", help=tr("随机种子", "random seed"))] = 20221,
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help=tr("导览后退出，不启动服务", "stop after the tour"))
    ] = False,
    host: Annotated[str, typer.Option("--host", help=tr("服务监听地址", "service address"))] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option("--port", help=tr("服务端口", "service port"))] = 8000,
) -> None:
    """Generate and ingest the demo city, then a tour."""
    from dizuo.demo.tour import DEFAULT_HOME, run_demo, tour_text

    if scale <= 0:
        raise InvalidInput(tr("--scale 必须大于 0", "--scale must be above 0"))
    target = (home or Path(DEFAULT_HOME)).resolve()
    console.print(tr("演示工作区: {h}", "demo workspace: {h}", h=target))
    run = run_demo(target, scale=scale, seed=seed, report=console.print)
    console.print()
    datasets_list_for(target)
    console.print(tour_text(run))
    timings = ", ".join(f"{k} {v:.1f}s" for k, v in run.seconds.items())
    console.print(tr("用时: {t}", "timings: {t}", t=timings))
    show_accounts(run.share, port)
    if not no_serve:
        from dizuo.cli.share_cmds import run_server

        state.home = target
        run_server(host, port)


def show_accounts(shared: dict[str, Any], port: int) -> None:
    """The demo's accounts, one per role, with where their passwords are kept."""
    accounts = shared.get("accounts", {})
    if not accounts:
        return
    table(
        tr("演示账号（每个角色一个）", "Demo accounts (one per role)"),
        [
            tr("用户名", "user"),
            tr("机构", "organisation"),
            tr("角色", "roles"),
            tr("密码", "password"),
        ],
        [[u, org, ", ".join(roles), pw] for u, (org, roles, pw) in accounts.items()],
    )
    console.print(
        tr(
            "密码保存在 {f}（仅本机可读）。登录：",
            "Passwords are kept in {f} (readable by you only). Log in:",
            f=shared.get("accounts_file"),
        )
    )
    console.print(
        f"  curl -s -X POST http://127.0.0.1:{port}/api/v1/auth/login "
        "-H 'Content-Type: application/json' "
        '-d \'{"username": "researcher", "password": "…"}\'',
        highlight=False,
        soft_wrap=True,
    )
    if shared.get("grant"):
        console.print(
            f"  curl -s -X POST http://127.0.0.1:{port}/api/v1/grants/{shared['grant']}/query "
            "-H 'Authorization: Bearer <token>' -H 'Content-Type: application/json' "
            "-d '{\"limit\": 5}'",
            highlight=False,
            soft_wrap=True,
        )


def datasets_list_for(home: Path) -> None:
    from dizuo.cli.catalog_cmds import datasets_list

    state.home = home
    datasets_list(as_json=False)


def run(args: list[str]) -> int:
    """Run the CLI; user errors become one red line and a non-zero exit code.

    Usage mistakes (unknown option, missing argument) are reported by Typer itself, with the
    command's usage, and exit with code 2.
    """
    command = typer.main.get_command(app)
    try:
        command.main(args=args, prog_name="dizuo", standalone_mode=True)
        return 0
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except DizuoError as exc:
        err_console.print(f"{tr('错误', 'error')}: {exc}", style="red", soft_wrap=True)
        return exc.exit_code
    except KeyboardInterrupt:
        err_console.print(tr("已中断", "interrupted"))
        return 130
    finally:
        state.close()


__all__ = ["app", "human_bytes", "run"]
