"""Link benchmark, case ``city``: the demo city's people, dizuo against a plain Splink model.

The demo city (``dizuo.demo``) at ``--scale`` (15 gives 1.02 million person records) is
generated and ingested into a workspace under ``benchmarks/_data/`` (kept between runs). Its
*person views* — each dataset's name column with the ID, phone, birth date and sex columns of
the same person, taken from the ground truth's column roles so that both engines get exactly
the same records — become one table per view with the raw values as the departments wrote
them (columns ``name``, ``id``, ``birth``, ``sex``, ``phone``; absent ones null). Every record
of every view takes part; the scores count the records the ground truth knows (a scenic-spot
entry without a name is nobody's).

* **dizuo**: ``dizuo.link.persons.attributes`` (normalisation) and ``link_persons`` (the plain
  or the private model, then the ID-anchored clustering), exactly as ``dizuo link`` does.
* **Splink** 5, built the way its FEBRL tutorial builds a model, on the same columns: blocking
  on ID, phone, name and birth date, name and sex; ``NameComparison`` on the name (term
  frequencies), ``DamerauLevenshteinAtThresholds`` on ID [1, 2] and phone [1, 2] (term
  frequencies on phone), ``DateOfBirthComparison`` on the birth date (invalid dates null),
  ``ExactMatch`` on sex; λ from deterministic rules (ID; name and birth date) at recall 0.8,
  u by random sampling of 10⁷ pairs, EM sessions on ID and on phone, ``predict`` at 0.5, then
  Splink's own ``cluster_pairwise_predictions_at_threshold`` at 0.5 into persons.

Usage::

    .venv/bin/python benchmarks/link_city.py                    # scale 15: 1.02 M records
    .venv/bin/python benchmarks/link_city.py --scale 1 --engines dizuo-plain,dizuo-private

Both are scored as person indexes: pairwise precision, recall and F1 of "same person", overall
and per planted error kind (``dizuo.link.evaluate``). Times run from the view tables in memory
to the person label of every record.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

HERE = Path(__file__).resolve().parent
DATA = HERE / "_data"
ATTRS = ("name", "id", "birth", "sex", "phone")
ENTITY_ATTR = {
    "person_name": "name",
    "resident_id": "id",
    "birth_date": "birth",
    "sex": "sex",
    "mobile_phone": "phone",
}
Ints = npt.NDArray[np.int64]


def prepare(scale: float, seed: int = 20221) -> Path:
    """Generate and ingest the city once; write one Parquet file per person view."""
    import duckdb
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from dizuo.demo import tour
    from dizuo.ingest import ingest
    from dizuo.lake.query import ordered_select

    out = DATA / f"city-scale{scale:g}"
    done = out / "views.json"
    if done.exists():
        return out
    home = DATA / f"city-ws-scale{scale:g}"
    ws = tour.open_or_init(home)
    try:
        manifest = tour.generate(home, scale, seed, None)
        tour.register_departments(ws, manifest)
        truth = Path(manifest.folder) / "truth"
        con = duckdb.connect()
        columns = con.sql(
            f'SELECT dataset, "column", entity_type, role FROM '
            f"'{truth / 'columns.parquet'}' WHERE role IS NOT NULL"
        ).fetchall()
        views: dict[tuple[str, str], dict[str, str]] = {}
        for dataset, column, entity, role in columns:
            attr = ENTITY_ATTR.get(entity or "")
            if attr is not None:
                views.setdefault((dataset, role), {}).setdefault(attr, column)
        views = {k: v for k, v in views.items() if "name" in v and len(v) > 1}
        out.mkdir(parents=True, exist_ok=True)
        listing = []
        for item in manifest.datasets:
            mine = {role: cols for (ds, role), cols in views.items() if ds == item.code}
            if not mine:
                continue
            ingest(ws, tour.spec_for(manifest, item))
            from dizuo.catalog import service

            with ws.session() as s:
                version = service.get_version(s, service.get_dataset(s, item.code))
                ident, snap, schema = version.table_ident, version.snapshot_id, list(version.schema)
            table = ws.engine.query(ordered_select(ws.lake.files(ident, snap), schema))
            for role, cols in mine.items():
                n = table.num_rows
                data = {
                    a: (
                        pc.cast(table.column(cols[a]), pa.string())
                        if a in cols
                        else pa.nulls(n, pa.string())
                    )
                    for a in ATTRS
                }
                known = con.sql(
                    f"SELECT row, person_id, errors FROM '{truth / 'record_person.parquet'}' "
                    f"WHERE dataset = '{item.code}' AND role = '{role}'"
                ).to_arrow_table()
                person = np.full(n, -1, dtype=np.int64)
                rows = known.column("row").to_numpy()
                person[rows] = known.column("person_id").to_numpy()
                order = np.full(n, -1, dtype=np.int64)
                order[rows] = np.arange(len(rows))
                err = known.column("errors").combine_chunks().take(pa.array(order, mask=order < 0))
                path = out / f"{item.code}.{role}.parquet"
                pq.write_table(
                    pa.table({**data, "person_id": pa.array(person), "errors": err}), path
                )
                listing.append({"dataset": item.code, "role": role, "file": path.name, "rows": n})
        done.write_text(json.dumps(listing, ensure_ascii=False, indent=1), encoding="utf-8")
    finally:
        ws.close()
    return out


def load(folder: Path) -> tuple[list[Any], Ints, list[Any]]:
    """View tables (raw attributes), truth person per record, error lists per record."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    listing = json.loads((folder / "views.json").read_text(encoding="utf-8"))
    tables = [pq.read_table(folder / v["file"]) for v in listing]
    truth = np.concatenate([t.column("person_id").to_numpy() for t in tables])
    errors = pa.concat_arrays([t.column("errors").combine_chunks() for t in tables])
    return [t.select(list(ATTRS)) for t in tables], truth, errors


