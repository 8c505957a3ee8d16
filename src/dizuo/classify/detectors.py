"""Entity detectors as DuckDB SQL: one boolean expression per entity, validators included.

Every detector is a pair (normal form, predicate). The value is first normalised in SQL —
trimmed, full-width digits, letters and punctuation mapped to half-width with ``translate``
(same length, so nothing shifts) and, for the ``compact`` form of numbers and codes, inner
spaces and hyphens removed and letters upper-cased. The predicate then checks the shape with
an RE2 regular expression and the validator (check digits, dates, region codes) with list
lambdas, so a whole column is checked in DuckDB's vectorised engine. Every piece is written to
be total (``TRY_CAST``, ``try_strptime``, character codes) so a dirty value yields false, never
an error; :func:`match_sql` wraps the predicate in ``coalesce(…, false)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from dizuo.classify import vocab
from dizuo.classify.entities import Entity
from dizuo.classify.regions import REGION_TABLE, ensure_region_table
from dizuo.engine.duckdb import DuckDBEngine, sql_literal

Form = Literal["compact", "text"]

FULL_WIDTH = "".join(chr(c) for c in range(0xFF10, 0xFF1A))  # ０-９
FULL_WIDTH += "".join(chr(c) for c in range(0xFF21, 0xFF3B))  # Ａ-Ｚ
FULL_WIDTH += "".join(chr(c) for c in range(0xFF41, 0xFF5B))  # ａ-ｚ
FULL_WIDTH += "＋－．＠：，\u3000"
HALF_WIDTH = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz+-.@:, "

RIC_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
RIC_CHECK = "10X98765432"
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]
VIN_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
VIN_LETTER_VALUES = [1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9]
VIN_WEIGHTS = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]

MOBILE_RE = r"(?:\+?86)?1(?:3\d|4[5-9]|5[0-35-9]|6[2567]|7[0-8]|8\d|9[0-35-9])\d{8}"
LANDLINE_RE = r"(?:\+?86)?0(?:10|2\d|[3-9]\d{2})[2-9]\d{6,7}"
EMAIL_RE = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"
BANK_IIN_RE = r"(?:62|60|4|5[1-5]|2[2-7]|35|9)\d*"
PLATE_CHARS = "[A-HJ-NP-Z0-9]"
PLATE_RE = (
    f"[{vocab.PLATE_PROVINCES}][A-HJ-NP-Z]"
    f"(?:{PLATE_CHARS}{{4}}[A-HJ-NP-Z0-9挂学警港澳]|[DF]{PLATE_CHARS}\\d{{4}}|\\d{{5}}[DF])"
)
PASSPORT_RE = r"[EGDSP]\d{8}|E[A-HJ-NP-Z]\d{7}"
HK_MACAO_RE = r"C[A-HJ-NP-Z]\d{7}|[CW]\d{8}|[HM]\d{8}(?:\d{2})?"
TAIWAN_RE = r"[LT]\d{8}"
IPV4_RE = r"\d{1,3}(?:\.\d{1,3}){3}"
ICD10_RE = r"[A-TV-Z]\d{2}(?:\.[0-9A-Z]{1,7})?[+*]?"
DATE_RE = r"(\d{4})[-/.年]?(\d{1,2})[-/.月]?(\d{1,2})日?(?: 00:00:00)?"
COORD_RE = r"-?\d{1,3}\.\d{2,}"
GPS_RE = COORD_RE + r"\s*,\s*" + COORD_RE
RIC18_RE = r"\d{17}[\dX]"
RIC15_RE = r"\d{15}"
CARD_RE = r"\d{16,19}"
ORG_RE = r"[0-9A-Z]{8}[0-9X]"
HAN_RE = r"\p{Han}"
DISEASE_SHAPE_RE = r"^[\p{Han}0-9（）()、型性]+$"
MINORITY_NAME_RE = r"\p{Han}{2,6}·\p{Han}{2,8}"
LAT_RANGE = (3.0, 54.0)
LON_RANGE = (73.0, 136.0)
ADMIN_MARKERS = "省|自治区|市|州|盟|区|县|旗|镇|乡|街道"
STREET_MARKERS = "路|街|巷|大道|道|村|弄|胡同|社区|小区|组"


def normalise_sql(value_sql: str, form: Form) -> str:
    """SQL for the normalised value: trimmed, half-width; ``compact`` also drops spaces/hyphens."""
    text = (
        f"trim(translate(CAST({value_sql} AS VARCHAR), "
        f"{sql_literal(FULL_WIDTH)}, {sql_literal(HALF_WIDTH)}))"
    )
    if form == "text":
        return text
    return f"upper(regexp_replace({text}, '[\\s\\-]+', '', 'g'))"


def _full(x: str, pattern: str) -> str:
    return f"regexp_full_match({x}, {sql_literal(pattern)})"


def _has(x: str, pattern: str) -> str:
    return f"regexp_matches({x}, {sql_literal(pattern)})"


def _digit(c: str) -> str:
    return f"(ascii({c}) - 48)"


def _weighted(x: str, weights: list[int], value: Callable[[str], str], start: int = 0) -> str:
    """SQL for sum(value(x[start + i]) * weights[i]), unrolled into plain scalar arithmetic.

    Unrolled sums stay in DuckDB's vectorised scalar kernels; list lambdas would build a list
    per row and are an order of magnitude slower.
    """
    terms = [
        f"{value(f'substr({x}, {start + i + 1}, 1)')} * {w}" for i, w in enumerate(weights) if w
    ]
    return "(" + " + ".join(terms) + ")"


def ric_check_sql(x: str) -> str:
    """GB 11643 / ISO 7064 MOD 11-2: the 18th character against the first 17."""
    total = _weighted(x, RIC_WEIGHTS, _digit)
    return f"substr('{RIC_CHECK}', ({total}) % 11 + 1, 1) = {x}[18]"


def _region_ok(code: str, year: str) -> str:
    return (
        f"(TRY_CAST({code} AS BIGINT) * 10000 + TRY_CAST({year} AS BIGINT)) "
        f"IN (SELECT k FROM {REGION_TABLE})"
    )


def _date_ok(date: str, fmt: str) -> str:
    return (
        f"try_strptime({date}, '{fmt}') BETWEEN TIMESTAMP '1900-01-01' AND current_date::TIMESTAMP"
    )


def resident_id_sql(x: str) -> str:
    """18 digits (last may be X), GB 11643 check, valid birth date, region valid in that year."""
    return (
        f"(CASE WHEN {_full(x, RIC18_RE)} THEN {ric_check_sql(x)} "
        f"AND {_date_ok(f'substr({x}, 7, 8)', '%Y%m%d')} "
        f"AND {_region_ok(f'substr({x}, 1, 6)', f'substr({x}, 7, 4)')} ELSE false END)"
    )


def resident_id_15_sql(x: str) -> str:
    """15 digits: region (valid in 19YY) + YYMMDD + 3-digit sequence; no check digit."""
    century = "'19' || substr(" + x + ", 7, 2)"
    return (
        f"(CASE WHEN {_full(x, RIC15_RE)} THEN {_date_ok(f'substr({x}, 7, 6)', '%y%m%d')} "
        f"AND {_region_ok(f'substr({x}, 1, 6)', century)} ELSE false END)"
    )


def luhn_sql(x: str) -> str:
    """The Luhn (ISO/IEC 7812) sum of all digits is a multiple of 10.

    The value is left-padded with zeros to 19 digits (zeros add nothing), so the sum unrolls
    over fixed positions: from the right, every second digit d counts 2d, less 9 if d > 4.
    """
    padded = f"lpad({x}, 19, '0')"
    terms = []
    for p in range(1, 20):  # p counts from the right
        d = f"(ascii(substr({padded}, {20 - p}, 1)) - 48)"
        terms.append(f"(2 * {d} - 9 * CAST({d} > 4 AS INTEGER))" if p % 2 == 0 else d)
    return "(" + " + ".join(terms) + ") % 10 = 0"


def bank_card_sql(x: str) -> str:
    """16–19 digits, a card-network IIN prefix (UnionPay 62/60, Visa, Mastercard …), Luhn."""
    return (
        f"(CASE WHEN {_full(x, CARD_RE)} AND {_full(x, BANK_IIN_RE)} "
        f"THEN {luhn_sql(x)} ELSE false END)"
    )


def _org_value(c: str) -> str:
    return f"(CASE WHEN {c} <= '9' THEN ascii({c}) - 48 ELSE ascii({c}) - 55 END)"


def org_check_sql(x: str, start: int = 0) -> str:
    """GB 11714 MOD 11: eight characters (0-9, A-Z) and the check character (0-9 or X)."""
    total = _weighted(x, ORG_WEIGHTS, _org_value, start)
    check = f"11 - ({total}) % 11"
    return (
        f"(CASE {check} WHEN 10 THEN 'X' WHEN 11 THEN '0' ELSE CAST({check} AS VARCHAR) END)"
        f" = {x}[{start + 9}]"
    )


def org_code_sql(x: str) -> str:
    """A nine-character organisation code (hyphen removed) with a valid GB 11714 check."""
    return f"(CASE WHEN {_full(x, ORG_RE)} THEN {org_check_sql(x)} ELSE false END)"


def uscc_sql(x: str) -> str:
    """GB 32100: 8 digits, 10 characters of the code alphabet, MOD 31 check, valid org code."""
    pattern = r"\d{8}[" + USCC_ALPHABET + "]{10}"
    total = _weighted(x, USCC_WEIGHTS, lambda c: f"(instr('{USCC_ALPHABET}', {c}) - 1)")
    return (
        f"(CASE WHEN {_full(x, pattern)} "
        f"THEN substr('{USCC_ALPHABET}', (31 - ({total}) % 31) % 31 + 1, 1) = {x}[18] "
        f"AND {org_check_sql(x, 8)} ELSE false END)"
    )


def vin_sql(x: str) -> str:
    """ISO 3779 VIN: 17 characters without I, O, Q, at least one letter, check at position 9."""

    def value(c: str) -> str:
        letter = f"{VIN_LETTER_VALUES}[instr('{VIN_LETTERS}', {c})]"
        return f"(CASE WHEN {c} <= '9' THEN ascii({c}) - 48 ELSE {letter} END)"

    total = _weighted(x, VIN_WEIGHTS, value)
    check = f"({total}) % 11"
    return (
        f"(CASE WHEN {_full(x, r'[A-HJ-NPR-Z0-9]{17}')} AND {_has(x, '[A-Z]')} "
        f"THEN (CASE {check} WHEN 10 THEN 'X' ELSE CAST({check} AS VARCHAR) END) = {x}[9] "
        "ELSE false END)"
    )


def ipv4_sql(x: str) -> str:
    """Four dotted decimal octets, each at most 255."""
    return (
        f"({_full(x, IPV4_RE)} AND list_bool_and(list_transform("
        f"string_split({x}, '.'), lambda o: TRY_CAST(o AS INTEGER) <= 255)))"
    )


def ipv6_sql(x: str) -> str:
    """Eight hexadecimal groups, or fewer with exactly one ``::``."""
    group = "[0-9A-Fa-f]{1,4}"
    full = f"(?:{group}:){{7}}{group}"
    short = f"(?:{group}(?::{group}){{0,6}})?::(?:{group}(?::{group}){{0,6}})?"
    return (
        f"({_full(x, full)} OR ({_full(x, short)} AND len(string_split({x}, ':')) <= 8 "
        f"AND length({x}) - length(replace({x}, '::', '')) = 2))"
    )


def mac_sql(x: str) -> str:
    """Six hexadecimal pairs joined by ':' or '-', or three groups of four joined by '.'."""
    pair = "[0-9A-Fa-f]{2}"
    quad = "[0-9A-Fa-f]{4}"
    dot = r"\."
    return _full(x, f"(?:{pair}:){{5}}{pair}|(?:{pair}-){{5}}{pair}|(?:{quad}{dot}){{2}}{quad}")


def _in_range(v: str, bounds: tuple[float, float]) -> str:
    return f"TRY_CAST({v} AS DOUBLE) BETWEEN {bounds[0]} AND {bounds[1]}"


def latitude_sql(x: str) -> str:
    """A decimal with at least three fraction digits in China's latitude range (3–54)."""
    return f"({_full(x, COORD_RE)} AND {_in_range(x, LAT_RANGE)})"


