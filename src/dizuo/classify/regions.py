"""GB/T 2260 division codes with the years each was in use, from python-stdnum's ``loc.dat``.

``stdnum.cn.ric`` accepts an ID number when its first six digits are a division code that was
valid in the birth year: a county written ``[1986-]房山区`` counts from 1986 on, ``[-2010]崇文区``
until 2010, a plain name always, and a code may list several periods separated by commas. The
same rule is built here, once per engine, as a DuckDB table of ``code * 10000 + year`` keys for
every year from 1900 to 2100 in which a code was valid, so that the check is a hash semi-join.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

from dizuo.engine.duckdb import DuckDBEngine

REGION_TABLE = "dizuo_classify_region_years"
FIRST_YEAR = 1900
LAST_YEAR = 2100

_PERIOD = re.compile(r"^\[(\d*)-(\d*)\]")


@cache
def region_periods() -> tuple[tuple[int, int, int], ...]:
    """Every (code, first year, last year) in stdnum's ``cn/loc.dat``.

    Province lines (two digits) prefix the four-digit county lines below them. A county without
    a period is valid for all years.
    """
    text = resources.files("stdnum").joinpath("cn/loc.dat").read_text(encoding="utf-8")
    periods: list[tuple[int, int, int]] = []
    province = ""
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if not line.startswith(" "):
            province = line.split()[0]
            continue
        code, _, rest = line.strip().partition(" ")
        match = re.search(r'county="([^"]*)"', rest)
        if match is None:
            continue
        for county in match.group(1).split(","):
            span = _PERIOD.match(county)
            first = int(span.group(1)) if span and span.group(1) else FIRST_YEAR
            last = int(span.group(2)) if span and span.group(2) else LAST_YEAR
            periods.append((int(province + code), first, last))
    return tuple(periods)


def ensure_region_table(engine: DuckDBEngine) -> str:
    """Create (once per connection) the temp table of valid ``code * 10000 + year`` keys."""
    exists = engine.rows(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND temporary",
        [REGION_TABLE],
    )[0][0]
    if not exists:
        values = ", ".join(f"({c}, {a}, {b})" for c, a, b in region_periods())
        engine.execute(
            f"CREATE TEMP TABLE {REGION_TABLE} AS "
            f"SELECT DISTINCT p.code::BIGINT * 10000 + y.range AS k "
            f"FROM (VALUES {values}) p(code, y0, y1), range({FIRST_YEAR}, {LAST_YEAR + 1}) y "
            "WHERE y.range BETWEEN p.y0 AND p.y1"
        )
    return REGION_TABLE
