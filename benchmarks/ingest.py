"""Ingest benchmark (issue #2): ``dizuo ingest`` against plain DuckDB on a large CSV.

Generates (once, cached under ``benchmarks/_data/``) a CSV of realistic public-data columns
with DuckDB SQL, once as UTF-8 and once as GBK, then measures in the same run, each in its own
subprocess:

* ``dizuo ingest FILE --dataset bench --org bench`` into a fresh workspace (only the ingest
  command is timed; ``dizuo init`` and ``dizuo org add`` are not);
* plain DuckDB: ``COPY (SELECT * FROM read_csv(FILE)) TO OUT (FORMAT parquet)``.

Every measured command runs under a small wrapper process that starts it, times it and then
reads ``getrusage(RUSAGE_CHILDREN)``: the wrapper has waited for exactly one child, so
``ru_maxrss`` is the peak RSS of that command alone (not of this script, nor of earlier runs),
and ``ru_utime + ru_stime`` its CPU time. On a shared machine, wall times are only as good as
the machine is quiet: before each run the script waits for other processes to go idle, and it
reports how much CPU time other processes used during each run.

Usage::

    .venv/bin/python benchmarks/ingest.py                  # 5,000,000 rows, best of 2
    .venv/bin/python benchmarks/ingest.py --rows 20000     # smoke test
    .venv/bin/python benchmarks/ingest.py --phases         # also: where dizuo's time goes
    .venv/bin/python benchmarks/ingest.py --keep           # keep the data for the next run

Without ``--keep`` the generated files are deleted at the end.
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from common import busy_seconds, machine, table, wait_idle

HERE = Path(__file__).resolve().parent
DATA = HERE / "_data"
DEFAULT_ROWS = 5_000_000
CHUNK_BYTES = 16 << 20
TARGET_RATIO = 0.8
TARGET_RSS_MB = 2048.0

# Runs one command, times it, and prints its peak RSS. RUSAGE_CHILDREN covers only the
# children this wrapper has waited for: here exactly one (and whatever that one waited for).
WRAPPER = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
seconds = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({
    "rc": proc.returncode,
    "seconds": seconds,
    "maxrss_kb": usage.ru_maxrss,
    "cpu_seconds": usage.ru_utime + usage.ru_stime,
    "stdout": proc.stdout.decode("utf-8", "replace"),
    "stderr": proc.stderr.decode("utf-8", "replace"),
}))
"""

# The competitor: DuckDB with its defaults, one statement.
DUCKDB_CHILD = """
import sys
import duckdb

con = duckdb.connect()
source, target = sys.argv[1], sys.argv[2]
q = lambda s: "'" + s.replace("'", "''") + "'"
row = con.execute(
    f"COPY (SELECT * FROM read_csv({q(source)})) TO {q(target)} (FORMAT parquet)"
).fetchone()
print(row[0] if row else -1)
"""

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏飞宇浩然子涵欣怡梓轩思雨"
    "俊杰晨阳佳琪嘉怡文博一诺雅婷志强建国海燕春梅秋菊德福永胜立新振华国庆晓东"
)
REGIONS = [
    "110101",
    "310104",
    "440305",
    "330106",
    "510107",
    "420106",
    "320102",
    "370202",
    "610113",
    "500103",
    "350203",
    "430104",
]
CITIES = [
    "北京市东城区",
    "上海市徐汇区",
    "广东省深圳市南山区",
    "浙江省杭州市西湖区",
    "四川省成都市武侯区",
    "湖北省武汉市武昌区",
    "江苏省南京市玄武区",
    "山东省青岛市市南区",
    "陕西省西安市雁塔区",
    "重庆市渝中区",
    "福建省厦门市思明区",
    "湖南省长沙市岳麓区",
]
ROADS = [
    "人民路",
    "解放路",
    "中山路",
    "建设路",
    "和平街",
    "文三路",
    "学院路",
    "长江路",
    "黄河大道",
    "新华街",
    "光明巷",
    "朝阳北路",
    "滨江大道",
    "科技园路",
    "府前街",
    "东风路",
]
CATEGORIES = [
    "医疗保险",
    "养老保险",
    "失业保险",
    "工伤保险",
    "生育保险",
    "住房公积金",
    "最低生活保障",
    "义务教育",
    "公共交通",
    "不动产登记",
    "户籍管理",
    "社会救助",
]
REMARKS = [
    "材料齐全，已受理",
    "已电话回访，群众满意",
    "待补充身份证明材料",
    "按规定办结",
    "系统自动核验通过",
    "申请人称\u201c已办结\u201d但未收到通知",
    '窗口备注："加急"办理',
    "转交街道办事处, 由社区网格员核实",
    "信息变更：联系电话、住址",
    "重复申请，已合并处理",
    "退回修改, 原因: 表格填写不完整",
    "线上办理",
]


def sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def sql_array(values: list[str]) -> str:
    return "[" + ", ".join(sql_text(v) for v in values) + "]"


def pick(values: list[str], hashed: str) -> str:
    """SQL: one element of ``values`` chosen by a hash expression (deterministic, no RNG)."""
    return f"{sql_array(values)}[(({hashed}) % {len(values)})::INTEGER + 1]"


def generator_sql(rows: int) -> str:
    """One SELECT producing ``rows`` rows of 12 columns, vectorised in DuckDB."""
    surnames, given = list(SURNAMES), list(GIVEN)
    return f"""
WITH h AS (
    SELECT i, hash(i, 'a') AS a, hash(i, 'b') AS b, hash(i, 'c') AS c, hash(i, 'd') AS d
    FROM range(1, {rows} + 1) AS t(i)
), v AS (
    SELECT *, DATE '1940-01-01' + ((a >> 20) % 24000)::INTEGER AS birth FROM h
)
SELECT
    i AS 编号,
    {pick(surnames, "a")} || {pick(given, "a >> 8")}
        || CASE WHEN (a >> 16) % 3 > 0 THEN {pick(given, "a >> 40")} ELSE '' END AS 姓名,
    {pick(REGIONS, "b")} || strftime(birth, '%Y%m%d')
        || lpad(((b >> 8) % 1000)::VARCHAR, 3, '0')
        || substr('0123456789X', ((b >> 20) % 11)::INTEGER + 1, 1) AS 身份证号,
    '1' || {pick(list("3456789"), "c")} || lpad(((c >> 4) % 1000000000)::VARCHAR, 9, '0')
        AS 联系电话,
    date_diff('year', birth, DATE '2025-06-30')::INTEGER AS 年龄,
    CASE WHEN (d % 50) = 0 THEN NULL
         ELSE (((d >> 6) % 5000000) / 100)::DECIMAL(10, 2) END AS 缴费金额,
    DATE '2015-01-01' + ((c >> 36) % 3650)::INTEGER AS 登记日期,
    TIMESTAMP '2020-01-01 00:00:00' + to_seconds(((d >> 24) % 157680000)::BIGINT) AS 更新时间,
    {pick(CATEGORIES, "d >> 12")} AS 业务类别,
    {pick(CITIES, "b >> 32")} || {pick(ROADS, "b >> 40")} || ((c >> 44) % 999 + 1)::VARCHAR
        || '号' || ((c >> 54) % 30 + 1)::VARCHAR || '栋' || ((d >> 50) % 2800 + 101)::VARCHAR
        || '室' AS 地址,
    (a >> 60) % 4 > 0 AS 是否有效,
    CASE WHEN (b >> 56) % 5 = 0 THEN NULL
         WHEN (b >> 56) % 5 = 1
              THEN {pick(REMARKS, "c >> 20")} || '；' || {pick(REMARKS, "d >> 30")}
         ELSE {pick(REMARKS, "c >> 20")} END AS 备注
FROM v
ORDER BY i
"""


