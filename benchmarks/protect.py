"""Protect benchmark (issue "Protect"): dizuo's privacy models against ARX and anjana on Adult.

In one run, on UCI Adult as prepared by ARX (30,162 records, ``../shared/data/adult`` or
``DIZUO_ADULT_DIR``; read in place, never copied) with ARX's hierarchies and ARX's usual set-up
— quasi-identifiers age, education, marital-status, native-country, race, sex, workclass (a
lattice of 2,160 transformations), sensitive attribute occupation:

* for k = 2, 5, 10, 50, distinct l = 2 and (k = 5, t = 0.2), each at 0 % and 5 % suppression:
  **dizuo** ``full_domain`` (the optimal full-domain generalisation) and ``mondrian`` (local
  recoding, which may spend the suppression limit too), in their own subprocess, timed after a
  warm-up: median of ``--repeat`` rounds over all configurations (so a slow spell of a shared
  machine hits one run of each, not all runs of one); the time covers coding the data, the
  search and building the output table;
* **anjana** 1.2.3 (in a virtualenv this script creates under ``benchmarks/_data/anjana-venv``),
  in its own subprocess: ``k_anonymity``, ``l_diversity`` (with k = 1) and ``t_closeness``
  (with k = 5) on the same data and ARX's hierarchies as anjana expects them (``{qi: {level:
  values}}``), one timed run per configuration (it takes seconds);
* **ARX** 3.9.2's published figures for the same configurations (from the data's README);
* every output — anjana's too — is checked with **pyCANON** on the released records (suppressed
  ones removed): the k, l and t it measures are printed; LM is ARX's loss metric (Iyengar's,
  averaged over records and QIs, a suppressed record costing 1), recomputed here for anjana from
  its output and its generalisation levels;
* a 1,000,000-row table (each column drawn independently from Adult's values, fixed seed,
  so most records are unique before generalisation) for k = 5 at 5 %
  suppression: time and peak memory of each dizuo search, in a subprocess of its own.

Targets, printed as PASS/FAIL: the optimal loss no higher than ARX's in every configuration; local
recoding at least 20 % lower than the optimal full-domain loss; at most 0.2 s per configuration
on Adult (either algorithm); under 60 s for the million rows.

Usage::

    .venv/bin/python benchmarks/protect.py              # everything
    .venv/bin/python benchmarks/protect.py --quick      # no anjana, no million rows
    .venv/bin/python benchmarks/protect.py --keep       # keep the outputs in benchmarks/_data
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

from common import ensure_venv, machine, run_measured, table, wait_idle

HERE = Path(__file__).resolve().parent
DATA = HERE / "_data"
WORK = DATA / "protect"
VENV = DATA / "anjana-venv"
ANJANA_VERSION = "1.2.3"
ADULT = Path(os.environ.get("DIZUO_ADULT_DIR", HERE.parent.parent / "shared" / "data" / "adult"))
QIS = ["age", "education", "marital-status", "native-country", "race", "sex", "workclass"]
SA = "occupation"
NUMERIC = {"age"}
LIMITS = (0.0, 0.05)
#: configuration name → models (k, distinct l, t)
CONFIGS: dict[str, dict[str, Any]] = {
    "k = 2": {"k": 2},
    "k = 5": {"k": 5},
    "k = 10": {"k": 10},
    "k = 50": {"k": 50},
    "distinct l = 2": {"l": 2},
    "k = 5, t = 0.2": {"k": 5, "t": 0.2},
}
#: ARX 3.9.2 (../shared/data/adult/README.md): (config, limit) → (seconds, suppressed, LM)
ARX = {
    ("k = 2", 0.0): (0.09, 0.0, 0.599),
    ("k = 5", 0.0): (0.05, 0.0, 0.633),
    ("k = 10", 0.0): (0.03, 0.0, 0.633),
    ("k = 50", 0.0): (0.03, 0.0, 0.714),
    ("distinct l = 2", 0.0): (0.06, 0.0, 0.599),
    ("k = 5, t = 0.2", 0.0): (0.02, 0.0, 0.919),
    ("k = 2", 0.05): (0.13, 0.043, 0.128),
    ("k = 5", 0.05): (0.12, 0.048, 0.191),
    ("k = 10", 0.05): (0.16, 0.049, 0.251),
    ("k = 50", 0.05): (0.10, 0.043, 0.414),
    ("distinct l = 2", 0.05): (0.20, 0.039, 0.138),
    ("k = 5, t = 0.2", 0.05): (0.31, 0.008, 0.817),
}
#: ARX's LM is published with 3 decimals
ARX_ROUNDING = 5e-4
TARGET_SECONDS = 0.2
TARGET_LOCAL = 0.8
BIG_ROWS = 1_000_000
BIG_SEED = 20261126
TARGET_BIG_SECONDS = 60.0

# The anjana side, written to benchmarks/_data at run time and run with the venv's Python.
ANJANA_HELPER = r"""
import contextlib, io, json, sys, time
import pandas as pd
from anjana import anonymity
from anjana.anonymity import utils

