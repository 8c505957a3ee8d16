"""Classify benchmark (issue #4): dizuo's classifier against Presidio's pattern recognizers.

In one run, on the same data:

* builds a labelled evaluation set: the demo city (``generate_city(folder, scale=…)``, with
  ``truth/columns.parquet`` and ``truth/spans.parquet``) plus purpose-made decoy columns
  (18-digit order numbers failing the GB 11643 check, 11-digit numbers with unallocated
  prefixes, USCC-like codes failing the check, a column named ``sfzh`` holding phone numbers,
  phones in a column named ``col_07``). Every dataset file is read into Arrow as the department
  wrote it (GBK / GB18030 text transcoded with Python's codecs to a temp UTF-8 file, xlsx via
  fastexcel, csv/tsv/json/ndjson/parquet via DuckDB);
* samples 1,000 rows per table (DuckDB reservoir sample, fixed seed) and writes the samples and
  the free texts to ``benchmarks/_data/`` (Parquet for dizuo, JSON for Presidio);
* **dizuo**, in its own subprocess: ``classify_columns(DuckDBEngine(), table, columns,
  sample_rows=1000)`` per table, ``scan_text`` on the free-text columns;
* **Presidio** (presidio-analyzer 2.2.366, in a virtualenv this script creates under
  ``benchmarks/_data/presidio-venv``), in its own subprocess: ``NoOpNlpEngine`` (no model), the
  predefined pattern recognizers for "zh" (PhoneRecognizer with region CN) plus custom
  recognizers for the resident ID (check digit), mobile and USCC (check digit). A value's entity
  is the highest-scoring result covering ≥ 90 % of the value; a column's entity is the most
  frequent value entity if it covers ≥ 60 % of the non-null values, else none. Spans: results
  with score ≥ 0.4, overlaps resolved by score;
* scores both against the truth and prints column- and span-level precision / recall / F1 and
  the throughput of each side (timed inside each subprocess, after a warm-up, best of
  ``--repeat``; imports and engine construction are not timed).

Usage::

    .venv/bin/python benchmarks/classify.py                # scale 0.5
    .venv/bin/python benchmarks/classify.py --scale 0.1    # smoke test
    .venv/bin/python benchmarks/classify.py --keep         # keep the data for the next run
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

from common import ensure_venv, machine, run_measured, table, wait_idle

HERE = Path(__file__).resolve().parent
DATA = HERE / "_data"
VENV = DATA / "presidio-venv"
PRESIDIO_VERSION = "2.2.366"
SAMPLE_ROWS = 1000
SAMPLE_SEED = 4
SPAN_THRESHOLD = 0.4

TARGET_COLUMN_F1 = 0.98
TARGET_SPAN_F1 = 0.90
TARGET_SPEEDUP = 50.0

#: demo-truth labels → dizuo entity ids (the truth labels personal data only)
TRUTH_TO_ENTITY = {
    "person_name": "person_name",
    "resident_id": "resident_id",
    "mobile_phone": "mobile_phone",
    "address": "address",
    "birth_date": "birth_date",
    "sex": "gender",
    "ethnicity": "ethnicity",
    "uscc": "uscc",
}
#: columns whose values are an entity the truth does not label
EXTRA = {
    ("health_outpatient_visits", "诊断编码"): "icd10_code",
    ("health_outpatient_visits", "诊断名称"): "disease",
    ("market_enterprise_registry", "住所"): "address",  # a business address
    ("transit_metro_stations", "纬度"): "latitude",
    ("transit_metro_stations", "经度"): "longitude",
}
DECOY_TABLE = "decoys"
#: decoy column → expected entity
DECOY_TRUTH = {
    "order_id": None,
    "serial_11": None,
    "reg_code": None,
    "sfzh": "mobile_phone",
    "col_07": "mobile_phone",
}

#: Presidio labels → dizuo entity ids; labels not listed have no counterpart (count as none)
PRESIDIO_TO_ENTITY = {
    "CN_RESIDENT_ID": "resident_id",
    "CN_MOBILE": "mobile_phone",
    "PHONE_NUMBER": "mobile_phone",
    "CN_USCC": "uscc",
    "EMAIL_ADDRESS": "email",
    "IP_ADDRESS": "ipv4",
    "MAC_ADDRESS": "mac_address",
    "DATE_TIME": "birth_date",
}
#: dizuo entities Presidio (as configured) can detect
PRESIDIO_COVERS = set(PRESIDIO_TO_ENTITY.values())

# The Presidio side, written to benchmarks/_data at run time and run with the venv's Python.
PRESIDIO_HELPER = r"""
import os
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
import json, logging, sys, time
from collections import Counter

