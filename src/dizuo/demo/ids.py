"""Identifier arithmetic, vectorised: resident IDs, USCCs, transit cards, mobile phones.

- Resident ID (GB 11643-1999): region (6) + birth date YYYYMMDD (8) + sequence (3, odd for
  men, even for women) + check character, ISO 7064 MOD 11-2 ('X' stands for 10). The
  legacy 15-digit form (used until 2004) is region + YYMMDD + sequence, with no check.
- Unified social credit code (GB 32100-2015): registration authority (1) + entity category
  (1) + region (6) + organisation code (9, GB 11714-1997 with its own MOD 11 check) + check
  character, MOD 31 over the alphabet ``0-9A-Z`` without I, O, Z, S, V.
- Transit card numbers: 16 digits with a Luhn-style final digit that is deliberately wrong
  for most cards (a bank-card look-alike that a Luhn test rejects).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from dizuo.demo.strings import int_digits

U8 = npt.NDArray[np.uint8]
I64 = npt.NDArray[np.int64]

ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = np.array([pow(3, i, 31) for i in range(17)], dtype=np.int64)
ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)

# Mobile prefixes of the three operators (and a little of the virtual ones), with weights.
MOBILE_PREFIXES: tuple[tuple[int, float], ...] = (
    (130, 2.0),
    (131, 2.0),
    (132, 2.0),
    (133, 2.0),
    (134, 2.5),
    (135, 3.0),
    (136, 3.0),
    (137, 3.0),
    (138, 3.5),
    (139, 3.5),
    (150, 2.5),
    (151, 2.5),
    (152, 2.0),
    (153, 2.0),
    (155, 2.0),
    (156, 2.0),
    (157, 1.5),
    (158, 2.5),
    (159, 2.5),
    (166, 1.0),
    (170, 0.3),
    (173, 1.5),
    (175, 1.0),
    (176, 1.5),
    (177, 1.5),
    (178, 1.5),
    (180, 2.0),
    (181, 2.0),
    (182, 2.5),
    (183, 2.0),
    (184, 0.5),
    (185, 2.0),
    (186, 2.5),
    (187, 2.5),
    (188, 2.0),
    (189, 2.5),
    (191, 1.0),
    (198, 1.5),
    (199, 1.5),
)


def unique_draws(
    rng: np.random.Generator,
    n: int,
    draw: Callable[[np.random.Generator, int], I64],
    forbidden: I64 | None = None,
) -> I64:
    """``n`` distinct values from ``draw``, redrawing duplicates and ``forbidden`` values.

    ``forbidden`` must be sorted.
    """
    values = draw(rng, n)
    for _ in range(64):
        order = np.argsort(values, kind="stable")
        dup = np.zeros(n, dtype=bool)
        sorted_values = values[order]
        dup[order[1:]] = sorted_values[1:] == sorted_values[:-1]
        if forbidden is not None and len(forbidden):
            at = np.minimum(np.searchsorted(forbidden, values), len(forbidden) - 1)
            dup |= forbidden[at] == values
        count = int(dup.sum())
        if count == 0:
            return values
        values[dup] = draw(rng, count)
    raise RuntimeError("could not draw distinct values")


# -- resident IDs ----------------------------------------------------------------------


def id_check(body: U8) -> U8:
    """MOD 11-2 check values (0–10; 10 is written 'X') for ``(rows, 17)`` digit matrices."""
    total = body.astype(np.int64) @ ID_WEIGHTS
    out: U8 = ((12 - total % 11) % 11).astype(np.uint8)
    return out


def resident_ids(region: I64, year: I64, month: I64, day: I64, sequence: I64) -> U8:
    """``(rows, 18)`` digit matrices of valid 18-digit resident IDs."""
    body = np.concatenate(
        [
            int_digits(region, 6),
            int_digits(year, 4),
            int_digits(month, 2),
            int_digits(day, 2),
            int_digits(sequence, 3),
        ],
        axis=1,
    )
    return np.concatenate([body, id_check(body)[:, None]], axis=1)


def legacy15(digits18: U8) -> U8:
    """The 15-digit form of each ID: drop the century and the check digit."""
    keep = list(range(6)) + list(range(8, 17))
    out: U8 = np.ascontiguousarray(digits18[:, keep])
    return out


def id_sequences(
    rng: np.random.Generator, region: I64, birth_days: I64, male: npt.NDArray[np.bool_]
) -> I64:
    """Sequence numbers distinct within (region, birth date); odd for men, even for women."""
    n = len(region)
    key = (region * 100_000 + birth_days) * 2 + male.astype(np.int64)
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    starts = np.ones(n, dtype=bool)
    starts[1:] = sorted_key[1:] != sorted_key[:-1]
    group_start = np.maximum.accumulate(np.where(starts, np.arange(n), 0))
    rank = np.arange(n) - group_start
    if n and int(rank.max()) >= 500:
        raise ValueError("more than 500 people share a region, birth date and sex")
    base = rng.integers(0, 500, n)[group_start]  # one random start per group
    k = np.empty(n, dtype=np.int64)
    k[order] = (base + rank) % 500
    out: I64 = 2 * k + male.astype(np.int64)
    return out


# -- unified social credit codes -------------------------------------------------------

_ORG_VALUE = {c: i for i, c in enumerate("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")}


def _lookup(table: dict[str, int]) -> I64:
    out = np.full(128, -1, dtype=np.int64)
    for ch, v in table.items():
        out[ord(ch)] = v
    return out


ORG_VALUE_OF = _lookup(_ORG_VALUE)  # GB 11714 value of an ASCII code point
USCC_VALUE_OF = _lookup({c: i for i, c in enumerate(USCC_ALPHABET)})


def org_check(body: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint32]:
    """GB 11714 check characters (code points) for ``(rows, 8)`` code-point matrices."""
    total = ORG_VALUE_OF[body.astype(np.int64)] @ ORG_WEIGHTS
    c = 11 - total % 11
    out = np.where(c == 10, ord("X"), np.where(c == 11, ord("0"), c + ord("0")))
    return out.astype(np.uint32)


def uscc_check(first17: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint32]:
    """GB 32100 check characters (code points) for ``(rows, 17)`` code-point matrices."""
    total = USCC_VALUE_OF[first17.astype(np.int64)] @ USCC_WEIGHTS
    alphabet = np.array([ord(c) for c in USCC_ALPHABET], dtype=np.uint32)
    out: npt.NDArray[np.uint32] = alphabet[(31 - total % 31) % 31]
    return out


def uscc_codes(
    rng: np.random.Generator,
    category: I64,
    region: I64,
    new_style: npt.NDArray[np.bool_],
) -> npt.NDArray[np.uint32]:
    """``(rows, 18)`` code-point matrices of valid USCCs (authority '9' = market regulation).

    New-style organisation codes start with "MA" followed by USCC-alphabet characters; old
    ones are the eight digits of a pre-2015 organisation code.
    """
    n = len(category)
    alphabet = np.array([ord(c) for c in USCC_ALPHABET], dtype=np.uint32)
    digits = np.array([ord(c) for c in "0123456789"], dtype=np.uint32)
    body = digits[rng.integers(0, 10, (n, 8))]
    mixed = alphabet[
        np.where(
            rng.random((n, 6)) < 0.7, rng.integers(0, 10, (n, 6)), rng.integers(10, 31, (n, 6))
        )
    ]
    body[new_style, 0] = ord("M")
    body[new_style, 1] = ord("A")
    body[new_style, 2:] = mixed[new_style]
    org = np.concatenate([body, org_check(body)[:, None]], axis=1)
    head = np.concatenate(
        [
            np.full((n, 1), ord("9"), dtype=np.uint32),
            (category[:, None] + ord("0")).astype(np.uint32),
            (int_digits(region, 6) + ord("0")).astype(np.uint32),
        ],
        axis=1,
    )
    first17 = np.concatenate([head, org], axis=1)
    return np.concatenate([first17, uscc_check(first17)[:, None]], axis=1)


# -- Luhn and transit cards -------------------------------------------------------------


def luhn_check(body: U8) -> U8:
    """The Luhn check digit that would complete each row of digits."""
    width = body.shape[1]
    # counted from the right of the complete number, the body's last digit is doubled
    double = (np.arange(width)[::-1] % 2) == 0
    d = body.astype(np.int64)
    doubled = np.where(double, d * 2, d)
    doubled = np.where(doubled > 9, doubled - 9, doubled)
    out: U8 = ((10 - doubled.sum(axis=1) % 10) % 10).astype(np.uint8)
    return out


def transit_cards(rng: np.random.Generator, n: int, luhn_valid: npt.NDArray[np.bool_]) -> U8:
    """``(rows, 16)`` digits: "5101" + issue year (2) + serial (9) + final digit.

    The final digit is the Luhn check digit only where ``luhn_valid``; elsewhere it is
    shifted by 1–9, so the number fails a Luhn test.
    """
    serial = unique_draws(rng, n, lambda g, k: g.integers(0, 10**9, k, dtype=np.int64))
    year = rng.integers(12, 25, n)
    body = np.concatenate(
        [
            np.tile(np.array([5, 1, 0, 1], dtype=np.uint8), (n, 1)),
            int_digits(year, 2),
            int_digits(serial, 9),
        ],
        axis=1,
    )
    check = luhn_check(body).astype(np.int64)
    shift = np.where(luhn_valid, 0, rng.integers(1, 10, n))
    last = ((check + shift) % 10).astype(np.uint8)
    return np.concatenate([body, last[:, None]], axis=1)


# -- mobile phones ----------------------------------------------------------------------


def draw_mobiles(rng: np.random.Generator, n: int) -> I64:
    """``n`` random 11-digit mobile numbers (not necessarily distinct)."""
    prefixes = np.array([p for p, _ in MOBILE_PREFIXES], dtype=np.int64)
    weights = np.array([w for _, w in MOBILE_PREFIXES])
    prefix = rng.choice(prefixes, n, p=weights / weights.sum())
    out: I64 = prefix * 100_000_000 + rng.integers(0, 100_000_000, n, dtype=np.int64)
    return out


def mobiles(rng: np.random.Generator, n: int, forbidden: I64 | None = None) -> I64:
    """``n`` distinct mobile numbers, none of them in ``forbidden`` (sorted)."""
    return unique_draws(rng, n, draw_mobiles, forbidden)