def longitude_sql(x: str) -> str:
    """A decimal with at least three fraction digits in China's longitude range (73–136)."""
    return f"({_full(x, COORD_RE)} AND {_in_range(x, LON_RANGE)})"


def gps_text_sql(x: str) -> str:
    """ "lat,lon" or "lon,lat" text with both parts in China's ranges."""
    a = f"trim(split_part({x}, ',', 1))"
    b = f"trim(split_part({x}, ',', 2))"
    return (
        f"({_full(x, GPS_RE)} AND "
        f"(({_in_range(a, LAT_RANGE)} AND {_in_range(b, LON_RANGE)}) OR "
        f"({_in_range(a, LON_RANGE)} AND {_in_range(b, LAT_RANGE)})))"
    )


def birth_date_sql(x: str) -> str:
    """A calendar date (2012-03-05, 2012/3/5, 20120305, 2012年3月5日) from 1900 to today."""
    parts = f"regexp_extract({x}, {sql_literal(DATE_RE)}, ['y', 'm', 'd'])"
    date = f"concat({parts}.y, '-', {parts}.m, '-', {parts}.d)"
    return f"(CASE WHEN {_full(x, DATE_RE)} THEN {_date_ok(date, '%Y-%m-%d')} ELSE false END)"


def person_name_sql(x: str) -> str:
    """Surname (single or compound) + 1–2 Han characters, or a ·-joined minority name.

    Values ending like a place or organisation (市, 区, 路, 院 …), containing a common
    non-name word (公司, 医院, 年级 …) or whose given name is only numerals (高三) are rejected.
    """
    surname = vocab.surname_pattern()
    stop_words = "|".join(vocab.NAME_STOP_WORDS)
    return (
        f"(({_full(x, surname + HAN_RE + '{1,2}')} "
        f"OR {_full(x, MINORITY_NAME_RE)}) "
        f"AND NOT {_has(x, f'[{vocab.NAME_STOP_SUFFIXES}]$')} "
        f"AND NOT {_has(x, stop_words)} "
        f"AND NOT {_full(x, f'{surname}[{vocab.NAME_STOP_GIVEN}]{{1,2}}')})"
    )


