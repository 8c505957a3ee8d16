"""SM3 / SHA-256 and their HMACs over many messages, and deterministic encryption.

The oracles are independent of the code under test: ``cryptography`` (SM3, HMAC-SM3, SM4 and
AES in CTR mode), ``hashlib`` / ``hmac`` and ``base64`` from the standard library.
"""

from __future__ import annotations

import base64
import doctest
import hashlib
import hmac
import random

import numpy as np
import pyarrow as pa
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as chmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from dizuo.errors import InvalidInput
from dizuo.protect import arrays, crypto, sm3
from dizuo.protect.arrays import b64url_decode, b64url_encode, ragged

KEY = bytes(range(32))


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str | None) -> bytes:
    assert text is not None
    body = text.split(":", 1)[1]
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))


def ref_sm3(message: bytes) -> bytes:
    h = hashes.Hash(hashes.SM3())
    h.update(message)
    return h.finalize()


def ref_hmac_sm3(key: bytes, message: bytes) -> bytes:
    h = chmac.HMAC(key, hashes.SM3())
    h.update(message)
    return h.finalize()


@pytest.fixture(scope="module")
def messages() -> list[bytes]:
    rng = random.Random(32905)
    return [rng.randbytes(rng.randrange(0, 201)) for _ in range(3000)]


# -- SM3 and SHA-256 -------------------------------------------------------------------------


def test_sm3_gbt_32905_examples() -> None:
    out = sm3.sm3(pa.array(["abc", "abcd" * 16]))
    assert [v.hex() for v in out.to_pylist()] == [
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0",
        "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732",
    ]
    assert out.type == pa.binary(32)


def test_sm3_matches_cryptography_on_random_messages(messages: list[bytes]) -> None:
    out = sm3.sm3(pa.array(messages, pa.binary()))
    assert out.to_pylist() == [ref_sm3(m) for m in messages]


@pytest.mark.parametrize("key_length", [0, 1, 16, 32, 63, 64, 65, 100, 200])
def test_hmac_sm3_matches_cryptography(messages: list[bytes], key_length: int) -> None:
    key = random.Random(key_length).randbytes(key_length)
    out = sm3.hmac_sm3(key, pa.array(messages, pa.binary()))
    assert out.to_pylist() == [ref_hmac_sm3(key, m) for m in messages]


@pytest.mark.parametrize("key_length", [0, 16, 64, 65, 150])
def test_sha256_and_hmac_sha256_match_hashlib(messages: list[bytes], key_length: int) -> None:
    key = random.Random(key_length).randbytes(key_length)
    values = pa.array(messages, pa.binary())
    assert sm3.sha256(values).to_pylist() == [hashlib.sha256(m).digest() for m in messages]
    expected = [hmac.new(key, m, "sha256").digest() for m in messages]
    assert sm3.hmac_sha256(key, values).to_pylist() == expected


def test_padding_boundaries() -> None:
    # lengths around the 55 / 56 / 64-byte edges of one and two blocks
    values = [b"a" * n for n in (0, 1, 54, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000)]
    assert sm3.sm3(pa.array(values, pa.binary())).to_pylist() == [ref_sm3(v) for v in values]
    assert sm3.hmac_sm3(KEY, pa.array(values)).to_pylist() == [ref_hmac_sm3(KEY, v) for v in values]


def test_text_is_hashed_as_utf8_and_nulls_stay_null() -> None:
    text = ["张三", None, "", "四川省成都市", None]
    out = sm3.hmac_sm3(KEY, pa.array(text))
    assert out.to_pylist() == [None if t is None else ref_hmac_sm3(KEY, t.encode()) for t in text]
    large = sm3.hmac_sm3(KEY, pa.array(text, pa.large_string()))
    chunked = sm3.hmac_sm3(KEY, pa.chunked_array([text[:2], text[2:]]))
    assert large.equals(out) and chunked.equals(out)


def test_sliced_arrays_and_bytes_under_nulls() -> None:
    values = pa.array(["xx", "abc", "defg", "h"])
    assert sm3.sm3(values.slice(1, 2)).to_pylist() == [ref_sm3(b"abc"), ref_sm3(b"defg")]
    # an Arrow array may keep bytes under a null slot: they must not leak into other values
    data = pa.py_buffer(b"abcXYZdef")
    offsets = pa.py_buffer(np.array([0, 3, 6, 9], dtype=np.int32).tobytes())
    validity = pa.py_buffer(np.packbits([1, 0, 1], bitorder="little").tobytes())
    odd = pa.Array.from_buffers(pa.string(), 3, [validity, offsets, data])
    assert sm3.sm3(odd).to_pylist() == [ref_sm3(b"abc"), None, ref_sm3(b"def")]


