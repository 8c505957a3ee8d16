"""Column profiles and the content hash, in one pass of the engine over staged Parquet."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dizuo.engine.duckdb import DuckDBEngine, quote_ident, sql_list

TOP_VALUES_MAX_DISTINCT = 20
TOP_VALUES = 10
# A value is shown among the top values only if at least this many rows share it: a value
# held by one or two records could single a person out.
TOP_VALUE_MIN_COUNT = 5
_NESTED = ("STRUCT", "MAP", "UNION")


@dataclass
class Profiled:
    rows: int
    schema: list[dict[str, Any]]  # name, type, nullable
    profiles: list[dict[str, Any]]
    content_hash: str


def _is_nested(duck_type: str) -> bool:
    return duck_type.startswith(_NESTED) or duck_type.endswith("]")


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def profile(engine: DuckDBEngine, files: list[Path]) -> Profiled:
    """Rows, schema, per-column profile and an order-independent content hash.

    Text columns are profiled by length, not by value: the smallest and largest value of a
    name or ID-number column would put personal data into the catalog.

    The content hash combines the schema with the sum of DuckDB's 64-bit row hashes (a
    multiset hash: the same rows in another order give the same hash). It identifies content
    for "nothing changed" checks; it is not a cryptographic commitment.
    """
    source = f"read_parquet({sql_list([str(f) for f in files])}, union_by_name = true)"
    described = engine.rows(f"DESCRIBE SELECT * FROM {source}")
    schema = [{"name": r[0], "type": r[1], "nullable": True} for r in described]
    parts = ["count(*)", "coalesce(sum(hash(t))::HUGEINT, 0)::VARCHAR"]
    for col in schema:
        q = quote_ident(col["name"])
        parts.append(f"count({q})")
        if _is_nested(col["type"]):
            parts += ["NULL", "NULL", "NULL"]
        elif col["type"] == "VARCHAR":
            # lengths, not values: the extremes of a name or ID column are personal data
            parts += [
                f"approx_count_distinct({q})",
                f"min(length({q}))::VARCHAR",
                f"max(length({q}))::VARCHAR",
            ]
        else:
            parts += [
                f"approx_count_distinct({q})",
                f"min({q})::VARCHAR",
                f"max({q})::VARCHAR",
            ]
    row = engine.rows(f"SELECT {', '.join(parts)} FROM {source} AS t")[0]
    rows, row_hash_sum = int(row[0]), row[1]
    profiles: list[dict[str, Any]] = []
    for i, col in enumerate(schema):
        non_null, distinct, lo, hi = row[2 + 4 * i : 6 + 4 * i]
        nulls = rows - int(non_null)
        col["nullable"] = nulls > 0
        bounds = ("min_length", "max_length") if col["type"] == "VARCHAR" else ("min", "max")
        profiles.append(
            {
                "nulls": nulls,
                "null_rate": round(nulls / rows, 6) if rows else 0.0,
                "distinct_approx": None if distinct is None else int(distinct),
                bounds[0]: lo,
                bounds[1]: hi,
            }
        )
    low_card = [
        i
        for i, p in enumerate(profiles)
        if p["distinct_approx"] is not None and 0 < p["distinct_approx"] <= TOP_VALUES_MAX_DISTINCT
    ]
    if low_card and rows:
        hist = ", ".join(f"histogram({quote_ident(schema[i]['name'])})" for i in low_card)
        counts = engine.rows(f"SELECT {hist} FROM {source}")[0]
        for i, mapping in zip(low_card, counts, strict=True):
            items = sorted((mapping or {}).items(), key=lambda kv: (-kv[1], str(kv[0])))
            profiles[i]["top"] = [
                {"value": _plain(k), "count": int(v)}
                for k, v in items[:TOP_VALUES]
                if v >= TOP_VALUE_MIN_COUNT
            ]
    digest = hashlib.sha256(
        json.dumps(
            {"schema": [(c["name"], c["type"]) for c in schema], "rows": rows, "h": row_hash_sum},
            ensure_ascii=False,
        ).encode()
    ).hexdigest()
    return Profiled(rows=rows, schema=schema, profiles=profiles, content_hash=digest)
