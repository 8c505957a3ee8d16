"""Keyed Bloom-filter encodings of identity attributes, for privacy-preserving record linkage.

The operator of the platform compares names, addresses and other quasi-identifiers between
departments without seeing them: each value becomes a Bloom filter of its q-grams under a
secret key (the field-level Bloom filters of Schnell, Bachteler & Reiher 2009, often called
CLKs after their later multi-field "cryptographic long-term key"), and two values are as
similar as their filters: the Dice coefficient ``2 |A ∧ B| / (|A| + |B|)`` of the set bits.

How a value is encoded (:func:`encode`):

1. **Text.** Leading and trailing whitespace is removed; inner whitespace is removed too (the
   default: ``"zhang wei"`` and ``"zhangwei"`` encode alike) or, with ``keep_spaces``, each
   run of it counts as one space. Nothing else is changed: normalise first
   (:mod:`dizuo.link.normalise`: simplified characters, pinyin in lower case, IDs, phones).
2. **q-grams.** The unit is the Unicode character — a Han character in Chinese text, a letter in
   Latin or pinyin text. The value is padded with ``q - 1`` start and end markers and cut into
   its ``len + q - 1`` overlapping q-grams: 张伟 → ``^张``, ``张伟``, ``伟$`` (q = 2). The
   markers are the code points ``0x110000`` and ``0x110001``, outside Unicode, so no text
   character can stand for them. ``q`` is 1, 2 or 3 (a q-gram is packed into 64 bits).
3. **Keyed hashing.** The field key is HKDF-SM3 (RFC 5869 with SM3) of ``key`` with the salt
   ``dizuo/link/v1`` and the info ``dizuo/clk/<field>`` (UTF-8), 32 bytes: the same q-gram
   sets different bits in different fields, and nobody without the key can build a dictionary
   of encodings. Each distinct q-gram is hashed **once**, by the vectorised HMAC-SM3 of
   :mod:`dizuo.protect.sm3`; the message is its ``q`` code points as 4-byte big-endian
   integers (``张伟`` → ``00 00 5F 20 00 00 4F 1F``).
4. **Bit positions ("random hashing").** The 32-byte MAC is read as four little-endian 64-bit
   seeds ``s[0..3]``; position ``i < k`` is ``(hi32(mix(s[i % 4] + (i // 4 + 1) · γ)) · bits)
   >> 32``, where ``mix`` is the SplitMix64 finaliser and ``γ = 0x9E3779B97F4A7C15`` (so each
   seed starts a SplitMix64 stream) and the last step is Lemire's multiply-shift reduction
   (bias below ``bits / 2³²``). The positions of a q-gram are thus independent pseudo-random
   functions of its MAC, not the arithmetic progression ``h1 + i·h2 mod bits`` of double
   hashing, whose structure is what the published attacks on CLKs exploit (Niedermeyer et al.
   2014; Kroll & Steinmetzer 2015). Position ``i`` does not depend on ``k``.
5. **Filters.** The bits of all q-grams of a value are set in a boolean row of ``bits``
   columns, packed with ``np.packbits(bitorder="little")`` and read as ``bits // 64``
   little-endian ``uint64`` words: bit ``p`` of a filter is bit ``p % 64`` of word ``p // 64``.

The number of hash functions ``k`` (:func:`hash_count`) trades similarity against secrecy. A
filter of ``m`` bits holding ``n`` q-grams hashed ``k`` times has a fraction
``f = 1 - exp(-k n / m)`` of its bits set, and about ``f · (1 - D)`` is added by chance to the
Dice coefficient ``D`` of two values' q-gram sets. On random 9- and 27-character strings at
1024 bits (q-gram Dice 0.02 – 0.04 between unrelated values), unrelated values' filters had a
Dice coefficient of 0.06 – 0.16 at ``k = 5`` and 0.26 – 0.57 at ``k = 30``, while matches with
one to three typing errors stayed as well separated from them (the same ranking, a slightly
smaller gap). Few bits per q-gram, on the other hand, leave each q-gram's pattern of bits
standing out in the filters, which is what frequency attacks read. ``k = (m / n) · ln 2`` (the
optimum for set membership) fills half the filter; dizuo aims at a third for a value of the
field's mean q-gram count ``n̄``: ``k = round((m / n̄) · ln(3/2))``, clipped to [5, 30]. For
1000 bits and 15 bigrams this is 27, within the 20 – 30 hash functions for 1000 bits of the
early Bloom-filter linkage papers; Chinese names (3 – 4 bigrams) and pinyin names (about 10)
get 30 — a fill of 8 – 25 % — and addresses (25 – 30 bigrams) 14 – 17. Encoding costs grow
with ``k``; :func:`dice` does not. Set match thresholds on the filters' Dice coefficients,
not on values meant for q-gram sets.

**Comparable encodings.** Two filters can be compared only when they were made with the same
key, field, ``bits``, ``k``, ``q`` and ``keep_spaces``. The default ``k`` depends on the data
given (its mean q-gram count): when departments' records are encoded separately, compute ``k``
once (:func:`choose_k` over all of them, or a sample) and pass it to every :func:`encode`.

All the work is vectorised: the values are dictionary-encoded and only the distinct ones are
encoded (in chunks of ``chunk`` values, so memory stays bounded), q-grams are cut from one
UTF-32 buffer with NumPy, distinct q-grams are hashed once, bits are set by fancy indexing; the
filters are mapped back to the rows with one take. :func:`dice` gathers the pairs in chunks and
counts bits with ``np.bitwise_count``. Chunks run on a thread pool when the process may use
more than one CPU (NumPy releases the GIL in these loops).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from dizuo.classify.detectors import to_mask
from dizuo.errors import InvalidInput
from dizuo.i18n import tr
from dizuo.link.normalise import text_array
from dizuo.protect.arrays import Ragged, positions, ragged
from dizuo.protect.crypto import check_key
from dizuo.protect.sm3 import MAX_THREADS, hmac_digests

Filters = npt.NDArray[np.uint64]
Ints = npt.NDArray[np.int64]
Words = npt.NDArray[np.uint64]

#: HKDF salt of the field keys
SALT = b"dizuo/link/v1"
#: the padding markers: code points outside Unicode (U+10FFFF is the last one)
START = 0x110000
END = 0x110001
#: inner whitespace (RE2's ``\s`` is ASCII only; ``\p{Z}`` adds U+3000 and the other spaces)
WHITESPACE = r"[\s\p{Z}]"
#: bits per code point in a packed q-gram key (START and END included)
UNIT_BITS = 21
#: the largest q (three 21-bit units fit in a 64-bit key)
MAX_Q = 3
#: bounds of the default number of hash functions, and the fill it aims at
K_MIN, K_MAX = 5, 30
TARGET_FILL = 1 / 3
#: pairs :func:`dice` compares at a time, rows :func:`popcounts` counts at a time
PAIR_CHUNK = 1 << 16
ROW_CHUNK = 1 << 18

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


# -- parameters ------------------------------------------------------------------------------


def _check_bits(bits: int) -> None:
    if bits < 64 or bits % 64:
        raise ValueError(
            tr(
                "bits 必须是 64 的正整数倍（滤波器按 64 位字存储），收到 {b}",
                "bits must be a positive multiple of 64 (filters are stored as 64-bit words), "
                "got {b}",
                b=bits,
            )
        )


def _check_q(q: int) -> None:
    if not 1 <= q <= MAX_Q:
        raise ValueError(
            tr("q 必须在 1 到 {m} 之间，收到 {q}", "q must be from 1 to {m}, got {q}", m=MAX_Q, q=q)
        )


def _check_params(bits: int, k: int | None, q: int, chunk: int) -> None:
    _check_bits(bits)
    _check_q(q)
    if k is not None and not 1 <= k <= bits:
        raise ValueError(
            tr(
                "k 必须在 1 到 bits 之间，收到 {k}",
                "k must be from 1 to bits, got {k}",
                k=k,
            )
        )
    if chunk < 1:
        raise ValueError(tr("chunk 必须为正，收到 {c}", "chunk must be positive, got {c}", c=chunk))


def _field_key(key: bytes, field: str) -> bytes:
    """The 32-byte q-gram hashing key of one field (HKDF-SM3, see the module documentation).

    Args:
        key: The secret shared by the parties that encode, at least 16 bytes.
        field: The field's name (``name``, ``pinyin``, ``address`` …), not empty.

    Raises:
        InvalidInput: The key is shorter than 16 bytes, or the field name is empty.
    """
    check_key(key)
    if not field:
        raise InvalidInput(tr("字段名不能为空", "the field name cannot be empty"))
    info = b"dizuo/clk/" + field.encode("utf-8")
    return HKDF(algorithm=hashes.SM3(), length=32, salt=SALT, info=info).derive(key)


def hash_count(mean_qgrams: float, bits: int) -> int:
    """The number of hash functions for a field whose values have ``mean_qgrams`` q-grams.

    ``round((bits / mean_qgrams) · ln(3/2))`` — a value of the mean length sets about a third of
    the bits — clipped to [5, 30] (see the module documentation).

    >>> hash_count(15, 1000), hash_count(3, 1024), hash_count(28, 1024)
    (27, 30, 15)
    """
    if mean_qgrams <= 0:
        return K_MAX
    k = round(bits / mean_qgrams * -math.log1p(-TARGET_FILL))
    return int(min(max(k, K_MIN), K_MAX))


# -- text and q-grams ------------------------------------------------------------------------


def _clean(text: pa.Array, keep_spaces: bool) -> pa.Array:
    """Trimmed text, inner whitespace removed (or, with ``keep_spaces``, one space per run)."""
    text = pc.utf8_trim_whitespace(text)
    spaced = pc.match_substring_regex(text, WHITESPACE)
    if not pc.any(spaced).as_py():
        return text
    return pc.replace_substring_regex(text, WHITESPACE + "+", " " if keep_spaces else "")


@dataclass(frozen=True)
class _Distinct:
    """The distinct cleaned values and, for every row, its index among them (-1: none)."""

    values: pa.Array
    index: Ints


def _distinct(values: object, keep_spaces: bool) -> _Distinct:
    """Dictionary-encode the values, then clean the dictionary (nulls and empties: -1)."""
    encoded = pc.dictionary_encode(text_array(values))
    dictionary = _clean(encoded.dictionary, keep_spaces)
    index = np.asarray(pc.fill_null(encoded.indices, -1).to_numpy(), dtype=np.int64)
    empty = to_mask(pc.equal(pc.binary_length(dictionary), 0))
    if empty.any():
        index[empty[np.maximum(index, 0)] & (index >= 0)] = -1
    return _Distinct(dictionary, index)


def _code_points(text: pa.Array) -> tuple[npt.NDArray[np.uint32], Ints]:
    """The code points of all values in one array, and each value's length in characters."""
    raw = ragged(text)
    utf32 = raw.data.tobytes().decode("utf-8").encode("utf-32-le")
    points = np.frombuffer(utf32, dtype="<u4").astype(np.uint32, copy=False)
    lengths = np.asarray(pc.fill_null(pc.utf8_length(text), 0).to_numpy(), dtype=np.int64)
    return points, lengths