# -- engines -----------------------------------------------------------------------------------


def dizuo_persons(tables: list[Any], mode: str) -> tuple[Ints, dict[str, Any]]:
    from dizuo.link import persons

    key = b"benchmark-key-0123456789abcdef01"
    view = persons.View("bench", "name", {a: a for a in ATTRS})
    frames = [persons.attributes(t, view) for t in tables]
    result = persons.link_persons(frames, key, mode=mode)
    info = {
        "threshold": result.linkage.threshold,
        "expected": result.linkage.expected,
        "candidates": sum(int(b["pairs"]) for b in result.linkage.blocking),
    }
    return result.labels, info


def splink_persons(tables: list[Any]) -> tuple[Ints, dict[str, Any]]:
    import pyarrow as pa
    import pyarrow.compute as pc
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    prepared = []
    offset = 0
    for i, t in enumerate(tables):
        cols = {}
        for a in ATTRS:
            v = pc.utf8_trim_whitespace(t.column(a))
            cols[a] = pc.if_else(pc.equal(v, ""), pa.scalar(None, pa.string()), v)
        cols["unique_id"] = pa.array(np.arange(offset, offset + t.num_rows, dtype=np.int64))
        cols["source_dataset"] = pa.array([f"v{i}"] * t.num_rows)
        offset += t.num_rows
        prepared.append(pa.table(cols))
    from common import phase_clock

    phases: dict[str, float] = {}
    lap = phase_clock(phases, "# ")

    settings = SettingsCreator(
        link_type="link_and_dedupe",
        blocking_rules_to_generate_predictions=[
            block_on("id"),
            block_on("phone"),
            block_on("name", "birth"),
            block_on("name", "sex"),
        ],
        comparisons=[
            cl.NameComparison("name").configure(term_frequency_adjustments=True),
            cl.DamerauLevenshteinAtThresholds("id", [1, 2]),
            cl.DateOfBirthComparison(
                "birth",
                input_is_string=True,
                datetime_format="%Y-%m-%d",
                invalid_dates_as_null=True,
            ),
            cl.ExactMatch("sex"),
            cl.DamerauLevenshteinAtThresholds("phone", [1, 2]).configure(
                term_frequency_adjustments=True
            ),
        ],
    )
    db_api = DuckDBAPI()
    linker = Linker([db_api.register(t) for t in prepared], settings)
    lap("set-up")
    linker.training.estimate_probability_two_random_records_match(
        [block_on("id"), block_on("name", "birth")], recall=0.8
    )
    lap("λ")
    linker.training.estimate_u_using_random_sampling(max_pairs=1e7)
    lap("u")
    for rule in (block_on("id"), block_on("phone")):
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule, estimate_without_term_frequencies=True
        )
    lap("EM")
    predictions = linker.inference.predict(threshold_match_probability=0.5)
    lap("predict")
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=0.5
    )
    got = clusters.as_duckdbpyrelation().select("unique_id, cluster_id").fetchnumpy()
    lap("cluster")
    labels = np.full(offset, -1, dtype=np.int64)
    _, dense = np.unique(np.asarray(got["cluster_id"]).astype(str), return_inverse=True)
    labels[np.asarray(got["unique_id"], dtype=np.int64)] = dense
    missing = labels < 0
    labels[missing] = labels.max(initial=-1) + 1 + np.arange(int(missing.sum()))
    return labels, {"phases": phases}


