"""De-identification transforms (GB/T 37964-2019): pure functions from Arrow arrays to arrays.

Every transform returns an array of the same length as its input, computed with Arrow compute
kernels, RE2 regular expressions and NumPy — no Python loop over values. Nulls stay null;
where a transform first normalises its input (trim, full-width to half-width, see
:func:`dizuo.classify.detectors.normalise`), a blank value is null too. Values a transform
cannot read (garbage in a date or region column) become null, never an error;
:func:`invalid_count` tells how many did. Errors are only for wrong options.

- **Pseudonyms** (:func:`pseudonymise`): keyed HMAC-SM3 or HMAC-SHA256 of the normalised value,
  in hex. Keyed, so a dictionary of all ID numbers cannot reverse them without the key; the
  same value gives the same pseudonym in every dataset of a workspace, so linkage still works.
- **Masking** (:func:`mask`, :func:`mask_preset`): characters replaced, some kept.
- **Generalisation**: numbers to intervals (:func:`generalise_number`, :func:`age_band`),
  dates to month / quarter / year, GB/T 2260 region codes and Chinese addresses to district /
  city / province, coordinates to the centre of a grid cell.
- **Top / bottom coding** (:func:`top_bottom_code`) and **suppression** (:func:`suppress`).
- **Noise** (:func:`add_noise`): Laplace or Gaussian noise drawn by OpenDP's samplers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from dizuo.classify import vocab
from dizuo.classify.detectors import as_strings, compact, normalise_text
from dizuo.classify.regions import region_periods
from dizuo.errors import InvalidInput
from dizuo.i18n import tr
from dizuo.protect.arrays import Mask, strings_from_matrix, valid_mask
from dizuo.protect.sm3 import DIGEST, hmac_digests

Values: TypeAlias = pa.Array | pa.ChunkedArray
Floats = npt.NDArray[np.float64]
Normalise = Literal["text", "compact", "none"]
PseudonymAlgorithm = Literal["hmac-sm3", "hmac-sha256"]
MaskPreset = Literal["resident_id", "mobile_phone", "bank_card", "person_name", "email", "address"]
Labels = Literal["range", "lower", "midpoint"]
DateLevel = Literal["month", "quarter", "year"]
RegionLevel = Literal["district", "city", "province"]
Mechanism = Literal["laplace", "gaussian"]

#: metres per degree of latitude on a sphere of the IUGG mean Earth radius (6,371,008.8 m)
METRES_PER_DEGREE = math.pi * 6_371_008.8 / 180
#: the shortest pseudonym key (128 bits)
MIN_KEY = 16
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def _choice(name: str, value: object, options: tuple[object, ...]) -> None:
    if value not in options:
        raise InvalidInput(
            tr("{n} 的取值 {v!r} 无效", "invalid {n} {v!r}", n=name, v=value),
            hint=tr("可选：{o}", "one of: {o}", o=", ".join(map(str, options))),
        )


def _positive(name: str, value: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise InvalidInput(
            tr("{n} 应为正数，而不是 {v!r}", "{n} must be positive, not {v!r}", n=name, v=value)
        )


def _array(values: Values) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        if values.num_chunks == 0:
            return pa.array([], values.type)
        return values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    return values


def _normal(values: Values, form: Normalise) -> pa.Array:
    if form == "none":
        return as_strings(values)
    text = normalise_text(values)
    return text if form == "text" else compact(text)


def invalid_count(values: Values, result: Values) -> int:
    """How many values a transform could not read: not null (nor blank) before, null after.

    >>> invalid_count(pa.array(["510107", "999999", None]),
    ...               generalise_region(pa.array(["510107", "999999", None]), level="city"))
    1
    """
    before = _array(values)
    if pa.types.is_string(before.type) or pa.types.is_large_string(before.type):
        before = normalise_text(before)
    had = valid_mask(before)
    return int(np.count_nonzero(had & ~valid_mask(_array(result))))


# -- pseudonyms ------------------------------------------------------------------------------


def hex_matrix(digests: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """Lowercase hex of an ``(n, w)`` byte matrix, as an ``(n, 2w)`` matrix of ASCII codes."""
    out = np.empty((digests.shape[0], 2 * digests.shape[1]), dtype=np.uint8)
    out[:, 0::2] = _HEX[digests >> 4]
    out[:, 1::2] = _HEX[digests & 15]
    return out


def pseudonymise(
    values: Values,
    key: bytes,
    *,
    algorithm: PseudonymAlgorithm = "hmac-sm3",
    normalise: Normalise = "text",
    length: int = 32,
    prefix: str = "",
) -> pa.Array:
    """Keyed pseudonyms: ``prefix + hex(HMAC(key, normalised value))[:length]``.

    The value is normalised first, so that spellings of one value give one pseudonym:
    ``text`` trims and maps full-width characters to half-width (``" 张三 "`` = ``"张三"``,
    ``"１３８…"`` = ``"138…"``); ``compact`` also removes inner spaces and hyphens and upper-cases
    ASCII letters — the form for ID numbers and codes (``" 5101 0820 0904 0814 5x "`` =
    ``"51010820090408145X"``); ``none`` hashes the text as given. With the workspace's pseudonym
    key (:attr:`dizuo.protect.crypto.Keys.pseudonym`) the same value gets the same pseudonym in
    every dataset of the workspace, so datasets still join on it; without the key, a pseudonym
    cannot be recomputed from a guessed value.

    Args:
        values: The values (any type; non-text values are cast to text).
        key: The HMAC key, at least 16 bytes.
        algorithm: ``hmac-sm3`` (GB/T 32905, the default) or ``hmac-sha256``.
        normalise: ``text``, ``compact`` or ``none`` (see above).
        length: Hex characters kept, 1–64 (32 = 128 bits).
        prefix: Text put before every pseudonym (e.g. ``"P"``).

    Returns:
        Strings; null where the value is null or blank.
    """
    _choice("algorithm", algorithm, ("hmac-sm3", "hmac-sha256"))
    _choice("normalise", normalise, ("text", "compact", "none"))
    if not (isinstance(length, int) and 1 <= length <= 2 * DIGEST):
        raise InvalidInput(
            tr("length 应在 1 到 64 之间", "length must be between 1 and 64"),
            hint=tr("32 个十六进制字符即 128 位", "32 hex characters are 128 bits"),
        )
    if len(key) < MIN_KEY:
        raise InvalidInput(
            tr(
                "假名密钥太短：至少 {n} 字节",
                "the pseudonym key is too short: {n} bytes at least",
                n=MIN_KEY,
            )
        )
    text = _normal(values, normalise)
    digests = hmac_digests(key, text, algorithm="sm3" if algorithm == "hmac-sm3" else "sha256")
    chars = hex_matrix(digests)[:, :length]
    if prefix:
        head = np.frombuffer(prefix.encode("utf-8"), dtype=np.uint8)
        chars = np.hstack([np.broadcast_to(head, (len(chars), len(head))), chars])
    return strings_from_matrix(chars, valid_mask(text))


# -- masking ---------------------------------------------------------------------------------


def _lengths(text: pa.Array) -> pa.Array:
    return pc.utf8_length(text)


def _stars(char: str, counts: pa.Array) -> pa.Array:
    return pc.binary_repeat(pa.scalar(char), pc.max_element_wise(counts, 0, skip_nulls=False))


def _tail(text: pa.Array, n: int) -> pa.Array:
    return pc.utf8_slice_codeunits(text, -n) if n else pc.utf8_slice_codeunits(text, 0, 0)


def _join(*parts: pa.Array | str) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _masked(text: pa.Array, head: pa.Array, kept: pa.Array | int, last: int, char: str) -> pa.Array:
    """``head`` + ``char`` for the characters between + the last ``last`` characters, or the
    whole value masked where it has no more than ``kept`` characters."""
    n = _lengths(text)
    middle = _join(head, _stars(char, pc.subtract(n, kept)), _tail(text, last))
    return pc.if_else(pc.less_equal(n, kept), _stars(char, n), middle)


def mask(values: Values, *, keep_first: int = 0, keep_last: int = 0, char: str = "*") -> pa.Array:
    """Replace every character but the first ``keep_first`` and the last ``keep_last``.

    Characters, not bytes, are counted (``"张三丰"`` has three), and each masked character
    becomes one ``char``, so the length stays. A value with no more characters than
    ``keep_first + keep_last`` is masked entirely — a short value never shows through.
    Values are masked as given (:func:`mask_preset` normalises first).

    >>> mask(pa.array(["13812345678", "abc", None]), keep_first=3, keep_last=4).to_pylist()
    ['138****5678', '***', None]
    """
    for name, n in (("keep_first", keep_first), ("keep_last", keep_last)):
        if not (isinstance(n, int) and n >= 0):
            raise InvalidInput(tr("{n} 应为非负整数", "{n} must be a non-negative integer", n=name))
    if not (isinstance(char, str) and len(char) == 1):
        raise InvalidInput(tr("char 应为一个字符", "char must be one character"))
    text = as_strings(values)
    head = pc.utf8_slice_codeunits(text, 0, keep_first)
    return _masked(text, head, keep_first + keep_last, keep_last, char)


_MOBILE_CC_RE = r"^(?:\+86|0086|86)(1\d{10})$"
_EMAIL_RE = r"^(?P<local>.*)@(?P<domain>[^@]*)$"


def mask_preset(values: Values, preset: MaskPreset, *, char: str = "*") -> pa.Array:
    """Mask with a preset of common Chinese practice for the entity.

    Values are normalised first (:func:`dizuo.classify.detectors.normalise`); blanks are null.

    - ``resident_id`` (compact form): first 3 and last 4 characters kept —
      ``110105199001011234`` → ``110***********1234``.
    - ``mobile_phone`` (compact; a ``+86`` / ``0086`` / ``86`` country code dropped): first 3
      and last 4 — ``138****5678``.
    - ``bank_card`` (compact): first 6 (the issuer) and last 4 — ``622202*********3446``.
    - ``person_name`` (text form): the surname kept — the first character, or the first two
      for a compound surname (欧阳, 司马 …) in a name of three or more — and ``*`` for every
      other character: ``张*``, ``张**``, ``欧阳**``.
    - ``email`` (text): the first character of the local part, ``***``, then ``@`` and the
      domain — ``l***@example.com``; a value without ``@`` is masked entirely.
    - ``address`` (text, spaces removed): kept up to the district or county (else the city,
      else the province, see :func:`generalise_address`), then ``***`` —
      ``四川省成都市武侯区***``; an address without such a level is ``***``.

    A value too short for what a preset keeps is masked entirely (see :func:`mask`).
    """
    _choice("preset", preset, MASK_PRESETS)
    if preset in ("resident_id", "mobile_phone", "bank_card"):
        text = _normal(values, "compact")
        if preset == "mobile_phone":
            text = pc.replace_substring_regex(text, _MOBILE_CC_RE, r"\1")
        first, last = {"resident_id": (3, 4), "mobile_phone": (3, 4), "bank_card": (6, 4)}[preset]
        return mask(text, keep_first=first, keep_last=last, char=char)
    text = _normal(values, "text")
    if preset == "person_name":
        n = _lengths(text)
        two = pc.utf8_slice_codeunits(text, 0, 2)
        compound = pc.and_(
            pc.is_in(two, value_set=pa.array(list(vocab.COMPOUND_SURNAMES), pa.string())),
            pc.greater_equal(n, 3),
        )
        head = pc.if_else(compound, two, pc.utf8_slice_codeunits(text, 0, 1))
        kept = pc.if_else(compound, 2, 1)
        return _masked(text, head, kept, 0, char)
    if preset == "email":
        parts = pc.extract_regex(text, _EMAIL_RE)
        local = pc.utf8_slice_codeunits(pc.struct_field(parts, "local"), 0, 1)
        masked = _join(local, char * 3 + "@", pc.struct_field(parts, "domain"))
        return pc.if_else(pc.is_valid(parts), masked, _stars(char, _lengths(text)))
    text = pc.replace_substring_regex(text, r"\s+", "")
    cut = pc.coalesce(
        generalise_address(text, level="district"),
        generalise_address(text, level="city"),
        generalise_address(text, level="province"),
        pc.if_else(pc.is_valid(text), "", pa.scalar(None, pa.string())),
    )
    return _join(cut, char * 3)


MASK_PRESETS: tuple[MaskPreset, ...] = (
    "resident_id",
    "mobile_phone",
    "bank_card",
    "person_name",
    "email",
    "address",
)


# -- numbers ---------------------------------------------------------------------------------

_NUMBER_RE = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$"


@dataclass(frozen=True)
class _Numbers:
    """Values read as numbers: ``values`` (NaN where unreadable), ``valid``, and whether they
    are whole numbers of an integer column (then ``ints`` holds them exactly)."""

    values: Floats
    valid: Mask
    ints: npt.NDArray[np.int64] | None


def _numbers(values: Values) -> _Numbers:
    """Numbers from numeric, boolean or text values (text: normalised, then ``[+-]d[.d][eN]``;
    anything else null)."""
    x = _array(values)
    t = x.type
    if pa.types.is_null(t):
        return _Numbers(np.full(len(x), np.nan), np.zeros(len(x), bool), None)
    if pa.types.is_boolean(t):
        x, t = x.cast(pa.int64()), pa.int64()
    if pa.types.is_integer(t):
        ints = np.asarray(pc.fill_null(x.cast(pa.int64()), 0).to_numpy(), dtype=np.int64)
        return _Numbers(ints.astype(np.float64), valid_mask(x), ints)
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        f = np.asarray(x.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
        f = np.where(valid_mask(x), f, np.nan)
        return _Numbers(f, valid_mask(x) & np.isfinite(f), None)
    if not (pa.types.is_string(t) or pa.types.is_large_string(t)):
        raise InvalidInput(
            tr("需要数值，而不是 {t} 类型的值", "expected numbers, not values of {t}", t=str(t))
        )
    text = normalise_text(x)
    ok = pc.fill_null(pc.match_substring_regex(text, _NUMBER_RE), False)
    number = pc.cast(pc.if_else(ok, text, pa.scalar(None, pa.string())), pa.float64())
    f = np.asarray(pc.fill_null(number, np.nan).to_numpy(), dtype=np.float64)
    valid = np.isfinite(f)
    return _Numbers(f, valid, None)


def _whole(x: float) -> bool:
    return float(x).is_integer()


def _decimals(x: float) -> int:
    """Digits after the point in the shortest spelling of ``x`` (at most 12)."""
    text = repr(float(x))
    if "e" in text:
        mantissa, exponent = text.split("e")
        digits = len(mantissa.partition(".")[2].rstrip("0")) - int(exponent)
    else:
        digits = len(text.partition(".")[2].rstrip("0"))
    return max(0, min(12, digits))


def _fixed(x: Floats, decimals: int) -> pa.Array:
    """Numbers as text with exactly ``decimals`` digits after the point (``20.0``, ``-0.5``)."""
    scale = 10**decimals
    scaled = np.rint(x * scale)
    exact = np.abs(scaled) < 2**62
    s = np.where(exact, scaled, 0).astype(np.int64)
    a = np.abs(s)
    sign = pa.array(np.where(s < 0, "-", ""))
    whole = pc.cast(pa.array(a // scale), pa.string())
    fraction = pc.utf8_lpad(pc.cast(pa.array(a % scale), pa.string()), decimals, "0")
    text = _join(sign, whole, ".", fraction) if decimals else _join(sign, whole)
    return pc.if_else(pa.array(exact), text, pc.cast(pa.array(x), pa.string()))


def _text_of_ints(x: npt.NDArray[np.int64]) -> pa.Array:
    return pc.cast(pa.array(x), pa.string())


def _with_nulls(values: pa.Array, valid: Mask) -> pa.Array:
    if valid.all():
        return values
    return pc.if_else(pa.array(valid), values, pa.scalar(None, values.type))


def generalise_number(
    values: Values, *, width: float, origin: float = 0, labels: Labels = "range"
) -> pa.Array:
    """Numbers to intervals ``[origin + k·width, origin + (k+1)·width)``.

    Whole numbers (an integer column, or text holding only whole numbers) with a whole
    ``width`` and ``origin`` get labels ``"20-29"`` (both ends included); other numbers get
    ``"[20.0, 30.0)"``, with as many decimals as ``width`` and ``origin`` need (at least one).

    Args:
        values: Numbers, or text holding numbers (unreadable text is null).
        width: The interval width (> 0).
        origin: Where an interval starts.
        labels: ``range`` (text labels as above), ``lower`` (the lower bound, a number) or
            ``midpoint`` (the interval's centre, a float).

    >>> generalise_number(pa.array([23, 30, None]), width=10).to_pylist()
    ['20-29', '30-39', None]
    """
    _positive("width", width)
    _choice("labels", labels, ("range", "lower", "midpoint"))
    if not math.isfinite(origin):
        raise InvalidInput(tr("origin 应为有限数", "origin must be a finite number"))
    num = _numbers(values)
    x, valid = num.values, num.valid
    seen = x[valid]
    whole_numbers = num.ints is not None or bool(
        np.all((np.mod(seen, 1) == 0) & (np.abs(seen) < 2**53))
    )
    integral = whole_numbers and _whole(width) and _whole(origin)
    safe = np.where(valid, x, origin)
    k = np.floor((safe - origin) / width)
    if integral:
        w, o = int(width), int(origin)
        ints = num.ints if num.ints is not None else safe.astype(np.int64)
        low = o + np.floor_divide(np.where(valid, ints, o) - o, w) * w
        if labels == "lower":
            return _with_nulls(pa.array(low), valid)
        if labels == "midpoint":
            return _with_nulls(pa.array(low + (w - 1) / 2), valid)
        return _with_nulls(_join(_text_of_ints(low), "-", _text_of_ints(low + w - 1)), valid)
    lower = origin + k * width
    if labels == "lower":
        return _with_nulls(pa.array(lower), valid)
    if labels == "midpoint":
        return _with_nulls(pa.array(lower + width / 2), valid)
    d = max(1, _decimals(width), _decimals(origin))
    label = _join("[", _fixed(lower, d), ", ", _fixed(lower + width, d), ")")
    return _with_nulls(label, valid)


#: ages above this are taken for typing errors (null)
MAX_AGE = 150


def age_band(values: Values, width: int = 5, top: int | None = None) -> pa.Array:
    """Ages to bands ``"20-24"`` (``width`` 5) or ``"20-29"`` (10); ``"90+"`` from ``top`` on.

    Ages are whole years (fractions dropped); negative ages and ages above 150 are null. The
    band just below ``top`` ends at ``top - 1`` (``top=85``, width 10: ``"80-84"``, ``"85+"``).

    >>> age_band(pa.array([3, 47, 95, -1]), width=10, top=90).to_pylist()
    ['0-9', '40-49', '90+', None]
    """
    if not (isinstance(width, int) and width > 0):
        raise InvalidInput(tr("width 应为正整数", "width must be a positive integer"))
    if top is not None and not (isinstance(top, int) and top > 0):
        raise InvalidInput(tr("top 应为正整数", "top must be a positive integer"))
    num = _numbers(values)
    age = np.floor(np.clip(np.where(num.valid, num.values, 0), -1, MAX_AGE + 1)).astype(np.int64)
    valid = num.valid & (age >= 0) & (age <= MAX_AGE)
    low = age // width * width
    high = low + width - 1
    if top is not None:
        high = np.minimum(high, top - 1)
    label = _join(_text_of_ints(low), "-", _text_of_ints(high))
    if top is not None:
        label = pc.if_else(pa.array(age >= top), f"{top}+", label)
    return _with_nulls(label, valid)


def top_bottom_code(
    values: Values, *, low: float | None = None, high: float | None = None
) -> pa.Array:
    """Numbers clipped to ``[low, high]`` (top / bottom coding); either bound may be None.

    An integer column with whole bounds stays integer (its type kept); otherwise the result is
    float64. Text is read as numbers (unreadable text is null).
    """
    if low is not None and high is not None and low > high:
        raise InvalidInput(
            tr("low 不能大于 high", "low must not be greater than high"),
            hint=tr("low={l}, high={h}", "low={l}, high={h}", l=low, h=high),
        )
    for bound in (low, high):
        if bound is not None and not math.isfinite(bound):
            raise InvalidInput(tr("界限应为有限数", "bounds must be finite numbers"))
    x = _array(values)
    bounds = [b for b in (low, high) if b is not None]
    if pa.types.is_integer(x.type) and all(_whole(b) for b in bounds):
        out = x
        if low is not None:
            out = pc.max_element_wise(out, pa.scalar(int(low), x.type), skip_nulls=False)
        if high is not None:
            out = pc.min_element_wise(out, pa.scalar(int(high), x.type), skip_nulls=False)
        return out
    num = _numbers(x)
    clipped = np.clip(num.values, -np.inf if low is None else low, np.inf if high is None else high)
    keep = valid_mask(x) if pa.types.is_floating(x.type) else num.valid  # NaN stays NaN
    return _with_nulls(pa.array(clipped), keep)


def suppress(values: Values) -> pa.Array:
    """Every value null, the type kept."""
    return pa.nulls(len(values), values.type)


# -- noise -----------------------------------------------------------------------------------


def _measurement(mechanism: Mechanism, scale: float, integer: bool) -> Any:
    import opendp.prelude as dp

    dp.enable_features("contrib")
    atom = dp.atom_domain(T="i64") if integer else dp.atom_domain(T=float, nan=False)
    domain = dp.vector_domain(atom)
    t = "i64" if integer else float
    if mechanism == "laplace":
        return dp.m.make_laplace(domain, dp.l1_distance(T=t), scale=scale)
    return dp.m.make_gaussian(domain, dp.l2_distance(T=t), scale=scale)


def add_noise(
    values: Values, *, mechanism: Mechanism = "laplace", scale: float, integer: bool = False
) -> pa.Array:
    """Numbers with random noise from OpenDP's vetted samplers, the whole vector at once.

    ``laplace`` adds Laplace(``scale``) noise (standard deviation ``scale·√2``); ``gaussian``
    adds Normal(0, ``scale²``) noise. With ``integer=True`` the values are rounded and the noise
    is the discrete Laplace (``P(k) ∝ exp(-|k| / scale)``) or discrete Gaussian
    (``P(k) ∝ exp(-k² / 2scale²)``) of Canonne, Kamath & Steinke (2020). OpenDP samples
    exactly — no floating-point sampler of the kind that leaks through its rounding
    (Mironov, 2012): floats are rounded to a fine binary grid and noised with those discrete
    samplers on it (``opendp.measurements.make_laplace`` / ``make_gaussian``).

    The privacy this buys is the recipe's argument, not this function's: each value of a
    record is protected as by the mechanism with sensitivity Δ = the largest change of one
    value that must be hidden — ε = Δ / ``scale`` for Laplace, ρ = Δ² / (2·``scale²``)
    (zero-concentrated DP) for Gaussian. :func:`noise_privacy` computes it with OpenDP.

    Args:
        values: Numbers, or text holding numbers (unreadable text is null).
        mechanism: ``laplace`` or ``gaussian``.
        scale: The noise scale (> 0).
        integer: Round the values and add integer noise (returns int64); else float64.

    Returns:
        The noisy numbers; nulls stay null, NaN and infinities stay as they are.
    """
    _choice("mechanism", mechanism, ("laplace", "gaussian"))
    _positive("scale", scale)
    x = _array(values)
    num = _numbers(x)
    out = num.values.copy()
    rows = np.flatnonzero(num.valid)
    if integer:
        readable = np.where(num.valid, num.values, 0.0)
        base = num.ints if num.ints is not None else np.rint(readable).astype(np.int64)
        ints = base.copy()
        if rows.size:
            noisy = _measurement(mechanism, scale, True)(base[rows].tolist())
            ints[rows] = np.asarray(noisy, dtype=np.int64)
        return _with_nulls(pa.array(ints), num.valid)
    if rows.size:
        out[rows] = np.asarray(_measurement(mechanism, scale, False)(out[rows].tolist()))
    keep = num.valid | (valid_mask(x) & pa.types.is_floating(x.type))
    return _with_nulls(pa.array(out), keep)


def noise_privacy(
    mechanism: Mechanism, scale: float, sensitivity: float, *, integer: bool = False
) -> float:
    """The privacy loss of :func:`add_noise` for one value that may change by ``sensitivity``:
    ε (pure DP) for Laplace, ρ (zero-concentrated DP) for Gaussian, as OpenDP's privacy map
    states it."""
    _choice("mechanism", mechanism, ("laplace", "gaussian"))
    _positive("scale", scale)
    _positive("sensitivity", sensitivity)
    d_in: float | int = math.ceil(sensitivity) if integer else float(sensitivity)
    return float(_measurement(mechanism, scale, integer).map(d_in))


# -- dates -----------------------------------------------------------------------------------

#: 2024-03-05, 2024/3/5, 2024.03.05, 2024年3月5日, 2024-03, 2024年3月 (a time may follow)
_DATE_SEP_RE = r"^(?P<y>\d{4})[-/.年](?P<m>\d{1,2})(?:月|[-/.月](?P<d>\d{1,2})日?)?(?:[ T].*)?$"
#: 20240305, 202403
_DATE_COMPACT_RE = r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})?$"
#: 2024, 2024年
_YEAR_RE = r"^(?P<y>\d{4})年?$"
_DAYS = np.array([31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def _parts(text: pa.Array, pattern: str, names: str) -> list[pa.Array]:
    found = pc.extract_regex(text, pattern)
    parts = []
    for name in names:
        part = pc.struct_field(found, name)
        part = pc.if_else(pc.equal(part, ""), pa.scalar(None, pa.string()), part)
        parts.append(pc.cast(part, pa.int64()))
    return parts


def _date_parts(values: pa.Array) -> tuple[pa.Array, pa.Array, pa.Array]:
    """Year, month and day of dates written as text (null where absent or invalid)."""
    text = normalise_text(values)
    y1, m1, d1 = _parts(text, _DATE_SEP_RE, "ymd")
    y2, m2, d2 = _parts(text, _DATE_COMPACT_RE, "ymd")
    (y3,) = _parts(text, _YEAR_RE, "y")
    y, m, d = pc.coalesce(y1, y2, y3), pc.coalesce(m1, m2), pc.coalesce(d1, d2)
    yy = np.asarray(pc.fill_null(y, 0).to_numpy(), dtype=np.int64)
    mm = np.asarray(pc.fill_null(m, 1).to_numpy(), dtype=np.int64)
    dd = np.asarray(pc.fill_null(d, 1).to_numpy(), dtype=np.int64)
    leap = ((yy % 4 == 0) & (yy % 100 != 0)) | (yy % 400 == 0)
    month_ok = (mm >= 1) & (mm <= 12)
    dim = _DAYS[np.clip(mm, 1, 12) - 1] - ((np.clip(mm, 1, 12) == 2) & ~leap)
    ok = (yy >= 1) & month_ok & (dd >= 1) & (dd <= dim)
    return _with_nulls(y, ok), _with_nulls(m, ok), _with_nulls(d, ok)


def generalise_date(values: Values, level: DateLevel = "month") -> pa.Array:
    """Dates to ``"2024-03"`` (month), ``"2024-Q1"`` (quarter) or ``"2024"`` (year).

    DATE and TIMESTAMP values (a time zone's local date when it has one) and text: ``2024-03-05``,
    ``2024/3/5``, ``2024.03.05``, ``2024年3月5日``, ``20240305``, a time after the date, and the
    partial ``2024-03`` / ``202403`` / ``2024年3月`` and ``2024`` where the level allows.
    Impossible dates (``2024-02-30``) and unreadable text are null.

    >>> generalise_date(pa.array(["2024-03-05", "2024年11月2日", "x"]), "quarter").to_pylist()
    ['2024-Q1', '2024-Q4', None]
    """
    _choice("level", level, ("month", "quarter", "year"))
    x = _array(values)
    if pa.types.is_date(x.type) or pa.types.is_timestamp(x.type):
        year, month = pc.year(x), pc.month(x)
    else:
        year, month, _ = _date_parts(as_strings(x))
    year_text = pc.utf8_lpad(pc.cast(year, pa.string()), 4, "0")
    if level == "year":
        return year_text
    if level == "quarter":
        quarter = pc.add(pc.divide(pc.subtract(month, 1), 3), 1)
        return _join(year_text, "-Q", pc.cast(quarter, pa.string()))
    return _join(year_text, "-", pc.utf8_lpad(pc.cast(month, pa.string()), 2, "0"))


# -- regions and addresses -------------------------------------------------------------------

_REGION_DIVISOR = {"district": 1, "city": 100, "province": 10000}


def _region_codes() -> npt.NDArray[np.int64]:
    return np.unique(np.array([p[0] for p in region_periods()], dtype=np.int64))


def generalise_region(values: Values, level: RegionLevel = "city") -> pa.Array:
    """GB/T 2260 division codes to their city or province: ``510107`` → ``510100`` (city),
    ``510000`` (province); ``district`` keeps the code.

    A code must be six digits (after normalisation: spaces, full-width digits) and a division
    that exists or existed (python-stdnum's table, as :mod:`dizuo.classify.regions`); anything
    else is null — :func:`invalid_count` tells how many. A code already coarser than the level
    stays as it is (a province code at city level). Integer columns give integers (int64),
    others six-digit text.
    """
    _choice("level", level, ("district", "city", "province"))
    x = _array(values)
    integer = pa.types.is_integer(x.type)
    text = _normal(x, "compact")
    shaped = pc.fill_null(pc.match_substring_regex(text, r"^\d{6}$"), False)
    number = pc.cast(pc.if_else(shaped, text, pa.scalar(None, pa.string())), pa.int64())
    code = np.asarray(pc.fill_null(number, 0).to_numpy(), dtype=np.int64)
    known = _region_codes()
    at = np.clip(np.searchsorted(known, code), 0, len(known) - 1)
    valid = valid_mask(number) & (known[at] == code)
    divisor = _REGION_DIVISOR[level]
    out = code // divisor * divisor
    result = pa.array(out) if integer else _text_of_ints(out)
    return _with_nulls(result, valid)


_HAN_NAME = r"[^\P{Han}省市区县旗盟]"
#: a province: a name and 省 / 自治区 / 特别行政区, or one of the four municipalities
PROVINCE_RE = rf"{_HAN_NAME}{{2,8}}?(?:省|自治区|特别行政区)|(?:北京|天津|上海|重庆)市"
#: a prefecture-level division: a name and 市 / 自治州 / 地区 / 盟 (州 alone is part of
#: names — 杭州市, 广州市 — so only 自治州 ends one)
CITY_RE = rf"{_HAN_NAME}{{1,10}}?(?:市|自治州|地区|盟)"
#: a county-level division: a name (which may hold 市: 市中区) and 区 / 县 / 旗 / 市
DISTRICT_RE = r"[^\P{Han}省区县旗盟]{1,14}?(?:区|县|旗|市)"
_MUNICIPALITIES = ["北京市", "天津市", "上海市", "重庆市", "香港特别行政区", "澳门特别行政区"]
_LEVEL_RE = {
    "province": rf"^(?P<p>{PROVINCE_RE})",
    "city": rf"^(?P<p>{PROVINCE_RE})?(?P<c>{CITY_RE})?",
    "district": rf"^(?P<p>{PROVINCE_RE})?(?P<c>{CITY_RE})?(?P<d>{DISTRICT_RE})",
}


def generalise_address(values: Values, level: RegionLevel = "district") -> pa.Array:
    """Chinese addresses cut after their province, city or district.

    The address (normalised text, spaces removed) is read from its start as an optional
    province (``…省``, ``…自治区``, ``…特别行政区``, or 北京/天津/上海/重庆市), an optional city
    (``…市``, ``…自治州``, ``…地区``, ``…盟``) and, for ``district``, a county-level division
    (``…区``, ``…县``, ``…旗``, ``…市``), with RE2 (``extract_regex``); the label is that
    leading text: ``四川省成都市武侯区人民南路4段1号`` → ``四川省`` / ``四川省成都市`` /
    ``四川省成都市武侯区``. A municipality is its own city (``北京市朝阳区…`` → ``北京市``).
    Labels keep what the address writes: one written without its province gets a label
    without it. An address without the level's marker is null (:func:`invalid_count`).
    """
    _choice("level", level, ("district", "city", "province"))
    text = pc.replace_substring_regex(_normal(values, "text"), r"\s+", "")
    parts = pc.extract_regex(text, _LEVEL_RE[level])
    province = pc.fill_null(pc.struct_field(parts, "p"), "")
    if level == "province":
        return _blank_to_null(province)
    city = pc.fill_null(pc.struct_field(parts, "c"), "")
    if level == "city":
        municipality = pc.is_in(province, value_set=pa.array(_MUNICIPALITIES))
        has_city = pc.not_equal(city, "")
        return _blank_to_null(pc.if_else(pc.or_(has_city, municipality), _join(province, city), ""))
    return _blank_to_null(_join(province, city, pc.struct_field(parts, "d")))


def _blank_to_null(text: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)


# -- coordinates -----------------------------------------------------------------------------


def generalise_coordinates(lat: Values, lon: Values, *, cell_m: float) -> tuple[pa.Array, pa.Array]:
    """Coordinates snapped to the centre of a grid cell of about ``cell_m`` × ``cell_m`` metres.

    Latitude bands are ``Δφ = cell_m / 111,195`` degrees high (metres per degree of latitude
    on the mean Earth sphere); a point's band is ``i = ⌊φ / Δφ⌋``, its centre
    ``φc = (i + ½)·Δφ``. In that band, cells are ``Δλ = Δφ / cos φc`` degrees wide — about
    ``cell_m`` metres at the band's centre — and the point's cell centre is
    ``λc = (⌊λ / Δλ⌋ + ½)·Δλ`` (wrapped into [-180, 180)). Every point of a cell gets the
    same pair, rounded to 7 decimals (about 1 cm).

    Args:
        lat: Latitudes in degrees (WGS-84 or GCJ-02; the grid does not care), numbers or text.
        lon: Longitudes in degrees.
        cell_m: The cell size in metres (> 0).

    Returns:
        The snapped latitudes and longitudes (float64); both null where either is null,
        unreadable or out of range (|lat| > 90, |lon| > 180).
    """
    _positive("cell_m", cell_m)
    if len(lat) != len(lon):
        raise InvalidInput(tr("纬度与经度的个数不同", "latitudes and longitudes differ in number"))
    a, b = _numbers(lat), _numbers(lon)
    valid = a.valid & b.valid
    phi = np.where(valid, a.values, 0.0)
    lam = np.where(valid, b.values, 0.0)
    valid &= (np.abs(phi) <= 90) & (np.abs(lam) <= 180)
    dphi = cell_m / METRES_PER_DEGREE
    centre = np.clip((np.floor(phi / dphi) + 0.5) * dphi, -90.0, 90.0)
    dlam = np.minimum(dphi / np.maximum(np.cos(np.radians(centre)), 1e-9), 360.0)
    lam_c = (np.floor(lam / dlam) + 0.5) * dlam
    lam_c = np.mod(lam_c + 180.0, 360.0) - 180.0
    return (
        _with_nulls(pa.array(np.round(centre, 7)), valid),
        _with_nulls(pa.array(np.round(lam_c, 7)), valid),
    )
