"""GB/T 2260 division codes with the years each was in use, from python-stdnum's ``loc.dat``.

``stdnum.cn.ric`` accepts an ID number when its first six digits are a division code that was
valid in the birth year: a county written ``[1986-]房山区`` counts from 1986 on, ``[-2010]崇文区``
until 2010, a plain name always, and a code may list several periods separated by commas. The
same rule is applied by :func:`dizuo.classify.detectors.region_valid` with a sorted NumPy table
of (code, first year, last year) and a binary search.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

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