# -- data ----------------------------------------------------------------------------------


def generate(rows: int) -> tuple[Path, Path]:
    """The UTF-8 and GBK files for ``rows`` rows, generated once and cached."""
    import duckdb

    DATA.mkdir(parents=True, exist_ok=True)
    utf8 = DATA / f"people_{rows}.utf8.csv"
    gbk = DATA / f"people_{rows}.gbk.csv"
    if not utf8.exists():
        print(f"generating {utf8.relative_to(HERE.parent)} ({rows:,} rows) …", flush=True)
        start = time.perf_counter()
        partial = utf8.with_suffix(".partial")
        con = duckdb.connect()
        con.execute(
            f"COPY ({generator_sql(rows)}) TO {sql_text(str(partial))} "
            "(FORMAT csv, HEADER true, DELIMITER ',')"
        )
        con.close()
        partial.replace(utf8)
        print(f"  {human(utf8.stat().st_size)} in {time.perf_counter() - start:.1f} s")
    if not gbk.exists():
        print(f"transcoding to GBK: {gbk.relative_to(HERE.parent)} …", flush=True)
        start = time.perf_counter()
        partial = gbk.with_suffix(".partial")
        transcode(utf8, partial, "gbk")
        partial.replace(gbk)
        print(f"  {human(gbk.stat().st_size)} in {time.perf_counter() - start:.1f} s")
    return utf8, gbk


def transcode(source: Path, target: Path, encoding: str) -> None:
    """UTF-8 → ``encoding`` in big chunks (the codecs run in C; no per-row Python)."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    with source.open("rb") as src, target.open("wb") as dst:
        while True:
            chunk = src.read(CHUNK_BYTES)
            text = decoder.decode(chunk, final=not chunk)
            if text:
                dst.write(text.encode(encoding))
            if not chunk:
                break


def warm(path: Path) -> None:
    """Read the file once so every measured run starts with it in the page cache."""
    with path.open("rb") as fh:
        while fh.read(CHUNK_BYTES):
            pass


def human(size: float) -> str:
    for unit in ("B", "KB", "MB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


# -- measuring -----------------------------------------------------------------------------


@dataclass
class Run:
    seconds: float  # wall time
    cpu: float  # user + system seconds, all threads
    rss_mb: float  # peak resident set size
    stdout: str
    others: float | None = None  # CPU seconds used by other processes meanwhile (noise)


def clean_env(home: Path | None = None) -> dict[str, str]:
    """The environment without the caller's DIZUO_* settings (a stray database URL or
    memory limit would change what is measured), in English."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIZUO_")}
    env["DIZUO_LANG"] = "en"
    if home is not None:
        env["DIZUO_HOME"] = str(home)
    return env


