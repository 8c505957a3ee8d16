"""Planted errors: the mistakes real registries have, each at a documented rate.

``ERROR_RATES[kind]`` is the probability that one field of one record gets that error,
among the records *eligible* for it: a homophone typo needs a name character that has a
homophone; a day/month swap needs a day ≤ 12 that differs from the month; a 15-digit legacy
ID needs a holder born before :data:`LEGACY_BORN_BEFORE` (the old cards were issued until
2004); phone errors need a phone. Errors of one family (name, ID, phone) exclude each other
within a field: one draw picks at most one kind.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from dizuo.demo import chars, ids, strings

Bool = npt.NDArray[np.bool_]
I64 = npt.NDArray[np.int64]
Masks = dict[str, Bool]

ERROR_RATES: Final[dict[str, float]] = {
    "name_homophone": 0.03,  # 张伟 → 张卫, 黄 ↔ 王, 明 → 铭
    "name_lookalike": 0.01,  # 王 → 玉, 未 → 末
    "name_traditional": 0.01,  # 陈 → 陳 (every character that has a traditional form)
    "birthdate_swap": 0.02,  # 2012-03-05 → 2012-05-03
    "phone_changed": 0.05,  # another valid mobile number
    "phone_fullwidth": 0.02,  # １３８…
    "id_missing": 0.03,  # null
    "id_legacy15": 0.05,  # the 15-digit card number (region + YYMMDD + sequence)
    "id_fullwidth": 0.02,  # ５１０１…
    "id_check_typo": 0.005,  # one digit changed: the check character no longer fits
}
NAME_KINDS: Final = ("name_homophone", "name_lookalike", "name_traditional")
ID_KINDS: Final = ("id_missing", "id_legacy15", "id_fullwidth", "id_check_typo")
PHONE_KINDS: Final = ("phone_changed", "phone_fullwidth")
DATE_KINDS: Final = ("birthdate_swap",)
ALL_KINDS: Final = NAME_KINDS + DATE_KINDS + PHONE_KINDS + ID_KINDS
LEGACY_BORN_BEFORE: Final = 1985


def pick_kind(rng: np.random.Generator, n: int, kinds: tuple[str, ...]) -> I64:
    """For each of ``n`` fields: the index of the planted kind in ``kinds``, or -1."""
    edges = np.cumsum([ERROR_RATES[k] for k in kinds])
    u = rng.random(n)
    out = np.searchsorted(edges, u, "right").astype(np.int64)
    out[out >= len(kinds)] = -1
    return out


def _replace_one(
    rng: np.random.Generator,
    cp: npt.NDArray[np.uint32],
    lookup: tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint8]],
) -> tuple[npt.NDArray[np.uint32], Bool]:
    """Replace one random eligible character per row by one of its alternatives."""
    alt, count = lookup
    n_alt = count[cp]
    eligible = n_alt > 0
    score = rng.random(cp.shape) * eligible
    pos = score.argmax(axis=1)
    rows = np.arange(len(cp))
    old = cp[rows, pos]
    k = np.floor(rng.random(len(cp)) * np.maximum(count[old], 1)).astype(np.int64)
    out = cp.copy()
    ok: Bool = np.any(eligible, axis=1)
    out[rows[ok], pos[ok]] = alt[old[ok], k[ok]]
    return out, ok


def name_eligibility(names: npt.NDArray[np.str_]) -> Masks:
    """Which names can receive each kind of name error."""
    cp = strings.codepoints(names)
    tables: dict[str, npt.NDArray[np.unsignedinteger]] = {
        "name_homophone": chars.homophone_lookup()[1][cp],
        "name_lookalike": chars.lookalike_lookup()[1][cp],
        "name_traditional": chars.traditional_lookup()[cp],
    }
    out: Masks = {k: np.any(v > 0, axis=1) for k, v in tables.items()}
    return out


def plant_names(
    rng: np.random.Generator, names: npt.NDArray[np.str_]
) -> tuple[npt.NDArray[np.str_], Masks]:
    """Names with planted homophone / look-alike / traditional-character errors."""
    n = len(names)
    kind = pick_kind(rng, n, NAME_KINDS)
    cp = strings.codepoints(names)
    homophone, ok_h = _replace_one(rng, cp, chars.homophone_lookup())
    lookalike, ok_l = _replace_one(rng, cp, chars.lookalike_lookup())
    trad_map = chars.traditional_lookup()[cp]
    trad = np.where(trad_map > 0, trad_map, cp)
    ok_t = (trad_map > 0).any(axis=1)
    masks = {
        "name_homophone": (kind == 0) & ok_h,
        "name_lookalike": (kind == 1) & ok_l,
        "name_traditional": (kind == 2) & ok_t,
    }
    out = cp.copy()
    for key, value in (
        ("name_homophone", homophone),
        ("name_lookalike", lookalike),
        ("name_traditional", trad),
    ):
        out[masks[key]] = value[masks[key]]
    return strings.from_codepoints(out), masks


def plant_ids(
    rng: np.random.Generator,
    digits: npt.NDArray[np.uint8],
    birth_year: I64,
    kinds: tuple[str, ...] = ID_KINDS,
) -> tuple[pa.Array, Masks]:
    """ID numbers as text with planted errors (``kinds`` restricts the families used)."""
    n = len(digits)
    pick = pick_kind(rng, n, ID_KINDS)
    masks = {k: (pick == i) & (k in kinds) for i, k in enumerate(ID_KINDS)}
    masks["id_legacy15"] &= birth_year < LEGACY_BORN_BEFORE
    typo = digits.copy()
    rows = np.flatnonzero(masks["id_check_typo"])
    pos = rng.integers(0, 17, len(rows))
    typo[rows, pos] = (typo[rows, pos] + rng.integers(1, 10, len(rows))) % 10
    text = strings.digits_text(typo, fullwidth=masks["id_fullwidth"])
    old = strings.digits_text(ids.legacy15(digits))
    text = np.where(masks["id_legacy15"], old, text)
    return pa.array(text, mask=masks["id_missing"]), masks


def plant_phones(rng: np.random.Generator, phones: I64, registry: I64) -> tuple[pa.Array, Masks]:
    """Phone numbers as text (null where 0) with planted changes and full-width digits."""
    n = len(phones)
    has = phones > 0
    pick = pick_kind(rng, n, PHONE_KINDS)
    masks = {k: (pick == i) & has for i, k in enumerate(PHONE_KINDS)}
    out = phones.copy()
    changed = masks["phone_changed"]
    out[changed] = ids.mobiles(rng, int(changed.sum()), forbidden=registry)
    text = strings.digits_text(strings.int_digits(out, 11), fullwidth=masks["phone_fullwidth"])
    return pa.array(text, mask=~has), masks


def plant_birthdates(
    rng: np.random.Generator, birth: npt.NDArray[np.datetime64]
) -> tuple[tuple[I64, I64, I64], Bool]:
    """(year, month, day) with day and month swapped where planted and possible."""
    year, month, day = strings.ymd(birth)
    eligible = (day <= 12) & (day != month)
    swap = (rng.random(len(birth)) < ERROR_RATES["birthdate_swap"]) & eligible
    return (year, np.where(swap, day, month), np.where(swap, month, day)), swap


def error_lists(masks: Masks, n: int) -> pa.Array:
    """A list<string> array naming the planted kinds of each row (in ALL_KINDS order)."""
    zero = np.zeros(n, dtype=bool)
    stack = np.stack([masks.get(k, zero) for k in ALL_KINDS], axis=1)
    rows, kinds = np.nonzero(stack)
    offsets = np.concatenate([[0], np.cumsum(stack.sum(axis=1))]).astype(np.int32)
    values = strings.take(list(ALL_KINDS), kinds)
    del rows
    return pa.ListArray.from_arrays(pa.array(offsets), values)
