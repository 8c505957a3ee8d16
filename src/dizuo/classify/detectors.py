"""Entity detectors over Arrow arrays: shapes in RE2, validators in NumPy.

Every detector is a triple (normal form, byte-length range, function). Values are first
normalised with Arrow compute — trimmed; values holding a full-width character (``０-９``,
``Ａ-Ｚ``, ``，`` …) NFKC-normalised to half-width; for the ``compact`` form of numbers and codes,
inner whitespace and hyphens removed and ASCII letters upper-cased. A detector then sees only
the values whose UTF-8 length fits its range (a cheap filter on the offsets), checks the shape
with an RE2 regular expression (Arrow's ``match_substring_regex``) and runs the validator —
check digits, calendar dates, region codes — on the survivors as NumPy arithmetic over a
fixed-width byte matrix. Nothing loops over values in Python, and dirty values yield false,
never an error.

The same functions back the DuckDB scalar functions that :func:`prepare` registers, so
:func:`match_sql` gives the same verdicts inside SQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from dizuo.classify import vocab
from dizuo.classify.entities import Entity
from dizuo.classify.regions import region_periods
from dizuo.engine.duckdb import DuckDBEngine, sql_literal

Form = Literal["compact", "text"]
Mask = npt.NDArray[np.bool_]
Ints = npt.NDArray[np.int64]

FULL_WIDTH = "".join(chr(c) for c in range(0xFF10, 0xFF1A))  # ０-９
FULL_WIDTH += "".join(chr(c) for c in range(0xFF21, 0xFF3B))  # Ａ-Ｚ
FULL_WIDTH += "".join(chr(c) for c in range(0xFF41, 0xFF5B))  # ａ-ｚ
FULL_WIDTH += "＋－．＠：，\u3000"
FULL_WIDTH_CLASS = "[" + FULL_WIDTH + "]"
#: the whole full-width block and the ideographic space: values NFKC-normalised
FULL_WIDTH_RANGE = "[\\x{FF01}-\\x{FF5E}\\x{3000}]"
HALF_WIDTH = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz+-.@:, "

RIC_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
RIC_CHECK = "10X98765432"
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]
VIN_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
VIN_LETTER_VALUES = [1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9]
VIN_WEIGHTS = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]

MOBILE_RE = r"(?:\+?86)?1(?:3\d|4[5-9]|5[0-35-9]|6[2567]|7[0-8]|8\d|9[0-35-9])\d{8}"
LANDLINE_RE = r"(?:\+?86)?0(?:10|2\d|[3-9]\d{2})[2-9]\d{6,7}"
EMAIL_RE = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"
BANK_IIN_RE = r"(?:62|60|4|5[1-5]|2[2-7]|35|9)\d*"
PLATE_CHARS = "[A-HJ-NP-Z0-9]"
PLATE_RE = (
    f"[{vocab.PLATE_PROVINCES}][A-HJ-NP-Z]"
    f"(?:{PLATE_CHARS}{{4}}[A-HJ-NP-Z0-9挂学警港澳]|[DF]{PLATE_CHARS}\\d{{4}}|\\d{{5}}[DF])"
)
PASSPORT_RE = r"[EGDSP]\d{8}|E[A-HJ-NP-Z]\d{7}"
HK_MACAO_RE = r"C[A-HJ-NP-Z]\d{7}|[CW]\d{8}|[HM]\d{8}(?:\d{2})?"
TAIWAN_RE = r"[LT]\d{8}"
OCTET_RE = r"(?:25[0-5]|2[0-4]\d|[01]?\d?\d)"
IPV4_RE = rf"{OCTET_RE}(?:\.{OCTET_RE}){{3}}"
ICD10_RE = r"[A-TV-Z]\d{2}(?:\.[0-9A-Z]{1,7})?[+*]?"
DATE_RE = r"(\d{4})[-/.年]?(\d{1,2})[-/.月]?(\d{1,2})日?(?: 00:00:00)?"
DATE_PARTS_RE = r"^(?P<y>\d{4})[-/.年]?(?P<m>\d{1,2})[-/.月]?(?P<d>\d{1,2})日?(?: 00:00:00)?$"
COORD_RE = r"-?\d{1,3}\.\d{2,}"
GPS_RE = COORD_RE + r"\s*,\s*" + COORD_RE
GPS_PARTS_RE = rf"^(?P<a>{COORD_RE})\s*,\s*(?P<b>{COORD_RE})$"
RIC18_RE = r"\d{17}[\dX]"
RIC15_RE = r"\d{15}"
CARD_RE = r"\d{16,19}"
ORG_RE = r"[0-9A-Z]{8}[0-9X]"
HAN_RE = r"\p{Han}"
DISEASE_SHAPE_RE = r"^[\p{Han}0-9（）()、型性]+$"
MINORITY_NAME_RE = r"\p{Han}{2,6}·\p{Han}{2,8}"
LAT_RANGE = (3.0, 54.0)
LON_RANGE = (73.0, 136.0)
ADMIN_MARKERS = "省|自治区|市|州|盟|区|县|旗|镇|乡|街道"
STREET_MARKERS = "路|街|巷|大道|道|村|弄|胡同|社区|小区|组"

_DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


# -- normalisation ---------------------------------------------------------------------------


def as_strings(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One contiguous ``string`` array (32-bit offsets) of the values."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    if values.type != pa.string():
        values = values.cast(pa.string())
    return values


def _replace_where(
    values: pa.Array, mask: pa.Array, fn: Callable[[pa.Array], pa.Array]
) -> pa.Array:
    """``values`` with ``fn`` applied to the entries where ``mask`` is true (only those)."""
    mask = pc.fill_null(mask, False)
    if not pc.any(mask).as_py():
        return values
    return pc.replace_with_mask(values, mask, fn(values.filter(mask)))


def normalise(values: pa.Array | pa.ChunkedArray, form: Form) -> pa.Array:
    """The normal form of every value (nulls stay null; empty values become null).

    ``text``: trimmed; values with a full-width character NFKC-normalised (``１３８`` → ``138``,
    ``，`` → ``,``). ``compact``: the text form without whitespace and hyphens, ASCII letters
    upper-cased (``5101 0820 0904 0814 5x`` → ``51010820090408145X``).
    """
    text = normalise_text(values)
    return text if form == "text" else compact(text)


def normalise_text(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The ``text`` normal form (see :func:`normalise`)."""
    text = as_strings(values)
    wide = has_pattern(text, FULL_WIDTH_RANGE, ~to_mask(pc.string_is_ascii(text)))
    text = _replace_where(text, pa.array(wide), lambda v: pc.utf8_normalize(v, "NFKC"))
    return null_if_empty(pc.utf8_trim_whitespace(text))


