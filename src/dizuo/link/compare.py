"""Comparison levels: how alike two values are, as a small integer per record pair.

Every comparison kind maps a pair of values to a *level*: 0 when either value is missing (the
pair says nothing), 1 for exact agreement, then ever weaker kinds of agreement, and the last
level for "anything else". The Fellegi–Sunter model (:mod:`dizuo.link.model`) learns how often
matches and non-matches reach each level.

A column is first *encoded* once: its distinct values (the dictionary) and one integer code per
record (-1 for missing). Levels are then computed on codes, vectorised:

* equal codes are exact agreement, without looking at the values;
* when both dictionaries are small, a whole level matrix of every pair of distinct values is
  computed once (RapidFuzz ``cdist`` in C, on both cores) and pairs only look it up;
* otherwise RapidFuzz ``cpdist`` scores the unequal pairs element-wise.

Kinds:

=================  ==========================================================================
``exact``          exact · else
``name``           exact · Jaro–Winkler ≥ 0.92 · ≥ 0.88 · ≥ 0.70 · else (Splink's levels)
``jaro_winkler``   exact · Jaro–Winkler ≥ 0.90 · ≥ 0.70 · else
``edit``           exact · Damerau–Levenshtein ≤ 1 · ≤ 2 · else (a transposition is one edit)
``date``           exact · day and month swapped · one digit or one transposition apart ·
                   within a year · within ten years · else (on YYYYMMDD text; a value that is
                   not a calendar date still compares by its digits)
``chinese_name``   exact · same pinyin (homophone: 张伟/张卫; with fuzzy pinyin, 周/邹, 陈/程 too) ·
                   one character apart, same length, three characters or more
                   (look-alike: 许淑英/许淑莫) · same surname and given name's pinyin
                   Jaro–Winkler ≥ 0.85 · else; values are ``name<TAB>pinyin``
                   (:func:`dizuo.link.persons.attributes`)
``dice``           Bloom-filter encodings (:mod:`dizuo.link.clk`): Dice = 1 · ≥ 0.9 · ≥ 0.8 ·
                   ≥ 0.65 · else
=================  ==========================================================================
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler

from dizuo.link.normalise import normalise_dates

Kind = Literal["exact", "name", "jaro_winkler", "edit", "date", "chinese_name", "dice"]
KINDS: tuple[str, ...] = (
    "exact",
    "name",
    "jaro_winkler",
    "edit",
    "date",
    "chinese_name",
    "dice",
)

Ints = npt.NDArray[np.int64]
Codes = npt.NDArray[np.int32]
Levels = npt.NDArray[np.int8]
Objects = npt.NDArray[np.object_]

# A level matrix of every pair of distinct values is computed when it has at most this many
# cells (int8: 36 MB); above, unequal pairs are scored one by one.
MATRIX_CELLS = 36_000_000
WORKERS = -1

LEVEL_NAMES: dict[str, tuple[str, ...]] = {
    "exact": ("exact", "else"),
    "name": ("exact", "jw>=0.92", "jw>=0.88", "jw>=0.70", "else"),
    "jaro_winkler": ("exact", "jw>=0.90", "jw>=0.70", "else"),
    "edit": ("exact", "dl<=1", "dl<=2", "else"),
    "date": ("exact", "day/month swapped", "one digit apart", "<=1 year", "<=10 years", "else"),
    "chinese_name": ("exact", "same pinyin", "one character apart", "surname+pinyin", "else"),
    "dice": ("dice=1", "dice>=0.9", "dice>=0.8", "dice>=0.65", "else"),
}


def level_count(kind: str) -> int:
    """Number of levels of a kind, the null level 0 included."""
    return len(LEVEL_NAMES[kind]) + 1


@dataclass(frozen=True)
class Encoded:
    """One column encoded for comparison: dictionary and a code per record (-1: missing).

    For ``dice`` columns the dictionary is a ``(distinct, words)`` uint64 matrix of Bloom
    filters; otherwise an object array of ``str``.
    """

    kind: str
    codes: Codes
    dictionary: npt.NDArray[Any]  # object (str) or uint64 rows (Bloom filters)
    counts: Ints  # records per dictionary entry

    @property
    def size(self) -> int:
        return len(self.dictionary)


def encode(values: pa.Array | pa.ChunkedArray, kind: str) -> Encoded:
    """Dictionary-encode a column (strings; empty and blank count as missing).

    ``dice`` columns are ``fixed_size_binary`` Bloom filters (all-zero = missing).
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if kind == "dice":
        return _encode_filters(values)
    if not pa.types.is_string(values.type) and not pa.types.is_large_string(values.type):
        values = pc.cast(values, pa.string())
    values = pc.utf8_trim_whitespace(values)
    values = pc.if_else(pc.equal(values, ""), pa.scalar(None, values.type), values)
    if kind == "date":
        values = date_digits(values)
    encoded = values.dictionary_encode()
    codes = np.asarray(pc.fill_null(encoded.indices, -1).to_numpy(), dtype=np.int32)
    dictionary = np.asarray(encoded.dictionary.to_numpy(zero_copy_only=False), dtype=object)
    counts = np.bincount(codes[codes >= 0], minlength=len(dictionary)).astype(np.int64)
    return Encoded(kind, codes, dictionary, counts)


