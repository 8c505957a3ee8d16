"""Decoy columns: values that look like identifiers but are not, and column names that lie.

Used to test the classifier and, with more rows, by ``benchmarks/classify.py``: a detector
that trusts shapes or names instead of check digits calls these columns personal data.
"""

from __future__ import annotations

import random

from stdnum.cn import ric, uscc


def _wrong(rng: random.Random, alphabet: str, right: str) -> str:
    return rng.choice([c for c in alphabet if c != right])


def decoy_columns(n: int, seed: int = 5) -> dict[str, list[str]]:
    """Five columns of ``n`` values each.

    * ``order_id``: 18 digits shaped like resident ID numbers (a real region code and birth
      date), every GB 11643 check digit wrong;
    * ``serial_11``: 11-digit numbers starting 10, 11 or 12 — not allocated mobile prefixes;
    * ``reg_code``: USCC-shaped codes whose GB 32100 check character is wrong;
    * ``sfzh``: mobile numbers in a column named like an ID number (身份证号);
    * ``col_07``: mobile numbers in a column whose name says nothing.
    """
    rng = random.Random(seed)
    order_id = []
    for _ in range(n):
        born = f"{rng.randint(1950, 2010)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
        body = f"510104{born}{rng.randint(0, 999):03d}"
        order_id.append(body + _wrong(rng, "0123456789", ric.calc_check_digit(body + "0")))
    serial_11 = [f"1{rng.choice('012')}{rng.randint(0, 999_999_999):09d}" for _ in range(n)]
    reg_code = []
    for _ in range(n):
        body = f"9151010{rng.randint(0, 9)}MA{rng.randint(1000000, 9999999)}"
        reg_code.append(body + _wrong(rng, "0123456789ABCD", uscc.calc_check_digit(body)))
    return {
        "order_id": order_id,
        "serial_11": serial_11,
        "reg_code": reg_code,
        "sfzh": [f"13{rng.randint(0, 999_999_999):09d}" for _ in range(n)],
        "col_07": [f"15{rng.randint(0, 999_999_999):09d}" for _ in range(n)],
    }
