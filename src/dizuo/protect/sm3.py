"""SM3 (GB/T 32905-2016) and SHA-256 (FIPS 180-4) over many messages at once, and their HMACs.

Keyed pseudonyms hash millions of short values. Hashing them one by one costs a Python call
each; here the compression function runs on NumPy ``uint32`` arrays of shape ``(m,)`` per
state word, so ``m`` messages advance one 64-byte block together in a fixed number of NumPy
operations (64 rounds, plus the message expansion).

How a batch is hashed:

1. **Padding in one layout.** Each message is copied into a zeroed buffer at a 64-byte aligned
   start, followed by ``0x80`` and its bit length (64-bit big-endian) at the end of its last
   block (§5.1): ``(len + 8) // 64 + 1`` blocks. The buffer is read as big-endian words.
2. **Grouping by block count.** Messages are sorted by their number of blocks, longest first,
   and cut into chunks of :data:`CHUNK` messages, each padded on its own (the working arrays
   stay a few megabytes, whatever the batch). In a chunk, block ``b`` is compressed for the
   prefix of messages that have more than ``b`` blocks — a contiguous slice — so short
   messages cost one compression and long ones a few more.
3. **Chunks in threads.** NumPy releases the GIL inside its loops; chunks run on a thread pool
   when the process may use more than one CPU.

HMAC (RFC 2104, block size 64): the key (hashed first if longer than 64 bytes, then
zero-padded) XOR ``ipad`` and XOR ``opad`` are each one block, compressed **once** into two
chaining values. Every message then continues from the inner chaining value (its bit length
counts the 64 key bytes), and its 32-byte inner digest is one more block from the outer one.

The results are checked in the tests against ``cryptography`` (SM3, HMAC-SM3) and the standard
library (SHA-256, HMAC-SHA256), on the GB/T 32905 examples and on random messages and keys.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal, cast

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from dizuo.protect.arrays import Bytes, Ints, Ragged, positions, ragged, strings_from_matrix

Words = npt.NDArray[np.uint32]
HashName = Literal["sm3", "sha256"]

#: messages per chunk (twice as many when chunks run in threads, so that each NumPy call
#: holds the GIL for a smaller share of its time)
CHUNK = 65536
MAX_THREADS = 8
BLOCK = 64
DIGEST = 32

#: the initial value IV of GB/T 32905-2016 §4.1
SM3_IV = (
    0x7380166F, 0x4914B2B9, 0x172442D7, 0xDA8A0600, 0xA96F30BC, 0x163138AA, 0xE38DEE4D, 0xB0FB0E4E,
)  # fmt: skip


def _rotl(x: Words, n: int) -> Words:
    return cast(Words, (x << n) | (x >> (32 - n)))


def _rotr(x: Words, n: int) -> Words:
    return cast(Words, (x >> n) | (x << (32 - n)))


def _rotl_int(x: int, n: int) -> int:
    n %= 32
    return ((x << n) | (x >> (32 - n))) & 0xFFFFFFFF


#: the round constants T_j <<< (j mod 32), §4.2 and §5.3.3
_SM3_T = [_rotl_int(0x79CC4519 if j < 16 else 0x7A879D8A, j) for j in range(64)]


def sm3_compress(v: Words, w: Words) -> Words:
    """The SM3 compression function CF (§5.3) on ``m`` messages at once.

    Args:
        v: The chaining values, shape ``(8, m)``.
        w: One block of each message as big-endian words, shape ``(16, m)``.

    Returns:
        The next chaining values, shape ``(8, m)``.
    """
    m = w.shape[1]
    ww = np.empty((68, m), dtype=np.uint32)
    ww[:16] = w
    for j in range(16, 68):  # message expansion, §5.3.2
        x = ww[j - 16] ^ ww[j - 9] ^ _rotl(ww[j - 3], 15)
        ww[j] = x ^ _rotl(x, 15) ^ _rotl(x, 23) ^ _rotl(ww[j - 13], 7) ^ ww[j - 6]
    a, b, c, d, e, f, g, h = v
    for j in range(64):
        a12 = _rotl(a, 12)
        ss1 = _rotl(a12 + e + np.uint32(_SM3_T[j]), 7)
        ss2 = ss1 ^ a12
        if j < 16:
            ff = a ^ b ^ c
            gg = e ^ f ^ g
        else:
            ff = (a & b) | (c & (a | b))  # majority
            gg = g ^ (e & (f ^ g))  # choice
        tt1 = ff + d + ss2 + (ww[j] ^ ww[j + 4])
        tt2 = gg + h + ss1 + ww[j]
        d, c, b, a = c, _rotl(b, 9), a, tt1
        h, g, f, e = g, _rotl(f, 19), e, tt2 ^ _rotl(tt2, 9) ^ _rotl(tt2, 17)
    return np.stack([a, b, c, d, e, f, g, h]) ^ v


def _root_fraction(p: int, k: int) -> int:
    """The first 32 bits of the fractional part of ``p ** (1 / k)``, exactly (integer root)."""
    target = p << (32 * k)
    low, high = 0, 1 << 40
    while low < high:  # the largest r with r ** k <= p * 2 ** (32 k)
        mid = (low + high + 1) // 2
        low, high = (mid, high) if mid**k <= target else (low, mid - 1)
    return low & 0xFFFFFFFF


_PRIMES = [p for p in range(2, 312) if all(p % q for q in range(2, int(p**0.5) + 1))][:64]
#: FIPS 180-4 §5.3.3 and §4.2.2: square roots of the first 8 primes, cube roots of the first 64
SHA256_IV = tuple(_root_fraction(p, 2) for p in _PRIMES[:8])
_SHA256_K = [_root_fraction(p, 3) for p in _PRIMES]


def sha256_compress(v: Words, w: Words) -> Words:
    """The SHA-256 compression function (FIPS 180-4 §6.2.2) on ``m`` messages at once.

    Args:
        v: The chaining values, shape ``(8, m)``.
        w: One block of each message as big-endian words, shape ``(16, m)``.

    Returns:
        The next chaining values, shape ``(8, m)``.
    """
    m = w.shape[1]
    ww = np.empty((64, m), dtype=np.uint32)
    ww[:16] = w
    for j in range(16, 64):
        x, y = ww[j - 15], ww[j - 2]
        s0 = _rotr(x, 7) ^ _rotr(x, 18) ^ (x >> 3)
        s1 = _rotr(y, 17) ^ _rotr(y, 19) ^ (y >> 10)
        ww[j] = ww[j - 16] + s0 + ww[j - 7] + s1
    a, b, c, d, e, f, g, h = v
    for j in range(64):
        t1 = h + (_rotr(e, 6) ^ _rotr(e, 11) ^ _rotr(e, 25)) + (g ^ (e & (f ^ g)))
        t1 += ww[j] + np.uint32(_SHA256_K[j])
        t2 = (_rotr(a, 2) ^ _rotr(a, 13) ^ _rotr(a, 22)) + ((a & b) | (c & (a | b)))
        h, g, f, e, d, c, b, a = g, f, e, d + t1, c, b, a, t1 + t2
    return np.stack([a, b, c, d, e, f, g, h]) + v


@dataclass(frozen=True)
class Hash:
    """A Merkle–Damgård hash with 64-byte blocks, 32-byte digests and big-endian lengths."""

    name: HashName
    iv: tuple[int, ...]
    compress: Callable[[Words, Words], Words]


HASHES: dict[HashName, Hash] = {
    "sm3": Hash("sm3", SM3_IV, sm3_compress),
    "sha256": Hash("sha256", SHA256_IV, sha256_compress),
}


# -- many messages ---------------------------------------------------------------------------


def _padded_words(values: Ragged, rows: Ints, skip: int) -> tuple[Words, Ints]:
    """The messages ``rows`` padded (§5.1) as big-endian words, and their block counts.

    Message ``i`` of ``rows`` occupies words ``16 * sum(blocks[:i])`` on; ``skip`` bytes (whole
    blocks, the HMAC key block) were hashed before every message and count in its bit length.
    """
    lengths = values.lengths[rows]
    blocks = (lengths + 8) // BLOCK + 1
    size = blocks * BLOCK
    starts = np.cumsum(size) - size
    buf = np.zeros(int(size.sum()), dtype=np.uint8)
    m = len(rows)
    first = values.starts[rows[0]] if m else 0
    if m and (lengths == lengths[0]).all() and (np.diff(rows) == 1).all():
        # consecutive values of one length (codes, IDs): one strided copy
        length = int(lengths[0])
        chunk = values.data[first : first + m * length].reshape(m, length)
        buf.reshape(m, -1)[:, :length] = chunk
    else:
        buf[positions(starts, lengths)] = values.data[positions(values.starts[rows], lengths)]
    buf[starts + lengths] = 0x80
    bits = ((lengths + skip) * 8).astype(">u8").view(np.uint8).reshape(-1, 8)
    buf[(starts + size - 8)[:, None] + np.arange(8)] = bits
    return buf.view(">u4").astype(np.uint32), blocks


def _outer_block(inner: Words) -> Words:
    """The single padded block of a 32-byte inner digest after a 64-byte key block."""
    w = np.zeros((16, inner.shape[1]), dtype=np.uint32)
    w[:8] = inner
    w[8] = 0x80000000
    w[15] = (BLOCK + DIGEST) * 8
    return w


def _run(h: Hash, start: Words, values: Ragged, skip: int, outer: Words | None) -> Words:
    """The chaining value after every message (and the outer HMAC block, when ``outer`` is set).

    Args:
        h: The hash.
        start: The chaining value every message starts from, shape ``(8,)``.
        values: The messages.
        skip: Bytes hashed before each message (0, or 64 for HMAC's key block).
        outer: The outer HMAC chaining value, shape ``(8,)``, or None for a plain hash.

    Returns:
        The digests as words, shape ``(8, n)``.
    """
    n = len(values)
    out = np.empty((8, n), dtype=np.uint32)
    order = np.argsort(-((values.lengths + 8) // BLOCK), kind="stable")
    cpus = _cpus()
    size = CHUNK if n <= CHUNK or cpus == 1 else 2 * CHUNK

    def chunk(lo: int) -> None:
        rows = order[lo : lo + size]
        words, blocks = _padded_words(values, rows, skip)  # blocks descending
        first = (np.cumsum(blocks) - blocks) * 16
        v = np.repeat(start[:, None], len(rows), axis=1)
        for b in range(int(blocks[0])):
            m = int(np.count_nonzero(blocks > b))  # the messages with a block b: a prefix
            w = words[(first[:m] + 16 * b)[None, :] + np.arange(16)[:, None]]
            v[:, :m] = h.compress(v[:, :m], w)
        if outer is not None:
            v = h.compress(np.repeat(outer[:, None], len(rows), axis=1), _outer_block(v))
        out[:, rows] = v

    starts = range(0, n, size)
    workers = min(cpus, len(starts), MAX_THREADS)
    if workers <= 1:
        for lo in starts:
            chunk(lo)
    else:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(chunk, starts))
    return out


def _cpus() -> int:
    """The CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1  # pragma: no cover - not Linux


def _digest_bytes(words: Words) -> Bytes:
    """Digests as an ``(n, 32)`` byte matrix (words written big-endian)."""
    return np.ascontiguousarray(words.T).astype(">u4").view(np.uint8).reshape(-1, DIGEST)


def _one_block(h: Hash, block: bytes) -> Words:
    """The chaining value after one 64-byte block from the IV, shape ``(8,)``."""
    w = np.frombuffer(block, dtype=">u4").astype(np.uint32)[:, None]
    iv = np.array(h.iv, dtype=np.uint32)[:, None]
    return h.compress(iv, w)[:, 0]


def digests(messages: pa.Array | pa.ChunkedArray | Ragged, *, algorithm: HashName = "sm3") -> Bytes:
    """The hash of every message as an ``(n, 32)`` byte matrix (null messages hash as empty)."""
    h = HASHES[algorithm]
    values = messages if isinstance(messages, Ragged) else ragged(messages)
    return _digest_bytes(_run(h, np.array(h.iv, dtype=np.uint32), values, 0, None))


def hmac_digests(
    key: bytes, messages: pa.Array | pa.ChunkedArray | Ragged, *, algorithm: HashName = "sm3"
) -> Bytes:
    """HMAC (RFC 2104) of every message as an ``(n, 32)`` byte matrix (nulls as empty)."""
    h = HASHES[algorithm]
    if len(key) > BLOCK:
        key = bytes(digests(pa.array([key], pa.binary()), algorithm=algorithm)[0])
    block = np.frombuffer(key.ljust(BLOCK, b"\0"), dtype=np.uint8)
    inner = _one_block(h, (block ^ 0x36).tobytes())
    outer = _one_block(h, (block ^ 0x5C).tobytes())
    values = messages if isinstance(messages, Ragged) else ragged(messages)
    return _digest_bytes(_run(h, inner, values, BLOCK, outer))


def _arrow(key: bytes | None, messages: pa.Array | pa.ChunkedArray, h: HashName) -> pa.Array:
    values = ragged(messages)
    matrix = digests(values, algorithm=h) if key is None else hmac_digests(key, values, algorithm=h)
    return strings_from_matrix(matrix, values.valid, pa.binary(DIGEST))


def sm3(messages: pa.Array | pa.ChunkedArray) -> pa.Array:
    """SM3 of every message.

    Args:
        messages: Text (hashed as UTF-8) or binary values.

    Returns:
        ``fixed_size_binary(32)`` digests; null where the message is null.

    >>> sm3(pa.array(["abc"]))[0].as_py().hex()[:16]
    '66c7f0f462eeedd9'
    """
    return _arrow(None, messages, "sm3")


def sha256(messages: pa.Array | pa.ChunkedArray) -> pa.Array:
    """SHA-256 of every message (see :func:`sm3`)."""
    return _arrow(None, messages, "sha256")


def hmac_sm3(key: bytes, messages: pa.Array | pa.ChunkedArray) -> pa.Array:
    """HMAC-SM3 of every message under ``key``.

    Args:
        key: Any length; keys longer than 64 bytes are hashed first (RFC 2104).
        messages: Text (as UTF-8) or binary values.

    Returns:
        ``fixed_size_binary(32)`` MACs; null where the message is null.
    """
    return _arrow(key, messages, "sm3")


def hmac_sha256(key: bytes, messages: pa.Array | pa.ChunkedArray) -> pa.Array:
    """HMAC-SHA256 of every message under ``key`` (see :func:`hmac_sm3`)."""
    return _arrow(key, messages, "sha256")