def _qgrams(text: pa.Array, q: int) -> tuple[Words, Ints]:
    """The packed keys of every value's q-grams, value after value, and their counts.

    A key holds the q code points (padding markers included), 21 bits each, the first in the
    lowest bits. An empty value has no q-grams.
    """
    points, lengths = _code_points(text)
    pad = q - 1
    counts = np.where(lengths > 0, lengths + pad, 0)
    padded_lengths = np.where(lengths > 0, lengths + 2 * pad, 0)
    padded = np.full(int(padded_lengths.sum()), END, dtype=np.uint64)
    starts = np.cumsum(padded_lengths) - padded_lengths
    padded[positions(starts + pad, lengths)] = points
    if pad:
        padded[positions(starts, np.where(lengths > 0, pad, 0))] = START
    first = positions(starts, counts)
    keys = padded[first].copy()
    for t in range(1, q):
        keys |= padded[first + t] << np.uint64(UNIT_BITS * t)
    return keys, counts


def _messages(keys: Words, q: int) -> Ragged:
    """The HMAC messages of packed q-grams: their code points as 4-byte big-endian integers."""
    shifts = np.arange(q, dtype=np.uint64) * np.uint64(UNIT_BITS)
    units = ((keys[:, None] >> shifts) & np.uint64((1 << UNIT_BITS) - 1)).astype(">u4")
    width = 4 * q
    data = np.ascontiguousarray(units).view(np.uint8).reshape(-1)
    offsets = np.arange(len(keys) + 1, dtype=np.int64) * width
    return Ragged(data, offsets, np.ones(len(keys), dtype=bool))


