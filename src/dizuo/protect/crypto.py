"""Reversible encryption of values, for authorised re-identification (SM4 or AES).

A protected dataset may keep a direct identifier encrypted so that, under an authorisation, the
data group can recover who a record is about. The scheme is **deterministic authenticated
encryption** in the SIV style (Rogaway & Shrimpton, 2006), with the national algorithms:

- ``tag = HMAC-SM3(mac_key, plaintext)[:16]`` — a synthetic nonce, a function of the value;
- counter blocks ``tag[:12] || uint32_be(i)`` for ``i = 0, 1, …``, encrypted with SM4 and XORed
  with the plaintext's UTF-8 bytes (CTR mode; the last block is cut to the value's length);
- the value is written ``"sm4:" + base64url(tag || ciphertext)`` (RFC 4648 §5, no ``=``).

What it guarantees: the same value under the same key always gives the same text, so equality
joins and group-bys still work on encrypted columns — and that is all it reveals, apart from
the value's length. Distinct values get distinct nonces (HMAC is a pseudo-random function; the
96-bit nonce repeats only by a birthday collision, about 2⁻³² after 2³² distinct values), so
CTR never reuses a key stream for two different values. Decryption recomputes the tag from the
recovered plaintext and compares it with the stored one: a changed character, a value from
another key or a truncated value is rejected (a forgery succeeds with probability 2⁻¹²⁸).

``algorithm="aes"`` is the same construction with AES-256 and HMAC-SHA256 (``"aes:"``), and
``"aes-128"`` with AES-128 (``"aes128:"``); :func:`decrypt` reads the algorithm off the prefix.

Keys: one workspace master key gives separate sub-keys (:func:`derive_keys`, HKDF-SM3); the
cipher and MAC keys of each algorithm are derived again from those, so no key serves two
purposes. The vectorised part: all counter blocks of all values are built as one NumPy buffer
and encrypted by one ECB ``update`` call; the tags are vectorised HMACs (:mod:`.sm3`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from dizuo.errors import InvalidInput, Location
from dizuo.i18n import tr
from dizuo.protect.arrays import (
    Bytes,
    Ints,
    Mask,
    Ragged,
    b64url_decode,
    b64url_encode,
    positions,
    ragged,
)
from dizuo.protect.sm3 import HashName, hmac_digests

Algorithm = Literal["sm4", "aes", "aes-128"]

#: bytes of the stored tag (the synthetic nonce); the first NONCE of them start every counter
TAG = 16
NONCE = 12
#: the shortest master key accepted (128 bits)
MIN_KEY = 16
SALT = b"dizuo/protect/v1"


@dataclass(frozen=True)
class Suite:
    """One encryption algorithm: cipher, key size, MAC hash and the text prefix."""

    name: Algorithm
    prefix: str
    key_size: int
    mac: HashName

    def cipher(self, key: bytes) -> Cipher[modes.ECB]:
        block = algorithms.SM4(key) if self.name == "sm4" else algorithms.AES(key)
        return Cipher(block, modes.ECB())


SUITES: dict[Algorithm, Suite] = {
    "sm4": Suite("sm4", "sm4:", 16, "sm3"),
    "aes": Suite("aes", "aes:", 32, "sha256"),
    "aes-128": Suite("aes-128", "aes128:", 16, "sha256"),
}


@dataclass(frozen=True, repr=False)
class Keys:
    """The sub-keys of a master key, 32 bytes each (see :func:`derive_keys`).

    Attributes:
        pseudonym: The HMAC key of keyed pseudonyms (:func:`dizuo.protect.transforms.pseudonymise`).
        encryption: The root of the cipher keys of :func:`encrypt`.
        mac: The root of the MAC keys of :func:`encrypt` (the synthetic nonces).
    """

    pseudonym: bytes
    encryption: bytes
    mac: bytes

    def __repr__(self) -> str:  # keys never end up in a log
        return "Keys(<hidden>)"


def _hkdf(secret: bytes, label: str, length: int = 32) -> bytes:
    info = f"dizuo/{label}".encode()
    return HKDF(algorithm=hashes.SM3(), length=length, salt=SALT, info=info).derive(secret)


def check_key(key: bytes) -> None:
    """Refuse a key shorter than :data:`MIN_KEY` bytes."""
    if len(key) < MIN_KEY:
        raise InvalidInput(
            tr(
                "密钥太短：至少需要 {n} 字节",
                "the key is too short: at least {n} bytes are needed",
                n=MIN_KEY,
            ),
            hint=tr("用 dizuo 生成的工作区密钥", "use the workspace key dizuo generated"),
        )


def derive_keys(master: bytes) -> Keys:
    """Separate sub-keys for pseudonyms, encryption and MAC from one master key.

    Each is HKDF-SM3 (RFC 5869 with SM3) of the master key with the salt ``dizuo/protect/v1``
    and the info ``dizuo/pseudonym``, ``dizuo/encryption`` or ``dizuo/mac``, 32 bytes long.

    Args:
        master: The workspace key, at least 16 bytes.

    Raises:
        InvalidInput: The key is shorter than 16 bytes.
    """
    check_key(master)
    return Keys(_hkdf(master, "pseudonym"), _hkdf(master, "encryption"), _hkdf(master, "mac"))


def suite_keys(keys: Keys, suite: Suite) -> tuple[bytes, bytes]:
    """The cipher key and the MAC key of one algorithm (HKDF-SM3 of the sub-keys, info
    ``dizuo/encryption/<algorithm>`` and ``dizuo/mac/<algorithm>``)."""
    cipher = _hkdf(keys.encryption, f"encryption/{suite.name}", suite.key_size)
    return cipher, _hkdf(keys.mac, f"mac/{suite.name}")


def _suite(algorithm: str) -> Suite:
    if algorithm not in SUITES:
        raise InvalidInput(
            tr("未知的加密算法 {a!r}", "unknown encryption algorithm {a!r}", a=algorithm),
            hint=tr("可选：{o}", "one of: {o}", o=", ".join(SUITES)),
        )
    return SUITES[algorithm]


def _keys(key: bytes | Keys) -> Keys:
    return key if isinstance(key, Keys) else derive_keys(key)


def keystream(suite: Suite, key: bytes, tags: Bytes, lengths: Ints) -> Bytes:
    """The CTR key stream of every value, laid out like the values' bytes.

    Value ``i`` uses the counter blocks ``tags[i, :12] || uint32_be(j)``, ``j < ceil(len / 16)``;
    all blocks of all values are encrypted by one ECB call.
    """
    blocks = (lengths + 15) // 16
    first = np.cumsum(blocks) - blocks
    total = int(blocks.sum())
    counters = np.empty((total, 16), dtype=np.uint8)
    counters[:, :NONCE] = np.repeat(tags[:, :NONCE], blocks, axis=0)
    j = np.arange(total, dtype=np.int64) - np.repeat(first, blocks)
    counters[:, NONCE:] = j.astype(">u4").view(np.uint8).reshape(-1, 4)
    encryptor = suite.cipher(key).encryptor()
    stream = np.frombuffer(encryptor.update(counters.tobytes()) + encryptor.finalize(), np.uint8)
    return stream[positions(first * 16, lengths)]


def _text(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    t = values.type
    text_like = pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_binary(t)
    if text_like or pa.types.is_large_binary(t) or pa.types.is_null(t):
        return values
    return values.cast(pa.string())


def encrypt(
    values: pa.Array | pa.ChunkedArray, key: bytes | Keys, *, algorithm: Algorithm = "sm4"
) -> pa.Array:
    """Encrypt every value, deterministically and authenticated (see the module documentation).

    Args:
        values: Text (encrypted as UTF-8) or binary values; other types are cast to text first.
        key: The master key (sub-keys are derived with :func:`derive_keys`) or derived keys.
        algorithm: ``sm4`` (SM4-CTR, HMAC-SM3), ``aes`` (AES-256-CTR, HMAC-SHA256) or
            ``aes-128``.

    Returns:
        Strings ``"<prefix>" + base64url(tag || ciphertext)``; nulls stay null, an empty value
        encrypts to its tag alone.

    >>> k = bytes(range(32))
    >>> encrypt(pa.array(["张三"]), k)[0].as_py()[:4]
    'sm4:'
    """
    suite = _suite(algorithm)
    cipher_key, mac_key = suite_keys(_keys(key), suite)
    plain = ragged(_text(values))
    tags = hmac_digests(mac_key, plain, algorithm=suite.mac)[:, :TAG]
    sealed = plain.data ^ keystream(suite, cipher_key, tags, plain.lengths)
    token = b64url_encode(Ragged(sealed, plain.offsets, plain.valid).prepend(tags))
    prefix = np.frombuffer(suite.prefix.encode("ascii"), dtype=np.uint8)
    return token.prepend(np.broadcast_to(prefix, (len(token), len(prefix)))).to_arrow(pa.string())


@dataclass
class _Opened:
    """The plaintexts of one algorithm's rows, and the rows that failed."""

    rows: Ints
    plain: Ragged
    damaged: Ints
    forged: Ints