def child(engine: str, folder: Path, out: Path) -> None:
    """One engine in its own process: time from the tables in memory to the labels."""
    import pyarrow.parquet as pq

    if engine == "splink":
        import splink  # noqa: F401
    else:
        import dizuo.link.persons  # noqa: F401
    tables, _, _ = load(folder)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    if engine == "splink":
        labels, info = splink_persons(tables)
    else:
        labels, info = dizuo_persons(tables, engine.split("-", 1)[1])
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    import pyarrow as pa

    pq.write_table(pa.table({"label": labels}), out.with_suffix(".parquet"))
    out.write_text(
        json.dumps(
            {"seconds": seconds, "rss_before_mb": before, "rss_peak_mb": peak, **info},
            default=float,
        ),
        encoding="utf-8",
    )


def score(folder: Path, labels: Ints) -> dict[str, dict[str, float]]:
    """Scores of person labels against the truth, overall and per error kind."""
    from dizuo.demo.errors import ALL_KINDS
    from dizuo.link.evaluate import by_kind, kind_masks

    _, truth, errors = load(folder)
    known = truth >= 0
    masks = {k: m[known] for k, m in kind_masks(errors, ALL_KINDS).items()}
    return by_kind(labels[known], truth[known], masks)


# -- the runner ----------------------------------------------------------------------------------

ENGINES = ("dizuo-plain", "dizuo-private", "splink")


def run_engine(engine: str, folder: Path, work: Path, timeout: float) -> dict[str, Any]:
    """One engine in a subprocess; its figures and scores, or why there are none."""
    import subprocess

    import pyarrow.parquet as pq

    out = work / f"city-{engine}.json"
    log = work / f"city-{engine}.log"
    cmd = [sys.executable, str(Path(__file__)), "--child", engine, str(folder), str(out)]
    try:
        with log.open("w") as err:
            proc = subprocess.run(cmd, stdout=err, stderr=err, timeout=timeout, cwd=work)
    except subprocess.TimeoutExpired:
        return {"status": f"stopped after {timeout:.0f} s"}
    if proc.returncode != 0:
        return {"status": f"failed (exit {proc.returncode}; log {log.name})"}
    figures: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    labels = pq.read_table(out.with_suffix(".parquet")).column("label").to_numpy()
    figures["scores"] = score(folder, labels)
    figures["status"] = "ok"
    return figures