from presidio_analyzer import AnalyzerEngine, Pattern, PatternRecognizer, RecognizerRegistry
from presidio_analyzer.nlp_engine import NoOpNlpEngine
from presidio_analyzer.predefined_recognizers import PhoneRecognizer


logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
LANG = "zh"
ID_RE = (r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])"
         r"(?:0[1-9]|[12]\d|3[01])\d{3}[0-9Xx](?![0-9A-Za-z])")
MOBILE_RE = r"(?<![0-9])(?:(?:\+|00)86[- ]?)?1[3-9]\d{9}(?![0-9])"
USCC_RE = r"(?<![0-9A-Za-z])[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}(?![0-9A-Za-z])"
ID_W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
ID_C = "10X98765432"
USCC_CH = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_W = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


class CnResidentId(PatternRecognizer):
    def __init__(self):
        super().__init__(supported_entity="CN_RESIDENT_ID", supported_language=LANG,
                         patterns=[Pattern("cn_id_18", ID_RE, 0.5)],
                         context=["身份证", "身份证号", "证件号"])

    def validate_result(self, text):
        s = text.upper()
        return ID_C[sum(int(c) * w for c, w in zip(s[:17], ID_W)) % 11] == s[17]


class CnUscc(PatternRecognizer):
    def __init__(self):
        super().__init__(supported_entity="CN_USCC", supported_language=LANG,
                         patterns=[Pattern("cn_uscc", USCC_RE, 0.4)],
                         context=["统一社会信用代码", "信用代码"])

    def validate_result(self, text):
        s = text.upper()
        total = sum(USCC_CH.index(c) * w for c, w in zip(s[:17], USCC_W))
        return USCC_CH[(31 - total % 31) % 31] == s[17]


def build():
    nlp = NoOpNlpEngine(models=[{"lang_code": LANG, "model_name": "no_op"}])
    registry = RecognizerRegistry(supported_languages=[LANG])
    registry.load_predefined_recognizers(languages=[LANG], nlp_engine=nlp)
    registry.remove_recognizer("PhoneRecognizer", language=LANG)
    registry.add_recognizer(PhoneRecognizer(supported_language=LANG, supported_regions=("CN",)))
    registry.add_recognizer(CnResidentId())
    registry.add_recognizer(PatternRecognizer(
        supported_entity="CN_MOBILE", supported_language=LANG,
        patterns=[Pattern("cn_mobile", MOBILE_RE, 0.6)], context=["电话", "手机", "联系电话"]))
    registry.add_recognizer(CnUscc())
    return AnalyzerEngine(nlp_engine=nlp, registry=registry, supported_languages=[LANG])


def columns_pass(analyzer, tables, mapping):
    out = {}
    for table, cols in tables.items():
        for col, values in cols.items():
            votes = Counter()
            non_null = 0
            for v in values:
                if v is None or not v.strip():
                    continue
                non_null += 1
                best = None
                for r in analyzer.analyze(text=v, language=LANG):
                    if r.end - r.start >= 0.9 * len(v) and (best is None or r.score > best.score):
                        best = r
                if best is not None:
                    votes[mapping.get(best.entity_type, "other:" + best.entity_type)] += 1
            entity = None
            if votes:
                label, count = votes.most_common(1)[0]
                if count >= 0.6 * non_null:
                    entity = label
            out[table + "\t" + col] = entity
    return out


def texts_pass(analyzer, texts, mapping, threshold):
    out = []
    for text in texts:
        found = [r for r in analyzer.analyze(text=text or "", language=LANG)
                 if r.score >= threshold]
        found.sort(key=lambda r: (-r.score, -(r.end - r.start), r.start))
        kept = []
        for r in found:
            if all(r.end <= k.start or r.start >= k.end for k in kept):
                kept.append(r)
        out.append(sorted((r.start, r.end, mapping.get(r.entity_type, "other:" + r.entity_type))
                          for r in kept))
    return out