def test_empty_and_wrong_inputs() -> None:
    assert len(sm3.hmac_sm3(KEY, pa.array([], pa.string()))) == 0
    assert sm3.sm3(pa.nulls(2)).to_pylist() == [None, None]
    with pytest.raises(InvalidInput, match="expected text or bytes"):
        sm3.sm3(pa.array([1, 2]))


def test_many_short_messages_in_chunks() -> None:
    # more messages than one chunk, of mixed block counts: chunk boundaries and ordering
    rng = random.Random(7)
    values = [rng.randbytes(rng.choice([3, 18, 60, 70, 130])) for _ in range(150_000)]
    out = sm3.hmac_sm3(KEY, pa.array(values, pa.binary())).to_pylist()
    sample = rng.sample(range(len(values)), 500)
    assert all(out[i] == ref_hmac_sm3(KEY, values[i]) for i in sample)


# -- base64url -------------------------------------------------------------------------------


def test_base64url_round_trip_against_the_standard_library() -> None:
    rng = random.Random(4648)
    values = [rng.randbytes(rng.randrange(0, 40)) for _ in range(500)] + [None]
    encoded = b64url_encode(ragged(pa.array(values, pa.binary()))).to_arrow(pa.string())
    expected = [None if v is None else b64(v) for v in values]
    assert encoded.to_pylist() == expected
    decoded, bad = b64url_decode(ragged(encoded))
    assert not bad.any()
    assert decoded.to_arrow(pa.binary()).to_pylist() == values


def test_base64url_rejects_bad_text() -> None:
    # a bad character, an impossible length, non-zero unused bits ("QR" is not canonical)
    decoded, bad = b64url_decode(ragged(pa.array(["QUJD", "QU+D", "QUJDR", "QR", "QQ"])))
    assert bad.tolist() == [False, True, True, True, False]
    assert decoded.to_arrow(pa.binary()).to_pylist()[::4] == [b"ABC", b"A"]


def test_positions() -> None:
    assert arrays.positions(np.array([5, 0, 9]), np.array([2, 0, 3])).tolist() == [
        5,
        6,
        9,
        10,
        11,
    ]


# -- keys ------------------------------------------------------------------------------------


def test_derive_keys() -> None:
    keys = crypto.derive_keys(KEY)
    assert keys == crypto.derive_keys(KEY)
    parts = {keys.pseudonym, keys.encryption, keys.mac}
    assert len(parts) == 3 and all(len(p) == 32 for p in parts)
    assert crypto.derive_keys(KEY[::-1]).pseudonym != keys.pseudonym
    assert "hidden" in repr(keys) and keys.mac.hex() not in repr(keys)
    with pytest.raises(InvalidInput, match="too short"):
        crypto.derive_keys(b"short")


# -- encryption ------------------------------------------------------------------------------

VALUES = [
    "510108200904081451",
    "张三",
    "",
    None,
    "四川省成都市武侯区人民南路四段1号" * 3,
    "x",
    "510108200904081451",
]


@pytest.mark.parametrize("algorithm", ["sm4", "aes", "aes-128"])
def test_round_trip(algorithm: crypto.Algorithm) -> None:
    sealed = crypto.encrypt(pa.array(VALUES), KEY, algorithm=algorithm)
    prefix = crypto.SUITES[algorithm].prefix
    assert all(v is None or v.startswith(prefix) for v in sealed.to_pylist())
    assert sealed.null_count == 1 and sealed[3].as_py() is None
    assert crypto.decrypt(sealed, KEY).to_pylist() == VALUES


def test_deterministic_and_keyed() -> None:
    one = crypto.encrypt(pa.array(VALUES), KEY).to_pylist()
    again = crypto.encrypt(pa.array(list(reversed(VALUES))), KEY).to_pylist()
    assert one == list(reversed(again))
    assert one[0] == one[6]  # the same value: the same ciphertext (equality joins work)
    other = crypto.encrypt(pa.array(VALUES), KEY[::-1]).to_pylist()
    assert all(a != b for a, b in zip(one, other, strict=True) if a is not None)
    aes = crypto.encrypt(pa.array(VALUES), KEY, algorithm="aes").to_pylist()
    assert all(a != b for a, b in zip(one, aes, strict=True) if a is not None)