def _encode_filters(values: pa.Array) -> Encoded:
    width = values.type.byte_width
    if width % 8:
        raise ValueError("Bloom filters must be a whole number of 64-bit words")
    n = len(values)
    words = width // 8
    raw = np.frombuffer(
        values.buffers()[1], dtype=np.uint64, count=n * words, offset=values.offset * width
    )
    matrix = raw.reshape(n, words)
    empty = ~matrix.any(axis=1)
    if values.null_count:
        empty |= np.asarray(pc.is_null(values).to_numpy(zero_copy_only=False), dtype=bool)
    rows = np.flatnonzero(~empty)
    dense = matrix[rows]
    uniq, inverse = np.unique(dense, axis=0, return_inverse=True)
    codes = np.full(n, -1, dtype=np.int32)
    codes[rows] = inverse.reshape(-1).astype(np.int32)
    counts = np.bincount(codes[rows], minlength=len(uniq)).astype(np.int64)
    return Encoded("dice", codes, np.ascontiguousarray(uniq), counts)


def date_digits(values: pa.Array) -> pa.Array:
    """YYYYMMDD text of dates written in the usual ways; eight digits that are not a calendar
    date are kept as they are (a typo in a birth date is still evidence); other text is null."""
    dates = normalise_dates(values)
    as_text = pc.strftime(pc.cast(dates, pa.timestamp("s")), format="%Y%m%d")
    digits = pc.replace_substring_regex(values, r"[-/.年月日\s]", "")
    eight = pc.match_substring_regex(digits, r"^\d{8}$")
    kept = pc.if_else(pc.fill_null(eight, False), digits, pa.scalar(None, pa.string()))
    return pc.coalesce(as_text, kept)


# -- level functions on aligned arrays of distinct values ------------------------------------


def _jw(a: Objects, b: Objects) -> npt.NDArray[np.float32]:
    return np.asarray(
        process.cpdist(a, b, scorer=JaroWinkler.similarity, workers=WORKERS, dtype=np.float32)
    )


def _dl(a: Objects, b: Objects) -> npt.NDArray[np.int32]:
    return np.asarray(
        process.cpdist(a, b, scorer=DamerauLevenshtein.distance, score_cutoff=3, workers=WORKERS),
        dtype=np.int32,
    )


#: Jaro–Winkler cuts of the kinds scored by it (Splink's levels for names)
JW_CUTS: dict[str, tuple[float, ...]] = {"name": (0.92, 0.88, 0.70), "jaro_winkler": (0.90, 0.70)}


def _thresholds(score: npt.NDArray[np.floating], cuts: tuple[float, ...], first: int) -> Levels:
    """Level ``first + i`` for the first cut ``score >= cuts[i]``, else one past the last."""
    out = np.full(score.shape, first + len(cuts), dtype=np.int8)
    for i, cut in reversed(list(enumerate(cuts))):
        out[score >= cut] = first + i
    return out


def _edit_levels(distance: npt.NDArray[np.integer]) -> Levels:
    """dl<=1 · dl<=2 · else (levels 2–4) of Damerau–Levenshtein distances cut off at 3."""
    return np.where(distance <= 1, 2, np.where(distance <= 2, 3, 4)).astype(np.int8)


