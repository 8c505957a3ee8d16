"""``dizuo demo``: generate the city, take it into a workspace, run every stage, show a tour.

Each later stage (classification, protection, linkage, the data service) adds itself to
:data:`STAGES`; the demo runs them in order after ingestion.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dizuo.catalog import service
from dizuo.demo.manifest import CityManifest, DemoDataset
from dizuo.errors import NotFound
from dizuo.i18n import tr
from dizuo.ingest import DatasetMeta, IngestResult, IngestSpec, ingest
from dizuo.workspace import CONFIG_FILE, Workspace

DEFAULT_HOME = "demo-city"
Report = Callable[[str], None]
Progress = Callable[[str, float], None]


@dataclass
class DemoRun:
    home: Path
    manifest: CityManifest
    results: list[IngestResult] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    link_scores: dict[str, dict[str, float]] = field(default_factory=dict)
    share: dict[str, Any] = field(default_factory=dict)


def open_or_init(home: Path) -> Workspace:
    """The demo workspace at ``home``: reused if it exists, created if not."""
    if (home / CONFIG_FILE).exists():
        ws = Workspace(home)
        ws.migrate()
        return ws
    return Workspace.init(home)


def city_folder(home: Path, scale: float, seed: int) -> Path:
    return home / "city" / f"seed{seed}-scale{scale:g}"


def generate(home: Path, scale: float, seed: int, progress: Progress | None) -> CityManifest:
    """Generate the city files (once per seed and scale; they are deterministic)."""
    from dizuo.demo.generate import generate_city

    folder = city_folder(home, scale, seed)
    if (folder / "manifest.json").exists():
        return CityManifest.read(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return generate_city(folder, scale=scale, seed=seed, progress=progress)


def spec_for(manifest: CityManifest, item: DemoDataset) -> IngestSpec:
    return IngestSpec(
        source=str(Path(manifest.folder) / item.path),
        dataset=item.code,
        org=item.org,
        encoding=item.encoding,
        sheet=item.sheet,
        meta=DatasetMeta(
            name=item.name,
            summary=item.summary,
            category=item.category,
            update_cycle=item.update_cycle,
            share_type=item.share_type,
            share_condition=item.share_condition,
            open_type=item.open_type,
            keywords=item.keywords,
        ),
    )


def register_departments(ws: Workspace, manifest: CityManifest) -> None:
    with ws.session() as s:
        for dept in manifest.departments:
            try:
                service.get_org(s, dept.code)
            except NotFound:
                service.add_org(s, dept.code, dept.name, "provider")


def run_demo(
    home: Path,
    *,
    scale: float = 1.0,
    seed: int = 20221,
    report: Report | None = None,
    progress: Progress | None = None,
) -> DemoRun:
    """Generate, ingest and run every stage. Returns what happened, for the tour."""
    say = report or (lambda _msg: None)
    home = home.resolve()
    ws = open_or_init(home)
    try:
        started = time.perf_counter()
        say(
            tr(
                "生成模拟城市（规模 {s}，种子 {d}）…",
                "generating the city (scale {s}, seed {d})…",
                s=scale,
                d=seed,
            )
        )
        manifest = generate(home, scale, seed, progress)
        run = DemoRun(home, manifest)
        run.seconds["generate"] = time.perf_counter() - started
        register_departments(ws, manifest)
        started = time.perf_counter()
        for i, item in enumerate(manifest.datasets):
            if progress:
                progress(tr("导入 {n}", "ingesting {n}", n=item.name), i / len(manifest.datasets))
            result = ingest(ws, spec_for(manifest, item))
            run.results.append(result)
            mark = "✓" if result.created else "="
            say(f"  {mark} {item.code:<28} {result.rows:>10,}  {result.message}")
        run.seconds["ingest"] = time.perf_counter() - started
        for name, stage in STAGES:
            started = time.perf_counter()
            stage(ws, run, say)
            run.seconds[name] = time.perf_counter() - started
        return run
    finally:
        ws.close()


Stage = Callable[[Workspace, DemoRun, Report], None]


def classify_stage(ws: Workspace, run: DemoRun, say: Report) -> None:
    """Classify every demo dataset and say what personal data each holds, and its grade."""
    from dizuo.classify.run import classify_version

    say(tr("分类分级：", "classification and grading:"))
    for item in run.manifest.datasets:
        report = classify_version(ws, item.code, save=True)
        j = report.judgement
        assert j is not None
        sensitive = [f.column for f in j.fields if f.sensitive]
        personal = [f.column for f in j.fields if f.pi and not f.sensitive]
        flags = [
            label
            for on, label in (
                (j.health_data, tr("健康医疗", "health")),
                (j.whereabouts, tr("行踪轨迹", "whereabouts")),
                (j.minors, tr("未成年人", "children")),
            )
            if on
        ]
        say(
            f"  {item.code:<28} {j.grade}  "
            + tr(
                "敏感 {s} 列，个人信息 {p} 列",
                "{s} sensitive, {p} personal columns",
                s=len(sensitive),
                p=len(personal),
            )
            + (f"  [{', '.join(flags)}]" if flags else "")
        )


def protect_stage(ws: Workspace, run: DemoRun, say: Report) -> None:
    """Propose a recipe from each personal dataset's classification, keep it in the
    workspace's ``recipes/`` folder, and protect the dataset into the shared zone."""
    from dizuo.protect.recipe import propose
    from dizuo.protect.run import protect_version, stored_classification

    folder = ws.home / "recipes"
    folder.mkdir(exist_ok=True)
    say(tr("去标识化（共享库）：", "de-identification (shared zone):"))
    for item in run.manifest.datasets:
        columns = stored_classification(ws, item.code)
        if not any(c["pi"] for c in columns):
            continue
        path = folder / f"{item.code}.yaml"
        path.write_text(propose(columns, k=5), encoding="utf-8")
        result = protect_version(ws, item.code, path)
        line = f"  {item.code:<28} → {result.target:<34} "
        privacy = result.report.get("privacy")
        if privacy:
            before, after = privacy["risk_before"], privacy["risk_after"]
            line += tr(
                "k={k}，隐匿 {s} 条，检察官风险 {b:.2f} → {a:.2f}，LM {lm:.3f}",
                "k={k}, {s} suppressed, prosecutor risk {b:.2f} → {a:.2f}, LM {lm:.3f}",
                k=after.get("k"),
                s=privacy["result"].get("suppressed", 0),
                b=before.get("prosecutor_max", 0.0),
                a=after.get("prosecutor_max", 0.0),
                lm=privacy["result"].get("loss_lm", 0.0),
            )
        else:
            line += tr("{n} 个字段已处理", "{n} fields transformed", n=len(result.fields))
        say(line)


