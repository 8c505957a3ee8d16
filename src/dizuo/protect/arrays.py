"""Arrow string and binary arrays as NumPy bytes, and back.

The hashes, ciphers and encoders of ``protect`` work on the bytes of many values at once. A
:class:`Ragged` holds them the way Arrow does — one flat ``uint8`` buffer and ``n + 1`` offsets
— plus a validity mask; :func:`positions` turns per-value (start, length) pairs into flat
indices, which is how values are gathered into or scattered out of padded layouts without a
Python loop. Fixed-width results (digests, hex pseudonyms) come back as an ``(n, width)`` byte
matrix and become an Arrow array through :func:`strings_from_matrix`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from dizuo.errors import InvalidInput
from dizuo.i18n import tr

Bytes = npt.NDArray[np.uint8]
Ints = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]
STRING = pa.string()


def positions(starts: Ints, lengths: Ints) -> Ints:
    """Flat indices ``starts[i] + k`` for ``k < lengths[i]``, value after value.

    >>> positions(np.array([10, 0]), np.array([2, 3])).tolist()
    [10, 11, 0, 1, 2]
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    ends = np.cumsum(lengths)
    shift = np.asarray(starts, dtype=np.int64) - (ends - lengths)
    flat: Ints = np.arange(int(ends[-1]) if len(ends) else 0, dtype=np.int64)
    flat += np.repeat(shift, lengths)
    return flat


def row_of(lengths: Ints) -> Ints:
    """The value each flat byte belongs to (``repeat(arange(n), lengths)``)."""
    return np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)


@dataclass(frozen=True)
class Ragged:
    """The bytes of ``n`` values: ``data[offsets[i]:offsets[i + 1]]`` is value ``i``.

    Offsets start at 0 and null values are empty, whatever the Arrow array held under them.
    """

    data: Bytes
    offsets: Ints
    valid: Mask

    def __len__(self) -> int:
        return len(self.valid)

    @property
    def lengths(self) -> Ints:
        return np.diff(self.offsets)

    @property
    def starts(self) -> Ints:
        return self.offsets[:-1]

    @classmethod
    def from_lengths(cls, data: Bytes, lengths: Ints, valid: Mask) -> Ragged:
        offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        return cls(data, offsets, valid)

    def take(self, rows: Ints) -> Ragged:
        """The values at ``rows``, in that order."""
        lengths = self.lengths[rows]
        data = self.data[positions(self.starts[rows], lengths)]
        return Ragged.from_lengths(data, lengths, self.valid[rows])

    def prepend(self, heads: Bytes) -> Ragged:
        """Each value preceded by the row of the ``(n, w)`` matrix ``heads``."""
        n, width = heads.shape
        lengths = self.lengths + width
        out = Ragged.from_lengths(np.empty(int(lengths.sum()), np.uint8), lengths, self.valid)
        head_at = positions(out.starts, np.full(n, width, dtype=np.int64))
        out.data[head_at] = heads.reshape(-1)
        out.data[positions(out.starts + width, self.lengths)] = self.data
        return out

    def to_arrow(self, type: pa.DataType = STRING) -> pa.Array:
        """An Arrow ``string`` / ``binary`` array (their 64-bit-offset forms past 2 GiB).

        The caller guarantees UTF-8 for ``string``; :meth:`pyarrow.Array.validate` checks it.
        """
        large = int(self.offsets[-1]) >= 2**31
        if large:
            type = pa.large_string() if pa.types.is_string(type) else pa.large_binary()
        offsets = self.offsets.astype(np.int64 if large else np.int32)
        return pa.Array.from_buffers(
            type,
            len(self),
            [validity(self.valid), pa.py_buffer(offsets), pa.py_buffer(self.data)],
        )


