"""Vectorised string assembly: NumPy code-point matrices and Arrow compute kernels.

Strings of known width (names, ID numbers, phones) are handled as ``(rows, width)`` matrices
of Unicode code points: NumPy's fixed-width ``<U`` dtype is exactly that in memory, so
digits become text by adding ``ord("0")`` (or the full-width ``ord("０")``) and a view.
Free-form strings are assembled with ``pyarrow.compute.binary_join_element_wise``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

ASCII_ZERO = 0x30
FULLWIDTH_ZERO = 0xFF10

Part: TypeAlias = pa.Array | pa.ChunkedArray | str | npt.NDArray[np.str_]


def codepoints(values: npt.NDArray[np.str_]) -> npt.NDArray[np.uint32]:
    """A copy of ``values`` as a ``(rows, width)`` matrix of code points (0 = padding)."""
    width = values.dtype.itemsize // 4
    return np.ascontiguousarray(values).view(np.uint32).reshape(len(values), width).copy()


def from_codepoints(matrix: npt.NDArray[np.uint32]) -> npt.NDArray[np.str_]:
    """The inverse of :func:`codepoints` (trailing zeros end a string)."""
    rows, width = matrix.shape
    out: npt.NDArray[np.str_] = (
        np.ascontiguousarray(matrix, dtype=np.uint32).view(f"<U{width}").reshape(rows)
    )
    return out


def digits_text(
    digits: npt.NDArray[np.integer], fullwidth: npt.NDArray[np.bool_] | None = None
) -> npt.NDArray[np.str_]:
    """Rows of digit values (10 = 'X') → strings; rows flagged ``fullwidth`` use １２３…Ｘ."""
    d = digits.astype(np.uint32)
    zero = np.full((len(d), 1), ASCII_ZERO, dtype=np.uint32)
    if fullwidth is not None:
        zero[fullwidth] = FULLWIDTH_ZERO
    cp = d + zero
    is_x = d == 10
    if is_x.any():
        ex = np.where(zero == FULLWIDTH_ZERO, ord("Ｘ"), ord("X")).astype(np.uint32)
        cp = np.where(is_x, np.broadcast_to(ex, cp.shape), cp)
    return from_codepoints(cp)


def int_digits(values: npt.NDArray[np.int64], width: int) -> npt.NDArray[np.uint8]:
    """Non-negative integers → ``(rows, width)`` decimal digits, zero-padded on the left."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    out: npt.NDArray[np.uint8] = ((values[:, None] // powers) % 10).astype(np.uint8)
    return out


def text(values: npt.NDArray[np.str_]) -> pa.Array:
    """NumPy strings → one contiguous Arrow string array (never a ChunkedArray)."""
    out = pa.array(values, pa.string())
    return out.combine_chunks() if isinstance(out, pa.ChunkedArray) else out


def repeat(value: str, n: int) -> pa.Array:
    """A constant string repeated ``n`` times."""
    return pa.repeat(pa.scalar(value, pa.string()), n)


def arrow(values: Part, n: int | None = None) -> pa.Array:
    """NumPy strings, Arrow arrays or a constant (repeated ``n`` times) → an Arrow array."""
    if isinstance(values, str):
        assert n is not None
        return repeat(values, n)
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks()
    if isinstance(values, pa.Array):
        return values
    return text(values)


def join(parts: Sequence[Part], sep: str = "") -> pa.Array:
    """Concatenate string parts element-wise (a null in any part gives null)."""
    arrays: list[pa.Array | str] = [p if isinstance(p, str) else arrow(p) for p in parts]
    if all(isinstance(p, str) for p in arrays):
        raise ValueError("join needs at least one array")
    return pc.binary_join_element_wise(*arrays, sep)


def zero_pad(values: npt.NDArray[np.integer], width: int) -> pa.Array:
    """Integers → zero-padded decimal strings of ``width``."""
    return pc.utf8_lpad(pc.cast(pa.array(values.astype(np.int64)), pa.string()), width, "0")


def num(values: npt.NDArray[np.integer]) -> pa.Array:
    """Integers → decimal strings."""
    return pc.cast(pa.array(values.astype(np.int64)), pa.string())


def money(cents: npt.NDArray[np.int64]) -> pa.Array:
    """Amounts in fen → strings with exactly two decimals ("1234.50")."""
    return join([num(cents // 100), ".", zero_pad(cents % 100, 2)])


def take(vocab: Sequence[str], index: npt.NDArray[np.integer]) -> pa.Array:
    """Vocabulary items by index (a dictionary decode, done by Arrow)."""
    return pa.array(list(vocab), pa.string()).take(pa.array(index.astype(np.int64)))


def lengths(values: pa.Array) -> npt.NDArray[np.int64]:
    """Length of each string in code points (Python string indices)."""
    out: npt.NDArray[np.int64] = (
        pc.utf8_length(values).to_numpy(zero_copy_only=False).astype(np.int64)
    )
    return out


def concat_bytes(values: pa.Array) -> bytes:
    """All strings of a null-free string array, concatenated (read from Arrow's buffers)."""
    arr = values.cast(pa.large_string()) if values.type != pa.large_string() else values
    if arr.null_count:
        raise ValueError("concat_bytes needs an array without nulls")
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[
        arr.offset : arr.offset + len(arr) + 1
    ]
    data = arr.buffers()[2]
    if data is None or len(arr) == 0:
        return b""
    out: bytes = data.to_pybytes()[int(offsets[0]) : int(offsets[-1])]
    return out


def xml_escape(values: pa.Array) -> pa.Array:
    """Escape ``&``, ``<`` and ``>`` for XML text nodes."""
    out = pc.replace_substring(values, "&", "&amp;")
    out = pc.replace_substring(out, "<", "&lt;")
    return pc.replace_substring(out, ">", "&gt;")


_FIELDS = {"Y": 4, "m": 2, "d": 2, "H": 2, "M": 2, "S": 2}


def dates_text(when: npt.NDArray[np.datetime64], fmt: str = "%Y-%m-%d") -> pa.Array:
    """Dates or times → fixed-width strings in ``fmt`` (``%Y %m %d %H %M %S`` and literals).

    Built as a code-point matrix (digits plus literal characters), which is far faster than
    a general strftime.
    """
    day = when.astype("datetime64[D]")
    seconds = (when.astype("datetime64[s]") - day.astype("datetime64[s]")).astype(np.int64)
    year, month, dom = ymd(day)
    values = {
        "Y": year,
        "m": month,
        "d": dom,
        "H": seconds // 3600,
        "M": seconds // 60 % 60,
        "S": seconds % 60,
    }
    columns: list[npt.NDArray[np.uint32]] = []
    i = 0
    n = len(when)
    while i < len(fmt):
        if fmt[i] == "%" and i + 1 < len(fmt) and fmt[i + 1] in _FIELDS:
            key = fmt[i + 1]
            columns.append(int_digits(values[key], _FIELDS[key]).astype(np.uint32) + ASCII_ZERO)
            i += 2
        else:
            columns.append(np.full((n, 1), ord(fmt[i]), dtype=np.uint32))
            i += 1
    return text(from_codepoints(np.concatenate(columns, axis=1)))


def ymd(
    days: npt.NDArray[np.datetime64],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Year, month (1–12) and day (1–31) of each date."""
    d = days.astype("datetime64[D]")
    months = d.astype("datetime64[M]")
    year = months.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (d - months.astype("datetime64[D]")).astype(np.int64) + 1
    return year, month, day
