"""Free-text scanning: the character spans of entities embedded in prose.

Free text (备注, notes, hotline tickets) is scanned with Python's compiled ``re``: the entities
sit at unknown positions inside long strings, spans need Python string offsets, and DuckDB's
RE2 functions return matched text but not positions. Each text gets one pass of one combined
regular expression (a named group per kind); the validators run on the matches only. Before
the pass, full-width digits, letters and punctuation are mapped to half-width with
``str.translate`` — one character to one character — so every offset refers to the original.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

import pyarrow as pa

from dizuo.classify import validators, vocab
from dizuo.classify.detectors import EMAIL_RE, FULL_WIDTH, HALF_WIDTH, PLATE_RE
from dizuo.classify.entities import Entity

HAN = "[\u4e00-\u9fff]"
#: Han characters that may lead an address: not the verbs and labels that precede one
ADDR_HAN = "[^\\W\\d_a-zA-Z民反映住址点称于的是其请诉求来电人]"
#: words after which a person's name follows in Chinese service texts
NAME_CONTEXT = (
    "来电人姓名 来电人 反映人 诉求人 联系人 紧急联系人 当事人 投诉人 举报人 患者 病人 家属 "
    "市民 居民 业主 租户 邻居 房东 家人 姓名 代表人 申请人 监护人 本人"
).split()
#: what may follow a name: punctuation, spaces, or a verb of the ticket
NAME_CUE = r"(?=[，,。：:；;（(\s、！!]|来电|反映|代其|咨询|称|要求|陪同|家|等|$)"
ADDRESS_RE = (
    f"(?:{ADDR_HAN}{{2,8}}?(?:省|自治区))?(?:{ADDR_HAN}{{1,8}}?(?:市|州|盟))?"
    f"{ADDR_HAN}{{1,8}}?(?:区|县|市|旗)(?:{HAN}{{1,10}}?(?:街道|镇|乡))?"
    f"{HAN}{{1,12}}?(?:路|街|巷|大道|道|村|弄|胡同)"
    r"(?:[一二三四五六七八九十东南西北中]{1,3}段)?"  # 人民南路四段, 一环路北三段
    r"\d+号(?:院)?(?:附\d+号)?(?:\d+(?:栋|幢|号楼|座))?(?:\d+单元)?(?:\d+(?:室|号|户))?"
)
NUMBER_RE = r"(?<![0-9A-Za-z])(?:\+?86[ -]?)?\d(?:[ -]?[0-9A-Z]){8,17}[ -]?[0-9A-Zx](?![0-9A-Za-z])"
IPV4_RE = r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d.])"

_HALF = str.maketrans(FULL_WIDTH, HALF_WIDTH)


@dataclass(frozen=True)
class Span:
    """An entity found in a text: ``text[start:end]`` (Python string offsets, end exclusive)."""

    start: int
    end: int
    entity: Entity
    text: str


@cache
def _pattern() -> re.Pattern[str]:
    surname = vocab.surname_pattern()
    context = "|".join(sorted(NAME_CONTEXT, key=len, reverse=True))
    cued = f"{surname}{HAN}{{1,2}}?{NAME_CUE}"
    parts = [
        f"(?P<number>{NUMBER_RE})",
        f"(?P<email>{EMAIL_RE})",
        f"(?P<ipv4>{IPV4_RE})",
        f"(?P<plate>{PLATE_RE})",
        f"(?P<address>{ADDRESS_RE})",
        # after a context word a name may run into the next word; elsewhere it needs a cue
        f"(?:{context})[:：]?\\s*(?P<name>{cued}|{surname}{HAN}{{2}})",
        f"(?:^|(?<=[，,。；;！!\\s】）)]))(?P<name2>{cued})",
    ]
    return re.compile("|".join(parts))


def _number_entity(raw: str) -> Entity | None:
    """Which number a digit run is, by validators in order; None when none passes."""
    value = re.sub(r"[ \-]", "", raw).upper()
    checks = (
        (Entity.RESIDENT_ID, validators.resident_id),
        (Entity.USCC, validators.uscc),
        (Entity.BANK_CARD, validators.bank_card),
        (Entity.MOBILE_PHONE, validators.mobile),
        (Entity.LANDLINE_PHONE, validators.landline),
        (Entity.RESIDENT_ID_15, validators.resident_id_15),
    )
    for entity, check in checks:
        if check(value):
            return entity
    return None


def _name_ok(name: str, *, after_context: bool) -> bool:
    """Reject words that only look like names. A given name of numerals only (张三, 李一) is
    accepted after a context word (患者, 市民, 反映人 …), where it is a name; elsewhere it is
    more often a grade or an ordinal (高三, 第一)."""
    if name[-1] in vocab.NAME_STOP_SUFFIXES or any(w in name for w in vocab.NAME_STOP_WORDS):
        return False
    if any(name.startswith(word) for word in NAME_CONTEXT):
        return False
    given = name[2:] if name[:2] in vocab.COMPOUND_SURNAMES else name[1:]
    return after_context or not all(c in vocab.NAME_STOP_GIVEN for c in given)


def scan_one(text: str) -> list[Span]:
    """The entity spans in one text, in order of position."""
    half = text.translate(_HALF)
    spans: list[Span] = []
    for match in _pattern().finditer(half):
        group = match.lastgroup
        if group is None:
            continue
        kind = "name" if group == "name2" else group
        start, end = match.span(group)
        found = match.group(group)
        entity: Entity | None
        if kind == "number":
            entity = _number_entity(found)
        elif kind == "email":
            entity = Entity.EMAIL
        elif kind == "ipv4":
            entity = Entity.IPV4 if validators.ipv4(found) else None
        elif kind == "plate":
            entity = Entity.LICENSE_PLATE
        elif kind == "address":
            entity = Entity.ADDRESS
        else:
            ok = _name_ok(found, after_context=group == "name")
            entity = Entity.PERSON_NAME if ok else None
        if entity is not None:
            spans.append(Span(start, end, entity, text[start:end]))
    return spans


def scan_text(texts: Iterable[str | None] | pa.Array | pa.ChunkedArray) -> list[list[Span]]:
    """The entity spans in every text (an empty list for None or empty texts).

    Args:
        texts: A list of strings, or an Arrow string array.

    Returns:
        One list of :class:`Span` per input text, in input order.
    """
    values = texts.to_pylist() if isinstance(texts, pa.Array | pa.ChunkedArray) else texts
    return [scan_one(t) if t else [] for t in values]