def binary_view(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The values as a (large) binary array without copying: strings are viewed as their UTF-8.

    Raises:
        InvalidInput: The values are neither text nor bytes.
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    t = values.type
    if pa.types.is_string(t):
        return values.view(pa.binary())
    if pa.types.is_large_string(t):
        return values.view(pa.large_binary())
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return values
    if pa.types.is_fixed_size_binary(t) or pa.types.is_string_view(t) or pa.types.is_binary_view(t):
        return values.cast(pa.binary())
    if pa.types.is_null(t):
        return pa.nulls(len(values), pa.binary())
    raise InvalidInput(
        tr("需要文本或二进制值，而不是 {t}", "expected text or bytes, not {t}", t=str(t)),
        hint=tr("先把列转换为字符串", "cast the column to a string first"),
    )


def ragged(values: pa.Array | pa.ChunkedArray) -> Ragged:
    """The bytes of text or binary values (see :class:`Ragged`)."""
    x = binary_view(values)
    n = len(x)
    valid = valid_mask(x)
    if n == 0:
        return Ragged(np.zeros(0, np.uint8), np.zeros(1, np.int64), valid)
    width = 8 if pa.types.is_large_binary(x.type) else 4
    dtype = np.int64 if width == 8 else np.int32
    raw = np.frombuffer(x.buffers()[1], dtype=dtype, count=n + 1, offset=x.offset * width)
    offsets: Ints = raw.astype(np.int64)
    buffer = x.buffers()[2]
    data = np.frombuffer(buffer, dtype=np.uint8) if buffer is not None else np.zeros(0, np.uint8)
    lengths = np.diff(offsets)
    if x.null_count and lengths[~valid].any():  # bytes under null slots: leave them out
        lengths = np.where(valid, lengths, 0)
        return Ragged.from_lengths(data[positions(offsets[:-1], lengths)], lengths, valid)
    return Ragged(data[offsets[0] : offsets[-1]], offsets - offsets[0], valid)


def valid_mask(values: pa.Array) -> Mask:
    """True where a value is not null."""
    if values.null_count == 0:
        return np.ones(len(values), dtype=bool)
    return np.asarray(values.is_valid().to_numpy(zero_copy_only=False), dtype=bool)


def validity(valid: Mask) -> pa.Buffer | None:
    """An Arrow validity bitmap for the mask (None when every value is valid)."""
    if valid.all():
        return None
    return pa.py_buffer(np.packbits(valid, bitorder="little"))


def strings_from_matrix(matrix: Bytes, valid: Mask, type: pa.DataType = STRING) -> pa.Array:
    """An Arrow array whose value ``i`` is row ``i`` of the ``(n, w)`` byte matrix."""
    n, width = matrix.shape
    if pa.types.is_fixed_size_binary(type):
        buffers = [validity(valid), pa.py_buffer(np.ascontiguousarray(matrix))]
        return pa.Array.from_buffers(type, n, buffers)
    offsets = np.arange(n + 1, dtype=np.int64) * width
    return Ragged(np.ascontiguousarray(matrix).reshape(-1), offsets, valid).to_arrow(type)


def null_where(values: pa.Array, mask: Mask) -> pa.Array:
    """``values`` with the entries where ``mask`` is true set to null."""
    if not mask.any():
        return values
    return pc.if_else(pa.array(mask), pa.scalar(None, values.type), values)


# -- base64url (RFC 4648 §5, without padding) -------------------------------------------------

B64URL = np.frombuffer(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", dtype=np.uint8
)
_B64_VALUE = np.full(256, 255, dtype=np.uint8)
_B64_VALUE[B64URL] = np.arange(64, dtype=np.uint8)


def b64url_encode(values: Ragged) -> Ragged:
    """Every value in base64url without ``=`` padding (``ceil(4n / 3)`` characters)."""
    lengths = values.lengths
    padded = (lengths + 2) // 3 * 3
    full = Ragged.from_lengths(np.zeros(int(padded.sum()), np.uint8), padded, values.valid)
    full.data[positions(full.starts, lengths)] = values.data
    t = full.data.reshape(-1, 3).astype(np.uint32)
    word = (t[:, 0] << 16) | (t[:, 1] << 8) | t[:, 2]
    sextets = (word[:, None] >> np.array([18, 12, 6, 0], dtype=np.uint32)) & 63
    chars = B64URL[sextets].reshape(-1)
    out_lengths = (4 * lengths + 2) // 3
    return Ragged.from_lengths(
        chars[positions(full.starts // 3 * 4, out_lengths)], out_lengths, values.valid
    )


def b64url_decode(values: Ragged) -> tuple[Ragged, Mask]:
    """The bytes of base64url values (unpadded, canonical) and the values that are not such.

    Bad values (a character outside the alphabet, an impossible length, non-zero unused
    bits) decode to empty bytes and are true in the returned mask.
    """
    lengths = values.lengths
    sextets = _B64_VALUE[values.data]
    bad = (lengths % 4 == 1) & values.valid
    wrong = sextets == 255
    if wrong.any():
        bad[row_of(lengths)[wrong]] = True
    sextets[wrong] = 0
    # unused low bits of the last character must be zero (one encoding per byte string)
    tail = lengths % 4
    last = np.flatnonzero((tail >= 2) & ~bad)
    if last.size:
        unused = np.where(tail[last] == 2, 15, 3).astype(np.uint8)
        bad[last[(sextets[values.offsets[last + 1] - 1] & unused) != 0]] = True
    lengths = np.where(bad, 0, lengths)
    quads = (lengths + 3) // 4 * 4
    full = Ragged.from_lengths(np.zeros(int(quads.sum()), np.uint8), quads, values.valid)
    full.data[positions(full.starts, lengths)] = sextets[positions(values.starts, lengths)]
    q = full.data.reshape(-1, 4).astype(np.uint32)
    word = (q[:, 0] << 18) | (q[:, 1] << 12) | (q[:, 2] << 6) | q[:, 3]
    triples = ((word[:, None] >> np.array([16, 8, 0], dtype=np.uint32)) & 255).astype(np.uint8)
    out_lengths = lengths * 3 // 4
    data = triples.reshape(-1)[positions(full.starts // 4 * 3, out_lengths)]
    return Ragged.from_lengths(data, out_lengths, values.valid), bad