adult, out_dir, configs = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
QIS = ["age", "education", "marital-status", "native-country", "race", "sex", "workclass"]
SA = "occupation"
data = pd.read_csv(f"{adult}/adult.csv", sep=";", dtype=str)
hierarchies = {}
for qi in QIS:
    rows = pd.read_csv(f"{adult}/adult_hierarchy_{qi}.csv", sep=";", header=None, dtype=str)
    hierarchies[qi] = {level: rows[level].values for level in rows.columns}
results = {}
for name, spec in configs.items():
    for limit in spec["limits"]:
        key = f"{spec['key']}-{limit}"
        level = limit * 100  # anjana takes percent
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):  # anjana prints progress
            if "t" in spec:
                out = anonymity.t_closeness(data.copy(), [], QIS, SA, spec["k"], spec["t"], level,
                                            hierarchies)
            elif "l" in spec:
                out = anonymity.l_diversity(data.copy(), [], QIS, SA, 1, spec["l"], level,
                                            hierarchies)
            else:
                out = anonymity.k_anonymity(data.copy(), [], QIS, spec["k"], level, hierarchies)
        seconds = time.perf_counter() - start
        if len(out):
            out = out.drop(columns=[c for c in out.columns if c == "index"])
            levels = utils.get_transformation(out, QIS, hierarchies)
            out[QIS + [SA]].to_csv(f"{out_dir}/anjana-{key}.csv", sep=";", index=False)
        else:
            levels = None
        results[key] = {"seconds": seconds, "released": len(out), "levels":
                        None if levels is None else [int(x) for x in levels]}
        print(key, f"{seconds:.2f}s", file=sys.stderr, flush=True)