def main(argv: list[str] | None = None) -> int:
    import argparse
    import shutil
    from datetime import date

    from common import machine, table, wait_idle

    parser = argparse.ArgumentParser(description="Link benchmark on the demo city")
    parser.add_argument("--scale", type=float, default=15.0, help="demo city scale (15: 1.02 M)")
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--timeout", type=float, default=3600.0, help="s per engine")
    parser.add_argument("--idle-wait", type=float, default=30.0)
    args = parser.parse_args(argv)
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    print(f"demo city at scale {args.scale:g} …", flush=True)
    folder = prepare(args.scale)
    _, truth, _ = load(folder)
    print(f"  {len(truth):,} person records, {int((truth >= 0).sum()):,} known to the truth")
    work = DATA / "link-city-work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    results: dict[str, dict[str, Any]] = {}
    for engine in engines:
        wait_idle(args.idle_wait)
        print(f"{engine} …", flush=True)
        results[engine] = run_engine(engine, folder, work, args.timeout)
        r = results[engine]
        if r["status"] == "ok":
            a = r["scores"]["all"]
            print(f"  {r['seconds']:.1f} s, F1 {a['f1']:.4f}", flush=True)
        else:
            print(f"  {r['status']}", flush=True)
    ok = {e: r for e, r in results.items() if r["status"] == "ok"}
    rows = []
    for engine, r in results.items():
        if r["status"] != "ok":
            rows.append([engine, r["status"], "", "", "", "", ""])
            continue
        a = r["scores"]["all"]
        rows.append(
            [
                engine,
                f"{r['seconds']:.1f}",
                f"{r['rss_peak_mb']:,.0f}",
                f"{a['precision']:.4f}",
                f"{a['recall']:.4f}",
                f"{a['f1']:.4f}",
                f"{a['tp']:,} / {a['fp']:,} / {a['fn']:,}",
            ]
        )
    print()
    print(
        table(
            rows,
            ["engine", "seconds", "peak RSS MB", "precision", "recall", "F1", "TP / FP / FN"],
        )
    )
    kinds = [k for k in next(iter(ok.values()))["scores"] if k != "all"] if ok else []
    kind_rows = []
    for kind in ["all", *kinds]:
        row = [kind, str(next(iter(ok.values()))["scores"][kind].get("records", ""))]
        for engine in engines:
            r = ok.get(engine)
            row.append(f"{r['scores'][kind]['f1']:.4f}" if r else "—")
        if "dizuo-plain" in ok and "splink" in ok:
            d = ok["dizuo-plain"]["scores"][kind]["f1"] - ok["splink"]["scores"][kind]["f1"]
            row.append(f"{d * 100:+.1f}")
        kind_rows.append(row)
    print()
    heads = ["error kind", "records", *[f"F1 {e}" for e in engines]]
    if "dizuo-plain" in ok and "splink" in ok:
        heads.append("plain − Splink (points)")
    print(table(kind_rows, heads))
    print()
    if "dizuo-plain" in ok and "splink" in ok:
        for kind in ["all", *[k for k in kinds if k != "no_error"]]:
            d = ok["dizuo-plain"]["scores"][kind]["f1"] - ok["splink"]["scores"][kind]["f1"]
            verdict = "PASS" if d >= 0.05 else "FAIL"
            print(f"{verdict}  {kind}: dizuo F1 ≥ Splink's + 5 points ({d * 100:+.1f})")
    if "dizuo-plain" in ok and "dizuo-private" in ok:
        d = ok["dizuo-plain"]["scores"]["all"]["f1"] - ok["dizuo-private"]["scores"]["all"]["f1"]
        verdict = "PASS" if d <= 0.02 else "FAIL"
        print(f"{verdict}  private mode within 2 F1 points of plain ({-d * 100:+.2f})")
    print(f"\n{date.today().isoformat()}; {machine()}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":  # ENGINE FOLDER OUT
        child(sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]))
    else:
        sys.path.insert(0, str(HERE))
        raise SystemExit(main())