def link_stage(ws: Workspace, run: DemoRun, say: Report) -> None:
    """Link the people of every demo dataset that has them, and score the person index
    against the city's ground truth (which the linkage never sees)."""
    from dizuo.demo.errors import ALL_KINDS
    from dizuo.lake.query import run_sql
    from dizuo.link.evaluate import against_truth
    from dizuo.link.run import PERSON_INDEX, link_datasets
    from dizuo.protect.run import stored_classification

    codes = [
        item.code
        for item in run.manifest.datasets
        if any(c["entity"] == "person_name" for c in stored_classification(ws, item.code))
    ]
    say(tr("跨部门人员链接：", "linking people across departments:"))
    result = link_datasets(ws, codes)
    say(
        "  "
        + tr(
            "{r} 条记录 → {p} 人；按身份证号 {i}，概率链接 {q}；输出 {o}",
            "{r} records → {p} persons; by ID {i}, probabilistic {q}; output {o}",
            r=f"{result.records:,}",
            p=f"{result.persons:,}",
            i=f"{result.linked_by.get('id', 0):,}",
            q=f"{result.linked_by.get('probabilistic', 0):,}",
            o=", ".join(result.outputs.values()),
        )
    )
    index = run_sql(
        ws, f"SELECT dataset, row, role, person_key FROM {result.outputs[PERSON_INDEX]}"
    )
    truth = Path(run.manifest.folder) / "truth"
    scores = against_truth(index, truth, ALL_KINDS)
    overall = scores["all"]
    say(
        "  "
        + tr(
            "对照真值：精确率 {p:.4f}，召回率 {r:.4f}，F1 {f:.4f}（模型无标签估计 F1 {e:.4f}）",
            "against the ground truth: precision {p:.4f}, recall {r:.4f}, F1 {f:.4f} (the "
            "model's own label-free estimate: F1 {e:.4f})",
            p=overall["precision"],
            r=overall["recall"],
            f=overall["f1"],
            e=result.expected.get("f1", 0.0),
        )
    )
    run.link_scores = scores


def share_stage(ws: Workspace, run: DemoRun, say: Report) -> None:
    """Accounts for every role, the shared zone published as data products, one grant."""
    from dizuo.demo.share import share_stage as stage

    run.share = stage(ws, run.manifest)
    say(tr("数据产品：", "data products:"))
    say(
        "  "
        + tr(
            "已发布 {n} 个：{p}；研究员已获授权 {g}",
            "{n} published: {p}; the researcher holds grant {g}",
            n=len(run.share["products"]),
            p=", ".join(run.share["products"]),
            g=run.share["grant"] or "—",
        )
    )


STAGES: list[tuple[str, Stage]] = [
    ("classify", classify_stage),
    ("protect", protect_stage),
    ("link", link_stage),
    ("share", share_stage),
]


def tour_text(run: DemoRun) -> str:
    """What to try next, with the demo's own dataset codes."""
    first = run.manifest.datasets[0]
    home = run.home
    lines = [
        tr(
            "模拟城市已就绪：{n} 个数据集，{r:,} 行。",
            "The demo city is ready: {n} datasets, {r:,} rows.",
            n=len(run.results),
            r=sum(r.rows for r in run.results),
        ),
        "",
        tr("试试这些命令：", "Try these:"),
        f"  export DIZUO_HOME={home}",
        "  dizuo datasets list",
        f"  dizuo datasets show {first.code}",
        f'  dizuo sql "select count(*) from {first.code}"',
        f"  dizuo classify {first.code}",
        "  dizuo scan-text 患者张三，电话13800138000",
        f"  dizuo propose-recipe {first.code}",
        f"  dizuo protect {first.code} --recipe {home}/recipes/{first.code}.yaml",
        f'  dizuo sql "select * from {first.code}_shared limit 5"',
        '  dizuo sql "select * from link_person_view order by datasets desc limit 5"',
        "  dizuo versions link_person_index --json",
        "  dizuo search 学生",
        f"  dizuo versions {first.code}",
        "  dizuo export --format xlsx --out 目录.xlsx",
        "  dizuo --lang en datasets list",
        "  dizuo user list",
        "  dizuo audit verify",
        "  dizuo audit log --user researcher",
        "  dizuo serve    # http://127.0.0.1:8000/api/v1/docs",
        "",
        tr(
            "生成的原始文件在 {p}，真值数据在其 truth/ 目录。",
            "The generated files are in {p}; the ground truth in its truth/ folder.",
            p=run.manifest.folder,
        ),
    ]
    return "\n".join(lines)