def person_name_latin_sql(x: str) -> str:
    """Two to four capitalised Latin words (Li Wei, ZHANG SAN, Wang Xiao-Ming)."""
    return _full(x, r"[A-Z][a-z]+(?:[ \-'][A-Z][a-z]+){1,3}|[A-Z]{2,}(?:,? [A-Z]{2,}){1,3}")


def address_sql(x: str) -> str:
    """6–100 characters with a house number after a street marker or admin levels + street."""
    numbered = f"(?:{STREET_MARKERS}).{{0,20}}" + r"\d+(?:号|弄|栋|幢)"
    levels = f"(?:{ADMIN_MARKERS}).{{0,12}}(?:{ADMIN_MARKERS}).{{0,20}}(?:{STREET_MARKERS})"
    return (
        f"(length({x}) BETWEEN 6 AND 100 AND {_has(x, HAN_RE)} "
        f"AND ({_has(x, numbered)} OR {_has(x, levels)}))"
    )


def gender_sql(x: str) -> str:
    """Gender words: 男/女/男性/女性, M/F, MALE/FEMALE (GB/T 2261.1 codes are separate)."""
    values = ", ".join(sql_literal(v) for v in vocab.GENDER_WORDS)
    return f"upper({x}) IN ({values})"


def gender_code_sql(x: str) -> str:
    """GB/T 2261.1 codes 0/1/2/9: counted as gender only with a name hint."""
    values = ", ".join(sql_literal(v) for v in vocab.GENDER_CODES)
    return f"{x} IN ({values})"