def compact(text: pa.Array) -> pa.Array:
    """The ``compact`` normal form of values already in the ``text`` form."""
    # spaces, tabs and hyphens (literal searches are much cheaper than a regex)
    spaced = to_mask(pc.match_substring(text, " ")) | to_mask(pc.match_substring(text, "-"))
    spaced |= to_mask(pc.match_substring(text, "\t"))
    text = _replace_where(
        text, pa.array(spaced), lambda v: pc.replace_substring_regex(v, r"[\s\-]+", "")
    )
    return null_if_empty(pc.ascii_upper(text))


def null_if_empty(text: pa.Array) -> pa.Array:
    empty = pc.equal(pc.binary_length(text), 0)
    if not pc.any(empty).as_py():
        return text
    return pc.if_else(empty, pa.scalar(None, pa.string()), text)


def normalise_sql(value_sql: str, form: Form) -> str:
    """SQL for the normalised value (for SQL that reads fields, e.g. birth dates from IDs).

    Trimmed, full-width digits, letters and ``+-.@:,`` mapped to half-width; ``compact`` also
    drops whitespace and hyphens and upper-cases. :func:`normalise` is the Arrow counterpart.
    """
    value = f"CAST({value_sql} AS VARCHAR)"
    # DuckDB's translate() costs microseconds per value: only values with a full-width
    # character (rare) take it
    text = (
        f"trim(CASE WHEN regexp_matches({value}, {sql_literal(FULL_WIDTH_CLASS)}) "
        f"THEN translate({value}, {sql_literal(FULL_WIDTH)}, {sql_literal(HALF_WIDTH)}) "
        f"ELSE {value} END)"
    )
    if form == "text":
        return text
    return f"upper(regexp_replace({text}, '[\\s\\-]+', '', 'g'))"


# -- vectorised building blocks --------------------------------------------------------------


def to_mask(mask: pa.Array | pa.ChunkedArray) -> Mask:
    if mask.null_count:
        mask = pc.fill_null(mask, False)
    return np.asarray(mask.to_numpy(zero_copy_only=False), dtype=bool)


def _full(x: pa.Array, pattern: str) -> Mask:
    return to_mask(pc.match_substring_regex(x, f"^(?:{pattern})$"))


def _has(x: pa.Array, pattern: str) -> Mask:
    return to_mask(pc.match_substring_regex(x, pattern))


def has_pattern(x: pa.Array, pattern: str, where: Mask | None = None) -> Mask:
    """Values in which the RE2 ``pattern`` occurs (nulls are false); only those ``where`` is
    true are looked at, when given."""
    if where is None:
        return _has(x, pattern)
    return apply_where(x, where, lambda s: _has(s, pattern))


