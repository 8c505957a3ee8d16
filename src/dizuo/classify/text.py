"""Free-text scanning: the character spans of entities embedded in prose.

Free text (备注, notes, hotline tickets) is scanned in batches. The texts are joined into one
string with NUL separators (no pattern crosses one), full-width digits, letters and
punctuation are mapped to half-width one character for one (so every offset still refers to
the original), and a few compiled regular expressions each run once over the whole batch:

* every pass starts with a character class (digits, plate provinces, context words,
  punctuation), so Python's ``re`` skips the other positions in C instead of trying each one;
* addresses, the costliest pattern, are searched only in texts with a house number (``12号``);
* e-mail and IPv4 patterns run only when the batch has an ``@`` or a dotted number.

The candidates of all passes are merged leftmost-first (at one position, the earlier pass
wins), as one alternation would; digit runs are then validated all at once with the column
detectors (:mod:`dizuo.classify.detectors`: check digits, dates, region codes, prefixes), and
names are checked against stop words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from itertools import accumulate
from typing import NamedTuple

import numpy as np
import pyarrow as pa

from dizuo.classify import detectors as det
from dizuo.classify import vocab
from dizuo.classify.entities import Entity

HAN = "[\u4e00-\u9fff]"
SEP = "\x00"
#: Han characters that may lead an address: not the verbs and labels that precede one
ADDR_HAN = "[^\\W\\d_a-zA-Z民反映住址点称于的是其请诉求来电人]"
#: words after which a person's name follows in Chinese service texts
NAME_CONTEXT = (
    "来电人姓名 来电人 反映人 诉求人 联系人 紧急联系人 当事人 投诉人 举报人 患者 病人 家属 "
    "市民 居民 业主 租户 邻居 房东 家人 姓名 代表人 申请人 监护人 本人"
).split()
#: what may follow a name: punctuation, spaces, the end of the text, or a verb of the ticket
NAME_CUE = r"(?=[，,。：:；;（(\s、！!\x00]|来电|反映|代其|咨询|称|要求|陪同|家|等|$)"
#: what may precede a name without a context word: the start of the text or punctuation
NAME_LEAD = "[，,。；;！!\\s】）)\x00]"
ADDRESS_RE = (
    # a necessary condition first, cheap to fail: a district-level marker within the 28
    # characters the province, city and district parts can span
    f"(?={ADDR_HAN}{{0,30}}?[区县市旗])"
    f"(?:{ADDR_HAN}{{2,8}}?(?:省|自治区))?(?:{ADDR_HAN}{{1,8}}?(?:市|州|盟))?"
    f"{ADDR_HAN}{{1,8}}?(?:区|县|市|旗)(?:{HAN}{{1,10}}?(?:街道|镇|乡))?"
    f"{HAN}{{1,12}}?(?:路|街|巷|大道|道|村|弄|胡同)"
    r"(?:[一二三四五六七八九十东南西北中]{1,3}段)?"  # 人民南路四段, 一环路北三段
    r"\d+号(?:院)?(?:附\d+号)?(?:\d+(?:栋|幢|号楼|座))?(?:\d+单元)?(?:\d+(?:室|号|户))?"
)
#: a run of 10–19 digits or code characters with optional spaces / hyphens and a +86 prefix,
#: not inside a longer alphanumeric run; starts with a character class (see the module doc)
NUMBER_RE = (
    r"[+0-9](?<![0-9A-Za-z][+0-9])(?:(?<=\+)86[ -]?[0-9]|(?<=[0-9]))"
    r"(?:[ -]?[0-9A-Z]){8,17}[ -]?[0-9A-Zx](?![0-9A-Za-z])"
)
IPV4_TEXT_RE = rf"(?<![0-9.]){det.IPV4_RE}(?![0-9.])"
#: where an address (a house number) or an IPv4 address (a dotted number) may be
_GATE = re.compile(r"[0-9](?:(号)|(\.[0-9]{1,3}\.[0-9]))")
#: an address starts at most this many characters before its house number (the pattern's
#: parts before the number add up to 59 characters at most)
ADDRESS_HEAD = 96

#: the order of validation of a digit run: the first detector that accepts it names it
NUMBER_ENTITIES = (
    Entity.RESIDENT_ID,
    Entity.USCC,
    Entity.BANK_CARD,
    Entity.MOBILE_PHONE,
    Entity.LANDLINE_PHONE,
    Entity.RESIDENT_ID_15,
)

_HALF = str.maketrans(det.FULL_WIDTH, det.HALF_WIDTH)
#: full-width characters the patterns need in half width (digits, letters, ＋－．＠); the
#: common ，：and the ideographic space are left alone (the patterns accept them as they are)
_FULL = re.compile("[\uff0b\uff0d\uff0e\uff10-\uff19\uff20-\uff3a\uff41-\uff5a]+")


class Span(NamedTuple):
    """An entity found in a text: ``text[start:end]`` (Python string offsets, end exclusive)."""

    start: int
    end: int
    entity: Entity
    text: str


#: pass order: at one position, an earlier kind wins (as in one regex alternation)
NUMBER, EMAIL, IPV4, PLATE, ADDRESS, CONTEXT_NAME, NAME = range(7)


@cache
def _patterns() -> dict[int, re.Pattern[str]]:
    surname = vocab.surname_pattern()
    cued = f"{surname}{HAN}{{1,2}}?{NAME_CUE}"
    # an alternation of literals: re skips positions that cannot start one of them
    context = "|".join(sorted(NAME_CONTEXT, key=len, reverse=True))
    starts = "".join(vocab.single_surnames()) + "".join(w[0] for w in vocab.COMPOUND_SURNAMES)
    return {
        NUMBER: re.compile(NUMBER_RE),
        EMAIL: re.compile(det.EMAIL_RE),
        IPV4: re.compile(IPV4_TEXT_RE),
        PLATE: re.compile(det.PLATE_RE),
        ADDRESS: re.compile(ADDRESS_RE),
        CONTEXT_NAME: re.compile(f"(?:{context})[:：]?\\s*(?P<name>{cued}|{surname}{HAN}{{2}})"),
        NAME: re.compile(f"{NAME_LEAD}(?=[{starts}])(?P<name>{cued})"),
    }


@cache
def _name_patterns() -> tuple[str, str]:
    """RE2 patterns: a word that only looks like a name; a given name of numerals only."""
    context = "|".join(map(re.escape, NAME_CONTEXT))
    words = "|".join(map(re.escape, vocab.NAME_STOP_WORDS))
    reject = f"^(?:{context})|[{vocab.NAME_STOP_SUFFIXES}]$|{words}"
    compound = "|".join(vocab.COMPOUND_SURNAMES)
    numerals = f"^(?:{compound}|.)[{vocab.NAME_STOP_GIVEN}]*$"
    return reject, numerals


def _names_ok(names: list[str], after_context: list[bool]) -> list[bool]:
    """Reject words that only look like names (checked in bulk). A given name of numerals only
    (张三, 李一) is accepted after a context word (患者, 市民, 反映人 …), where it is a name;
    elsewhere it is more often a grade or an ordinal (高三, 第一)."""
    if not names:
        return []
    reject, numerals = _name_patterns()
    values = pa.array(names, pa.string())
    bad = det.has_pattern(values, reject)
    bad |= det.has_pattern(values, numerals) & ~np.array(after_context, dtype=bool)
    return [bool(b) for b in ~bad]


def _text_windows(
    joined: str, hits: list[int], tail: int, head: int | None = None
) -> list[tuple[int, int]]:
    """For every text holding one of the (ascending) positions ``hits``: the part of it from
    ``head`` characters before its first hit (its start when ``head`` is None) to ``tail``
    characters after its last hit, clipped to the text."""
    windows: dict[int, list[int]] = {}
    for hit in hits:
        start = joined.rfind(SEP, 0, hit) + 1
        if start in windows:
            windows[start][1] = hit
        else:
            windows[start] = [hit, hit]
    return [
        (a if head is None else max(a, first - head), min(joined.find(SEP, last), last + tail))
        for a, (first, last) in windows.items()
    ]


def _candidates(half: str) -> list[tuple[int, int, int, int]]:
    """Every (start, pass order, end, kind) the passes find in the joined, half-width batch."""
    patterns = _patterns()
    found: list[tuple[int, int, int, int]] = []
    for kind in (NUMBER, PLATE):
        found += [(m.start(), kind, m.end(), kind) for m in patterns[kind].finditer(half)]
    for kind in (CONTEXT_NAME, NAME):
        found += [(m.start(1), kind, m.end(1), kind) for m in patterns[kind].finditer(half)]
    houses: list[int] = []
    dotted: list[int] = []
    for m in _GATE.finditer(half):  # one pass finds both: a house number or a dotted number
        (houses if m.lastindex == 1 else dotted).append(m.start())
    gated = (  # kind, where it may occur, how far before and after that position it may reach
        (EMAIL, [m.start() for m in re.finditer("@", half)], None, 256),
        (IPV4, dotted, None, 16),
        (ADDRESS, houses, ADDRESS_HEAD, 32),
    )
    for kind, hits, head, tail in gated:
        for start, end in _text_windows(half, hits, tail, head):
            found += [
                (m.start(), kind, m.end(), kind) for m in patterns[kind].finditer(half, start, end)
            ]
    return found


def _leftmost(found: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int]]:
    """Non-overlapping candidates, leftmost first; at one start the earlier pass wins."""
    kept: list[tuple[int, int, int]] = []
    end = -1
    found.sort()
    for start, _, stop, kind in found:
        if start >= end and stop > start:
            kept.append((start, stop, kind))
            end = stop
    return kept


def _number_entities(raws: list[str]) -> list[Entity | None]:
    """Which number each digit run is (validated in bulk); None when no detector accepts it."""
    if not raws:
        return []
    values = det.Values(det.compact(det.normalise_text(pa.array(raws, pa.string()))))
    named = np.full(len(raws), -1)
    for order, entity in enumerate(NUMBER_ENTITIES):
        hits = det.detect(entity, values) & (named < 0)
        named[hits] = order
    return [NUMBER_ENTITIES[n] if n >= 0 else None for n in named.tolist()]


def _to_half(joined: str) -> str:
    return _FULL.sub(lambda m: m.group().translate(_HALF), joined)


def scan_text(texts: Iterable[str | None] | pa.Array | pa.ChunkedArray) -> list[list[Span]]:
    """The entity spans in every text (an empty list for None or empty texts).

    Args:
        texts: A list of strings, or an Arrow string array.

    Returns:
        One list of :class:`Span` per input text, in input order, by position.
    """
    values = texts.to_pylist() if isinstance(texts, pa.Array | pa.ChunkedArray) else texts
    items = [v.replace(SEP, " ") if v else "" for v in values]
    out: list[list[Span]] = [[] for _ in items]
    if not any(items):
        return out
    joined = SEP + SEP.join(items) + SEP
    starts = list(accumulate((len(t) + 1 for t in items), initial=1))
    kept = _leftmost(_candidates(_to_half(joined)))
    numbers = _number_entities([joined[a:b] for a, b, kind in kept if kind == NUMBER])
    names = [(joined[a:b], kind == CONTEXT_NAME) for a, b, kind in kept if kind in _NAME_KINDS]
    names_ok = _names_ok([n for n, _ in names], [c for _, c in names])
    which = np.searchsorted(starts, [a for a, _, _ in kept], side="right") - 1
    next_number, next_name = iter(numbers).__next__, iter(names_ok).__next__
    kind_entity = _KIND_ENTITY
    person = Entity.PERSON_NAME
    for (start, end, kind), row in zip(kept, which.tolist(), strict=True):
        entity: Entity | None
        if kind == NUMBER:
            entity = next_number()
        elif kind in _NAME_KINDS:
            entity = person if next_name() else None
        else:
            entity = kind_entity[kind]
        if entity is not None:
            offset = starts[row]
            out[row].append(Span(start - offset, end - offset, entity, joined[start:end]))
    return out


_NAME_KINDS = (CONTEXT_NAME, NAME)
_KIND_ENTITY = {
    EMAIL: Entity.EMAIL,
    IPV4: Entity.IPV4,
    PLATE: Entity.LICENSE_PLATE,
    ADDRESS: Entity.ADDRESS,
}


def scan_one(text: str) -> list[Span]:
    """The entity spans in one text, in order of position."""
    return scan_text([text])[0]
