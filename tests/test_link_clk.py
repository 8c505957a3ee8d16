"""Keyed Bloom-filter encodings for privacy-preserving linkage (dizuo.link.clk)."""

from __future__ import annotations

import doctest
import re

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pytest
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from dizuo.errors import InvalidInput
from dizuo.link import clk
from dizuo.link.clk import choose_k, dice, encode, hash_count, popcounts

KEY = bytes(range(32))
OTHER_KEY = bytes(range(100, 132))
MASK64 = (1 << 64) - 1


def _pairs(n: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    return np.arange(n, dtype=np.int64), np.arange(n, dtype=np.int64)


def _dice1(a: npt.NDArray[np.uint64], b: npt.NDArray[np.uint64]) -> float:
    """Dice of two single filters."""
    zero = np.zeros(1, dtype=np.int64)
    return float(dice(a[None, :], b[None, :], zero, zero)[0])


# -- a slow reference encoder, written from the module documentation --------------------------


def _ref_key(key: bytes, field: str) -> bytes:
    info = b"dizuo/clk/" + field.encode()
    return HKDF(algorithm=hashes.SM3(), length=32, salt=b"dizuo/link/v1", info=info).derive(key)


def _ref_qgrams(value: str | None, q: int, keep_spaces: bool) -> list[tuple[int, ...]]:
    if value is None:
        return []
    text = re.sub(r"\s+", " " if keep_spaces else "", value.strip())
    if not text:
        return []
    units = [0x110000] * (q - 1) + [ord(c) for c in text] + [0x110001] * (q - 1)
    return [tuple(units[i : i + q]) for i in range(len(units) - q + 1)]


def _mix(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def _ref_positions(field_key: bytes, gram: tuple[int, ...], bits: int, k: int) -> set[int]:
    mac = hmac.HMAC(field_key, hashes.SM3())
    mac.update(b"".join(u.to_bytes(4, "big") for u in gram))
    digest = mac.finalize()
    seeds = [int.from_bytes(digest[8 * j : 8 * j + 8], "little") for j in range(4)]
    out = set()
    for i in range(k):
        x = _mix((seeds[i % 4] + (i // 4 + 1) * 0x9E3779B97F4A7C15) & MASK64)
        out.add(((x >> 32) * bits) >> 32)
    return out


def _ref_filter(
    value: str | None, key: bytes, field: str, bits: int, k: int, q: int, keep_spaces: bool
) -> set[int]:
    field_key = _ref_key(key, field)
    out: set[int] = set()
    for gram in _ref_qgrams(value, q, keep_spaces):
        out |= _ref_positions(field_key, gram, bits, k)
    return out


def _bits_of(filters: npt.NDArray[np.uint64]) -> list[set[int]]:
    """The set positions of every filter (bit p is bit p % 64 of word p // 64)."""
    unpacked = np.unpackbits(filters.astype("<u8").view(np.uint8), axis=1, bitorder="little")
    return [set(np.flatnonzero(row).tolist()) for row in unpacked]


def _random_values(rng: np.random.Generator, n: int) -> list[str | None]:
    # Han characters (one outside the BMP), pinyin letters, an ASCII and an ideographic space
    alphabet = [*"张王李赵刘陈杨黄伟卫玮娜丽英军红欧阳𠮷", *"abcdefghzqwxy", " ", "\u3000"]
    out: list[str | None] = []
    for _ in range(n):
        length = int(rng.integers(0, 9))
        out.append("".join(rng.choice(alphabet, length)))
    out[::37] = [None] * len(out[::37])
    return out


# -- behaviour -------------------------------------------------------------------------------


def test_identical_values_have_dice_one() -> None:
    values = pa.array(["张伟", "张伟", "欧阳娜娜", "欧阳娜娜", "zhang wei", "zhang wei"])
    f = encode(values, KEY, field="name")
    sims = dice(f, f, np.array([0, 2, 4]), np.array([1, 3, 5]))
    assert sims.tolist() == [1.0, 1.0, 1.0]
    assert (f[0] == f[1]).all()


def test_one_character_differs() -> None:
    f = encode(pa.array(["张伟", "张卫", "李娜"]), KEY, field="name")
    close = _dice1(f[0], f[1])  # shares ^张 of ^张, 张伟, 伟$
    far = _dice1(f[0], f[2])  # shares nothing
    assert 0.2 < close < 0.8
    assert close > far + 0.15
    assert far < 0.2


def test_pinyin_and_spaces() -> None:
    values = pa.array(["zhang wei", "zhang wei", " zhangwei ", "zhang  wei", "zhang wen"])
    f = encode(values, KEY, field="pinyin", k=20)
    sims = dice(f, f, np.zeros(5, dtype=np.int64), np.arange(5))
    assert sims[:4].tolist() == [1.0] * 4  # inner whitespace is removed by default
    assert 0.5 < sims[4] < 1.0
    spaced = encode(values, KEY, field="pinyin", k=20, keep_spaces=True)
    assert (spaced[0] == spaced[3]).all()  # runs of whitespace count as one space
    assert _dice1(spaced[0], spaced[2]) < 1.0
    assert _dice1(spaced[0], spaced[1]) == 1.0


def test_null_empty_and_blank_give_empty_filters() -> None:
    values = pa.array(["张伟", None, "", "   ", "\u3000", "李娜"])
    f = encode(values, KEY, field="name")
    assert popcounts(f).tolist()[1:5] == [0, 0, 0, 0]
    assert (f[1:5] == 0).all()
    left = np.array([1, 1, 0, 2, 3])
    right = np.array([1, 0, 1, 5, 4])
    assert dice(f, f, left, right).tolist() == [0.0] * 5
    assert encode(pa.nulls(3, pa.string()), KEY, field="name").tolist() == [[0] * 16] * 3
    assert encode(pa.array([], pa.string()), KEY, field="name").shape == (0, 16)


def test_keys_and_fields_change_the_filters() -> None:
    rng = np.random.default_rng(7)
    values = pa.array([(v or "").strip() or "张" for v in _random_values(rng, 300)])
    f = encode(values, KEY, field="name", k=20)
    other_key = encode(values, OTHER_KEY, field="name", k=20)
    other_field = encode(values, KEY, field="pinyin", k=20)
    n = len(values)
    left, right = _pairs(n)
    assert not (f == other_key).all(axis=1).any()
    assert not (f == other_field).all(axis=1).any()
    across_keys = dice(f, other_key, left, right).mean()
    across_fields = dice(f, other_field, left, right).mean()
    # about what unrelated values give under one key: chance overlap only
    shuffled = np.roll(right, 1)
    unrelated = dice(f, f, left, shuffled)
    unrelated = unrelated[np.array(values)[left] != np.array(values)[shuffled]].mean()
    assert across_keys < 0.35
    assert abs(across_keys - across_fields) < 0.05
    assert across_keys < unrelated + 0.05


def test_determinism_chunks_and_input_forms() -> None:
    rng = np.random.default_rng(3)
    raw = _random_values(rng, 200)
    values = pa.array(raw)
    first = encode(values, KEY, field="name")
    assert (encode(values, KEY, field="name") == first).all()
    assert (encode(values, KEY, field="name", chunk=3) == first).all()
    assert (encode(values, KEY, field="name", chunk=1) == first).all()
    chunked = pa.chunked_array([raw[:50], raw[50:]], pa.string())
    assert (encode(chunked, KEY, field="name") == first).all()
    assert (encode(values.cast(pa.large_string()), KEY, field="name") == first).all()
    assert (encode(values.dictionary_encode(), KEY, field="name") == first).all()
    # with k fixed, a value's filter does not depend on the other values encoded with it
    k = choose_k(values)
    alone = encode(pa.array([raw[1]]), KEY, field="name", k=k)
    assert (alone[0] == first[1]).all()


def test_numbers_are_read_as_text() -> None:
    as_int = encode(pa.array([12345, None]), KEY, field="code", k=10)
    as_text = encode(pa.array(["12345", None]), KEY, field="code", k=10)
    assert (as_int == as_text).all()


def test_exactness_against_a_slow_reference() -> None:
    rng = np.random.default_rng(11)
    raw = _random_values(rng, 300)
    values = pa.array(raw)
    cases = [(1024, None, 2, False), (256, 7, 1, False), (512, 12, 3, True), (1024, 30, 2, True)]
    for bits, k, q, keep in cases:
        f = encode(values, KEY, field="name", bits=bits, k=k, q=q, keep_spaces=keep, chunk=64)
        used_k = k if k is not None else choose_k(values, bits=bits, q=q)
        expected = [_ref_filter(v, KEY, "name", bits, used_k, q, keep) for v in raw]
        assert _bits_of(f) == expected
        assert popcounts(f).tolist() == [len(s) for s in expected]
        left = rng.integers(0, len(raw), 2000)
        right = rng.integers(0, len(raw), 2000)
        right[:300] = left[:300]  # identical pairs too
        got = dice(f, f, left, right)
        want = [
            2 * len(expected[i] & expected[j]) / (len(expected[i]) + len(expected[j]))
            if expected[i] or expected[j]
            else 0.0
            for i, j in zip(left.tolist(), right.tolist(), strict=True)
        ]
        assert got.tolist() == np.array(want, dtype=np.float32).tolist()


def test_dice_in_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(5)
    a = encode(pa.array(_random_values(rng, 120)), KEY, field="name", bits=128, k=9)
    b = encode(pa.array(_random_values(rng, 80)), KEY, field="name", bits=128, k=9)
    left = rng.integers(0, len(a), 1000)
    right = rng.integers(0, len(b), 1000)
    whole = dice(a, b, left, right)
    counts = popcounts(a)
    monkeypatch.setattr(clk, "PAIR_CHUNK", 7)
    monkeypatch.setattr(clk, "ROW_CHUNK", 5)
    assert (dice(a, b, left, right) == whole).all()
    assert (popcounts(a) == counts).all()
    assert dice(a, b, np.zeros(0, np.int64), np.zeros(0, np.int64)).shape == (0,)


def test_shapes_and_dtypes() -> None:
    f = encode(pa.array(["张伟", "李娜", None]), KEY, field="name", bits=512)
    assert f.shape == (3, 8)
    assert f.dtype == np.uint64
    assert popcounts(f).dtype == np.int32
    assert popcounts(f).shape == (3,)
    sims = dice(f, f, np.array([0, 1]), np.array([1, 1]))
    assert sims.dtype == np.float32
    assert sims.shape == (2,)


def test_default_k() -> None:
    assert hash_count(15, 1000) == 27
    assert hash_count(3, 1024) == 30  # short fields: clipped
    assert hash_count(200, 1024) == 5
    assert hash_count(0, 1024) == 30
    names = pa.array(["张伟", "欧阳娜娜", None, ""])
    assert choose_k(names) == 30
    addresses = pa.array(["四川省成都市武侯区浆洗街道高升桥东路一号院三栋二单元"] * 3)
    k = choose_k(addresses)  # 26 characters, 27 bigrams
    assert k == hash_count(27, 1024) == 15
    default = encode(addresses, KEY, field="address")
    assert (default == encode(addresses, KEY, field="address", k=k)).all()


# -- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize("bits", [1000, 0, 32, -64])
def test_bits_must_be_a_multiple_of_64(bits: int) -> None:
    with pytest.raises(ValueError, match="multiple of 64"):
        encode(pa.array(["张伟"]), KEY, field="name", bits=bits)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"q": 0}, "q must be"),
        ({"q": 4}, "q must be"),
        ({"k": 0}, "k must be"),
        ({"bits": 64, "k": 65}, "k must be"),
        ({"chunk": 0}, "chunk must be"),
    ],
)
def test_parameters_out_of_range(options: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        encode(pa.array(["张伟"]), KEY, field="name", **options)  # type: ignore[arg-type]


def test_key_field_and_input_errors() -> None:
    with pytest.raises(InvalidInput, match="too short"):
        encode(pa.array(["张伟"]), b"short", field="name")
    with pytest.raises(InvalidInput, match="field name"):
        encode(pa.array(["张伟"]), KEY, field="")
    with pytest.raises(InvalidInput, match="Arrow array"):
        encode(["张伟"], KEY, field="name")


def test_dice_errors_name_no_values() -> None:
    a = encode(pa.array(["张伟", "李娜"]), KEY, field="name")
    narrow = encode(pa.array(["张伟"]), KEY, field="name", bits=512)
    one = np.zeros(1, dtype=np.int64)
    with pytest.raises(ValueError, match="differ in length: 1024 and 512 bits"):
        dice(a, narrow, one, one)
    with pytest.raises(ValueError, match="out of range"):
        dice(a, a, np.array([2]), one)
    with pytest.raises(ValueError, match="out of range"):
        dice(a, a, one, np.array([-1]))
    with pytest.raises(ValueError, match="left and right differ in length"):
        dice(a, a, np.array([0, 1]), one)
    with pytest.raises(ValueError, match="2-D uint64"):
        dice(a.astype(np.int64), a, one, one)
    with pytest.raises(ValueError, match="integer"):
        dice(a, a, np.array([0.5]), one)


def test_docstring_examples() -> None:
    result = doctest.testmod(clk, extraglobs={"pa": pa, "np": np})
    assert result.failed == 0
    assert result.attempted > 0