def is_ascii(x: pa.Array) -> Mask:
    """Values that are ASCII only (nulls are false)."""
    return to_mask(pc.string_is_ascii(x))


def byte_lengths(x: pa.Array) -> Ints:
    """UTF-8 byte length of every value (0 for nulls)."""
    return np.asarray(pc.fill_null(pc.binary_length(x), 0).to_numpy(), dtype=np.int64)


def apply_where(x: pa.Array, mask: Mask, fn: Callable[[pa.Array], Mask]) -> Mask:
    """``fn`` over the values where ``mask`` is true; false elsewhere."""
    out = np.zeros(len(x), dtype=bool)
    idx = np.flatnonzero(mask)
    if idx.size:
        out[idx] = fn(x.take(pa.array(idx)))
    return out


def byte_matrix(x: pa.Array, width: int) -> npt.NDArray[np.uint8]:
    """The bytes of values that are all exactly ``width`` bytes long, as an (n, width) matrix."""
    x = as_strings(x.take(pa.array(np.arange(len(x))))) if x.offset else x
    offsets = np.frombuffer(x.buffers()[1], dtype=np.int32, count=len(x) + 1)
    data = np.frombuffer(x.buffers()[2], dtype=np.uint8)
    start = int(offsets[0])
    return data[start : start + len(x) * width].reshape(len(x), width)


DIGITS = "0123456789"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


class Fixed:
    """A fixed-width ASCII shape: the characters allowed at each position, checked as a lookup
    over the byte matrix (no regular expression), e.g. ``Fixed((DIGITS, 17), (DIGITS + "X", 1))``
    for the shape of an 18-digit ID number.
    """

    def __init__(self, *runs: tuple[str, int]) -> None:
        self.runs = runs
        self.width = sum(n for _, n in runs)
        self.spans: list[tuple[int, int, Mask | None]] = []
        k = 0
        for chars, n in runs:
            table = None
            if chars != DIGITS:  # digits are a range comparison; other sets a lookup table
                table = np.zeros(256, dtype=bool)
                table[[ord(c) for c in chars]] = True
            self.spans.append((k, k + n, table))
            k += n

    def __repr__(self) -> str:
        return "".join(f"[{chars}]{{{n}}}" for chars, n in self.runs)

    def check(self, m: np.ndarray) -> Mask:
        """Rows of the byte matrix ``m`` (width ``self.width``) that have the shape."""
        ok = np.ones(len(m), dtype=bool)
        for start, end, table in self.spans:
            part = m[:, start:end]
            ok &= ((part - np.uint8(48)) < 10).all(axis=1) if table is None else table[part].all(1)
        return ok

    def match(self, x: pa.Array, lengths: Ints | None = None) -> Mask:
        """Values that have the shape."""
        lengths = byte_lengths(x) if lengths is None else lengths
        return apply_where(
            x, lengths == self.width, lambda s: self.check(byte_matrix(s, self.width))
        )


def _checked(x: pa.Array, shape: Fixed, validate: Callable[[np.ndarray], Mask]) -> Mask:
    """Values with the fixed ``shape`` that pass ``validate`` (over their byte matrix)."""

    def check(sub: pa.Array) -> Mask:
        m = byte_matrix(sub, shape.width)
        ok = shape.check(m)
        if ok.any():
            ok[ok] = validate(m[ok])
        return ok

    return apply_where(x, byte_lengths(x) == shape.width, check)


RIC18 = Fixed((DIGITS, 17), (DIGITS + "X", 1))
RIC15 = Fixed((DIGITS, 15))
CARDS = tuple(Fixed((DIGITS, n)) for n in range(16, 20))
ORG = Fixed((DIGITS + LETTERS, 8), (DIGITS + "X", 1))
USCC = Fixed((DIGITS, 8), (USCC_ALPHABET, 10))
VIN = Fixed((DIGITS + "ABCDEFGHJKLMNPRSTUVWXYZ", 17))
#: look-alike shapes: the form without validity (decoys)
MOBILE_SHAPE = Fixed(("1", 1), (DIGITS, 10))
USCC_SHAPE = Fixed((DIGITS + LETTERS, 18))
VIN_SHAPE = Fixed((DIGITS + LETTERS, 17))


def _number(digits: np.ndarray) -> Ints:
    """The integer written by a matrix of digit values (most significant first)."""
    weights = 10 ** np.arange(digits.shape[1] - 1, -1, -1, dtype=np.int64)
    return np.asarray(digits.astype(np.int64) @ weights, dtype=np.int64)


