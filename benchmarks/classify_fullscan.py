"""Full-scan classification of a 10-million-row table: time and peak memory (issue #4).

Generates (with DuckDB SQL, cached in benchmarks/_data/) a Parquet table of 10,000,000 rows:
an ID-number-shaped column, a mobile-phone column, a Chinese-name column, an order number, a
date and an amount; then classifies every row (``sample_rows=None``) in a child process and
reports wall time and that process's peak RSS. Target: memory under 2 GB.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import duckdb

DATA = Path(__file__).resolve().parent / "_data"


def generate(rows: int) -> Path:
    path = DATA / f"classify_{rows}.parquet"
    if path.exists():
        return path
    DATA.mkdir(parents=True, exist_ok=True)
    surnames = "['王','李','张','刘','陈','杨','黄','赵','吴','周']"
    given = "['伟','芳','娜','敏','静','磊','洋','勇','艳','杰','军','丽']"
    duckdb.sql(
        f"""COPY (
        SELECT
          '510104' || strftime(DATE '1950-01-01' + (i % 25000)::INT, '%Y%m%d')
            || lpad((i % 997)::VARCHAR, 3, '0') || ((i % 10)::VARCHAR) AS sfzh,
          '1' || (['38','39','58','86','77'])[(i % 5) + 1] || lpad((i % 100000000)::VARCHAR, 8, '0')
            AS lxdh,
          {surnames}[(i % 10) + 1] || {given}[(i // 10 % 12) + 1] AS xm,
          lpad(i::VARCHAR, 18, '7') AS order_no,
          DATE '2024-01-01' + (i % 366)::INT AS visit_date,
          round((i % 10000) / 7.0, 2) AS amount
        FROM range({rows}) t(i)) TO '{path}' (FORMAT parquet, COMPRESSION zstd)"""
    )
    return path


CHILD = """
import json, sys, time
from dizuo.classify.columns import classify_columns
from dizuo.engine.duckdb import DuckDBEngine, sql_literal
path = sys.argv[1]
engine = DuckDBEngine(memory_limit="1GB")
cols = ["sfzh", "lxdh", "xm", "order_no", "visit_date", "amount"]
t = time.perf_counter()
results = classify_columns(engine, f"read_parquet({sql_literal(path)})", cols, sample_rows=None)
seconds = time.perf_counter() - t
print(json.dumps({"seconds": seconds,
                  "entities": {r.column: (r.entity and str(r.entity)) for r in results},
                  "non_null": {r.column: r.non_null for r in results}}))
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    args = parser.parse_args(argv)
    path = generate(args.rows)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, check=True
    )
    wall = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    result = json.loads(out.stdout)
    print(f"rows: {args.rows:,}  file: {path.stat().st_size / 2**20:.0f} MB")
    print(f"classify (every row): {result['seconds']:.1f} s in the engine, {wall:.1f} s in all")
    print(f"peak RSS of the classifying process: {peak_mb:.0f} MB (before: {before / 1024:.0f})")
    print("entities:", result["entities"])
    ok = peak_mb < 2048
    print(("PASS" if ok else "FAIL") + f"  peak memory < 2 GB ({peak_mb:.0f} MB)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
