"""FEBRL-like synthetic linkage data: two tables of N records, B a corrupted copy of A.

Deterministic (fixed seed) and vectorised: every column is built and corrupted with NumPy
array operations over all rows at once — strings are zero-padded byte matrices (one row per
record) with a length per row — and turned into Arrow string arrays from their buffers. There
is no Python loop over rows and nothing is downloaded.

Table A holds N "original" records with FEBRL's columns (all strings, missing values null):

* ``given_name``, ``surname``: drawn from Zipf-like frequency lists of a few thousand names
  made of syllables (the most common given name about 1.6 % of people, surname about 1.3 %);
* ``street_number``: log-normal, median about 23 (FEBRL's shape: 1–9999, many below 100);
* ``address_1``: street word + street type ("wallaby place"), tens of thousands of streets;
  ``address_2``: an optional property or complex name;
* ``suburb``, ``postcode``, ``state``: about 7,000 suburbs of uneven size, each tied to one of
  about 2,450 four-digit postcodes, each tied to one of 8 states (in the states' usual number
  ranges, with FEBRL4's state shares; postcodes somewhat less concentrated than FEBRL4's);
* ``date_of_birth``: 1920–2010, uniform over days, as ``YYYYMMDD``;
* ``soc_sec_id``: 7 digits, distinct per person;
* ``rec_id``: ``rec-<i>-org`` (the truth: the entity is ``rec-<i>``).

A few values are missing in A already (FEBRL4's rates: 1–3 % per column, 8 % of address_2).

Table B holds one corrupted copy of every A record, shuffled, with ``rec_id``
``rec-<i>-dup-0``. Each copy gets 1, 2 or 3 modifications (probabilities 0.5, 0.3, 0.2), each
on a field drawn with FEBRL4-like weights (names and addresses most often, the state seldom):

* a typing error: a character inserted (a neighbouring key or a space), deleted, replaced by a
  neighbouring key on a QWERTY keyboard, or two adjacent characters transposed;
* the value missing (null);
* given name and surname swapped;
* day and month of the date of birth swapped (which may make the date invalid);
* a different postcode of the same state;
* a digit typo in the social security number (neighbouring digit key or transposition).

Run as a script to time the generator::

    .venv/bin/python benchmarks/febrl_like.py --rows 500000
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

SEED = 20261127
#: bump when the generated data changes, so cached Parquet files are not reused
VERSION = 1
COLUMNS = [
    "given_name",
    "surname",
    "street_number",
    "address_1",
    "address_2",
    "suburb",
    "postcode",
    "state",
    "date_of_birth",
    "soc_sec_id",
]

U8 = npt.NDArray[np.uint8]
I64 = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

# -- vocabularies ------------------------------------------------------------------------------

ONSETS = "b c d f g h j k l m n p r s t v w z br ch cl dr fl gr kr pr sh st th tr".split()
VOWELS = "a e i o u a e i o ai ea ee ie oo ou y".split()
CODAS = ["", "", "", "n", "l", "r", "s", "th", "ck", "m", "nd", "rt", "x", "ll", "ng"]
GIVEN_ENDINGS = ["", "", "a", "e", "y", "ie", "ah", "en", "on", "el", "ine", "o"]
SURNAME_ENDINGS = "  s son ton ley man er ford well wood field ham by ington ett ard".split(" ")
STREET_TYPES = {
    "street": 35,
    "road": 15,
    "place": 10,
    "crescent": 7,
    "avenue": 7,
    "drive": 6,
    "court": 6,
    "circuit": 4,
    "close": 3,
    "parade": 2,
    "lane": 2,
    "way": 2,
    "terrace": 1,
}
PROPERTY_TYPES = ["", "", "", "", "manor", "flats", "village", "park", "estate", "lodge", "house"]
SUBURB_PREFIXES = ["", "", "", "", "", "", "", "north ", "south ", "east ", "west ", "mount "]
SUBURB_SUFFIXES = ["", "", "", "", "", "", "", " hills", " heights", " waters", " park", " vale"]
#: state → (share of people, lowest postcode, highest postcode) — FEBRL4's state shares
STATES = {
    "nsw": (0.341, 2000, 2599),
    "vic": (0.250, 3000, 3999),
    "qld": (0.190, 4000, 4999),
    "wa": (0.095, 6000, 6999),
    "sa": (0.078, 5000, 5999),
    "tas": (0.026, 7000, 7999),
    "act": (0.015, 2600, 2699),
    "nt": (0.006, 800, 999),
}
N_GIVEN, N_SURNAMES, N_STREET_WORDS, N_PROPERTIES = 3_000, 5_000, 8_000, 10_000
N_POSTCODES, SUBURBS_PER_POSTCODE = 2_800, 2.5
FIRST_DAY, LAST_DAY = np.datetime64("1920-01-01"), np.datetime64("2010-12-31")

#: share of values missing in A (FEBRL4's dataset4a)
MISSING_A = {
    "given_name": 0.022,
    "surname": 0.010,
    "street_number": 0.032,
    "address_1": 0.020,
    "address_2": 0.084,
    "suburb": 0.011,
    "state": 0.010,
    "date_of_birth": 0.019,
}
#: modifications per B record: 1, 2 or 3
MODIFICATIONS = (0.5, 0.3, 0.2)
#: field → (weight of the field among modifications, {modification: probability})
TYPO = {"insert": 0.22, "delete": 0.22, "substitute": 0.26, "transpose": 0.18}
PLAN: dict[str, tuple[float, dict[str, float]]] = {
    "given_name": (0.26, {**TYPO, "missing": 0.12}),
    "surname": (0.26, {**TYPO, "missing": 0.06}),
    "street_number": (
        0.13,
        {"substitute": 0.35, "insert": 0.15, "delete": 0.15, "transpose": 0.15, "missing": 0.2},
    ),
    "address_1": (0.22, {**TYPO, "missing": 0.1}),
    "address_2": (0.15, {**TYPO, "missing": 0.3}),
    "suburb": (0.18, {**TYPO, "missing": 0.06}),
    "postcode": (0.13, {"other_postcode": 0.5, "substitute": 0.25, "transpose": 0.25}),
    "state": (0.04, {"missing": 0.5, "substitute": 0.5}),
    "date_of_birth": (
        0.09,
        {"swap_day_month": 0.3, "substitute": 0.35, "transpose": 0.15, "missing": 0.2},
    ),
    "soc_sec_id": (0.08, {"substitute": 0.5, "transpose": 0.5}),
    "swap_names": (0.04, {"swap_names": 1.0}),
}
DIGIT_FIELDS = {"street_number", "postcode", "date_of_birth", "soc_sec_id"}

KEYBOARD = {
    "q": "was",
    "w": "qeasd",
    "e": "wrsdf",
    "r": "etdfg",
    "t": "ryfgh",
    "y": "tughj",
    "u": "yihjk",
    "i": "uojkl",
    "o": "ipkl",
    "p": "ol",
    "a": "qwszx",
    "s": "qweadzxc",
    "d": "wersfxcv",
    "f": "ertdgcvb",
    "g": "rtyfhvbn",
    "h": "tyugjbnm",
    "j": "yuihknm",
    "k": "uiojlm",
    "l": "iopk",
    "z": "asx",
    "x": "zsdc",
    "c": "xdfv",
    "v": "cfgb",
    "b": "vghn",
    "n": "bhjm",
    "m": "njk",
    "1": "2",
    "2": "13",
    "3": "24",
    "4": "35",
    "5": "46",
    "6": "57",
    "7": "68",
    "8": "79",
    "9": "80",
    "0": "9",
}


def _neighbour_table() -> tuple[U8, I64]:
    """Per byte: up to 8 neighbouring keys, and how many (letters for other bytes)."""
    table = np.zeros((256, 8), np.uint8)
    count = np.zeros(256, np.int64)
    letters = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz", np.uint8)
    table[:, : len(letters) // 4] = letters[: len(letters) // 4]  # any other byte → a letter
    count[:] = len(letters) // 4
    for key, near in KEYBOARD.items():
        codes = np.frombuffer(near.encode(), np.uint8)
        table[ord(key), : len(codes)] = codes
        count[ord(key)] = len(codes)
    return table, count


NEIGHBOURS, NEIGHBOUR_COUNT = _neighbour_table()


# -- strings as byte matrices ------------------------------------------------------------------


@dataclass
class Text:
    """A string column: zero-padded bytes (one row per value), lengths and a null mask."""

    data: U8
    length: I64
    null: Bools

    @property
    def width(self) -> int:
        return int(self.data.shape[1])

    def take(self, index: I64) -> Text:
        return Text(self.data[index], self.length[index], self.null[index])

    def to_arrow(self) -> pa.Array:
        length = np.where(self.null, 0, self.length)
        offsets = np.zeros(len(length) + 1, np.int32)
        np.cumsum(length, out=offsets[1:])
        used = np.arange(self.width)[None, :] < length[:, None]
        data = np.ascontiguousarray(self.data[used])  # row-major: the values one after another
        validity = np.packbits(~self.null, bitorder="little")
        return pa.Array.from_buffers(
            pa.string(),
            len(length),
            [pa.py_buffer(validity), pa.py_buffer(offsets), pa.py_buffer(data)],
            null_count=int(self.null.sum()),
        )


def vocabulary(words: Sequence[str]) -> Text:
    """A small list of words as a Text (one row per word)."""
    raw = np.array([w.encode() for w in words], dtype=bytes)
    width = raw.dtype.itemsize
    data = np.frombuffer(raw.tobytes(), np.uint8).reshape(len(words), width).copy()
    length = np.array([len(w.encode()) for w in words], np.int64)
    return Text(data, length, np.zeros(len(words), np.bool_))


def digits(values: I64, width: int | None = None) -> Text:
    """Non-negative integers as decimal text, zero-padded to ``width`` if given."""
    v = np.asarray(values, np.int64)
    if width is not None:
        most = width
    else:
        most = max(1, len(str(int(v.max())))) if v.size else 1
    powers = 10 ** np.arange(most - 1, -1, -1, dtype=np.int64)
    data = ((v[:, None] // powers[None, :]) % 10 + 48).astype(np.uint8)
    if width is not None:
        length = np.full(v.size, width, np.int64)
        return Text(data, length, np.zeros(v.size, np.bool_))
    length = np.maximum(1, np.floor(np.log10(np.maximum(v, 1))).astype(np.int64) + 1)
    shift = most - length  # left-align: drop the leading zeros
    cols = np.arange(most)[None, :] + shift[:, None]
    padded = np.concatenate([data, np.zeros((v.size, 1), np.uint8)], axis=1)
    data = np.take_along_axis(padded, np.minimum(cols, most), axis=1)
    data[np.arange(most)[None, :] >= length[:, None]] = 0
    return Text(data, length, np.zeros(v.size, np.bool_))


def join(parts: Sequence[Text | bytes]) -> Text:
    """Concatenate Texts and literal bytes row by row (nulls: a null part makes a null)."""
    texts = [
        p
        if isinstance(p, Text)
        else Text(
            np.frombuffer(p, np.uint8)[None, :],
            np.array([len(p)], np.int64),
            np.zeros(1, np.bool_),
        )
        for p in parts
    ]
    n = max(len(t.length) for t in texts)
    blocks = [np.broadcast_to(t.data, (n, t.width)) for t in texts]
    lengths = [np.broadcast_to(t.length, (n,)) for t in texts]
    combined = np.concatenate([*blocks, np.zeros((n, 1), np.uint8)], axis=1)
    total = sum(t.width for t in texts)
    out_len = np.sum(lengths, axis=0)
    cols = np.broadcast_to(np.arange(total)[None, :], (n, total))
    src = np.full((n, total), total, np.int64)  # default: the zero column
    start = np.zeros(n, np.int64)  # where the part starts in the output
    base = 0  # where the part starts in `combined`
    for t, ln in zip(texts, lengths, strict=True):
        inside = (cols >= start[:, None]) & (cols < (start + ln)[:, None])
        src = np.where(inside, cols - start[:, None] + base, src)
        start = start + ln
        base += t.width
    data = np.take_along_axis(combined, src, axis=1)
    null = np.zeros(n, np.bool_)
    for t in texts:
        null |= np.broadcast_to(t.null, (n,))
    return Text(data, out_len.astype(np.int64), null)


# -- typing errors on chosen rows -------------------------------------------------------------


def _neighbour(chars: U8, rng: np.random.Generator) -> U8:
    pick = (rng.random(chars.size) * NEIGHBOUR_COUNT[chars]).astype(np.int64)
    return NEIGHBOURS[chars, pick]


def substitute(t: Text, rows: I64, rng: np.random.Generator) -> None:
    rows = rows[t.length[rows] > 0]
    pos = (rng.random(rows.size) * t.length[rows]).astype(np.int64)
    t.data[rows, pos] = _neighbour(t.data[rows, pos], rng)


def transpose(t: Text, rows: I64, rng: np.random.Generator) -> None:
    short = rows[t.length[rows] < 2]
    substitute(t, short, rng)
    rows = rows[t.length[rows] >= 2]
    pos = (rng.random(rows.size) * (t.length[rows] - 1)).astype(np.int64)
    first = t.data[rows, pos].copy()
    t.data[rows, pos] = t.data[rows, pos + 1]
    t.data[rows, pos + 1] = first


def delete(t: Text, rows: I64, rng: np.random.Generator) -> None:
    t.null[rows[t.length[rows] <= 1]] = True  # deleting the only character: missing
    rows = rows[t.length[rows] > 1]
    pos = (rng.random(rows.size) * t.length[rows]).astype(np.int64)
    cols = np.arange(t.width)[None, :]
    src = np.where(cols >= pos[:, None], cols + 1, cols)
    padded = np.concatenate([t.data[rows], np.zeros((rows.size, 1), np.uint8)], axis=1)
    t.data[rows] = np.take_along_axis(padded, src, axis=1)
    t.length[rows] -= 1


def insert(t: Text, rows: I64, rng: np.random.Generator, spaces: bool) -> Text:
    """Insert a character (a neighbour of the next one, or a space); may widen the Text."""
    if rows.size and int(t.length[rows].max()) >= t.width:
        t = Text(np.pad(t.data, ((0, 0), (0, 1))), t.length, t.null)
    pos = (rng.random(rows.size) * (t.length[rows] + 1)).astype(np.int64)
    near = t.data[rows, np.minimum(pos, np.maximum(t.length[rows] - 1, 0))]
    char = _neighbour(near, rng)
    if spaces:  # only strictly inside a value, as in "kate lin"
        inside = (pos > 0) & (pos < t.length[rows])
        char[inside & (rng.random(rows.size) < 0.15)] = ord(" ")
    cols = np.arange(t.width)[None, :]
    src = np.where(cols > pos[:, None], cols - 1, cols)
    shifted = np.take_along_axis(t.data[rows], src, axis=1)
    shifted[np.arange(rows.size), pos] = char
    t.data[rows] = shifted
    t.length[rows] += 1
    return t


# -- the generator ----------------------------------------------------------------------------


def _zipf(n: int, s: float, shift: float) -> npt.NDArray[np.float64]:
    weights = np.power(np.arange(1, n + 1, dtype=np.float64) + shift, -s)
    share: npt.NDArray[np.float64] = np.asarray(weights / weights.sum(), dtype=np.float64)
    return share


def _words(rng: np.random.Generator, n: int, parts: int, endings: Sequence[str]) -> list[str]:
    """``n`` distinct made-up words of 1 to ``parts`` syllables and an ending, as drawn."""
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        m = 4 * n
        k = rng.integers(1, parts + 1, m)
        onset = rng.integers(0, len(ONSETS), (m, parts))
        vowel = rng.integers(0, len(VOWELS), (m, parts))
        coda = rng.integers(0, len(CODAS), (m, parts))
        end = rng.integers(0, len(endings), m)
        for i in range(m):  # a loop over vocabulary candidates, not over records
            word = "".join(
                ONSETS[onset[i, j]] + VOWELS[vowel[i, j]] + CODAS[coda[i, j]] for j in range(k[i])
            )
            word += endings[end[i]]
            if 3 <= len(word) <= 14 and word not in seen:
                seen.add(word)
                out.append(word)
                if len(out) == n:
                    break
    return out


def _choose(rng: np.random.Generator, p: npt.NDArray[np.float64], size: int) -> I64:
    index: I64 = np.searchsorted(np.cumsum(p), rng.random(size) * p.sum()).astype(np.int64)
    return index


def _missing(t: Text, share: float, rng: np.random.Generator) -> Text:
    t.null |= rng.random(len(t.length)) < share
    return t


def generate(rows: int, seed: int = SEED) -> tuple[pa.Table, pa.Table]:
    """Tables A and B (``rec_id`` and the FEBRL columns, all strings) of ``rows`` records each.

    Row ``i`` of A is entity ``i``; B holds one corrupted copy of each, shuffled.
    """
    rng = np.random.default_rng(seed)
    n = rows

    # vocabularies (small: thousands of words)
    given_words = _words(rng, N_GIVEN, 2, GIVEN_ENDINGS)
    surname_words = _words(rng, N_SURNAMES, 2, SURNAME_ENDINGS)
    street_words = _words(rng, N_STREET_WORDS, 3, [""])
    property_words = _words(rng, N_PROPERTIES, 2, ["", "a", "ie"])
    suburb_count = int(N_POSTCODES * SUBURBS_PER_POSTCODE)
    suburb_base = _words(rng, suburb_count, 3, ["", "", "ton", "ville", "dale"])
    prefix = rng.integers(0, len(SUBURB_PREFIXES), suburb_count)
    suffix = rng.integers(0, len(SUBURB_SUFFIXES), suburb_count)
    suburb_words = [
        SUBURB_PREFIXES[p] + w + SUBURB_SUFFIXES[s]
        for w, p, s in zip(suburb_base, prefix, suffix, strict=True)
    ]
    suburb_words = list(dict.fromkeys(suburb_words))  # a prefix can make two the same
    suburb_count = len(suburb_words)

    # postcodes per state (in the state's range), suburbs per postcode, people per suburb
    shares = np.array([s[0] for s in STATES.values()])
    per_state = np.maximum(20, np.round(shares / shares.sum() * N_POSTCODES)).astype(np.int64)
    codes, code_state = [], []
    for s, ((_, low, high), wanted) in enumerate(zip(STATES.values(), per_state, strict=True)):
        size = min(int(wanted), high - low + 1)
        codes.append(np.sort(rng.choice(np.arange(low, high + 1), size, replace=False)))
        code_state.append(np.full(size, s))
    postcode_value = np.concatenate(codes).astype(np.int64)
    postcode_state = np.concatenate(code_state).astype(np.int64)
    state_start = np.r_[0, np.cumsum([len(c) for c in codes])[:-1]].astype(np.int64)
    state_size = np.array([len(c) for c in codes], np.int64)
    # every postcode gets at least one suburb, the rest at random
    suburb_postcode = np.r_[
        np.arange(len(postcode_value)),
        rng.integers(0, len(postcode_value), suburb_count - len(postcode_value)),
    ][:suburb_count]
    suburb_size = rng.lognormal(0.0, 1.0, suburb_count)
    # people per state follow the state shares: scale each state's suburbs
    state_of_suburb = postcode_state[suburb_postcode]
    total_per_state = np.bincount(state_of_suburb, suburb_size, minlength=len(STATES))
    suburb_p = suburb_size * (shares / shares.sum() / total_per_state)[state_of_suburb]

    # the people
    given = vocabulary(given_words).take(_choose(rng, _zipf(N_GIVEN, 1.05, 12.0), n))
    surname = vocabulary(surname_words).take(_choose(rng, _zipf(N_SURNAMES, 1.0, 12.0), n))
    street_number = digits(
        np.clip(np.floor(rng.lognormal(np.log(23.0), 1.36, n)), 1, 9999).astype(np.int64)
    )
    street_type = list(STREET_TYPES)
    type_p = np.array(list(STREET_TYPES.values()), np.float64)
    address_1 = join(
        [
            vocabulary(street_words).take(_choose(rng, _zipf(N_STREET_WORDS, 0.6, 50.0), n)),
            b" ",
            vocabulary(street_type).take(_choose(rng, type_p / type_p.sum(), n)),
        ]
    )
    property_type = rng.integers(0, len(PROPERTY_TYPES), n)
    address_2 = join(
        [
            vocabulary(property_words).take(rng.integers(0, N_PROPERTIES, n)),
            vocabulary([" " + p if p else "" for p in PROPERTY_TYPES]).take(property_type),
        ]
    )
    suburb_id = _choose(rng, suburb_p, n)
    suburb = vocabulary(suburb_words).take(suburb_id)
    postcode_id = suburb_postcode[suburb_id]
    postcode = digits(postcode_value[postcode_id], 4)
    state = vocabulary(list(STATES)).take(postcode_state[postcode_id])
    days = (LAST_DAY - FIRST_DAY).astype(np.int64) + 1
    born = FIRST_DAY + rng.integers(0, days, n).astype("timedelta64[D]")
    year = born.astype("datetime64[Y]")
    month = born.astype("datetime64[M]")
    ymd = (
        (year.astype(np.int64) + 1970) * 10_000
        + ((month - year).astype(np.int64) + 1) * 100
        + (born - month).astype(np.int64)
        + 1
    )
    date_of_birth = digits(ymd, 8)
    soc_sec_id = digits(rng.choice(9_000_000, n, replace=False).astype(np.int64) + 1_000_000, 7)

    a: dict[str, Text] = {
        "given_name": given,
        "surname": surname,
        "street_number": street_number,
        "address_1": address_1,
        "address_2": address_2,
        "suburb": suburb,
        "postcode": postcode,
        "state": state,
        "date_of_birth": date_of_birth,
        "soc_sec_id": soc_sec_id,
    }
    for name, share in MISSING_A.items():
        _missing(a[name], share, rng)

    # B: a corrupted copy of every record, then shuffled
    b = {name: Text(t.data.copy(), t.length.copy(), t.null.copy()) for name, t in a.items()}
    count = 1 + _choose(rng, np.array(MODIFICATIONS), n)
    fields = list(PLAN)
    field_p = np.array([PLAN[f][0] for f in fields])
    for slot in range(len(MODIFICATIONS)):
        field = _choose(rng, field_p, n)
        active = count > slot
        for f, name in enumerate(fields):
            picked = np.flatnonzero(active & (field == f)).astype(np.int64)
            kinds = list(PLAN[name][1])
            kind_p = np.array(list(PLAN[name][1].values()))
            kind = _choose(rng, kind_p, picked.size)
            for k, what in enumerate(kinds):
                chosen = picked[kind == k]
                if what == "swap_names":
                    _swap_names(b, chosen)
                    continue
                t = b[name]
                chosen = chosen[~t.null[chosen]]  # a missing value stays missing
                if what == "missing":
                    t.null[chosen] = True
                elif what == "substitute":
                    substitute(t, chosen, rng)
                elif what == "transpose":
                    transpose(t, chosen, rng)
                elif what == "delete":
                    delete(t, chosen, rng)
                elif what == "insert":
                    b[name] = insert(t, chosen, rng, spaces=name not in DIGIT_FIELDS)
                elif what == "swap_day_month":
                    order = np.array([0, 1, 2, 3, 6, 7, 4, 5])
                    t.data[chosen[:, None], order[None, :]] = t.data[chosen, :8]
                elif what == "other_postcode":
                    s = postcode_state[postcode_id[chosen]]
                    other = state_start[s] + (rng.random(chosen.size) * state_size[s]).astype(
                        np.int64
                    )
                    t.data[chosen, :4] = digits(postcode_value[other], 4).data
                else:  # pragma: no cover - a typo in PLAN
                    raise ValueError(what)

    perm = rng.permutation(n).astype(np.int64)
    ids = pa.array(np.arange(n, dtype=np.int64)).cast(pa.string())
    rec_a = pc.binary_join_element_wise("rec-", ids, "-org", "")
    rec_b = pc.binary_join_element_wise("rec-", ids.take(pa.array(perm)), "-dup-0", "")
    table_a = pa.table({"rec_id": rec_a, **{c: a[c].to_arrow() for c in COLUMNS}})
    table_b = pa.table({"rec_id": rec_b, **{c: b[c].take(perm).to_arrow() for c in COLUMNS}})
    return table_a, table_b


def _swap_names(b: dict[str, Text], rows: I64) -> None:
    g, s = b["given_name"], b["surname"]
    width = max(g.width, s.width)
    g.data = np.pad(g.data, ((0, 0), (0, width - g.width)))
    s.data = np.pad(s.data, ((0, 0), (0, width - s.width)))
    for attr in ("data", "length", "null"):
        first = getattr(g, attr)[rows].copy()
        getattr(g, attr)[rows] = getattr(s, attr)[rows]
        getattr(s, attr)[rows] = first


def cached(folder: Path, rows: int, seed: int = SEED) -> tuple[Path, Path, float | None]:
    """The Parquet files of A and B (generated on first use) and the generator's seconds."""
    import pyarrow.parquet as pq

    stem = f"febrl_like-v{VERSION}-{rows}-{seed}"
    path_a, path_b = folder / f"{stem}-a.parquet", folder / f"{stem}-b.parquet"
    if path_a.exists() and path_b.exists():
        return path_a, path_b, None
    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    table_a, table_b = generate(rows, seed)
    seconds = time.perf_counter() - start
    for table, path in ((table_a, path_a), (table_b, path_b)):
        tmp = path.with_suffix(".tmp")
        pq.write_table(table, tmp)
        tmp.replace(path)
    return path_a, path_b, seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time the FEBRL-like generator.")
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--show", type=int, default=0, help="print this many record pairs")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    a, b = generate(args.rows, args.seed)
    seconds = time.perf_counter() - start
    print(f"generated 2 × {args.rows:,} records in {seconds:.2f} s")
    for name in COLUMNS:
        col = a[name]
        counts = pc.value_counts(col.drop_null()).field("counts").to_numpy()
        top = counts.max() / args.rows if counts.size else 0.0
        print(
            f"  {name:14} distinct {len(counts):>7,}  most common {top:6.2%}  "
            f"missing A {col.null_count / args.rows:5.1%}  B {b[name].null_count / args.rows:5.1%}"
        )
    if args.show:
        entity = pc.extract_regex(b["rec_id"], r"rec-(?P<e>\d+)").combine_chunks().field("e")
        copy = np.argsort(entity.cast(pa.int64()).to_numpy())[: args.show]
        for i in range(min(args.show, args.rows)):
            print("A", a.slice(i, 1).to_pylist()[0])
            print("B", b.slice(int(copy[i]), 1).to_pylist()[0])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