def valid_date(year: Ints, month: Ints, day: Ints) -> Mask:
    """A real calendar date from 1900-01-01 to today."""
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    ok = (month >= 1) & (month <= 12) & (day >= 1)
    dim = _DAYS_IN_MONTH[np.clip(month, 1, 12) - 1] + ((month == 2) & leap)
    key = year * 10000 + month * 100 + day
    today = dt.date.today()
    last = today.year * 10000 + today.month * 100 + today.day
    return np.asarray(ok & (day <= dim) & (key >= 19000101) & (key <= last), dtype=bool)


@cache
def _region_table() -> tuple[Ints, Ints, Ints, int]:
    periods = np.array(region_periods(), dtype=np.int64)
    periods = periods[np.lexsort((periods[:, 1], periods[:, 0]))]
    codes = periods[:, 0]
    most = int(np.unique(codes, return_counts=True)[1].max())
    return codes, periods[:, 1], periods[:, 2], most


def region_valid(code: Ints, year: Ints) -> Mask:
    """GB/T 2260 codes in use in the given years (python-stdnum's ``loc.dat`` and rule)."""
    codes, first, last, most = _region_table()
    low = np.searchsorted(codes, code, "left")
    high = np.searchsorted(codes, code, "right")
    ok = np.zeros(len(code), dtype=bool)
    for k in range(most):
        i = low + k
        j = np.minimum(i, len(codes) - 1)
        ok |= (i < high) & (first[j] <= year) & (year <= last[j])
    return ok


def _lookup(alphabet: str, values: list[int] | None = None) -> Ints:
    table = np.full(256, -1, dtype=np.int64)
    for i, char in enumerate(alphabet):
        table[ord(char)] = i if values is None else values[i]
    return table


_DIGIT_OR_LETTER = _lookup("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")  # 0-9, A=10 … Z=35
_USCC_VALUE = _lookup(USCC_ALPHABET)
_VIN_VALUE = _lookup("0123456789" + VIN_LETTERS, list(range(10)) + VIN_LETTER_VALUES)


def ascii_bytes(text: str) -> npt.NDArray[np.uint8]:
    return np.frombuffer(text.encode("ascii"), dtype=np.uint8)


# -- validators over byte matrices -----------------------------------------------------------


def ric18_valid(m: np.ndarray) -> Mask:
    d = m.astype(np.int32) - 48
    ok = ascii_bytes(RIC_CHECK)[(d[:, :17] @ np.array(RIC_WEIGHTS)) % 11] == m[:, 17]
    year = _number(d[:, 6:10])
    ok &= valid_date(year, _number(d[:, 10:12]), _number(d[:, 12:14]))
    return np.asarray(ok & region_valid(_number(d[:, :6]), year), dtype=bool)


def _ric15(m: np.ndarray) -> Mask:
    d = m.astype(np.int32) - 48
    year = 1900 + _number(d[:, 6:8])
    ok = valid_date(year, _number(d[:, 8:10]), _number(d[:, 10:12]))
    return ok & region_valid(_number(d[:, :6]), year)


_LUHN_DOUBLE = np.array([0, 2, 4, 6, 8, 1, 3, 5, 7, 9], dtype=np.int32)


def _luhn(m: np.ndarray) -> Mask:
    d = m[:, ::-1] - np.uint8(48)  # digits from the right (the shape guarantees 0–9)
    total = d[:, 0::2].sum(axis=1, dtype=np.int32) + _LUHN_DOUBLE[d[:, 1::2]].sum(axis=1)
    return np.asarray(total % 10 == 0, dtype=bool)


def _org_check(m: np.ndarray) -> Mask:
    total = _DIGIT_OR_LETTER[m[:, :8]] @ np.array(ORG_WEIGHTS)
    check = 11 - total % 11
    expected = np.where(check == 10, ord("X"), np.where(check == 11, ord("0"), 48 + check))
    return np.asarray(expected == m[:, 8], dtype=bool)


def _uscc(m: np.ndarray) -> Mask:
    total = _USCC_VALUE[m[:, :17]] @ np.array(USCC_WEIGHTS)
    ok = ascii_bytes(USCC_ALPHABET)[(31 - total % 31) % 31] == m[:, 17]
    return np.asarray(ok & _org_check(m[:, 8:17]), dtype=bool)


def _vin(m: np.ndarray) -> Mask:
    check = (_VIN_VALUE[m] @ np.array(VIN_WEIGHTS)) % 11
    expected = np.where(check == 10, ord("X"), 48 + check)
    return np.asarray(expected == m[:, 8], dtype=bool)


# -- detectors -------------------------------------------------------------------------------