def _unequal_name(a: Objects, b: Objects) -> Levels:
    return _thresholds(_jw(a, b), JW_CUTS["name"], 2)


def _unequal_jw(a: Objects, b: Objects) -> Levels:
    return _thresholds(_jw(a, b), JW_CUTS["jaro_winkler"], 2)


def _unequal_edit(a: Objects, b: Objects) -> Levels:
    return _edit_levels(_dl(a, b))


def _unequal_exact(a: Objects, b: Objects) -> Levels:
    return np.full(len(a), 2, dtype=np.int8)


def _ymd(text: Objects) -> tuple[Ints, Ints, Ints, npt.NDArray[np.uint8]]:
    raw = np.frombuffer("".join(text.tolist()).encode("ascii"), dtype=np.uint8)
    digits = raw.reshape(len(text), 8) - ord("0")
    w = digits.astype(np.int64)
    year = w[:, 0] * 1000 + w[:, 1] * 100 + w[:, 2] * 10 + w[:, 3]
    month = w[:, 4] * 10 + w[:, 5]
    day = w[:, 6] * 10 + w[:, 7]
    return year, month, day, digits


DateParts = tuple[Ints, Ints, Ints, npt.NDArray[np.uint8]]


def _unequal_date(a: Objects, b: Objects) -> Levels:
    return _date_levels(_ymd(a), _ymd(b))


def _date_levels(pa_: DateParts, pb: DateParts) -> Levels:
    ya, ma, da, xa = pa_
    yb, mb, db, xb = pb
    swapped = (ya == yb) & (ma == db) & (da == mb)
    differ = xa != xb
    count = differ.sum(axis=1)
    # one adjacent transposition: exactly two neighbouring positions differ, crosswise equal
    first = differ.argmax(axis=1)
    nxt = np.minimum(first + 1, 7)
    rows = np.arange(len(ya))
    transposed = (
        (count == 2)
        & differ[rows, nxt]
        & (xa[rows, first] == xb[rows, nxt])
        & (xa[rows, nxt] == xb[rows, first])
    )
    near = (count == 1) | transposed
    days = np.abs((ya - yb) * 365 + (ma - mb) * 30 + (da - db))
    out = np.full(len(ya), 6, dtype=np.int8)
    out[days <= 3650] = 5
    out[days <= 365] = 4
    out[near] = 3
    out[swapped] = 2
    return out


def _split_names(values: Objects) -> tuple[Objects, Objects]:
    arr = pa.array(values, pa.string())
    parts = pc.split_pattern(arr, "\t", max_splits=1)
    name = pc.list_element(parts, 0)
    pinyin = pc.list_element(parts, 1)
    return (
        np.asarray(name.to_numpy(zero_copy_only=False), dtype=object),
        np.asarray(pinyin.to_numpy(zero_copy_only=False), dtype=object),
    )


def _unequal_chinese_name(a: Objects, b: Objects) -> Levels:
    na, pa_ = _split_names(a)
    nb, pb = _split_names(b)
    same_pinyin = pa_ == pb
    la = pc.utf8_length(pa.array(na, pa.string())).to_numpy()
    lb = pc.utf8_length(pa.array(nb, pa.string())).to_numpy()
    # one character apart in a name of three or more: in a two-character name that is just a
    # shared surname (张伟/张强), which says little
    one_char = (
        (la == lb)
        & (la >= 3)
        & (
            np.asarray(process.cpdist(na, nb, scorer=DamerauLevenshtein.distance, workers=WORKERS))
            == 1
        )
    )
    first_a = pc.utf8_slice_codeunits(pa.array(na, pa.string()), 0, 1).to_numpy(
        zero_copy_only=False
    )
    first_b = pc.utf8_slice_codeunits(pa.array(nb, pa.string()), 0, 1).to_numpy(
        zero_copy_only=False
    )
    close = (first_a == first_b) & (_jw(pa_, pb) >= 0.85)
    out = np.full(len(a), 5, dtype=np.int8)
    out[close] = 4
    out[one_char] = 3
    out[same_pinyin] = 2
    return out


UNEQUAL: dict[str, Callable[[Objects, Objects], Levels]] = {
    "exact": _unequal_exact,
    "name": _unequal_name,
    "jaro_winkler": _unequal_jw,
    "edit": _unequal_edit,
    "date": _unequal_date,
    "chinese_name": _unequal_chinese_name,
}