def _mix(z: Words) -> Words:
    """The SplitMix64 finaliser (Steele, Lea & Flood 2014), on uint64 arrays."""
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    out: Words = z ^ (z >> np.uint64(31))
    return out


def _bit_positions(digests: npt.NDArray[np.uint8], bits: int, k: int) -> npt.NDArray[np.int64]:
    """The ``k`` bit positions of each q-gram from its 32-byte MAC (``(g, 32)`` → ``(g, k)``),
    as step 4 of the module documentation describes."""
    seeds = np.ascontiguousarray(digests).view("<u8").astype(np.uint64, copy=False)
    out = np.empty((len(seeds), k), dtype=np.int64)
    with np.errstate(over="ignore"):
        for i in range(k):
            x = _mix(seeds[:, i % 4] + np.uint64(i // 4 + 1) * _GAMMA)
            out[:, i] = ((x >> np.uint64(32)) * np.uint64(bits)) >> np.uint64(32)
    return out


def _chunks(n: int, size: int) -> Iterator[tuple[int, int]]:
    for lo in range(0, n, size):
        yield lo, min(lo + size, n)


def _run(task: Callable[[tuple[int, int]], None], spans: list[tuple[int, int]]) -> None:
    """``task`` on every span, on a thread pool when the process may use several CPUs (NumPy
    releases the GIL in the gathers, scatters and bit counts)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    workers = min(cpus or 1, len(spans), MAX_THREADS)
    if workers <= 1:
        for span in spans:
            task(span)
        return
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(task, spans))


# -- encoding --------------------------------------------------------------------------------


def _mean_qgrams(distinct: _Distinct, q: int) -> float:
    """The mean q-gram count of the non-empty rows."""
    rows = distinct.index[distinct.index >= 0]
    if not rows.size:
        return 0.0
    lengths = np.asarray(
        pc.fill_null(pc.utf8_length(distinct.values), 0).to_numpy(), dtype=np.int64
    )
    per_row = np.bincount(rows, minlength=len(lengths))
    return float((per_row * (lengths + q - 1)).sum() / rows.size)


def choose_k(
    values: pa.Array | pa.ChunkedArray,
    *,
    bits: int = 1024,
    q: int = 2,
    keep_spaces: bool = False,
) -> int:
    """The default number of hash functions for these values (:func:`hash_count` of their mean
    q-gram count, nulls and empty values left out).

    Call it once on the values of all parties (or a sample), then pass the result to each
    :func:`encode`: filters made with different ``k`` cannot be compared.

    Raises:
        ValueError: ``bits`` is not a positive multiple of 64, or ``q`` is not 1 – 3.
        InvalidInput: ``values`` is not an Arrow array or cannot be read as text.
    """
    _check_bits(bits)
    _check_q(q)
    return hash_count(_mean_qgrams(_distinct(values, keep_spaces), q), bits)


def encode(
    values: pa.Array | pa.ChunkedArray,
    key: bytes,
    *,
    field: str,
    bits: int = 1024,
    k: int | None = None,
    q: int = 2,
    keep_spaces: bool = False,
    chunk: int = 65536,
) -> Filters:
    """Keyed Bloom filters (CLKs) of text values (see the module documentation).

    Args:
        values: Text values (other types are cast to text), normalised beforehand.
        key: The secret shared by the parties that encode, at least 16 bytes; the field key is
            derived from it and ``field``.
        field: The field's name: the same q-gram sets different bits in different fields.
        bits: Filter length, a positive multiple of 64.
        k: Hash functions per q-gram; by default :func:`hash_count` of the values' mean q-gram
            count (pass the same ``k`` to every party's encoding, see :func:`choose_k`).
        q: q-gram length, 1 to 3 (padded with ``q - 1`` markers on each side).
        keep_spaces: Keep inner whitespace as one space instead of removing it.
        chunk: Distinct values encoded at a time, on each of up to 8 threads (memory per
            thread: about ``chunk × (bits + 2 · k · q-grams per value)`` bytes).

    Returns:
        ``uint64`` words of shape ``(len(values), bits // 64)``; a null, empty or blank value
        gives an all-zero row.

    Raises:
        ValueError: ``bits``, ``k``, ``q`` or ``chunk`` is out of range.
        InvalidInput: The key is too short, the field name empty, or ``values`` not an Arrow
            array that can be read as text.

    >>> f = encode(pa.array(["张伟", None]), bytes(range(32)), field="name")
    >>> f.shape, f.dtype.name, popcounts(f).tolist()[1]
    ((2, 16), 'uint64', 0)
    """
    _check_params(bits, k, q, chunk)
    hashing_key = _field_key(key, field)
    distinct = _distinct(values, keep_spaces)
    if k is None:
        k = hash_count(_mean_qgrams(distinct, q), bits)
    n = len(distinct.values)
    spans = list(_chunks(n, chunk))
    # pass 1: the distinct q-grams of all distinct values, each hashed once
    found = [pc.unique(pa.array(_qgrams(distinct.values[lo:hi], q)[0])) for lo, hi in spans]
    grams = pc.unique(pa.chunked_array(found, pa.uint64()))
    digests = hmac_digests(hashing_key, _messages(grams.to_numpy(), q))
    table = _bit_positions(digests, bits, k)
    if bits <= 1 << 16:
        table = table.astype(np.uint16)  # smaller gathers below
    # pass 2: set the bits of each chunk of distinct values; the last row stays empty
    filters = np.zeros((n + 1, bits // 64), dtype=np.uint64)

    def set_bits(span: tuple[int, int]) -> None:
        lo, hi = span
        keys, counts = _qgrams(distinct.values[lo:hi], q)
        ids = np.asarray(pc.index_in(pa.array(keys), value_set=grams).to_numpy(), np.int64)
        owner = np.repeat(np.arange(hi - lo, dtype=np.int64), counts)
        rows = np.zeros((hi - lo, bits), dtype=bool)
        rows[owner[:, None], table[ids]] = True
        packed = np.packbits(rows, axis=1, bitorder="little")
        filters[lo:hi] = packed.view("<u8").astype(np.uint64, copy=False)

    _run(set_bits, spans)
    index = np.where(distinct.index >= 0, distinct.index, n)
    result: Filters = np.take(filters, index, axis=0)
    return result


# -- similarity ------------------------------------------------------------------------------


def _check_filters(filters: Filters, name: str) -> None:
    if filters.ndim != 2 or filters.dtype != np.uint64:
        raise ValueError(
            tr(
                "{a} 应为二维 uint64 数组（encode 的结果）",
                "{a} must be a 2-D uint64 array (as encode returns)",
                a=name,
            )
        )


def popcounts(filters: Filters) -> npt.NDArray[np.int32]:
    """The number of bits set in each filter.

    Args:
        filters: Filters from :func:`encode`, shape ``(n, words)``.

    Returns:
        ``int32`` counts, shape ``(n,)``.

    Raises:
        ValueError: ``filters`` is not a 2-D ``uint64`` array.
    """
    _check_filters(filters, "filters")
    out = np.empty(len(filters), dtype=np.int32)
    for lo, hi in _chunks(len(filters), ROW_CHUNK):
        out[lo:hi] = np.bitwise_count(filters[lo:hi]).sum(axis=1, dtype=np.int32)
    return out


def _pair_index(index: npt.ArrayLike, n: int, name: str) -> Ints:
    rows = np.asarray(index)
    if rows.ndim != 1 or not (rows.size == 0 or np.issubdtype(rows.dtype, np.integer)):
        raise ValueError(
            tr("{a} 应为一维整数数组", "{a} must be a 1-D integer array", a=name),
        )
    rows = rows.astype(np.int64, copy=False)
    if rows.size and (int(rows.min()) < 0 or int(rows.max()) >= n):
        raise ValueError(
            tr(
                "{a} 中有超出范围的行号（应在 0 到 {n} 之间，不含 {n}）",
                "{a} holds row numbers out of range (from 0 to below {n})",
                a=name,
                n=n,
            )
        )
    return rows


def dice(
    a: Filters,
    b: Filters,
    left: npt.NDArray[np.int64],
    right: npt.NDArray[np.int64],
) -> npt.NDArray[np.float32]:
    """The Dice similarity ``2 |A ∧ B| / (|A| + |B|)`` of the pairs ``(a[left[i]], b[right[i]])``.

    The popcounts of ``a`` and ``b`` are counted once; the pairs are gathered and intersected
    :data:`PAIR_CHUNK` at a time, so memory stays bounded for any number of pairs.

    Args:
        a: Filters of the left records, shape ``(n_a, words)``.
        b: Filters of the right records, shape ``(n_b, words)``, the same ``words``.
        left: Row numbers into ``a``.
        right: Row numbers into ``b``, as many as ``left``.

    Returns:
        ``float32`` similarities in [0, 1], one per pair; 0 where either filter is empty.

    Raises:
        ValueError: The filters are not 2-D ``uint64`` arrays of the same width, the row
            numbers differ in length or fall outside the filters.
    """
    _check_filters(a, "a")
    _check_filters(b, "b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            tr(
                "两组滤波器长度不同：{x} 与 {y} 位",
                "the two sets of filters differ in length: {x} and {y} bits",
                x=a.shape[1] * 64,
                y=b.shape[1] * 64,
            )
        )
    li = _pair_index(left, len(a), "left")
    ri = _pair_index(right, len(b), "right")
    if len(li) != len(ri):
        raise ValueError(
            tr(
                "left 与 right 长度不同：{x} 与 {y}",
                "left and right differ in length: {x} and {y}",
                x=len(li),
                y=len(ri),
            )
        )
    count_a, count_b = popcounts(a), popcounts(b)
    out = np.empty(len(li), dtype=np.float32)

    def compare(span: tuple[int, int]) -> None:
        lo, hi = span
        i, j = li[lo:hi], ri[lo:hi]
        both = np.take(a, i, axis=0)
        np.bitwise_and(both, np.take(b, j, axis=0), out=both)
        common = np.bitwise_count(both).sum(axis=1, dtype=np.int32)
        total = count_a[i] + count_b[j]  # 0 only when both are empty, and then so is common
        out[lo:hi] = 2 * common / np.maximum(total, 1)

    _run(compare, list(_chunks(len(li), PAIR_CHUNK)))
    return out