def _open(suite: Suite, keys: Keys, text: Ragged, rows: Ints) -> _Opened:
    cipher_key, mac_key = suite_keys(keys, suite)
    sub = text.take(rows)
    skip = len(suite.prefix)
    body_lengths = sub.lengths - skip
    body = Ragged.from_lengths(
        sub.data[positions(sub.starts + skip, body_lengths)], body_lengths, sub.valid
    )
    payload, bad = b64url_decode(body)
    bad |= payload.lengths < TAG
    good = np.flatnonzero(~bad)
    payload = payload.take(good)
    lengths = payload.lengths - TAG
    tags = payload.data[positions(payload.starts, np.full(len(good), TAG))].reshape(-1, TAG)
    sealed = payload.data[positions(payload.starts + TAG, lengths)]
    plain = Ragged.from_lengths(
        sealed ^ keystream(suite, cipher_key, tags, lengths), lengths, payload.valid
    )
    check = hmac_digests(mac_key, plain, algorithm=suite.mac)[:, :TAG]
    forged = ~(check == tags).all(axis=1)
    return _Opened(rows[good], plain, rows[bad], rows[good][forged])


def _strings(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    t = values.type
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_null(t):
        return values
    raise InvalidInput(
        tr("密文应为字符串列，而不是 {t}", "ciphertexts are strings, not {t}", t=str(t)),
    )


def decrypt(
    values: pa.Array | pa.ChunkedArray, key: bytes | Keys, *, binary: bool = False
) -> pa.Array:
    """Decrypt values made by :func:`encrypt` (any of its algorithms, read off the prefix).

    Args:
        values: Strings ``sm4:…``, ``aes:…`` or ``aes128:…``; nulls stay null.
        key: The master key the values were encrypted with (or its derived keys).
        binary: Return ``binary`` values instead of UTF-8 text.

    Raises:
        InvalidInput: Naming the first row that is not a ciphertext, is damaged, or does not
            authenticate under this key (a wrong key, or an altered value).
    """
    keys = _keys(key)
    strings = _strings(values)
    text = ragged(strings)
    n = len(text)
    which = np.full(n, -1, dtype=np.int64)
    for k, suite in enumerate(SUITES.values()):
        hit = pc.fill_null(pc.starts_with(strings, suite.prefix), False)
        which[np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool)] = k
    problems: list[tuple[Ints, str, str]] = [
        (
            np.flatnonzero(text.valid & (which < 0)),
            tr("不是 dizuo 密文", "not a dizuo ciphertext"),
            tr(
                "密文以 {p} 开头",
                "a ciphertext starts with {p}",
                p=" / ".join(s.prefix for s in SUITES.values()),
            ),
        )
    ]
    opened: list[_Opened] = []
    for k, suite in enumerate(SUITES.values()):
        rows = np.flatnonzero(text.valid & (which == k))
        if rows.size:
            opened.append(_open(suite, keys, text, rows))
    damaged = tr("密文已损坏（base64url 无效或太短）", "damaged ciphertext (bad base64url, short)")
    forged = tr(
        "密文校验失败：密钥不对，或密文被改动",
        "the ciphertext does not authenticate: a wrong key, or an altered value",
    )
    cut = tr("密文在加密后被截断或改动", "the value was cut or altered after encryption")
    hint = tr("用加密时的工作区密钥解密", "decrypt with the workspace key used to encrypt")
    for o in opened:
        problems += [(o.damaged, damaged, cut), (o.forged, forged, hint)]
    _raise_first(problems)
    out = _assemble(n, opened)
    if binary:
        return out.to_arrow(pa.binary())
    result = out.to_arrow(pa.string())
    _check_utf8(result)
    return result


