"""Normalisation of Chinese identity attributes for record linkage, over Arrow arrays.

Every function takes an Arrow array (or chunked array) of raw values and returns an Arrow array
or a :class:`pyarrow.Table` with one row per input value, in input order. Dirty values — spaces,
full-width characters, lower-case ``x``, empty strings, garbage — yield nulls, never an error;
only an input that is not an Arrow array (or cannot be read as text) raises
:class:`~dizuo.errors.InvalidInput`.

The work is Arrow compute and NumPy over whole arrays, reusing the normal forms, shapes and
validators of :mod:`dizuo.classify.detectors`. The two libraries that only work on one string at
a time — OpenCC (traditional → simplified) and pypinyin — are applied to the *distinct* values
only (``pc.unique``), and the results mapped back with ``pc.index_in`` + ``take``.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import TypeAlias

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from dizuo.classify import vocab
from dizuo.classify.detectors import (
    DATE_PARTS_RE,
    RIC18,
    RIC_CHECK,
    RIC_WEIGHTS,
    Ints,
    Mask,
    Values,
    apply_where,
    as_strings,
    ascii_bytes,
    byte_matrix,
    compact,
    detect,
    normalise_text,
    null_if_empty,
    ric18_valid,
    to_mask,
    valid_date,
)
from dizuo.classify.entities import Entity
from dizuo.errors import InvalidInput
from dizuo.i18n import tr

Arrayish: TypeAlias = pa.Array | pa.ChunkedArray

#: rows of the candidate matrix :func:`repair_candidates` validates at a time
REPAIR_BLOCK = 2048
#: the middle-dot look-alikes registries use between the parts of a name
NAME_DOTS = "·•‧・∙⋅"


# -- input -----------------------------------------------------------------------------------


def text_array(values: object) -> pa.Array:
    """The values as one ``string`` array, or :class:`InvalidInput`."""
    if not isinstance(values, pa.Array | pa.ChunkedArray):
        raise InvalidInput(
            tr(
                "需要 Arrow 数组，收到的是 {t}",
                "expected an Arrow array, got {t}",
                t=type(values).__name__,
            ),
            hint=tr("用 pyarrow.array(...) 包装这些值", "wrap the values in pyarrow.array(...)"),
        )
    try:
        return as_strings(values)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
        raise InvalidInput(
            tr(
                "无法把 {t} 类型的值读作文本",
                "cannot read values of type {t} as text",
                t=values.type,
            )
        ) from exc


def _null_where(values: pa.Array, keep: Mask) -> pa.Array:
    """``values`` with nulls wherever ``keep`` is false."""
    return pc.if_else(pa.array(keep), values, pa.scalar(None, values.type))


def _matrix_strings(m: npt.NDArray[np.uint8]) -> pa.Array:
    """An Arrow ``string`` array of the rows of a fixed-width ASCII byte matrix (no copy loop)."""
    n, width = m.shape
    offsets = np.arange(n + 1, dtype=np.int32) * width
    data = np.ascontiguousarray(m, dtype=np.uint8)
    return pa.Array.from_buffers(
        pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data.tobytes())]
    )


def _distinct(text: pa.Array) -> tuple[pa.Array, pa.Array]:
    """The distinct non-null values and, for every value, its index among them (null: null)."""
    unique = pc.drop_null(pc.unique(text))
    return unique, pc.index_in(text, value_set=unique)


# -- ID numbers ------------------------------------------------------------------------------


def _check_digits(body: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """GB 11643 check characters of a matrix of 17 ASCII digits."""
    digits = body.astype(np.int64) - 48
    return ascii_bytes(RIC_CHECK)[(digits @ np.array(RIC_WEIGHTS, dtype=np.int64)) % 11]


def _upgrade(ric15: pa.Array) -> pa.Array:
    """18-digit numbers for valid 15-digit ones: "19" after the region code, then the check."""
    m15 = byte_matrix(ric15, 15)
    m18 = np.empty((len(m15), 18), dtype=np.uint8)
    m18[:, :6] = m15[:, :6]
    m18[:, 6:8] = ascii_bytes("19")
    m18[:, 8:17] = m15[:, 6:]
    m18[:, 17] = _check_digits(m18[:, :17])
    return _matrix_strings(m18)


def _ric_compact(values: object) -> pa.Array:
    return compact(normalise_text(text_array(values)))


def normalise_ids(values: Arrayish) -> pa.Table:
    """Normalise resident ID numbers (GB 11643) and read their fields.

    Values are trimmed, made half-width, stripped of inner spaces and hyphens and upper-cased
    (``x`` → ``X``). A valid 18-digit number (check digit, calendar birth date from 1900 to
    today, region code in use in the birth year) is kept; a valid 15-digit legacy number
    (GB 11643-1989, no check digit) is upgraded: ``19`` is inserted after the six-digit region
    code and the check digit computed. Everything else is null.

    Args:
        values: Raw ID numbers (any type castable to string).

    Returns:
        One row per value: ``id18`` (string, null when invalid), ``valid`` (bool, never null),
        ``upgraded`` (bool: from a 15-digit number), ``birth_date`` (date32), ``sex``
        (``"M"`` for an odd 17th digit, ``"F"`` for an even one) and ``region`` (the six-digit
        GB/T 2260 code).

    Raises:
        InvalidInput: ``values`` is not an Arrow array or cannot be read as text.
    """
    text = _ric_compact(values)
    v = Values(text)
    valid18 = detect(Entity.RESIDENT_ID, v)
    valid15 = detect(Entity.RESIDENT_ID_15, v)
    id18 = _null_where(text, valid18)
    idx15 = np.flatnonzero(valid15)
    if idx15.size:
        upgraded = _upgrade(text.take(pa.array(idx15)))
        full = np.zeros(len(text), dtype=np.int64)
        full[idx15] = np.arange(idx15.size)
        id18 = pc.if_else(pa.array(valid15), upgraded.take(pa.array(full)), id18)
    digit17 = pc.utf8_slice_codeunits(id18, 16, 17)
    odd = pc.is_in(digit17, value_set=pa.array(list("13579")))
    sex = pc.if_else(pc.is_valid(digit17), pc.if_else(odd, "M", "F"), pa.scalar(None, pa.string()))
    birth = pc.strptime(
        pc.utf8_slice_codeunits(id18, 6, 14), format="%Y%m%d", unit="s", error_is_null=True
    )
    return pa.table(
        {
            "id18": id18,
            "valid": pa.array(valid18 | valid15),
            "upgraded": pa.array(valid15),
            "birth_date": pc.cast(birth, pa.date32()),
            "sex": sex,
            "region": pc.utf8_slice_codeunits(id18, 0, 6),
        }
    )


def _repair_variants() -> tuple[Ints, Ints, npt.NDArray[np.uint8], Ints]:
    """The edits :func:`repair_candidates` tries: (kind, position, new character, swap with).

    Kind 0 is an adjacent transposition of ``position`` and ``position + 1``; kind 1 puts the
    character at ``position``. Transpositions come first (they are unambiguous more often).
    """
    kinds, positions, chars, swaps = [], [], [], []
    for p in range(17):
        kinds.append(0)
        positions.append(p)
        chars.append(0)
        swaps.append(p + 1)
    for p in range(18):
        for c in "0123456789" + ("X" if p == 17 else ""):
            kinds.append(1)
            positions.append(p)
            chars.append(ord(c))
            swaps.append(p)
    return (
        np.array(kinds, dtype=np.int64),
        np.array(positions, dtype=np.int64),
        np.array(chars, dtype=np.uint8),
        np.array(swaps, dtype=np.int64),
    )


def repair_candidates(values: Arrayish, max_per_value: int = 32) -> pa.Table:
    """Valid ID numbers one typing error away from 18-digit numbers that fail validation.

    For every value that has the 18-character shape (17 digits, then a digit or ``X``) but is
    not a valid number, every adjacent transposition and every single-character substitution
    is built as a row of a NumPy byte matrix (198 edits per value, :data:`REPAIR_BLOCK` values
    at a time) and checked with the detectors' GB 11643 validator: check digit, calendar birth
    date from 1900 to today, region code in use in the birth year. A single substituted digit
    typically has a dozen valid repairs (about one per position), a transposition fewer: the
    candidates are hypotheses for a comparison with other attributes, not corrections.

    Args:
        values: Raw ID numbers (normalised as in :func:`normalise_ids`).
        max_per_value: At most this many candidates per value (transpositions first, then
            substitutions by position), which bounds the output at ``max_per_value`` rows per
            input value.

    Returns:
        ``row`` (int64, the index of the value in ``values``), ``candidate`` (the 18-digit
        number) and ``edit`` (``"transposition"`` or ``"substitution"``).

    Raises:
        InvalidInput: ``values`` is not an Arrow array, or ``max_per_value`` is below 1.
    """
    if max_per_value < 1:
        raise InvalidInput(
            tr(
                "max_per_value 至少为 1，收到 {n}",
                "max_per_value must be at least 1, got {n}",
                n=max_per_value,
            )
        )
    text = _ric_compact(values)
    v = Values(text)
    shaped = apply_where(text, v.lengths == 18, lambda s: RIC18.check(byte_matrix(s, 18)))
    rows = np.flatnonzero(shaped & ~detect(Entity.RESIDENT_ID, v))
    kinds, positions, chars, swaps = _repair_variants()
    k = len(kinds)
    found_rows: list[Ints] = []
    found: list[npt.NDArray[np.uint8]] = []
    found_kinds: list[Ints] = []
    for start in range(0, rows.size, REPAIR_BLOCK):  # blocks of values, not values
        block = rows[start : start + REPAIR_BLOCK]
        m = byte_matrix(text.take(pa.array(block)), 18)
        cand = np.repeat(m[:, None, :], k, axis=1)  # (n, k, 18)
        trans = kinds == 0
        cand[:, trans, positions[trans]] = m[:, swaps[trans]]
        cand[:, trans, swaps[trans]] = m[:, positions[trans]]
        sub = ~trans
        cand[:, sub, positions[sub]] = chars[sub]
        changed = (cand != m[:, None, :]).any(axis=2)
        flat = cand.reshape(-1, 18)
        ok = changed.reshape(-1) & RIC18.check(flat)
        ok[ok] = ric18_valid(flat[ok])
        ok2 = ok.reshape(len(block), k)
        ok2 &= np.cumsum(ok2, axis=1) <= max_per_value
        r, c = np.nonzero(ok2)
        found_rows.append(block[r])
        found.append(cand[r, c])
        found_kinds.append(kinds[c])
    if found:
        row_ids = np.concatenate(found_rows)
        matrix = np.concatenate(found)
        edit_kinds = np.concatenate(found_kinds)
    else:
        row_ids = np.zeros(0, dtype=np.int64)
        matrix = np.zeros((0, 18), dtype=np.uint8)
        edit_kinds = np.zeros(0, dtype=np.int64)
    edits = pa.array(["transposition", "substitution"]).take(pa.array(edit_kinds))
    return pa.table(
        {
            "row": pa.array(row_ids, pa.int64()),
            "candidate": _matrix_strings(matrix),
            "edit": edits,
        }
    )


# -- names -----------------------------------------------------------------------------------


@cache
def _t2s() -> object:
    import opencc

    return opencc.OpenCC("t2s")


def _simplified(names: pa.Array) -> pa.Array:
    """OpenCC t2s over the (distinct) names; ASCII-only names are left alone."""
    converter = _t2s()
    han = ~to_mask(pc.string_is_ascii(names))
    idx = np.flatnonzero(han)
    if not idx.size:
        return names
    converted = [converter.convert(s) for s in names.take(pa.array(idx)).to_pylist()]  # type: ignore[attr-defined]
    return pc.replace_with_mask(names, pa.array(han), pa.array(converted, pa.string()))


_PINYIN_WORD = re.compile(r"[a-z]+[0-9]?")


#: surnames read differently from the character's most common reading
_SURNAME_READINGS: dict[str, tuple[str, str]] = {
    "单": ("shan", "shan4"),
    "曾": ("zeng", "zeng1"),
    "仇": ("qiu", "qiu2"),
    "解": ("xie", "xie4"),
    "查": ("zha", "zha1"),
    "区": ("ou", "ou1"),
    "朴": ("piao", "piao2"),
    "盖": ("ge", "ge3"),
    "尉": ("yu", "yu4"),
    "乐": ("yue", "yue4"),
    "缪": ("miao", "miao4"),
    "翟": ("zhai", "zhai2"),
    "召": ("shao", "shao4"),
    "员": ("yun", "yun4"),
    "覃": ("qin", "qin2"),
    "秘": ("bi", "bi4"),
    "薄": ("bo", "bo2"),
    "繁": ("po", "po2"),
    "宓": ("fu", "fu2"),
    "折": ("she", "she2"),
    "黑": ("he", "he4"),
    "种": ("chong", "chong2"),
    "长孙": ("zhang sun", "zhang3 sun1"),
    "万俟": ("mo qi", "mo4 qi2"),
    "尉迟": ("yu chi", "yu4 chi2"),
    "单于": ("chan yu", "chan2 yu2"),
}


def _pinyin_words(parts: list[str]) -> list[str]:
    return [" ".join(_PINYIN_WORD.findall(p.lower())) for p in parts]


def _pinyin_slow(names: pa.Array, tones: bool) -> pa.Array:
    """pypinyin on whole names (names with Latin letters or other scripts; rare)."""
    from pypinyin import Style, lazy_pinyin

    style = Style.TONE3 if tones else Style.NORMAL
    out: list[str | None] = []
    for name in names.to_pylist():  # distinct names that are not Han only
        if name is None:
            out.append(None)
            continue
        parts = lazy_pinyin(name, style=style, neutral_tone_with_five=True)
        words = [w for part in parts for w in _PINYIN_WORD.findall(part.lower())]
        out.append(" ".join(words) or None)
    return pa.array(out, pa.string())


def _pinyin(names: pa.Array, tones: bool) -> pa.Array:
    """Space-separated pinyin syllables of the (distinct) names, lower case; Latin letters kept
    as words, everything else (``·``, punctuation) dropped.

    Han names (with ``·``) are spelled character by character: pypinyin reads each distinct
    character once (a city's names use a few thousand), and the syllables are assembled with
    Arrow; a surname with a reading of its own (单 shan, 曾 zeng, 仇 qiu) gets that reading.
    Other names go through pypinyin whole."""
    from pypinyin import Style, lazy_pinyin

    han = to_mask(pc.match_substring_regex(names, r"^[\p{Han}·]+$"))
    out = pa.nulls(len(names), pa.string())
    other = np.flatnonzero(~han & to_mask(pc.is_valid(names)))
    if other.size:
        slow = _pinyin_slow(names.take(pa.array(other)), tones)
        positions = np.full(len(names), 0, dtype=np.int64)
        positions[other] = np.arange(other.size)
        out = pc.if_else(pa.array(~han), slow.take(pa.array(positions)), out)
    idx = np.flatnonzero(han)
    if not idx.size:
        return out
    chosen = names.take(pa.array(idx))
    text = "".join(chosen.to_pylist())
    cps = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    lengths = np.asarray(pc.utf8_length(chosen).to_numpy(), dtype=np.int64)
    distinct, which = np.unique(cps, return_inverse=True)
    chars = [chr(c) for c in distinct.tolist()]  # distinct characters only
    style = Style.TONE3 if tones else Style.NORMAL
    spelled = _pinyin_words(lazy_pinyin(chars, style=style, neutral_tone_with_five=True))
    syllables = np.asarray(spelled, dtype=object)[which.reshape(-1)]
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    # surnames with a reading of their own (a compound one covers two characters)
    compounds = [k for k in _SURNAME_READINGS if len(k) == 2]
    compound = to_mask(pc.is_in(pc.utf8_slice_codeunits(chosen, 0, 2), pa.array(compounds)))
    for surname, (plain, toned) in _SURNAME_READINGS.items():
        size = len(surname)
        hit = to_mask(pc.starts_with(chosen, surname)) & (lengths > size)
        hit &= compound if size == 2 else ~compound
        rows = starts[hit]
        syllables[rows] = toned if tones else plain
        if size == 2:
            syllables[rows + 1] = ""
    row_of = np.repeat(np.arange(len(chosen)), lengths)
    keep = np.asarray(syllables != "", dtype=bool)
    values = pa.array(syllables[keep], pa.string())
    counts = np.bincount(row_of[keep], minlength=len(chosen))
    offsets = pa.array(np.concatenate([[0], np.cumsum(counts)]).astype(np.int32))
    joined = pc.binary_join(pa.ListArray.from_arrays(offsets, values), " ")
    joined = pc.if_else(pc.equal(joined, ""), pa.scalar(None, pa.string()), joined)
    positions = np.zeros(len(names), dtype=np.int64)
    positions[idx] = np.arange(idx.size)
    return pc.if_else(pa.array(han), joined.take(pa.array(positions)), out)


#: sounds that registries, and whole dialect areas, do not tell apart (the 模糊音 of Chinese
#: input methods): flat and retroflex initials, n/l, f/h, front and back nasal finals, and the
#: south-western huang/wang
_FUZZY_PINYIN: tuple[tuple[str, str], ...] = (
    (r"\bhuang\b", "wang"),
    (r"\b([zcs])h", r"\1"),
    (r"\bn([aeiouv])", r"l\1"),
    (r"\bf([aeiou])", r"h\1"),
    (r"([aei])ng\b", r"\1n"),
)


def fuzzy_pinyin(pinyin: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Toneless pinyin with the common mergers folded (模糊音): ``zh/ch/sh`` → ``z/c/s``,
    ``n`` → ``l``, ``f`` → ``h``, ``ang/eng/ing`` → ``an/en/in``, ``huang`` → ``wang`` (then
    ``wan``).

    周 zhou and 邹 zou, 陈 chen and 程 cheng, 金 jin and 京 jing, 黄 huang and 王 wang each
    get one spelling: a clerk who hears a name in Sichuan or in the south writes either.

    >>> fuzzy_pinyin(pa.array(["zhou jing", "huang fang"])).to_pylist()
    ['zou jin', 'wan han']
    """
    out = pinyin.combine_chunks() if isinstance(pinyin, pa.ChunkedArray) else pinyin
    for pattern, replacement in _FUZZY_PINYIN:
        out = pc.replace_substring_regex(out, pattern, replacement)
    return out


def _clean_names(text: pa.Array) -> pa.Array:
    """Dots unified to ``·``; inner whitespace removed from short Han names (the padding of
    ``张　伟``), made ``·`` in longer ones, collapsed to one space in Latin names."""
    dots = f"[{NAME_DOTS}.]"
    text = pc.replace_substring_regex(text, rf"\s*{dots}\s*", "·")
    text = pc.replace_substring_regex(text, r"·+", "·")
    han = to_mask(pc.match_substring_regex(text, r"\p{Han}"))
    squeezed = pc.replace_substring_regex(text, r"\s+", "")
    short = to_mask(pc.less_equal(pc.utf8_length(squeezed), 4)) & han
    dotted = pc.replace_substring_regex(text, r"\s+", "·")
    spaced = pc.replace_substring_regex(text, r"\s+", " ")
    return pc.if_else(pa.array(short), squeezed, pc.if_else(pa.array(han), dotted, spaced))


def _split_surname(names: pa.Array) -> tuple[pa.Array, pa.Array]:
    """(surname, given) of Han names without ``·``; null for other names."""
    lengths = np.asarray(pc.fill_null(pc.utf8_length(names), 0).to_numpy(), dtype=np.int64)
    han = to_mask(pc.match_substring_regex(names, r"^\p{Han}+$")) & (lengths >= 2)
    first2 = pc.utf8_slice_codeunits(names, 0, 2)
    compound = to_mask(pc.is_in(first2, value_set=pa.array(vocab.COMPOUND_SURNAMES))) & (
        lengths >= 3
    )
    cut = np.where(compound, 2, 1)
    surname = pc.if_else(pa.array(compound), first2, pc.utf8_slice_codeunits(names, 0, 1))
    given = pc.utf8_slice_codeunits(names, 1, 64)
    given = pc.if_else(pa.array(cut == 2), pc.utf8_slice_codeunits(names, 2, 64), given)
    return _null_where(surname, han), _null_where(given, han)


def normalise_names(values: Arrayish) -> pa.Table:
    """Normalise personal names and spell them in pinyin.

    Names are trimmed and made half-width (NFKC on full-width values), traditional characters
    become simplified (OpenCC ``t2s``: 陳 → 陈), the middle-dot look-alikes (``•‧・∙⋅.``) and
    the spaces around them become ``·``; other inner whitespace is dropped from Han names of up
    to four characters (registries pad ``张　伟`` to three columns), made ``·`` in longer Han
    names (``买买提 艾力``) and collapsed in Latin names.

    The pinyin columns are what later comparison uses: registries confuse characters that look
    or sound alike, and both kinds of confusion mostly keep the pinyin. Common ones:

    ========  ==============================  ===================
    pinyin    characters                      kind
    ========  ==============================  ===================
    zhang     张 / 章                         same sound (surname)
    wei       伟 / 卫 / 玮 / 炜 / 维           same sound
    li        李 / 黎 / 理;  丽 / 莉 / 俐      same sound
    ying      英 / 瑛 / 颖 / 莹                same sound
    hong      红 / 虹 / 宏 / 洪                same sound
    jun       军 / 俊 / 君                     same sound
    —         戊 / 戌 / 戍;  己 / 已 / 巳       look-alike
    ========  ==============================  ===================

    OpenCC and pypinyin are applied to the distinct names only, then mapped back to the rows.
    Polyphonic surnames (单 shan, 曾 zeng, 仇 qiu) follow pypinyin's phrase dictionary, which is
    at least consistent between registries.

    Args:
        values: Raw names.

    Returns:
        One row per value: ``name`` (normalised, null when empty), ``pinyin`` (toneless,
        e.g. ``"zhang wei"``), ``pinyin_tone`` (tone numbers, ``"zhang1 wei3"``), ``surname``
        (one character, or a compound surname such as 欧阳) and ``given``; surname and given are
        null for names that are not all Han (``·``-joined or Latin names, single characters).

    Raises:
        InvalidInput: ``values`` is not an Arrow array or cannot be read as text.
    """
    text = normalise_text(text_array(values))
    unique, index = _distinct(text)
    names = null_if_empty(_clean_names(_simplified(unique)))
    surname, given = _split_surname(names)
    columns = {
        "name": names,
        "pinyin": _pinyin(names, tones=False),
        "pinyin_tone": _pinyin(names, tones=True),
        "surname": surname,
        "given": given,
    }
    return pa.table({key: col.take(index) for key, col in columns.items()})


# -- phones ----------------------------------------------------------------------------------

_COUNTRY_PREFIX_RE = r"^(?:\+|00)?86([01]\d{9,11})$"
_LANDLINE_PARTS_RE = r"^(?P<area>0(?:10|2\d|[3-9]\d{2}))(?P<number>[2-9]\d{6,7})$"


def normalise_phones(values: Arrayish) -> pa.Array:
    """Normalise telephone numbers.

    Values are made half-width and stripped of spaces, hyphens and parentheses; a ``+86``,
    ``0086`` or ``86`` country prefix is dropped. Mobile numbers (the detectors' ``MOBILE_RE``)
    become their 11 digits, landlines (``LANDLINE_RE``) ``area code-number`` (``010-62751234``);
    anything else is null.

    Args:
        values: Raw telephone numbers.

    Returns:
        A string array, one value per input value.

    Raises:
        InvalidInput: ``values`` is not an Arrow array or cannot be read as text.
    """
    text = compact(normalise_text(text_array(values)))
    text = pc.replace_substring_regex(text, r"[()]", "")
    text = pc.replace_substring_regex(text, _COUNTRY_PREFIX_RE, r"\1")
    v = Values(text)
    mobile = detect(Entity.MOBILE_PHONE, v)
    landline = detect(Entity.LANDLINE_PHONE, v) & ~mobile
    formatted = pc.replace_substring_regex(text, _LANDLINE_PARTS_RE, r"\1-\2")
    out = pc.if_else(pa.array(landline), formatted, _null_where(text, mobile))
    return out


# -- addresses -------------------------------------------------------------------------------

#: characters of an administrative name (no level markers, digits, road words)
_ADMIN_NAME = r"[^\s\d省市区县旗镇乡路街号]"


@cache
def _divisions() -> tuple[tuple[str, str, str, str, bool], ...]:
    """(code, name, city, province, current) of every county-level division in stdnum's
    ``cn/loc.dat`` (the table :mod:`dizuo.classify.regions` reads), placeholders skipped."""
    text = resources.files("stdnum").joinpath("cn/loc.dat").read_text(encoding="utf-8")
    rows: list[tuple[str, str, str, str, bool]] = []
    cities: dict[str, str] = {}
    province = province_name = ""
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        match = re.search(r'(?:county|province)="([^"]*)"', line)
        if match is None:
            continue
        if not line.startswith(" "):
            province, province_name = line.split()[0], match.group(1)
            continue
        code = province + line.strip().split()[0]
        for county in match.group(1).split(","):
            period = re.match(r"^\[(\d*)-(\d*)\]", county)
            name = county[period.end() :] if period else county
            current = period is None or not period.group(2)
            if code.endswith("00"):
                if current or code[:4] not in cities:
                    cities[code[:4]] = name
                continue
            if name in ("市辖区", "县", "郊区", "矿区", "省直辖县级行政区划"):
                continue
            rows.append((code, name, cities.get(code[:4], ""), province_name, current))
    return tuple(rows)


def _short_province(names: pa.Array) -> pa.Array:
    return pc.replace_substring_regex(
        names, r"(?:省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)$", ""
    )


@cache
def _province_re() -> str:
    full = sorted({p for *_, p, _ in _divisions()}, key=len, reverse=True)
    short = _short_province(pa.array(full)).to_pylist()
    return "|".join(re.escape(n) for n in full + sorted(set(short), key=len, reverse=True))


def _address_re() -> str:
    name = _ADMIN_NAME
    return (
        f"^(?P<province>{_province_re()})?"
        f"(?P<city>{name}{{1,7}}?(?:市|自治州|地区|盟))?"
        f"(?P<district>{name}{{1,7}}?(?:新区|区|县|旗|市))?"
        f"(?P<street>{name}{{1,8}}?(?:街道|镇|乡))?"
        "(?P<rest>.*)$"
    )


@cache
def _division_keys() -> tuple[pa.Array, pa.Array, pa.Array, pa.Array, pa.Array]:
    """Lookup keys: ``city|district`` and ``province|district`` (each with its code), and
    district names that are unambiguous among the current divisions (with the code)."""
    rows = _divisions()
    codes = pa.array([r[0] for r in rows])
    names = pa.array([r[1] for r in rows])
    city = pc.binary_join_element_wise(pa.array([r[2] for r in rows]), names, "|")
    prov = pc.binary_join_element_wise(_short_province(pa.array([r[3] for r in rows])), names, "|")
    current = np.array([r[4] for r in rows], dtype=bool)
    # current divisions first, so index_in (first occurrence) prefers them
    order = pa.array(np.argsort(~current, kind="stable"))
    codes, names, city, prov = (a.take(order) for a in (codes, names, city, prov))
    counts = pc.value_counts(names.filter(pa.array(current[order.to_numpy()])))
    once = pc.struct_field(counts, "values").filter(pc.equal(pc.struct_field(counts, "counts"), 1))
    return city, prov, codes, names, once


def split_addresses(values: Arrayish) -> pa.Table:
    """Split addresses into administrative levels and find the district's GB/T 2260 code.

    One RE2 expression (``pc.extract_regex``) reads, in order and each optional: the province
    (full or short name from ``loc.dat``: 广东省 / 广东, 北京市 / 北京), the prefecture city
    (…市, …自治州, …地区, …盟), the district (…区, …县, …旗, a county-level …市), the street
    level (…街道, …镇, …乡) and the rest. Whitespace is removed first.

    ``district_code`` comes from python-stdnum's GB/T 2260 table: the district name inside the
    parsed city, else inside the parsed province (municipalities: 北京市朝阳区), else the name
    alone when it is unambiguous among current divisions (朝阳区 alone is in Beijing and
    Changchun: null). Current codes are preferred to abolished ones.

    Args:
        values: Raw addresses.

    Returns:
        ``province``, ``city``, ``district``, ``street``, ``rest`` and ``district_code``
        (strings, null when absent).

    Raises:
        InvalidInput: ``values`` is not an Arrow array or cannot be read as text.
    """
    text = normalise_text(text_array(values))
    text = null_if_empty(pc.replace_substring_regex(text, r"\s+", ""))
    parts = pc.extract_regex(text, _address_re())
    fields = ("province", "city", "district", "street", "rest")
    columns = {f: null_if_empty(pc.struct_field(parts, f)) for f in fields}
    city_keys, prov_keys, codes, names, once = _division_keys()
    district = columns["district"]
    by_city = pc.index_in(pc.binary_join_element_wise(columns["city"], district, "|"), city_keys)
    province = _short_province(columns["province"])
    by_prov = pc.index_in(pc.binary_join_element_wise(province, district, "|"), prov_keys)
    alone = pc.if_else(pc.is_in(district, value_set=once), pc.index_in(district, names), None)
    index = pc.coalesce(by_city, by_prov, pc.cast(alone, pa.int32()))
    columns["district_code"] = codes.take(index)
    return pa.table(columns)


# -- dates -----------------------------------------------------------------------------------


def _date32(year: Ints, month: Ints, day: Ints, ok: Mask) -> pa.Array:
    months = (year - 1970) * 12 + np.clip(month, 1, 12) - 1
    days = months.astype("datetime64[M]").astype("datetime64[D]") + (np.maximum(day, 1) - 1)
    return pa.array(days, pa.date32(), mask=~ok)


def normalise_dates(values: Arrayish) -> pa.Array:
    """Dates from text: ``2009-04-08``, ``2009/4/8``, ``20090408``, ``2009年4月8日``,
    ``2009.04.08`` (the detectors' ``DATE_PARTS_RE``; full-width digits allowed).

    A value must be a real calendar date from 1900-01-01 to today (the detectors'
    ``valid_date``, the range of birth dates); digits without separators must be exactly eight.
    Everything else is null.

    Args:
        values: Raw dates (strings; other types are cast to string).

    Returns:
        A ``date32`` array, one value per input value.

    Raises:
        InvalidInput: ``values`` is not an Arrow array or cannot be read as text.
    """
    text = normalise_text(text_array(values))
    digits = to_mask(pc.match_substring_regex(text, r"^\d+$"))
    lengths = np.asarray(pc.fill_null(pc.utf8_length(text), 0).to_numpy(), dtype=np.int64)
    shaped = to_mask(pc.match_substring_regex(text, DATE_PARTS_RE)) & (~digits | (lengths == 8))
    idx = np.flatnonzero(shaped)
    year = np.zeros(len(text), dtype=np.int64)
    month = np.ones(len(text), dtype=np.int64)
    day = np.ones(len(text), dtype=np.int64)
    if idx.size:
        parts = pc.extract_regex(text.take(pa.array(idx)), DATE_PARTS_RE)
        for out, key in ((year, "y"), (month, "m"), (day, "d")):
            out[idx] = pc.cast(pc.struct_field(parts, key), pa.int64()).to_numpy()
    ok = shaped & valid_date(year, month, day)
    return _date32(year, month, day, ok)


def _parts(dates: npt.NDArray[np.datetime64]) -> tuple[Ints, Ints, Ints]:
    months = dates.astype("datetime64[M]")
    year = months.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (dates - months.astype("datetime64[D]")).astype(np.int64) + 1
    return year, month, day


def _as_dates(values: object) -> pa.Array:
    if isinstance(values, pa.Array | pa.ChunkedArray) and pa.types.is_date(values.type):
        dates = pc.cast(values, pa.date32())
        return dates.combine_chunks() if isinstance(dates, pa.ChunkedArray) else dates
    return normalise_dates(text_array(values))


def swapped_day_month(a: Arrayish, b: Arrayish) -> pa.Array:
    """Whether ``b`` is ``a`` with day and month swapped (2009-04-08 vs 2009-08-04).

    Identical dates are not swapped (false); a null on either side gives null.

    Args:
        a: Dates (``date32``/``date64``) or date text (read with :func:`normalise_dates`).
        b: The same, of the same length.

    Returns:
        A bool array.

    Raises:
        InvalidInput: the arrays differ in length or cannot be read as dates.
    """
    left, right = _as_dates(a), _as_dates(b)
    if len(left) != len(right):
        raise InvalidInput(
            tr(
                "两组日期长度不同：{a} 与 {b}",
                "the two date arrays differ in length: {a} and {b}",
                a=len(left),
                b=len(right),
            )
        )
    missing = to_mask(pc.is_null(left)) | to_mask(pc.is_null(right))
    ya, ma, da = _parts(
        pc.fill_null(left, pa.scalar(0, pa.date32()))
        .to_numpy(zero_copy_only=False)
        .astype("datetime64[D]")
    )
    yb, mb, db = _parts(
        pc.fill_null(right, pa.scalar(0, pa.date32()))
        .to_numpy(zero_copy_only=False)
        .astype("datetime64[D]")
    )
    swapped = (ya == yb) & (ma == db) & (da == mb) & (ma != da)
    return pa.array(swapped, pa.bool_(), mask=missing)