@pytest.mark.parametrize("algorithm", ["sm4", "aes", "aes-128"])
def test_construction_matches_an_independent_implementation(algorithm: crypto.Algorithm) -> None:
    """tag = HMAC(mac key, m)[:16]; CTR from tag[:12] || 0^32; text = prefix + b64url."""
    suite = crypto.SUITES[algorithm]
    cipher_key, mac_key = crypto.suite_keys(crypto.derive_keys(KEY), suite)
    values = ["张三", "", "a" * 100]
    got = crypto.encrypt(pa.array(values), KEY, algorithm=algorithm).to_pylist()
    for value, text in zip(values, got, strict=True):
        plain = value.encode()
        digest = hashes.SM3() if suite.mac == "sm3" else hashes.SHA256()
        mac = chmac.HMAC(mac_key, digest)
        mac.update(plain)
        tag = mac.finalize()[:16]
        block = algorithms.SM4(cipher_key) if algorithm == "sm4" else algorithms.AES(cipher_key)
        ctr = Cipher(block, modes.CTR(tag[:12] + bytes(4))).encryptor()
        body = tag + ctr.update(plain) + ctr.finalize()
        assert text == suite.prefix + b64(body)


def test_tampering_is_detected() -> None:
    sealed = crypto.encrypt(pa.array(VALUES), KEY).to_pylist()
    text = sealed[4]
    assert text is not None
    i = len(text) // 2
    flipped = text[:i] + ("A" if text[i] != "A" else "B") + text[i + 1 :]
    tampered = [*sealed[:4], flipped, *sealed[5:]]
    with pytest.raises(InvalidInput, match="row 5.*does not authenticate"):
        crypto.decrypt(pa.array(tampered), KEY)
    # one value's tag with another value's ciphertext
    bodies = [unb64(t) for t in sealed[:2]]
    swapped = "sm4:" + b64(bodies[0][:16] + bodies[1][16:])
    with pytest.raises(InvalidInput, match="row 1.*does not authenticate"):
        crypto.decrypt(pa.array([swapped]), KEY)
    # a truncated value, a damaged one, a foreign one
    with pytest.raises(InvalidInput, match="row 2.*damaged"):
        crypto.decrypt(pa.array([sealed[0], "sm4:AAAA"]), KEY)
    with pytest.raises(InvalidInput, match="row 3.*damaged"):
        crypto.decrypt(pa.array([sealed[0], None, "sm4:" + "!" * 30]), KEY)
    with pytest.raises(InvalidInput, match="row 2.*not a dizuo ciphertext"):
        crypto.decrypt(pa.array([sealed[0], "510108200904081451"]), KEY)


def test_wrong_key_is_detected() -> None:
    sealed = crypto.encrypt(pa.array(VALUES), KEY)
    with pytest.raises(InvalidInput, match="row 1.*wrong key") as info:
        crypto.decrypt(sealed, KEY[::-1])
    assert info.value.where is not None and info.value.where.row == 1
    assert info.value.hint


def test_mixed_algorithms_and_binary_values() -> None:
    sm4 = crypto.encrypt(pa.array(["a", "张"]), KEY)
    aes = crypto.encrypt(pa.array(["b"]), KEY, algorithm="aes")
    mixed = pa.concat_arrays([sm4, aes, pa.array([None], pa.string())])
    assert crypto.decrypt(mixed, KEY).to_pylist() == ["a", "张", "b", None]
    raw = pa.array([b"\xff\x00\xfe", b"ok"], pa.binary())
    sealed = crypto.encrypt(raw, KEY)
    assert crypto.decrypt(sealed, KEY, binary=True).to_pylist() == raw.to_pylist()
    with pytest.raises(InvalidInput, match="row 1.*not UTF-8"):
        crypto.decrypt(sealed, KEY)


def test_derived_keys_and_other_types() -> None:
    keys = crypto.derive_keys(KEY)
    sealed = crypto.encrypt(pa.array([12, None, 7]), keys)
    assert crypto.decrypt(sealed, KEY).to_pylist() == ["12", None, "7"]
    assert crypto.encrypt(pa.array([], pa.string()), KEY).to_pylist() == []
    with pytest.raises(InvalidInput, match="unknown encryption algorithm"):
        crypto.encrypt(pa.array(["a"]), KEY, algorithm="des")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="ciphertexts are strings"):
        crypto.decrypt(pa.array([1]), KEY)


def test_many_values() -> None:
    values = pa.array([f"5101082009{i:08d}" if i % 10 else None for i in range(100_000)])
    sealed = crypto.encrypt(values, KEY)
    assert pa.compute.count_distinct(sealed).as_py() == 90_000
    assert crypto.decrypt(sealed, KEY).equals(values)


def test_docstring_examples() -> None:
    for module in (arrays, sm3, crypto):
        result = doctest.testmod(module, extraglobs={"pa": pa, "np": np})
        assert result.failed == 0, module.__name__