def resident_id(x: pa.Array) -> Mask:
    """18 digits (last may be X), GB 11643 check, valid birth date, region valid in that year."""
    return _checked(x, RIC18, ric18_valid)


def resident_id_15(x: pa.Array) -> Mask:
    """15 digits: region (valid in 19YY) + YYMMDD + 3-digit sequence; no check digit."""
    return _checked(x, RIC15, _ric15)


def bank_card(x: pa.Array) -> Mask:
    """16–19 digits, a card-network IIN prefix (UnionPay 62/60, Visa, Mastercard …), Luhn."""
    out = np.zeros(len(x), dtype=bool)
    for shape in CARDS:
        out |= _checked(x, shape, _luhn)
    return apply_where(x, out, lambda s: _full(s, BANK_IIN_RE))


def org_code(x: pa.Array) -> Mask:
    """A nine-character organisation code (hyphen removed) with a valid GB 11714 check."""
    return _checked(x, ORG, _org_check)


def uscc(x: pa.Array) -> Mask:
    """GB 32100: 8 digits, 10 characters of the code alphabet, MOD 31 check, valid org code."""
    return _checked(x, USCC, _uscc)


def vin(x: pa.Array) -> Mask:
    """ISO 3779 VIN: 17 characters without I, O, Q, at least one letter, check at position 9."""
    return apply_where(x, _checked(x, VIN, _vin), lambda s: _has(s, "[A-Z]"))


def ipv6(x: pa.Array) -> Mask:
    """Eight hexadecimal groups, or fewer with exactly one ``::``."""
    group = "[0-9A-Fa-f]{1,4}"
    full = f"(?:{group}:){{7}}{group}"
    short = f"(?:{group}(?::{group}){{0,6}})?::(?:{group}(?::{group}){{0,6}})?"
    colons = np.asarray(pc.fill_null(pc.count_substring(x, ":"), 0).to_numpy())
    pairs = np.asarray(pc.fill_null(pc.count_substring(x, "::"), 0).to_numpy())
    return np.asarray(_full(x, full) | (_full(x, short) & (colons <= 7) & (pairs == 1)), bool)


def mac_address(x: pa.Array) -> Mask:
    """Six hexadecimal pairs joined by ':' or '-', or three groups of four joined by '.'."""
    pair = "[0-9A-Fa-f]{2}"
    quad = "[0-9A-Fa-f]{4}"
    return _full(x, f"(?:{pair}:){{5}}{pair}|(?:{pair}-){{5}}{pair}|(?:{quad}\\.){{2}}{quad}")


def _in_range(x: pa.Array, bounds: tuple[float, float]) -> Mask:
    number = np.asarray(pc.cast(x, pa.float64()).to_numpy(zero_copy_only=False))
    return np.asarray((number >= bounds[0]) & (number <= bounds[1]), dtype=bool)


def latitude(x: pa.Array) -> Mask:
    """A decimal with at least two fraction digits in China's latitude range (3–54)."""
    return apply_where(x, _full(x, COORD_RE), lambda s: _in_range(s, LAT_RANGE))


def longitude(x: pa.Array) -> Mask:
    """A decimal with at least two fraction digits in China's longitude range (73–136)."""
    return apply_where(x, _full(x, COORD_RE), lambda s: _in_range(s, LON_RANGE))


def gps_text(x: pa.Array) -> Mask:
    """ "lat,lon" or "lon,lat" text with both parts in China's ranges."""

    def check(sub: pa.Array) -> Mask:
        parts = pc.extract_regex(sub, GPS_PARTS_RE)
        a, b = pc.struct_field(parts, "a"), pc.struct_field(parts, "b")
        lat_lon = _in_range(a, LAT_RANGE) & _in_range(b, LON_RANGE)
        return lat_lon | (_in_range(a, LON_RANGE) & _in_range(b, LAT_RANGE))

    return apply_where(x, _full(x, GPS_RE), check)