def measured(cmd: list[str], env: dict[str, str] | None = None) -> Run:
    """Run ``cmd`` under the wrapper: its wall time, CPU time and its own peak RSS."""
    busy_before = busy_seconds()
    out = subprocess.run(
        [sys.executable, "-c", WRAPPER, *cmd],
        env=env,
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    busy_after = busy_seconds()
    report = json.loads(out.stdout)
    if report["rc"] != 0:
        output = report["stderr"] + report["stdout"]
        raise SystemExit(f"command failed ({report['rc']}): {' '.join(cmd)}\n{output}")
    others = None
    if busy_before is not None and busy_after is not None:
        others = max(0.0, busy_after - busy_before - report["cpu_seconds"])
    return Run(
        report["seconds"],
        report["cpu_seconds"],
        report["maxrss_kb"] / 1024,
        report["stdout"],
        others,
    )


def dizuo_bin() -> str:
    exe = Path(sys.executable).parent / "dizuo"
    found = str(exe) if exe.exists() else shutil.which("dizuo")
    if found is None:
        raise SystemExit("the dizuo command is not installed (pip install -e .)")
    return found


def fresh_workspace(root: Path) -> Path:
    """A new workspace with the provider org ``bench`` (set up untimed)."""
    home = Path(tempfile.mkdtemp(prefix="ws-", dir=root))
    env = clean_env(home)
    for args in (["init", str(home)], ["org", "add", "bench", "基准"]):
        subprocess.run([dizuo_bin(), *args], env=env, check=True, stdout=subprocess.DEVNULL)
    return home


def run_dizuo(source: Path, root: Path, rows: int) -> Run:
    home = fresh_workspace(root)
    try:
        cmd = [dizuo_bin(), "ingest", str(source), "--dataset", "bench", "--org", "bench"]
        run = measured([*cmd, "--json"], env=clean_env(home))
        result = json.loads(run.stdout)
        if result.get("rows") != rows or not result.get("created"):
            raise SystemExit(f"dizuo ingest of {source.name} gave {result}")
        return run
    finally:
        shutil.rmtree(home, ignore_errors=True)


def run_duckdb(source: Path, root: Path, rows: int) -> Run:
    target = root / "duckdb-out.parquet"
    try:
        run = measured([sys.executable, "-c", DUCKDB_CHILD, str(source), str(target)])
        count = int(run.stdout.strip().splitlines()[-1])
        if count not in (rows, -1):
            raise SystemExit(f"DuckDB wrote {count} rows from {source.name}, expected {rows}")
        return run
    finally:
        target.unlink(missing_ok=True)


def combine(runs: list[Run]) -> Run:
    """The fastest run's time; the highest peak RSS seen in any run."""
    best = min(runs, key=lambda r: r.seconds)
    return Run(best.seconds, best.cpu, max(r.rss_mb for r in runs), best.stdout, best.others)


# -- phases (where dizuo's time goes) -------------------------------------------------------


def phases_child(source: str) -> None:
    """In this process: ingest ``source`` with timers around the pipeline's steps.

    Patches the functions the pipeline calls (by module attribute), so the steps are timed
    exactly as ``dizuo ingest`` runs them. Prints JSON: [[step, seconds], ...].
    """
    start = time.perf_counter()
    import dizuo.ingest
    from dizuo.catalog import service
    from dizuo.cli.app import run as cli
    from dizuo.engine.duckdb import DuckDBEngine
    from dizuo.ingest import pipeline, readers, text
    from dizuo.lake.iceberg import Lake

    imported = time.perf_counter() - start
    timings: dict[str, float] = {}

    def timed(owner: Any, name: str, label: str) -> None:
        original = getattr(owner, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                timings[label] = timings.get(label, 0.0) + time.perf_counter() - t0

        setattr(owner, name, wrapper)

    def query_label(sql: str) -> str:
        if "sniff_csv(" in sql:
            return "  stage: sniff_csv (types)"
        if "bool_or(" in sql:
            return "  stage: identifier check (20k rows)"
        if sql.startswith("DESCRIBE"):
            return "  profile: describe"
        if "histogram(" in sql:
            return "  profile: histograms (2nd full scan)"
        if "hash(t)" in sql:
            return "  profile: count/hash/distinct/min/max (full scan)"
        return "  other queries"

    original_rows = DuckDBEngine.rows

    def rows(self: Any, sql: str, params: Any = None) -> Any:
        t0 = time.perf_counter()
        try:
            return original_rows(self, sql, params)
        finally:
            label = query_label(sql)
            timings[label] = timings.get(label, 0.0) + time.perf_counter() - t0

    DuckDBEngine.rows = rows  # type: ignore[method-assign]
    timed(readers, "stage", "stage (total)")
    timed(text, "detect", "  stage: detect encoding (1 MB)")
    timed(text, "transcode_to_utf8", "  stage: transcode to UTF-8 (Python codec)")
    timed(DuckDBEngine, "copy_to_parquet", "  stage: COPY CSV → zstd Parquet")
    timed(readers.FileFingerprint, "_run", "  stage: SHA-256 of source (thread, overlaps)")
    timed(readers.FileFingerprint, "result", "  stage: waiting for SHA-256 thread")
    timed(pipeline, "profile", "profile (total)")
    timed(Lake, "commit", "lake commit (Iceberg)")
    timed(service, "record_version", "catalog: record version")
    timed(dizuo.ingest, "ingest", "ingest() (total)")

    t0 = time.perf_counter()
    code = cli(["ingest", source, "--dataset", "bench", "--org", "bench", "--json"])
    total = time.perf_counter() - t0
    if code != 0:
        raise SystemExit(code)
    order = [
        "ingest() (total)",
        "stage (total)",
        "  stage: detect encoding (1 MB)",
        "  stage: transcode to UTF-8 (Python codec)",
        "  stage: sniff_csv (types)",
        "  stage: identifier check (20k rows)",
        "  stage: COPY CSV → zstd Parquet",
        "  stage: SHA-256 of source (thread, overlaps)",
        "  stage: waiting for SHA-256 thread",
        "profile (total)",
        "  profile: describe",
        "  profile: count/hash/distinct/min/max (full scan)",
        "  profile: histograms (2nd full scan)",
        "lake commit (Iceberg)",
        "catalog: record version",
    ]
    ordered = [["import dizuo.cli", imported], ["cli run (total)", total]]
    ordered += [[k, timings[k]] for k in order if k in timings]
    ordered += [[k, v] for k, v in timings.items() if k not in order]
    print("\n@@PHASES@@" + json.dumps(ordered, ensure_ascii=False))


@dataclass
class Phases:
    run: Run
    steps: list[tuple[str, float]]


def run_phases(source: Path, root: Path) -> Phases:
    """One instrumented ingest in its own process (under the wrapper, like the others)."""
    home = fresh_workspace(root)
    try:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--_phases", str(source)]
        run = measured(cmd, env=clean_env(home))
        data = json.loads(run.stdout.split("@@PHASES@@", 1)[1])
        steps = [(str(k), float(v)) for k, v in data]
        inside = sum(v for k, v in steps if k in ("import dizuo.cli", "cli run (total)"))
        steps.append(("process start and exit (the rest)", run.seconds - inside))
        steps.insert(0, ("whole process (wall)", run.seconds))
        return Phases(run, steps)
    finally:
        shutil.rmtree(home, ignore_errors=True)


# -- report --------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="data rows (5,000,000)")
    parser.add_argument("--repeat", type=int, default=2, help="runs per case; the best counts")
    parser.add_argument("--keep", action="store_true", help="keep the generated data")
    parser.add_argument("--phases", action="store_true", help="also time dizuo's ingest steps")
    parser.add_argument(
        "--idle-wait",
        type=float,
        default=60.0,
        metavar="S",
        help="before each run, wait up to S seconds for other processes to go quiet (60)",
    )
    parser.add_argument("--_phases", metavar="FILE", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args._phases:
        phases_child(args._phases)
        return 0
    if args.rows < 1 or args.repeat < 1:
        parser.error("--rows and --repeat must be at least 1")

    utf8, gbk = generate(args.rows)
    load_before = os.getloadavg()[0]
    runs: dict[str, list[Run]] = {}
    phases: dict[str, Phases] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="run-", dir=DATA) as tmp:
            root = Path(tmp)
            for label, path in (("UTF-8", utf8), ("GBK", gbk)):
                print(f"{label}: {path.name} ({human(path.stat().st_size)})", flush=True)
                warm(path)
                cases: list[tuple[str, Callable[[Path, Path, int], Run]]] = [("dizuo", run_dizuo)]
                if label == "UTF-8":
                    cases.append(("duckdb", run_duckdb))
                for i in range(args.repeat):
                    # alternate the cases, so drift in the machine hits all of them alike
                    for name, fn in cases:
                        wait_idle(args.idle_wait)
                        run = fn(path, root, args.rows)
                        print(
                            f"  {name:6} #{i + 1}: {run.seconds:6.2f} s wall {run.cpu:6.2f} s CPU "
                            f"{run.rss_mb:5.0f} MB; other processes {fmt_others(run)} s CPU",
                            flush=True,
                        )
                        runs.setdefault(f"{name} {label}", []).append(run)
                if args.phases:
                    wait_idle(args.idle_wait)
                    tries = [run_phases(path, root) for _ in range(args.repeat)]
                    phases[label] = min(tries, key=lambda t: t.run.seconds)
    finally:
        if not args.keep:
            for path in (utf8, gbk):
                path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                DATA.rmdir()
    best = {key: combine(value) for key, value in runs.items()}
    duck = best["duckdb UTF-8"]
    duck_rate = args.rows / duck.seconds
    n = f"{args.rows:,}"
    results: list[list[str]] = []
    verdicts: list[tuple[str, bool]] = []
    for label in ("UTF-8", "GBK"):
        d = best[f"dizuo {label}"]
        rate = args.rows / d.seconds
        ratio = rate / duck_rate
        vs = "" if label == "UTF-8" else " (vs DuckDB UTF-8)"
        results.append(
            [f"dizuo ingest, {label}", n, f"{d.seconds:.2f}", f"{d.cpu:.1f}", fmt_others(d)]
            + [f"{rate:,.0f}", f"{d.rss_mb:,.0f}", f"{ratio:.2f}{vs}"]
        )
        if label == "UTF-8":
            results.append(
                [f"duckdb COPY, {label}", n, f"{duck.seconds:.2f}", f"{duck.cpu:.1f}"]
                + [fmt_others(duck), f"{duck_rate:,.0f}", f"{duck.rss_mb:,.0f}", "1.00"]
            )
            verdicts.append(
                (
                    f"dizuo ≥ {TARGET_RATIO} × DuckDB's rate on UTF-8 ({ratio:.2f})",
                    ratio >= TARGET_RATIO,
                )
            )
        else:
            results.append([f"duckdb COPY, {label}", n, *["n/a"] * 5, "n/a ¹"])
        verdicts.append(
            (f"dizuo peak RSS < 2 GB on {label} ({d.rss_mb:,.0f} MB)", d.rss_mb < TARGET_RSS_MB)
        )

    print()
    print(f"Ingest benchmark, {date.today().isoformat()}, {machine()}, best of {args.repeat}")
    print(f"load average before / after: {load_before:.2f} / {os.getloadavg()[0]:.2f}")
    print()
    header = ["case", "rows", "seconds", "CPU s", "others' CPU s", "rows/s", "peak RSS MB"]
    print(table(results, [*header, "dizuo/DuckDB rate"]))
    print()
    print("seconds: wall time of the fastest run; CPU s: its user + system time (all threads);")
    print("others' CPU s: CPU time other processes used meanwhile (0 on a quiet machine);")
    print("peak RSS: the highest of all runs of the case.")
    print("¹ DuckDB reads only UTF-8 without its `encodings` extension, which is downloaded at")
    print("  run time; dizuo transcodes GBK itself. dizuo's GBK rate is compared with DuckDB's")
    print("  rate on the same data as UTF-8.")
    print()
    for text, ok in verdicts:
        print(f"{'PASS' if ok else 'FAIL'}  {text}")
    for label, ph in phases.items():
        print()
        print(
            f"dizuo ingest steps, {label}: the fastest of {args.repeat} instrumented runs "
            f"(other processes: {fmt_others(ph.run)} s CPU); nested steps are indented"
        )
        print(table([[k, f"{v:.2f}"] for k, v in ph.steps], ["step", "seconds"]))
    return 0 if all(ok for _, ok in verdicts) else 1


def fmt_others(run: Run) -> str:
    return "n/a" if run.others is None else f"{run.others:.1f}"


if __name__ == "__main__":
    sys.exit(main())