def dice_levels(a: npt.NDArray[np.uint64], b: npt.NDArray[np.uint64]) -> Levels:
    """Levels of aligned Bloom filters (rows of ``a`` and ``b``)."""
    both = np.bitwise_count(a & b).sum(axis=1, dtype=np.int64)
    total = np.bitwise_count(a).sum(axis=1, dtype=np.int64) + np.bitwise_count(b).sum(
        axis=1, dtype=np.int64
    )
    dice = 2.0 * both / np.maximum(total, 1)
    out = _thresholds(dice, (1.0, 0.9, 0.8, 0.65), 1)
    return out


def distinct_levels(column: Encoded, left: Codes, right: Codes) -> Levels:
    """Levels of pairs of dictionary entries ``(left[i], right[i])`` (both present)."""
    if column.kind == "dice":
        filters = column.dictionary
        out = np.empty(len(left), dtype=np.int8)
        step = 1 << 18
        for start in range(0, len(left), step):
            stop = start + step
            out[start:stop] = dice_levels(filters[left[start:stop]], filters[right[start:stop]])
        return out
    out = np.ones(len(left), dtype=np.int8)
    unequal = np.flatnonzero(left != right)
    if unequal.size and column.kind == "date":
        # the dictionary's digits once, then every pair by its codes
        parts = _ymd(column.dictionary)
        la, ra = left[unequal], right[unequal]
        out[unequal] = _date_levels(
            (parts[0][la], parts[1][la], parts[2][la], parts[3][la]),
            (parts[0][ra], parts[1][ra], parts[2][ra], parts[3][ra]),
        )
    elif unequal.size:
        words = column.dictionary
        out[unequal] = UNEQUAL[column.kind](words[left[unequal]], words[right[unequal]])
    return out


def pair_levels(column: Encoded, left: Ints, right: Ints) -> Levels:
    """Levels of record pairs ``(left[i], right[i])`` (global record indexes)."""
    a = column.codes[left]
    b = column.codes[right]
    out = np.zeros(len(left), dtype=np.int8)
    present = (a >= 0) & (b >= 0)
    if column.kind == "dice":
        rows = np.flatnonzero(present)
        out[rows] = distinct_levels(column, a[rows], b[rows])
        return out
    out[present & (a == b)] = 1
    rows = np.flatnonzero(present & (a != b))
    if not rows.size:
        return out
    size = column.size
    if column.kind in MATRIX and size * size <= min(MATRIX_CELLS, 2 * rows.size):
        every = np.arange(size, dtype=np.int32)
        matrix = cross_levels(column, every, every)
        out[rows] = matrix[a[rows].astype(np.int64), b[rows]]
    else:
        out[rows] = distinct_levels(column, a[rows], b[rows])
    return out


def _cross_jw(cuts: tuple[float, ...]) -> Callable[[Objects, Objects], Levels]:
    def levels(a: Objects, b: Objects) -> Levels:
        score = process.cdist(
            a, b, scorer=JaroWinkler.similarity, workers=WORKERS, dtype=np.float32
        )
        return _thresholds(score, cuts, 2)

    return levels


def _cross_edit(a: Objects, b: Objects) -> Levels:
    return _edit_levels(
        process.cdist(
            a,
            b,
            scorer=DamerauLevenshtein.distance,
            score_cutoff=3,
            workers=WORKERS,
            dtype=np.int32,
        )
    )


#: kinds whose levels RapidFuzz computes for a whole cross product at once (``cdist``); the
#: functions give the levels of unequal values, :func:`cross_levels` marks the equal ones
MATRIX: dict[str, Callable[[Objects, Objects], Levels]] = {
    "name": _cross_jw(JW_CUTS["name"]),
    "jaro_winkler": _cross_jw(JW_CUTS["jaro_winkler"]),
    "edit": _cross_edit,
}


def cross_levels(column: Encoded, va: Codes, vb: Codes) -> Levels:
    """Levels of every pair of dictionary entries ``va × vb`` (a ``MATRIX`` kind), as a matrix."""
    words = column.dictionary
    out = MATRIX[column.kind](words[va], words[vb])
    out[va[:, None] == vb[None, :]] = 1
    return out