def _raise_first(problems: list[tuple[Ints, str, str]]) -> None:
    found = [(int(rows.min()), message, hint) for rows, message, hint in problems if rows.size]
    if found:
        row, message, hint = min(found)
        raise InvalidInput(message, where=Location(row=row + 1), hint=hint)


def _assemble(n: int, opened: list[_Opened]) -> Ragged:
    """One ragged array of ``n`` rows from the opened groups (other rows null)."""
    lengths = np.zeros(n, dtype=np.int64)
    valid: Mask = np.zeros(n, dtype=bool)
    for o in opened:
        lengths[o.rows] = o.plain.lengths
        valid[o.rows] = True
    out = Ragged.from_lengths(np.empty(int(lengths.sum()), np.uint8), lengths, valid)
    for o in opened:
        out.data[positions(out.starts[o.rows], o.plain.lengths)] = o.plain.data
    return out


def _check_utf8(result: pa.Array) -> None:
    """Raise naming the first value that is not UTF-8 (a bisection of Arrow's validation)."""

    def ok(lo: int, hi: int) -> bool:
        try:
            result.slice(lo, hi - lo).validate(full=True)
        except pa.ArrowInvalid:
            return False
        return True

    lo, hi = 0, len(result)
    if ok(lo, hi):
        return
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if not ok(lo, mid) else (mid, hi)
    raise InvalidInput(
        tr("解密结果不是 UTF-8 文本", "the decrypted value is not UTF-8 text"),
        where=Location(row=lo + 1),
        hint=tr("这一列加密的是二进制值：用 binary=True", "binary values: use binary=True"),
    )