json.dump(results, open(f"{out_dir}/anjana.json", "w"))
"""


def key_of(name: str) -> str:
    return name.replace(" ", "").replace(",", "_").replace("=", "")


def models_of(spec: dict[str, Any]) -> list[Any]:
    from dizuo.protect import anonymity as A

    models: list[Any] = []
    if "k" in spec:
        models.append(A.KAnonymity(spec["k"]))
    if "l" in spec:
        models.append(A.DistinctLDiversity(spec["l"], SA))
    if "t" in spec:
        models.append(A.TCloseness(spec["t"], SA))
    return models


def load_adult() -> tuple[Any, dict[str, Any]]:
    import pyarrow.csv as pv

    from dizuo.protect.hierarchy import Hierarchy

    data = pv.read_csv(ADULT / "adult.csv", parse_options=pv.ParseOptions(delimiter=";"))
    hierarchies = {q: Hierarchy.from_csv(ADULT / f"adult_hierarchy_{q}.csv", name=q) for q in QIS}
    return data, hierarchies


# -- the dizuo side (subprocesses running this file with --child) -----------------------------


def dizuo_child(out: Path, repeat: int) -> None:
    import pyarrow.parquet as pq

    from dizuo.protect import anonymity as A

    data, hierarchies = load_adult()
    runs = [
        (name, limit, method, search)
        for name in CONFIGS
        for limit in LIMITS
        for method, search in (("optimal", A.full_domain), ("mondrian", A.mondrian))
    ]
    times: dict[str, list[float]] = {}
    last: dict[str, Any] = {}
    # round after round over every configuration, so that a slow spell of the machine hits
    # one run of each rather than all runs of one; the first round is the warm-up
    for round_ in range(repeat + 1):
        for name, limit, method, search in runs:
            key = f"{method}-{key_of(name)}-{limit}"
            start = time.perf_counter()
            result = search(data, hierarchies, models_of(CONFIGS[name]), limit)
            if round_:
                times.setdefault(key, []).append(time.perf_counter() - start)
            last[key] = result
    results: dict[str, Any] = {}
    for key, result in last.items():
        pq.write_table(result.released_table().select([*QIS, SA]), WORK / f"{key}.parquet")
        results[key] = {
            "seconds": statistics.median(times[key]),
            "times": times[key],
            "suppressed": result.suppressed_count,
            "loss": result.loss,
            "classes": result.classes,
            "nodes": result.nodes_evaluated,
            "levels": result.node,
        }
    out.write_text(json.dumps(results), encoding="utf-8")


def big_child(method: str, out: Path) -> None:
    import resource

    import numpy as np
    import pyarrow as pa
    from pycanon import anonymity as canon

    from dizuo.protect import anonymity as A

    data, hierarchies = load_adult()
    search = A.full_domain if method == "optimal" else A.mondrian
    search(data, hierarchies, A.KAnonymity(5), 0.05)  # warm-up on Adult
    rng = np.random.default_rng(BIG_SEED)
    # every column drawn independently from Adult's own values: the marginals stay Adult's,
    # but most QI combinations are unique (nothing is anonymous before generalisation)
    big = pa.table(
        {
            name: data[name].take(pa.array(rng.integers(0, data.num_rows, BIG_ROWS)))
            for name in data.column_names
        }
    )
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    result = search(big, hierarchies, A.KAnonymity(5), 0.05)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    frame = result.released_table().select(QIS).to_pandas()
    out.write_text(
        json.dumps(
            {
                "seconds": seconds,
                "rss_before_mb": before,
                "rss_peak_mb": peak,
                "suppressed": result.suppressed_count,
                "loss": result.loss,
                "levels": result.node,
                "classes": result.classes,
                "k": int(canon.k_anonymity(frame, QIS)),
            }
        ),
        encoding="utf-8",
    )


# -- running ---------------------------------------------------------------------------------


def ensure_anjana() -> Path:
    return ensure_venv(VENV, "anjana", f"anjana=={ANJANA_VERSION}")


def run_side(cmd: list[str], target: Path) -> dict[str, Any]:
    measured = run_measured(cmd)
    out: dict[str, Any] = json.loads(target.read_text(encoding="utf-8"))
    out["_process"] = measured
    return out


# -- checking --------------------------------------------------------------------------------


def canon_check(frame: Any, spec: dict[str, Any]) -> tuple[str, bool]:
    """What pyCANON measures on a released table, and whether the models hold."""
    from pycanon import anonymity as canon

    if not len(frame):
        return "empty", False
    parts, ok = [], True
    k = int(canon.k_anonymity(frame, QIS))
    parts.append(f"k={k}")
    ok &= k >= spec.get("k", 1)
    if "l" in spec:
        found = int(canon.l_diversity(frame, QIS, [SA]))
        parts.append(f"l={found}")
        ok &= found >= spec["l"]
    if "t" in spec:
        found_t = float(canon.t_closeness(frame, QIS, [SA]))
        parts.append(f"t={found_t:.3f}")
        ok &= found_t <= spec["t"] + 1e-9
    return " ".join(parts) + (" ✓" if ok else " ✗"), bool(ok)


def anjana_loss(
    coded: dict[str, Any], n: int, released: Any, levels: list[int] | None
) -> float | None:
    """ARX's LM of anjana's output: its levels, and the records it dropped count 1 each."""
    if levels is None or not len(released):
        return None
    total = 0.0
    for q, level in zip(QIS, levels, strict=True):
        c = coded[q]
        share = {
            label: (m - 1) / (c.domain - 1)
            for label, m in zip(c.labels[level].to_pylist(), c.leaves[level].tolist(), strict=True)
        }
        total += float(released[q].map(share).sum()) + (n - len(released))
    return total / (n * len(QIS))


def fmt(x: float | None, digits: int = 3) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def pct(x: float) -> str:
    return f"{x:.1%}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per search (median)")
    parser.add_argument("--idle-wait", type=float, default=30.0, help="max s to wait for idle")
    parser.add_argument("--quick", action="store_true", help="skip anjana and the million rows")
    parser.add_argument("--keep", action="store_true", help="keep the outputs")
    parser.add_argument("--child", metavar="OUT", help=argparse.SUPPRESS)
    parser.add_argument("--child-big", nargs=2, metavar=("METHOD", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        dizuo_child(Path(args.child), args.repeat)
        return 0
    if args.child_big:
        big_child(args.child_big[0], Path(args.child_big[1]))
        return 0
    if not (ADULT / "adult.csv").exists():
        raise SystemExit(f"Adult is not at {ADULT}: set DIZUO_ADULT_DIR")

    import pandas as pd

    data, hierarchies = load_adult()
    n = data.num_rows
    coded = {q: hierarchies[q].code(data[q], column=q) for q in QIS}
    if WORK.exists():
        shutil.rmtree(WORK)
    WORK.mkdir(parents=True)
    me = str(Path(__file__).resolve())

    print(f"Adult: {n:,} records, {len(QIS)} quasi-identifiers, sensitive {SA}", flush=True)
    print("dizuo (optimal full-domain and Mondrian) …", flush=True)
    wait_idle(args.idle_wait)
    dz = run_side(
        [sys.executable, me, "--repeat", str(args.repeat), "--child", str(WORK / "dizuo.json")],
        WORK / "dizuo.json",
    )
    anjana: dict[str, Any] = {}
    if not args.quick:
        python = ensure_anjana()
        helper = DATA / "anjana_protect_helper.py"
        helper.write_text(ANJANA_HELPER, encoding="utf-8")
        specs = {
            name: {**spec, "key": key_of(name), "limits": list(LIMITS)}
            for name, spec in CONFIGS.items()
        }
        print(f"anjana {ANJANA_VERSION} (one run per configuration) …", flush=True)
        wait_idle(args.idle_wait)
        anjana = run_side(
            [str(python), str(helper), str(ADULT), str(WORK), json.dumps(specs)],
            WORK / "anjana.json",
        )
    big: dict[str, Any] = {}
    if not args.quick:
        for method in ("optimal", "mondrian"):
            print(f"dizuo {method}, {BIG_ROWS:,} rows …", flush=True)
            wait_idle(args.idle_wait)
            target = WORK / f"big-{method}.json"
            big[method] = run_side([sys.executable, me, "--child-big", method, str(target)], target)

    # -- verify and tabulate
    print("checking every output with pyCANON …", flush=True)
    loss_rows, time_rows, check_rows = [], [], []
    fd_ok = local_ok = time_ok = canon_ok = True
    worst_local = 0.0
    slowest = 0.0
    for name, spec in CONFIGS.items():
        for limit in LIMITS:
            key = f"{key_of(name)}-{limit}"
            arx_s, arx_sup, arx_lm = ARX[(name, limit)]
            fd, md = dz[f"optimal-{key}"], dz[f"mondrian-{key}"]
            checks = []
            for method in ("optimal", "mondrian"):
                frame = pd.read_parquet(WORK / f"{method}-{key}.parquet")
                text, ok = canon_check(frame, spec)
                checks.append(text)
                canon_ok &= ok
            an = anjana.get(key)
            an_lm = an_sup = None
            if an is not None:
                path = WORK / f"anjana-{key}.csv"
                frame = pd.read_csv(path, sep=";", dtype=str) if path.exists() else pd.DataFrame()
                text, ok = canon_check(frame, spec)
                checks.append(text)
                an_lm = anjana_loss(coded, n, frame, an["levels"])
                an_sup = (n - an["released"]) / n if len(frame) else None
            else:
                checks.append("—")
            ratio = md["loss"] / fd["loss"] if fd["loss"] > 0 else 0.0
            worst_local = max(worst_local, ratio)
            slowest = max(slowest, fd["seconds"], md["seconds"])
            fd_ok &= fd["loss"] <= arx_lm + ARX_ROUNDING
            local_ok &= md["loss"] <= TARGET_LOCAL * fd["loss"]
            time_ok &= max(fd["seconds"], md["seconds"]) <= TARGET_SECONDS
            label = [name, pct(limit)]
            loss_rows.append(
                [
                    *label,
                    fmt(arx_lm),
                    fmt(fd["loss"], 4),
                    fmt(md["loss"], 4),
                    f"{ratio:.2f}",
                    fmt(an_lm),
                    pct(arx_sup),
                    pct(fd["suppressed"] / n),
                    pct(md["suppressed"] / n),
                    "—" if an_sup is None else pct(an_sup),
                ]
            )
            time_rows.append(
                [
                    *label,
                    f"{arx_s:.2f}",
                    f"{fd['seconds']:.3f}",
                    f"{fd['nodes']:,}",
                    f"{md['seconds']:.3f}",
                    "—" if an is None else f"{an['seconds']:.2f}",
                    "—" if an is None else f"{an['seconds'] / fd['seconds']:,.0f}×",
                ]
            )
            check_rows.append([*label, *checks])

    print("\nLoss (ARX's LM, lower is better) and suppressed records\n")
    header = ["model", "limit", "ARX LM", "dizuo optimal", "dizuo Mondrian", "Mondrian/optimal"]
    header += ["anjana LM", "ARX supp.", "optimal supp.", "Mondrian supp.", "anjana supp."]
    print(table(loss_rows, header))
    print(f"\nTime in seconds (dizuo: median of {args.repeat} warm rounds; anjana: one run)\n")
    header = ["model", "limit", "ARX", "dizuo optimal", "nodes evaluated", "dizuo Mondrian"]
    header += ["anjana", "anjana/optimal"]
    print(table(time_rows, header))
    print("\npyCANON on the released records (suppressed removed)\n")
    print(table(check_rows, ["model", "limit", "dizuo optimal", "dizuo Mondrian", "anjana"]))
    if big:
        rows = []
        for method, b in big.items():
            rows.append(
                [
                    method,
                    f"{BIG_ROWS:,}",
                    f"{b['seconds']:.2f}",
                    f"{b['rss_peak_mb']:,.0f}",
                    f"{b['rss_before_mb']:,.0f}",
                    f"{b['suppressed']:,}",
                    fmt(b["loss"], 4),
                    f"k={b['k']}" + (" ✓" if b["k"] >= 5 else " ✗"),
                ]
            )
        print(
            f"\n{BIG_ROWS:,} rows (each column drawn independently from Adult's values, seed "
            f"{BIG_SEED}), k = 5, 5 % suppression\n"
        )
        header = ["dizuo", "rows", "seconds", "peak RSS MB", "RSS before MB", "suppressed"]
        print(table(rows, [*header, "LM", "pyCANON"]))
        print(
            "(the columns are drawn independently, so most of the million records are unique "
            "before generalisation)"
        )
    for name, side in (
        ("dizuo", dz),
        ("anjana", anjana),
        *((f"1M {m}", b) for m, b in big.items()),
    ):
        if not side:
            continue
        p = side["_process"]
        others = "n/a" if p["others"] is None else f"{p['others']:.1f}"
        print(
            f"{name} subprocess: {p['wall']:.1f} s wall, {p['cpu']:.1f} CPU-s; "
            f"other processes used {others} CPU-s meanwhile"
        )

    checks = [
        (canon_ok, "every dizuo output satisfies its models (pyCANON)"),
        (fd_ok, "optimal full-domain loss ≤ ARX's optimum in every configuration"),
        (
            local_ok,
            f"Mondrian loss ≥ {1 - TARGET_LOCAL:.0%} lower than the optimal full-domain loss "
            f"(worst ratio {worst_local:.2f})",
        ),
        (
            time_ok,
            f"≤ {TARGET_SECONDS} s per configuration on Adult, both algorithms (slowest "
            f"{slowest:.3f} s)",
        ),
    ]
    if big:
        b = big["optimal"]
        checks.append(
            (
                b["seconds"] < TARGET_BIG_SECONDS,
                f"{BIG_ROWS:,} rows, k = 5 at 5 %: under {TARGET_BIG_SECONDS:.0f} s "
                f"({b['seconds']:.2f} s, peak {b['rss_peak_mb']:,.0f} MB)",
            )
        )
    print()
    for ok, text in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {text}")
    extra = [] if args.quick else [f"anjana {ANJANA_VERSION} (own venv)"]
    print(f"\n{date.today().isoformat()}; {machine(*extra)}")
    if not args.keep:
        shutil.rmtree(WORK)
    return 0 if all(ok for ok, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