def _ints(x: pa.Array | pa.ChunkedArray) -> Ints:
    return np.asarray(pc.cast(x, pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)


def birth_date(x: pa.Array) -> Mask:
    """A calendar date (2012-03-05, 2012/3/5, 20120305, 2012年3月5日) from 1900 to today."""

    def check(sub: pa.Array) -> Mask:
        parts = pc.extract_regex(sub, DATE_PARTS_RE)
        y, m, d = (_ints(pc.struct_field(parts, k)) for k in "ymd")
        return valid_date(y, m, d)

    return apply_where(x, _full(x, DATE_RE), check)


def person_name(x: pa.Array) -> Mask:
    """Surname (single or compound) + 1–2 Han characters, or a ·-joined minority name.

    Values ending like a place or organisation (市, 区, 路, 院 …), containing a common
    non-name word (公司, 医院, 年级 …) or whose given name is only numerals (高三) are rejected.
    The surname is looked up in a set (first one or two characters), not in a regex.
    """
    chars = np.asarray(pc.fill_null(pc.utf8_length(x), 0).to_numpy())
    single = _one_of(pc.utf8_slice_codeunits(x, 0, 1), vocab.single_surnames())
    double = _one_of(pc.utf8_slice_codeunits(x, 0, 2), tuple(vocab.COMPOUND_SURNAMES))
    surnamed = (single & (chars >= 2) & (chars <= 3)) | (double & (chars >= 3) & (chars <= 4))
    shaped = apply_where(x, surnamed, lambda s: _full(s, HAN_RE + "+"))
    dotted = (chars >= 5) & to_mask(pc.match_substring(x, "·"))
    shaped |= apply_where(x, dotted, lambda s: _full(s, MINORITY_NAME_RE))
    given = "[" + vocab.NAME_STOP_GIVEN + "]"
    numerals = apply_where(x, shaped & single, lambda s: _full(s, f".{given}{{1,2}}"))
    numerals |= apply_where(x, shaped & double, lambda s: _full(s, f"..{given}{{1,2}}"))

    def check(s: pa.Array) -> Mask:
        stop = _has(s, f"[{vocab.NAME_STOP_SUFFIXES}]$") | _has(s, _STOP_WORDS)
        return ~stop

    return apply_where(x, shaped & ~numerals, check)


_STOP_WORDS = "|".join(vocab.NAME_STOP_WORDS)


def person_name_latin(x: pa.Array) -> Mask:
    """Two to four capitalised Latin words (Li Wei, ZHANG SAN, Wang Xiao-Ming)."""
    return _full(x, r"[A-Z][a-z]+(?:[ \-'][A-Z][a-z]+){1,3}|[A-Z]{2,}(?:,? [A-Z]{2,}){1,3}")


def address(x: pa.Array) -> Mask:
    """6–100 characters with a house number after a street marker or admin levels + street."""
    numbered = f"(?:{STREET_MARKERS}).{{0,20}}" + r"\d+(?:号|弄|栋|幢)"
    levels = f"(?:{ADMIN_MARKERS}).{{0,12}}(?:{ADMIN_MARKERS}).{{0,20}}(?:{STREET_MARKERS})"
    chars = np.asarray(pc.fill_null(pc.utf8_length(x), 0).to_numpy())
    return apply_where(
        x,
        (chars >= 6) & (chars <= 100) & _has(x, HAN_RE),
        lambda s: _has(s, numbered) | _has(s, levels),
    )


def _one_of(x: pa.Array, values: tuple[str, ...]) -> Mask:
    return to_mask(pc.is_in(x, value_set=pa.array(values, pa.string())))


def gender(x: pa.Array) -> Mask:
    """Gender words: 男/女/男性/女性, M/F, MALE/FEMALE (GB/T 2261.1 codes are separate)."""
    return _one_of(pc.ascii_upper(x), vocab.GENDER_WORDS)


def gender_code(x: pa.Array) -> Mask:
    """GB/T 2261.1 codes 0/1/2/9: counted as gender only with a name hint."""
    return _one_of(x, vocab.GENDER_CODES)


def ethnicity(x: pa.Array) -> Mask:
    """One of the 56 民族 names, with or without 族."""
    return _one_of(x, vocab.ethnicity_values())


def disease(x: pa.Array) -> Mask:
    """Up to 30 characters, Han script, containing a disease word or suffix (炎, 症, 病 …)."""
    chars = np.asarray(pc.fill_null(pc.utf8_length(x), 0).to_numpy())
    words = "|".join(vocab.DISEASE_WORDS)
    return apply_where(x, (chars <= 30) & _has(x, DISEASE_SHAPE_RE), lambda s: _has(s, words))


def _regex(pattern: str) -> Callable[[pa.Array], Mask]:
    def detect(x: pa.Array) -> Mask:
        return _full(x, pattern)

    detect.__doc__ = f"Values matching ``{pattern}`` in full."
    return detect


@dataclass(frozen=True)
class Detector:
    """How one entity is recognised.

    Attributes:
        form: The normal form the detector reads.
        detect: Verdicts over normalised values (an Arrow string array).
        standard: The standard or source of the rule.
        lengths: The UTF-8 byte lengths a value can have (a pre-filter), inclusive.
        shape: Look-alike shapes: a value with the shape but without validity is a decoy.
        ascii: True: values are ASCII only; False: they hold a non-ASCII character (Han);
            None: either (a pre-filter).
        first: The characters a value may start with (a pre-filter on the first byte).
        contains: A character every value contains (a pre-filter).
    """

    form: Form
    detect: Callable[[pa.Array], Mask]
    standard: str
    lengths: tuple[int, int] = (1, 1 << 30)
    shape: tuple[Fixed, ...] | None = None
    ascii: bool | None = None
    first: str | None = None
    contains: str | None = None


HEX = DIGITS + "ABCDEFabcdef"
D = Detector
E = Entity
DETECTORS: dict[Entity, Detector] = {
    E.RESIDENT_ID: D(
        "compact", resident_id, "GB 11643-1999", (18, 18), (RIC18,), True, first=DIGITS
    ),
    E.RESIDENT_ID_15: D(
        "compact", resident_id_15, "GB 11643-1989", (15, 15), (RIC15,), True, first=DIGITS
    ),
    E.MOBILE_PHONE: D(
        "compact", _regex(MOBILE_RE), "MIIT", (11, 14), (MOBILE_SHAPE,), True, first="+18"
    ),
    E.LANDLINE_PHONE: D("compact", _regex(LANDLINE_RE), "YD/T 2135", (10, 15), None, True, "+08"),
    E.EMAIL: D("text", _regex(EMAIL_RE), "RFC 5322", (6, 320), None, True, contains="@"),
    E.BANK_CARD: D("compact", bank_card, "ISO/IEC 7812", (16, 19), CARDS, True, first=DIGITS),
    E.USCC: D("compact", uscc, "GB 32100-2015", (18, 18), (USCC_SHAPE,), True, DIGITS + LETTERS),
    E.ORG_CODE: D("compact", org_code, "GB 11714-1997", (9, 9), None, True, DIGITS + LETTERS),
    E.LICENSE_PLATE: D("compact", _regex(PLATE_RE), "GA 36-2018", (9, 12), None, False),
    E.PASSPORT: D("compact", _regex(PASSPORT_RE), "MPS", (9, 9), None, True, "EGDSP"),
    E.HK_MACAO_PERMIT: D("compact", _regex(HK_MACAO_RE), "MPS", (9, 11), None, True, "CWHM"),
    E.TAIWAN_PERMIT: D("compact", _regex(TAIWAN_RE), "MPS", (9, 9), None, True, "LT"),
    E.PERSON_NAME: D("text", person_name, "surname table", (6, 64), None, False),
    E.PERSON_NAME_LATIN: D("text", person_name_latin, "pattern", (4, 64), None, True, LETTERS),
    E.ADDRESS: D("text", address, "GB/T 2260 markers", (12, 400), None, False),
    E.IPV4: D("text", _regex(IPV4_RE), "RFC 791", (7, 15), None, True, DIGITS, "."),
    E.IPV6: D("text", ipv6, "RFC 4291", (2, 39), None, True, HEX + ":", ":"),
    E.MAC_ADDRESS: D("text", mac_address, "IEEE 802", (14, 17), None, True, HEX),
    E.LATITUDE: D("text", latitude, "WGS-84 range", (4, 32), None, True, DIGITS + "-", "."),
    E.LONGITUDE: D("text", longitude, "WGS-84 range", (4, 32), None, True, DIGITS + "-", "."),
    E.GPS_TEXT: D("text", gps_text, "WGS-84 range", (9, 64), None, True, DIGITS + "-", ","),
    E.BIRTH_DATE: D("text", birth_date, "GB/T 7408", (6, 30), None, None, DIGITS),
    E.GENDER: D("text", gender, "GB/T 2261.1", (1, 18)),
    E.ETHNICITY: D("text", ethnicity, "GB/T 3304", (3, 24), None, False),
    E.ICD10_CODE: D(
        "compact", _regex(ICD10_RE), "ICD-10 / GB/T 14396", (3, 13), None, True, LETTERS
    ),
    E.DISEASE: D("text", disease, "disease word list", (3, 90), None, False),
    E.VIN: D("compact", vin, "ISO 3779 / GB 16735", (17, 17), (VIN_SHAPE,), True, DIGITS + LETTERS),
}


class Values:
    """Normalised values with the cheap features the detectors pre-filter on, computed once:
    byte lengths, ASCII-ness and first bytes (read from the Arrow buffers)."""

    def __init__(self, array: pa.Array | pa.ChunkedArray) -> None:
        self.array = as_strings(array)
        self.lengths = byte_lengths(self.array)
        self._ascii: Mask | None = None
        self._first: npt.NDArray[np.uint8] | None = None

    @property
    def ascii(self) -> Mask:
        if self._ascii is None:
            self._ascii = to_mask(pc.string_is_ascii(self.array))
        return self._ascii

    @property
    def first(self) -> npt.NDArray[np.uint8]:
        """The first byte of every value (0 for null or empty values)."""
        if self._first is None:
            x = self.array
            out = np.zeros(len(x), dtype=np.uint8)
            data = x.buffers()[2]
            has = self.lengths > 0
            if data is not None and has.any():
                offsets = np.frombuffer(
                    x.buffers()[1], dtype=np.int32, count=len(x) + 1, offset=x.offset * 4
                )
                out[has] = np.frombuffer(data, dtype=np.uint8)[offsets[:-1][has]]
            self._first = out
        return self._first


@cache
def _first_table(chars: str) -> Mask:
    table = np.zeros(256, dtype=bool)
    table[[ord(c) for c in chars]] = True
    return table


def _values(values: Values | pa.Array) -> Values:
    return values if isinstance(values, Values) else Values(values)


def candidates(entity: Entity, values: Values | pa.Array) -> Mask:
    """The values a detector needs to look at: its pre-filters (length, script, first
    character, marker character) passed."""
    detector = DETECTORS[entity]
    v = _values(values)
    low, high = detector.lengths
    mask = (v.lengths >= low) & (v.lengths <= high)
    if detector.ascii is not None:
        mask &= v.ascii if detector.ascii else ~v.ascii
    if detector.first is not None:
        mask &= _first_table(detector.first)[v.first]
    if detector.contains is not None:
        marker = detector.contains
        mask = apply_where(v.array, mask, lambda s: to_mask(pc.match_substring(s, marker)))
    return mask


def detect(entity: Entity, values: Values | pa.Array) -> Mask:
    """Verdicts of one detector over values already in its normal form (see :func:`normalise`).

    Args:
        entity: The entity to recognise.
        values: Normalised values (nulls are false), as an Arrow array or :class:`Values`.
    """
    v = _values(values)
    return apply_where(v.array, candidates(entity, v), DETECTORS[entity].detect)


def shape(entity: Entity, values: Values | pa.Array) -> Mask | None:
    """Values with the entity's shape, valid or not; None when the entity has no shape."""
    shapes = DETECTORS[entity].shape
    if shapes is None:
        return None
    v = _values(values)

    def check(sub: pa.Array) -> Mask:
        lengths = byte_lengths(sub)
        found = np.zeros(len(sub), dtype=bool)
        for fixed in shapes:
            found |= fixed.match(sub, lengths)
        return found

    return apply_where(v.array, candidates(entity, v), check)


def matches(entity: Entity, values: pa.Array | pa.ChunkedArray) -> Mask:
    """Verdicts of one detector over raw values (normalised first); nulls are false."""
    return detect(entity, normalise(values, DETECTORS[entity].form))


def function_name(entity: Entity) -> str:
    """The DuckDB scalar function :func:`prepare` registers for ``entity``."""
    return f"dizuo_is_{entity.value}"


def _udf(entity: Entity) -> Callable[[pa.Array], pa.Array]:
    def udf(values: pa.Array) -> pa.Array:
        return pa.array(matches(entity, values), pa.bool_())

    return udf


def prepare(engine: DuckDBEngine) -> None:
    """Register the detectors as DuckDB scalar functions (``dizuo_is_<entity>(VARCHAR)``).

    The functions receive DuckDB's vectors as Arrow arrays (2,048 values at a time) and answer
    with :func:`matches`; registering twice on one connection is a no-op.
    """
    import duckdb
    from duckdb.func import FunctionNullHandling, PythonUDFType
    from duckdb.sqltypes import BOOLEAN, VARCHAR

    registered = {
        r[0]
        for r in engine.rows(
            "SELECT function_name FROM duckdb_functions() WHERE function_name LIKE 'dizuo_is_%'"
        )
    }
    for entity in DETECTORS:
        name = function_name(entity)
        if name in registered:
            continue

        try:
            engine.con.create_function(
                name,
                _udf(entity),
                [VARCHAR],
                BOOLEAN,
                type=PythonUDFType.ARROW,
                null_handling=FunctionNullHandling.SPECIAL,
            )
        except duckdb.CatalogException:  # pragma: no cover - raced with another caller
            pass


def match_sql(entity: Entity, value_sql: str) -> str:
    """A DuckDB boolean expression: true when ``value_sql`` is (a valid) ``entity``.

    Call :func:`prepare` on the engine first: it registers the functions this SQL calls.

    Args:
        entity: The entity to recognise.
        value_sql: Any SQL expression; it is cast to VARCHAR and normalised.

    Returns:
        SQL that is never NULL.
    """
    return f"coalesce({function_name(entity)}(CAST({value_sql} AS VARCHAR)), false)"