def ethnicity_sql(x: str) -> str:
    """One of the 56 民族 names, with or without 族."""
    values = ", ".join(sql_literal(v) for v in vocab.ethnicity_values())
    return f"{x} IN ({values})"


def icd10_sql(x: str) -> str:
    """Letter (not U) + two digits + optional ``.`` subdivision (J06.9, I10, E11.900)."""
    return _full(x, ICD10_RE)


def disease_sql(x: str) -> str:
    """Up to 30 characters, Han script, containing a disease word or suffix (炎, 症, 病 …)."""
    words = "|".join(vocab.DISEASE_WORDS)
    return f"(length({x}) <= 30 AND {_has(x, DISEASE_SHAPE_RE)} AND {_has(x, words)})"


@dataclass(frozen=True)
class Detector:
    """How one entity is recognised: the normal form, the predicate, the standard."""

    form: Form
    predicate: Callable[[str], str]
    standard: str
    shape: str | None = None  # regex of look-alikes: shape without validity counts as decoy


DETECTORS: dict[Entity, Detector] = {
    Entity.RESIDENT_ID: Detector("compact", resident_id_sql, "GB 11643-1999", r"\d{17}[\dX]"),
    Entity.RESIDENT_ID_15: Detector("compact", resident_id_15_sql, "GB 11643-1989", r"\d{15}"),
    Entity.MOBILE_PHONE: Detector("compact", lambda x: _full(x, MOBILE_RE), "MIIT", r"1\d{10}"),
    Entity.LANDLINE_PHONE: Detector("compact", lambda x: _full(x, LANDLINE_RE), "YD/T 2135"),
    Entity.EMAIL: Detector("text", lambda x: _full(x, EMAIL_RE), "RFC 5322"),
    Entity.BANK_CARD: Detector("compact", bank_card_sql, "ISO/IEC 7812", r"\d{16,19}"),
    Entity.USCC: Detector("compact", uscc_sql, "GB 32100-2015", r"[0-9A-Z]{18}"),
    Entity.ORG_CODE: Detector("compact", org_code_sql, "GB 11714-1997"),
    Entity.LICENSE_PLATE: Detector("compact", lambda x: _full(x, PLATE_RE), "GA 36-2018"),
    Entity.PASSPORT: Detector("compact", lambda x: _full(x, PASSPORT_RE), "MPS"),
    Entity.HK_MACAO_PERMIT: Detector("compact", lambda x: _full(x, HK_MACAO_RE), "MPS"),
    Entity.TAIWAN_PERMIT: Detector("compact", lambda x: _full(x, TAIWAN_RE), "MPS"),
    Entity.PERSON_NAME: Detector("text", person_name_sql, "surname table"),
    Entity.PERSON_NAME_LATIN: Detector("text", person_name_latin_sql, "pattern"),
    Entity.ADDRESS: Detector("text", address_sql, "GB/T 2260 markers"),
    Entity.IPV4: Detector("text", ipv4_sql, "RFC 791"),
    Entity.IPV6: Detector("text", ipv6_sql, "RFC 4291"),
    Entity.MAC_ADDRESS: Detector("text", mac_sql, "IEEE 802"),
    Entity.LATITUDE: Detector("text", latitude_sql, "WGS-84 range"),
    Entity.LONGITUDE: Detector("text", longitude_sql, "WGS-84 range"),
    Entity.GPS_TEXT: Detector("text", gps_text_sql, "WGS-84 range"),
    Entity.BIRTH_DATE: Detector("text", birth_date_sql, "GB/T 7408"),
    Entity.GENDER: Detector("text", gender_sql, "GB/T 2261.1"),
    Entity.ETHNICITY: Detector("text", ethnicity_sql, "GB/T 3304"),
    Entity.ICD10_CODE: Detector("compact", icd10_sql, "ICD-10 / GB/T 14396"),
    Entity.DISEASE: Detector("text", disease_sql, "disease word list"),
    Entity.VIN: Detector("compact", vin_sql, "ISO 3779 / GB 16735", r"[A-Z0-9]{17}"),
}


def prepare(engine: DuckDBEngine) -> None:
    """Create what the detectors need on this connection (the region-code table)."""
    ensure_region_table(engine)


def predicate_sql(entity: Entity, normalised_sql: str) -> str:
    """The predicate over an already normalised value (see :func:`normalise_sql`)."""
    return f"coalesce({DETECTORS[entity].predicate(normalised_sql)}, false)"


def match_sql(entity: Entity, value_sql: str) -> str:
    """A DuckDB boolean expression: true when ``value_sql`` is (a valid) ``entity``.

    Call :func:`prepare` on the engine first: the resident-ID detectors read a temp table.

    Args:
        entity: The entity to recognise.
        value_sql: Any SQL expression; it is cast to VARCHAR and normalised.

    Returns:
        SQL that is never NULL.
    """
    detector = DETECTORS[entity]
    return predicate_sql(entity, normalise_sql(value_sql, detector.form))


def shape_sql(entity: Entity, normalised_sql: str) -> str | None:
    """SQL true when the value has the entity's shape (valid or not); None if undefined."""
    shape = DETECTORS[entity].shape
    if shape is None:
        return None
    return f"coalesce({_full(normalised_sql, shape)}, false)"