def main():
    source, target, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
    inputs = json.load(open(source, encoding="utf-8"))
    mapping, tables, texts = inputs["mapping"], inputs["tables"], inputs["texts"]
    analyzer = build()
    first = next(iter(tables))
    columns_pass(analyzer, {first: tables[first]}, mapping)  # warm-up
    texts_pass(analyzer, texts[:200], mapping, inputs["threshold"])
    col_times, text_times = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        columns = columns_pass(analyzer, tables, mapping)
        col_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        spans = texts_pass(analyzer, texts, mapping, inputs["threshold"])
        text_times.append(time.perf_counter() - start)
    recognizers = sorted(type(r).__name__ for r in analyzer.registry.recognizers)
    json.dump({"columns": columns, "spans": spans, "column_seconds": min(col_times),
               "text_seconds": min(text_times), "recognizers": recognizers},
              open(target, "w", encoding="utf-8"), ensure_ascii=False)


main()
"""


# -- evaluation set ------------------------------------------------------------------------


def decoy_table(n: int = SAMPLE_ROWS) -> Any:
    """Columns that look like identifiers but are not, and hints that lie."""
    import pyarrow as pa

    from dizuo.demo.decoys import decoy_columns

    return pa.table(decoy_columns(n))


def read_dataset(con: Any, city: Path, tmp: Path, dataset: dict[str, Any]) -> Any:
    """One demo file as an Arrow table, read as the department wrote it."""
    import fastexcel

    path = city / str(dataset["path"])
    suffix = path.suffix
    if suffix == ".xlsx":
        sheet = fastexcel.read_excel(str(path)).load_sheet(dataset.get("sheet") or 0)
        return sheet.to_arrow()
    if suffix in {".csv", ".tsv"}:
        encoding = str(dataset.get("encoding") or "utf-8")
        if encoding.lower().replace("-", "") in {"utf8", "utf8sig"}:
            source = path
        else:  # GBK / GB18030: DuckDB reads UTF-8 only
            source = tmp / f"{dataset['code']}{suffix}"
            source.write_text(path.read_bytes().decode(encoding), encoding="utf-8")
        return con.sql(f"SELECT * FROM read_csv({sql_text(str(source))})").to_arrow_table()
    if suffix == ".parquet":
        return con.sql(f"SELECT * FROM read_parquet({sql_text(str(path))})").to_arrow_table()
    return con.sql(f"SELECT * FROM read_json({sql_text(str(path))})").to_arrow_table()


def sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def build_inputs(city: Path, work: Path) -> dict[str, Any]:
    """Sample every table, collect free texts, write the inputs of both sides."""
    import duckdb
    import pyarrow.parquet as pq

    con = duckdb.connect()
    manifest = json.loads((city / "manifest.json").read_text(encoding="utf-8"))
    span_truth = pq.read_table(city / "truth" / "spans.parquet").to_pylist()
    text_columns = sorted({(t["dataset"], t["column"]) for t in span_truth})
    samples_dir = work / "samples"
    samples_dir.mkdir(parents=True, exist_ok=True)
    tables: dict[str, Any] = {}
    texts: list[str | None] = []
    text_keys: list[tuple[str, int]] = []
    for dataset in manifest["datasets"]:
        table = read_dataset(con, city, work, dataset)
        code = str(dataset["code"])
        for ds, column in text_columns:
            if ds == code:
                for row, text in enumerate(table.column(column).to_pylist()):
                    texts.append(text)
                    text_keys.append((ds, row))
        con.register("full_table", table)
        sample = con.sql(
            f"SELECT * FROM full_table USING SAMPLE reservoir({SAMPLE_ROWS} ROWS) "
            f"REPEATABLE ({SAMPLE_SEED})"
        ).to_arrow_table()
        con.unregister("full_table")
        tables[code] = sample
    tables[DECOY_TABLE] = decoy_table()
    for code, sample in tables.items():
        pq.write_table(sample, samples_dir / f"{code}.parquet")
    (work / "texts.json").write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
    presidio_in = {
        "mapping": PRESIDIO_TO_ENTITY,
        "threshold": SPAN_THRESHOLD,
        "tables": {
            code: {
                c: [as_text(v) for v in sample.column(c).to_pylist()] for c in sample.schema.names
            }
            for code, sample in tables.items()
        },
        "texts": texts,
    }
    (work / "presidio_in.json").write_text(
        json.dumps(presidio_in, ensure_ascii=False), encoding="utf-8"
    )
    return {
        "tables": {code: t.schema.names for code, t in tables.items()},
        "values": sum(t.num_rows * t.num_columns for t in tables.values()),
        "texts": len(texts),
        "text_chars": sum(len(t or "") for t in texts),
        "text_keys": text_keys,
    }


# -- the dizuo side (a subprocess running this file with --child) --------------------------


def dizuo_child(work: Path, target: Path, repeat: int) -> None:
    import pyarrow.parquet as pq

    from dizuo.classify import classify_columns, scan_text
    from dizuo.engine.duckdb import DuckDBEngine

    texts = json.loads((work / "texts.json").read_text(encoding="utf-8"))
    tables = {p.stem: pq.read_table(p) for p in sorted((work / "samples").glob("*.parquet"))}
    engine = DuckDBEngine()
    for code, sample in tables.items():
        engine.register_arrow(code, sample)

    def columns_pass(codes: list[str]) -> dict[str, Any]:
        out = {}
        for code in codes:
            names = tables[code].schema.names
            for r in classify_columns(engine, code, names, sample_rows=SAMPLE_ROWS):
                out[f"{code}\t{r.column}"] = r.entity.value if r.entity else None
        return out

    columns_pass([next(iter(tables))])  # warm-up
    scan_text(texts[:200])
    col_times, text_times = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        columns = columns_pass(list(tables))
        col_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        found = scan_text(texts)
        text_times.append(time.perf_counter() - start)
    spans = [[(s.start, s.end, s.entity.value) for s in row] for row in found]
    target.write_text(
        json.dumps(
            {
                "columns": columns,
                "spans": spans,
                "column_seconds": min(col_times),
                "text_seconds": min(text_times),
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )


# -- running -------------------------------------------------------------------------------


def ensure_presidio() -> Path:
    return ensure_venv(VENV, "presidio_analyzer", f"presidio-analyzer=={PRESIDIO_VERSION}")


def run_side(cmd: list[str], target: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    measured = run_measured(cmd, env)
    out: dict[str, Any] = json.loads(target.read_text(encoding="utf-8"))
    out["process_seconds"] = measured["wall"]
    out["cpu"] = measured["cpu"]
    out["others"] = measured["others"]
    return out


# -- scoring -------------------------------------------------------------------------------


def expected_columns(city: Path, tables: dict[str, list[str]]) -> dict[str, str | None]:
    import pyarrow.parquet as pq

    truth = pq.read_table(city / "truth" / "columns.parquet").to_pylist()
    out: dict[str, str | None] = {}
    for row in truth:
        key = (row["dataset"], row["column"])
        out["\t".join(key)] = EXTRA.get(key, TRUTH_TO_ENTITY.get(row["entity_type"] or ""))
    for column, entity in DECOY_TRUTH.items():
        out[f"{DECOY_TABLE}\t{column}"] = entity
    missing = [k for k in out if k.split("\t")[1] not in tables.get(k.split("\t")[0], [])]
    if missing:
        raise SystemExit(f"truth columns not found in the data: {missing}")
    return out


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else (1.0 if not fn else 0.0)
    r = tp / (tp + fn) if tp + fn else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def column_scores(
    expected: dict[str, str | None], got: dict[str, Any]
) -> tuple[dict[str, tuple[int, int, int]], int]:
    """Per entity (tp, fp, fn) over the labelled columns, and the number of right columns."""
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    right = 0
    for key, want in expected.items():
        have = got.get(key)
        if have is not None and (have.startswith("other:") or have not in ENTITY_IDS):
            have = None  # a label with no counterpart
        if have == want:
            right += 1
            if want is not None:
                tp[want] += 1
            continue
        if want is not None:
            fn[want] += 1
        if have is not None:
            fp[have] += 1
    entities = set(tp) | set(fp) | set(fn)
    return {e: (tp[e], fp[e], fn[e]) for e in entities}, right


def span_scores(
    truth: dict[tuple[str, int], list[tuple[int, int, str]]],
    keys: list[tuple[str, int]],
    found: list[list[Any]],
) -> dict[str, dict[str, tuple[int, int, int]]]:
    """Per entity and overall (tp, fp, fn), for exact and overlap matching."""
    out: dict[str, dict[str, Counter[str]]] = {
        mode: {"tp": Counter(), "fp": Counter(), "fn": Counter()} for mode in ("exact", "overlap")
    }
    for key, spans in zip(keys, found, strict=True):
        want = truth.get(key, [])
        got = [(int(s), int(e), str(t)) for s, e, t in spans]
        got = [g for g in got if not g[2].startswith("other:")]
        exact = set(want) & set(got)
        for t in ("exact", "overlap"):
            c = out[t]
            for g in got:
                if t == "exact":
                    hit = g in exact
                else:
                    hit = any(w[2] == g[2] and w[0] < g[1] and g[0] < w[1] for w in want)
                c["tp" if hit else "fp"][g[2]] += 1
            for w in want:
                if t == "exact":
                    missed = w not in exact
                else:
                    missed = not any(w[2] == g[2] and w[0] < g[1] and g[0] < w[1] for g in got)
                if missed:
                    c["fn"][w[2]] += 1
    result: dict[str, dict[str, tuple[int, int, int]]] = {}
    for mode, c in out.items():
        entities = set(c["tp"]) | set(c["fp"]) | set(c["fn"])
        per = {e: (c["tp"][e], c["fp"][e], c["fn"][e]) for e in entities}
        # the "true positives" of precision and recall differ slightly under overlap matching
        per["(all)"] = (sum(c["tp"].values()), sum(c["fp"].values()), sum(c["fn"].values()))
        result[mode] = per
    return result


ENTITY_IDS: set[str] = set()


def fmt(x: float) -> str:
    return f"{x:.3f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--scale", type=float, default=0.5, help="demo city scale (0.5)")
    parser.add_argument("--repeat", type=int, default=1, help="timed passes per side, best (1)")
    parser.add_argument("--idle-wait", type=float, default=30.0, help="max s to wait for idle")
    parser.add_argument("--keep", action="store_true", help="keep the generated data")
    parser.add_argument("--child", nargs=2, metavar=("WORK", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        dizuo_child(Path(args.child[0]), Path(args.child[1]), args.repeat)
        return 0

    from dizuo.classify import Entity
    from dizuo.demo.generate import generate_city

    ENTITY_IDS.update(e.value for e in Entity)
    python = ensure_presidio()
    work = DATA / f"classify-{args.scale:g}"
    city = work / "city"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    print(f"generating the demo city (scale {args.scale:g}) and decoys …", flush=True)
    generate_city(city, scale=args.scale)
    info = build_inputs(city, work)
    expected = expected_columns(city, info["tables"])
    print(
        f"  {len(info['tables'])} tables, {len(expected)} labelled columns, "
        f"{info['values']:,} sampled values, {info['texts']:,} texts "
        f"({info['text_chars']:,} characters)",
        flush=True,
    )

    helper = DATA / "presidio_classify_helper.py"
    helper.write_text(PRESIDIO_HELPER, encoding="utf-8")
    env = dict(os.environ)
    env["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = ""
    env["TLDEXTRACT_CACHE"] = str(work / "tldextract")

    print("dizuo …", flush=True)
    wait_idle(args.idle_wait)
    dz = run_side(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "--repeat",
            str(args.repeat),
            "--child",
            str(work),
            str(work / "dizuo_out.json"),
        ],
        work / "dizuo_out.json",
    )
    print("Presidio …", flush=True)
    wait_idle(args.idle_wait)
    pr = run_side(
        [
            str(python),
            str(helper),
            str(work / "presidio_in.json"),
            str(work / "presidio_out.json"),
            str(args.repeat),
        ],
        work / "presidio_out.json",
        env,
    )

    # -- columns
    dz_cols, dz_right = column_scores(expected, dz["columns"])
    pr_cols, pr_right = column_scores(expected, pr["columns"])
    truth_entities = sorted({e for e in expected.values() if e is not None})
    entities = sorted(set(truth_entities) | set(dz_cols) | set(pr_cols))
    rows = []
    column_pass = True
    for e in entities:
        n = sum(1 for v in expected.values() if v == e)
        d = prf(*dz_cols.get(e, (0, 0, 0)))
        p = prf(*pr_cols.get(e, (0, 0, 0)))
        covered = "yes" if e in PRESIDIO_COVERS else "no recognizer ¹"
        if e == "birth_date":
            covered = "DATE_TIME ²"
        if e in truth_entities and d[2] < TARGET_COLUMN_F1:
            column_pass = False
        rows.append([e, str(n), *map(fmt, d), *map(fmt, p), covered])
    header = ["entity", "columns", "dizuo P", "dizuo R", "dizuo F1"]
    header += ["Presidio P", "Presidio R", "Presidio F1", "Presidio"]
    print()
    print(table(rows, header))
    print(
        f"\ncolumns right (entity or none): dizuo {dz_right}/{len(expected)}, "
        f"Presidio {pr_right}/{len(expected)}"
    )
    wrong = [
        f"  dizuo  {k.replace(chr(9), '.')}: want {v}, got {dz['columns'].get(k)}"
        for k, v in expected.items()
        if dz["columns"].get(k) != v
    ]
    print("\n".join(wrong) if wrong else "  dizuo: no wrong columns")

    # -- spans
    import pyarrow.parquet as pq

    span_truth: dict[tuple[str, int], list[tuple[int, int, str]]] = {}
    for t in pq.read_table(city / "truth" / "spans.parquet").to_pylist():
        span_truth.setdefault((t["dataset"], t["row"]), []).append(
            (t["start"], t["end"], t["entity_type"])
        )
    keys = [tuple(k) for k in info["text_keys"]]
    dz_spans = span_scores(span_truth, keys, dz["spans"])  # type: ignore[arg-type]
    pr_spans = span_scores(span_truth, keys, pr["spans"])  # type: ignore[arg-type]
    span_entities = sorted((set(dz_spans["exact"]) | set(pr_spans["exact"])) - {"(all)"}) + [
        "(all)"
    ]
    truth_count = Counter(t[2] for v in span_truth.values() for t in v)
    rows = []
    for e in span_entities:
        n = sum(truth_count.values()) if e == "(all)" else truth_count.get(e, 0)
        row = [e, f"{n:,}"]
        for side in (dz_spans, pr_spans):
            ex = prf(*side["exact"].get(e, (0, 0, 0)))
            ov = prf(*side["overlap"].get(e, (0, 0, 0)))
            row += [fmt(ex[0]), fmt(ex[1]), fmt(ex[2]), fmt(ov[2])]
        if e != "(all)" and e not in PRESIDIO_COVERS:
            row[-4] += " ¹"
        rows.append(row)
    header = ["entity", "truth spans", "dizuo P", "dizuo R", "dizuo F1", "dizuo F1 overlap"]
    header += ["Presidio P", "Presidio R", "Presidio F1", "Presidio F1 overlap"]
    print()
    print(table(rows, header))
    dz_span_f1 = prf(*dz_spans["exact"]["(all)"])[2]

    # -- throughput
    values, texts = info["values"], info["texts"]
    dz_vps = values / dz["column_seconds"]
    pr_vps = values / pr["column_seconds"]
    dz_tps = texts / dz["text_seconds"]
    pr_tps = texts / pr["text_seconds"]
    rows = [
        [
            "columns (values/s)",
            f"{values:,}",
            f"{dz['column_seconds']:.3f}",
            f"{dz_vps:,.0f}",
            f"{pr['column_seconds']:.2f}",
            f"{pr_vps:,.0f}",
            f"{dz_vps / pr_vps:,.0f}×",
        ],
        [
            "free text (texts/s)",
            f"{texts:,}",
            f"{dz['text_seconds']:.3f}",
            f"{dz_tps:,.0f}",
            f"{pr['text_seconds']:.2f}",
            f"{pr_tps:,.0f}",
            f"{dz_tps / pr_tps:,.0f}×",
        ],
    ]
    header = ["task", "inputs", "dizuo s", "dizuo rate", "Presidio s", "Presidio rate"]
    header += ["dizuo/Presidio"]
    print()
    print(table(rows, header))
    print(f"\nPresidio recognizers ({len(pr['recognizers'])}): {', '.join(pr['recognizers'])}")
    for name, side in (("dizuo", dz), ("Presidio", pr)):
        others = "n/a" if side["others"] is None else f"{side['others']:.1f}"
        print(
            f"{name} subprocess: {side['process_seconds']:.1f} s wall, {side['cpu']:.1f} CPU-s; "
            f"other processes used {others} CPU-s meanwhile"
        )

    speedup = min(dz_vps / pr_vps, dz_tps / pr_tps)
    checks = [
        (column_pass, f"column F1 ≥ {TARGET_COLUMN_F1} for every structured entity (dizuo)"),
        (dz_span_f1 >= TARGET_SPAN_F1, f"span F1 ≥ {TARGET_SPAN_F1} (dizuo: {dz_span_f1:.3f})"),
        (
            speedup >= TARGET_SPEEDUP,
            f"throughput ≥ {TARGET_SPEEDUP:g}× Presidio's (lowest: {speedup:,.0f}×)",
        ),
    ]
    print()
    for ok, text in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {text}")
    presidio = f"presidio-analyzer {PRESIDIO_VERSION} (own venv)"
    print(f"\n{date.today().isoformat()}; {machine(presidio)}")
    if not args.keep:
        shutil.rmtree(work)
    return 0 if all(ok for ok, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
