"""Column profiles without a second pass over the data.

Exact figures come from the Parquet footers the engine wrote while loading (row counts, null
counts, minimum and maximum per row group); estimates come from a sample of whole row groups
spread over the files (distinct counts, top values, text lengths). So profiling costs a few
milliseconds of footer reading and one small sample, whatever the size of the data: an
ingest reads its source once.

The distinct-count estimate is the bias-corrected Chao1 estimator (Chao, 1984; Chiu et al.,
2014): ``D = d + f1 (f1 - 1) / (2 (f2 + 1))``, capped at the number of non-null values ``N``,
where the ``n`` sampled values hold ``d`` distinct ones of which ``f1`` occur once and ``f2``
twice. It is exact when the sample is the whole column, reaches ``N`` for identifier-like
columns (all singletons) and stays near ``d`` for categorical ones.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from dizuo.engine.duckdb import DuckDBEngine, quote_ident, sql_list

SAMPLE_ROWS = 100_000
TOP_VALUES_MAX_DISTINCT = 20
TOP_VALUES = 10
# A value is shown among the top values only if at least this many sampled rows share it:
# a value held by one or two records could single a person out.
TOP_VALUE_MIN_COUNT = 5
_NESTED = ("STRUCT", "MAP", "UNION")


@dataclass
class Profiled:
    rows: int
    schema: list[dict[str, Any]]  # name, type, nullable
    profiles: list[dict[str, Any]]


def _is_nested(duck_type: str) -> bool:
    return duck_type.startswith(_NESTED) or duck_type.endswith("]")


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _footer_stats(files: list[Path], names: list[str]) -> tuple[int, list[dict[str, Any]]]:
    """Rows, and per column: nulls, min, max — from the row-group statistics."""
    rows = 0
    stats: list[dict[str, Any]] = [{"nulls": 0, "min": None, "max": None} for _ in names]
    index = {name: i for i, name in enumerate(names)}
    for path in files:
        meta = pq.read_metadata(path)
        rows += meta.num_rows
        for g in range(meta.num_row_groups):
            group = meta.row_group(g)
            for c in range(group.num_columns):
                column = group.column(c)
                i = index.get(column.path_in_schema)
                if i is None or column.statistics is None:
                    continue
                s, out = column.statistics, stats[i]
                if s.has_null_count:
                    out["nulls"] += s.null_count
                if s.has_min_max:
                    out["min"] = s.min if out["min"] is None else min(out["min"], s.min)
                    out["max"] = s.max if out["max"] is None else max(out["max"], s.max)
    return rows, stats


def _sample(files: list[Path]) -> pa.Table | None:
    """Whole row groups spread evenly over the files, about SAMPLE_ROWS rows in all."""
    groups: list[tuple[Path, int, int]] = []
    for path in files:
        meta = pq.read_metadata(path)
        groups += [(path, g, meta.row_group(g).num_rows) for g in range(meta.num_row_groups)]
    groups = [g for g in groups if g[2] > 0]
    if not groups:
        return None
    total = sum(g[2] for g in groups)
    if total > SAMPLE_ROWS:
        average = total / len(groups)
        wanted = max(1, min(len(groups), math.ceil(SAMPLE_ROWS / average)))
        step = len(groups) / wanted
        groups = [groups[int(k * step)] for k in range(wanted)]
    tables = [pq.ParquetFile(path).read_row_group(g) for path, g, _ in groups]
    return pa.concat_tables(tables, promote_options="permissive")


def profile(engine: DuckDBEngine, files: list[Path]) -> Profiled:
    """Rows, schema and a profile per column (see the module docstring for what is exact).

    Text columns are profiled by length, not by value: the smallest and largest value of a
    name or ID-number column would put personal data into the catalog.
    """
    source = f"read_parquet({sql_list([str(f) for f in files])}, union_by_name = true)"
    described = engine.rows(f"DESCRIBE SELECT * FROM {source}")
    schema = [{"name": r[0], "type": r[1], "nullable": True} for r in described]
    rows, stats = _footer_stats(files, [c["name"] for c in schema])
    sample = _sample(files)
    profiles: list[dict[str, Any]] = []
    for col, stat in zip(schema, stats, strict=True):
        nulls = int(stat["nulls"])
        col["nullable"] = nulls > 0
        entry: dict[str, Any] = {
            "nulls": nulls,
            "null_rate": round(nulls / rows, 6) if rows else 0.0,
        }
        if col["type"] != "VARCHAR" and not _is_nested(col["type"]):
            entry["min"] = None if stat["min"] is None else str(_plain(stat["min"]))
            entry["max"] = None if stat["max"] is None else str(_plain(stat["max"]))
        profiles.append(entry)
    if sample is not None and sample.num_rows:
        _estimate(engine, sample, schema, profiles, rows)
    return Profiled(rows=rows, schema=schema, profiles=profiles)


def _estimate(
    engine: DuckDBEngine,
    sample: pa.Table,
    schema: list[dict[str, Any]],
    profiles: list[dict[str, Any]],
    rows: int,
) -> None:
    """Distinct counts, top values and text lengths from the sample, in one engine query."""
    engine.register_arrow("__dizuo_sample", sample)
    try:
        parts: list[str] = []
        flat = [c for c in schema if not _is_nested(c["type"]) and c["name"] in sample.column_names]
        for col in flat:
            q = quote_ident(col["name"])
            parts.append(
                f"SELECT {len(parts)} AS i, sum(c)::BIGINT AS n, count(*) AS d, "
                f"count(*) FILTER (WHERE c = 1) AS f1, count(*) FILTER (WHERE c = 2) AS f2 "
                f"FROM (SELECT {q} AS v, count(*) AS c FROM __dizuo_sample "
                f"WHERE {q} IS NOT NULL GROUP BY 1)"
            )
        if not parts:
            return
        results = engine.rows(" UNION ALL ".join(parts))
        texts = [c for c in flat if c["type"] == "VARCHAR"]
        lengths: dict[str, tuple[Any, Any]] = {}
        if texts:
            row = engine.rows(
                "SELECT "
                + ", ".join(
                    f"min(length({quote_ident(c['name'])})), max(length({quote_ident(c['name'])}))"
                    for c in texts
                )
                + " FROM __dizuo_sample"
            )[0]
            lengths = {c["name"]: (row[2 * k], row[2 * k + 1]) for k, c in enumerate(texts)}
        low_card: list[tuple[int, dict[str, Any]]] = []
        for i, n, d, f1, f2 in sorted(results, key=lambda r: int(r[0])):
            col = flat[int(i)]
            entry = profiles[schema.index(col)]
            total = rows - entry["nulls"]
            n = int(n or 0)
            if n == 0:
                entry["distinct_approx"] = 0
            elif n >= total:
                entry["distinct_approx"] = int(d)
            else:
                f1_, f2_ = int(f1), int(f2)
                estimate = int(d) + f1_ * (f1_ - 1) / (2 * (f2_ + 1))
                entry["distinct_approx"] = int(min(total, round(estimate)))
            entry["sampled_rows"] = int(sample.num_rows)
            if col["name"] in lengths:
                entry["min_length"], entry["max_length"] = lengths[col["name"]]
            if 0 < int(d) <= TOP_VALUES_MAX_DISTINCT and int(f1) == 0:
                low_card.append((int(i), entry))
        for i, entry in low_card:
            q = quote_ident(flat[i]["name"])
            counted = engine.rows(
                f"SELECT {q}, count(*) AS c FROM __dizuo_sample WHERE {q} IS NOT NULL "
                f"GROUP BY 1 HAVING count(*) >= {TOP_VALUE_MIN_COUNT} "
                f"ORDER BY c DESC, 1 LIMIT {TOP_VALUES}"
            )
            entry["top"] = [
                {"value": _plain(v), "share": round(int(c) / sample.num_rows, 4)}
                for v, c in counted
            ]
    finally:
        engine.con.unregister("__dizuo_sample")


def content_hash(engine: DuckDBEngine, files: list[Path], schema: list[dict[str, Any]]) -> str:
    """An order-independent hash of the rows (a full scan): the sum of DuckDB's 64-bit row
    hashes with the schema. Used where there are no source bytes to fingerprint."""
    source = f"read_parquet({sql_list([str(f) for f in files])}, union_by_name = true)"
    rows, total = engine.rows(
        f"SELECT count(*), coalesce(sum(hash(t))::HUGEINT, 0)::VARCHAR FROM {source} AS t"
    )[0]
    return hashlib.sha256(
        json.dumps(
            {"schema": [(c["name"], c["type"]) for c in schema], "rows": rows, "h": total},
            ensure_ascii=False,
        ).encode()
    ).hexdigest()
