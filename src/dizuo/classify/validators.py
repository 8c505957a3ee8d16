"""Check-digit and field validators in Python, for the few values free-text scanning finds.

Column classification checks whole columns in DuckDB (:mod:`dizuo.classify.detectors`); these
are the same rules for single strings, used on the matches of the free-text regular expression.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cache

from dizuo.classify import detectors as det
from dizuo.classify.regions import region_periods

_MOBILE = re.compile(det.MOBILE_RE)
_LANDLINE = re.compile(det.LANDLINE_RE)
_BANK_IIN = re.compile(det.BANK_IIN_RE)


@cache
def _regions() -> dict[int, tuple[tuple[int, int], ...]]:
    found: dict[int, list[tuple[int, int]]] = {}
    for code, first, last in region_periods():
        found.setdefault(code, []).append((first, last))
    return {code: tuple(spans) for code, spans in found.items()}


def region_valid(code: str, year: int) -> bool:
    """True if the GB/T 2260 code was in use in ``year`` (stdnum's rule)."""
    spans = _regions().get(int(code)) if code.isdigit() else None
    return bool(spans) and any(a <= year <= b for a, b in spans or ())


def _date(text: str, fmt: str) -> dt.date | None:
    try:
        day = dt.datetime.strptime(text, fmt).date()
    except ValueError:
        return None
    return day if dt.date(1900, 1, 1) <= day <= dt.date.today() else None


def resident_id(value: str) -> bool:
    """GB 11643: 18 characters, check digit, birth date, region code valid in the birth year."""
    if len(value) != 18 or not value[:17].isdigit() or value[17] not in "0123456789X":
        return False
    total = sum(int(c) * w for c, w in zip(value, det.RIC_WEIGHTS, strict=False))
    if det.RIC_CHECK[total % 11] != value[17]:
        return False
    born = _date(value[6:14], "%Y%m%d")
    return born is not None and region_valid(value[:6], born.year)


def resident_id_15(value: str) -> bool:
    """Legacy 15-digit form: region + YYMMDD + sequence."""
    if len(value) != 15 or not value.isdigit():
        return False
    born = _date("19" + value[6:12], "%Y%m%d")
    return born is not None and region_valid(value[:6], born.year)


def luhn(value: str) -> bool:
    """The Luhn check over a string of digits."""
    total = 0
    for position, char in enumerate(reversed(value)):
        digit = int(char)
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def bank_card(value: str) -> bool:
    """16–19 digits, a card-network prefix and the Luhn check."""
    return (
        value.isdigit()
        and 16 <= len(value) <= 19
        and bool(_BANK_IIN.fullmatch(value))
        and luhn(value)
    )


def org_code(value: str) -> bool:
    """GB 11714: eight characters 0-9/A-Z and a MOD 11 check character (0-9 or X)."""
    if len(value) != 9 or not re.fullmatch(det.ORG_RE, value):
        return False
    total = sum(
        (int(c) if c.isdigit() else ord(c) - 55) * w
        for c, w in zip(value, det.ORG_WEIGHTS, strict=False)
    )
    check = 11 - total % 11
    return value[8] == {10: "X", 11: "0"}.get(check, str(check))


def uscc(value: str) -> bool:
    """GB 32100: 8 digits, 10 code characters, MOD 31 check and the embedded org code."""
    alphabet = det.USCC_ALPHABET
    if len(value) != 18 or not value[:8].isdigit() or any(c not in alphabet for c in value):
        return False
    total = sum(alphabet.index(c) * w for c, w in zip(value, det.USCC_WEIGHTS, strict=False))
    return alphabet[(31 - total % 31) % 31] == value[17] and org_code(value[8:17])


def mobile(value: str) -> bool:
    """A mainland mobile number (optionally +86) with an allocated prefix."""
    return bool(_MOBILE.fullmatch(value))


def landline(value: str) -> bool:
    """A landline number with area code."""
    return bool(_LANDLINE.fullmatch(value))


def ipv4(value: str) -> bool:
    """Four dotted octets, each at most 255."""
    parts = value.split(".")
    return len(parts) == 4 and all(p.isdigit() and int(p) <= 255 for p in parts)
