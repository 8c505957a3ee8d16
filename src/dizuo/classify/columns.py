"""Column classification: every column gets an entity type (or none), decided from its values.

DuckDB draws the sample (reservoir ``USING SAMPLE n ROWS``, or every row when ``sample_rows``
is None) and streams it as a long (column, value) table; the detectors of
:mod:`dizuo.classify.detectors` count, per column, the non-null values, an estimate of the
distinct values, and per entity the values that pass the detector (and, for numbers with a
check digit, those that have the shape but fail it). Python then only compares a few hundred
counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from dizuo.classify import detectors as det
from dizuo.classify.entities import Entity
from dizuo.classify.hints import hinted_entities
from dizuo.engine.duckdb import DuckDBEngine, quote_ident
from dizuo.i18n import current_lang, tr

E = Entity

THRESHOLD = 0.6
#: entities whose values are often dirty or heuristic: a lower share suffices
LOOSE_THRESHOLD = {E.PERSON_NAME: 0.5, E.PERSON_NAME_LATIN: 0.5, E.ADDRESS: 0.5, E.DISEASE: 0.5}
#: candidates within this share of the best are a near-tie the name hint may break
NEAR_TIE = 0.05
#: entities whose values cannot say what they are: a name hint (or a partner column) is needed
NEEDS_HINT = {E.BIRTH_DATE, E.LATITUDE, E.LONGITUDE}
#: how much a match proves: check-digit validators prove most, heuristics least
STRENGTH = {
    E.RESIDENT_ID: 1.0,
    E.BANK_CARD: 1.0,
    E.USCC: 1.0,
    E.ORG_CODE: 0.9,
    E.VIN: 1.0,
    E.MOBILE_PHONE: 0.95,
    E.EMAIL: 0.98,
    E.IPV4: 0.95,
    E.IPV6: 0.95,
    E.MAC_ADDRESS: 0.95,
    E.LICENSE_PLATE: 0.95,
    E.ETHNICITY: 0.95,
    E.GENDER: 0.95,
    E.ICD10_CODE: 0.9,
    E.RESIDENT_ID_15: 0.9,
}
DEFAULT_STRENGTH = 0.85
HINT_BONUS = 0.1
#: entities with a check digit or a strict shape: "shape but invalid" values are decoys
CHECKED = {
    E.RESIDENT_ID: "the GB 11643 check digit, birth date and region code",
    E.BANK_CARD: "the Luhn check and card prefixes",
    E.USCC: "the GB 32100 check character",
    E.MOBILE_PHONE: "the mobile prefixes (13x–19x)",
    E.VIN: "the ISO 3779 check digit",
}
#: the same checks in Chinese
CHECKED_ZH = {
    E.RESIDENT_ID: "GB 11643 校验位、出生日期和行政区划代码",
    E.BANK_CARD: "Luhn 校验和卡号前缀",
    E.USCC: "GB 32100 校验位",
    E.MOBILE_PHONE: "13x–19x 手机号段",
    E.VIN: "ISO 3779 校验位",
}
SAMPLE_SEED = 20221
#: sentence punctuation: values that carry it are prose, not field values
FREE_TEXT_RE = "[。，！？；]|[^0-9][,;!?] "
#: share of values with sentence punctuation that makes a column free text
FREE_TEXT_SHARE = 0.3


@dataclass
class ColumnResult:
    """The verdict on one column.

    Attributes:
        column: The column name.
        entity: The winning entity, or None.
        confidence: 0–1; 0 when no entity won.
        match_rate: Share of non-null values that matched the winning entity.
        non_null: Non-null, non-empty values looked at.
        evidence: Short human-readable reasons.
        candidates: Every entity with a non-zero match rate, best first.
        free_text: The column holds prose: scan it with :func:`dizuo.classify.text.scan_text`.
    """

    column: str
    entity: Entity | None
    confidence: float
    match_rate: float
    non_null: int
    evidence: list[str] = field(default_factory=list)
    candidates: dict[Entity, float] = field(default_factory=dict)
    free_text: bool = False


def _pct(share: float) -> str:
    return f"{share * 100:.0f}%"


def _sample_sql(relation_sql: str, columns: list[str], sample_rows: int | None) -> str:
    select = ", ".join(quote_ident(c) for c in columns)
    if sample_rows is None:
        return f"SELECT {select} FROM {relation_sql}"
    return (
        f"SELECT {select} FROM (SELECT {select} FROM {relation_sql}) "
        f"USING SAMPLE reservoir({int(sample_rows)} ROWS) REPEATABLE ({SAMPLE_SEED})"
    )


#: rows of the long (column, value) table handled at a time: bounds memory in full scans
BATCH_ROWS = 1 << 20
#: hashes kept per column for the distinct-count estimate (a KMV sketch; exact below this)
DISTINCT_SKETCH = 1024

Index = npt.NDArray[np.int64]


class _Counts:
    """Per-column counts accumulated over batches of (column index, value, weight)."""

    def __init__(self, columns: int) -> None:
        self.columns = columns
        self.counts: dict[str, npt.NDArray[np.float64]] = {}
        self.hashes: list[npt.NDArray[np.uint64]] = [np.empty(0, np.uint64)] * columns

    def add(self, name: str, index: Index, weight: Index, mask: det.Mask) -> None:
        found = np.bincount(index[mask], weights=weight[mask], minlength=self.columns).astype(
            np.float64
        )
        previous = self.counts.get(name)
        self.counts[name] = found if previous is None else previous + found

    def add_hashes(self, index: Index, hashes: npt.NDArray[np.uint64]) -> None:
        order = np.argsort(index, kind="stable")
        index, hashes = index[order], hashes[order]
        bounds = np.searchsorted(index, np.arange(self.columns + 1))
        for i in range(self.columns):
            found = hashes[bounds[i] : bounds[i + 1]]  # distinct within a batch
            if len(found) > DISTINCT_SKETCH:
                found = np.partition(found, DISTINCT_SKETCH)[: DISTINCT_SKETCH + 1]
            if len(found):
                kept = np.unique(np.concatenate([self.hashes[i], found]))
                self.hashes[i] = kept[:DISTINCT_SKETCH]

    def distinct(self, i: int) -> int:
        kept = self.hashes[i]
        if len(kept) < DISTINCT_SKETCH:
            return len(kept)
        return int((DISTINCT_SKETCH - 1) * 2.0**64 / (float(kept[-1]) + 1.0))

    def column(self, i: int, names: list[str]) -> dict[str, int]:
        out = {n: int(round(self.counts[n][i])) if n in self.counts else 0 for n in names}
        out["nd"] = self.distinct(i)
        return out


def _count_batch(counts: _Counts, batch: pa.Table) -> None:
    """Every detector over the distinct values of one batch, weighted by their frequency."""
    grouped = batch.group_by(["i", "v"]).aggregate([("h", "min"), ("v", "count")])
    index = np.asarray(grouped["i"].to_numpy(), dtype=np.int64)
    weight = np.asarray(grouped["v_count"].to_numpy(), dtype=np.int64)
    counts.add_hashes(index, np.asarray(grouped["h_min"].to_numpy(), dtype=np.uint64))
    raw = det.as_strings(grouped["v"])
    text = det.normalise_text(raw)
    forms = {"text": det.Values(text), "compact": det.Values(det.compact(text))}
    counts.add("nn", index, weight, forms["text"].lengths > 0)
    for entity, detector in det.DETECTORS.items():
        values = forms[detector.form]
        counts.add(f"m_{entity.value}", index, weight, det.detect(entity, values))
        shaped = det.shape(entity, values)
        if shaped is not None:
            counts.add(f"s_{entity.value}", index, weight, shaped)
    counts.add("g", index, weight, det.gender_code(forms["text"].array))
    # prose is longer than a few characters: short values need no look
    long = forms["text"].lengths >= 12
    counts.add("ft", index, weight, long & det.has_pattern(raw, FREE_TEXT_RE, long))


def _names() -> list[str]:
    names = ["nn", "g", "ft", *(f"m_{e.value}" for e in det.DETECTORS)]
    return names + [f"s_{e.value}" for e, d in det.DETECTORS.items() if d.shape is not None]


def classify_columns(
    engine: DuckDBEngine,
    relation_sql: str,
    columns: list[str],
    *,
    sample_rows: int | None = 10_000,
    name_hints: bool = True,
) -> list[ColumnResult]:
    """Classify columns of a relation by their values.

    DuckDB samples the rows (or reads them all) and turns them into a long table (column
    index, value, hash) with two zipped ``unnest`` lists, streamed as Arrow batches. Each
    batch is reduced to its distinct (column, value) pairs with their frequencies and
    normalised once per form; every detector runs over it vectorised
    (:mod:`dizuo.classify.detectors`) and ``bincount`` turns verdicts into per-column counts.
    Python then compares a few hundred counts. Memory is bounded by the batch size, whatever
    the number of rows.

    Args:
        engine: The DuckDB engine.
        relation_sql: Anything that may follow FROM (a view, ``read_parquet([...])``).
        columns: The columns to classify.
        sample_rows: Rows to sample (reservoir, repeatable); None reads every row.
        name_hints: Use column names as hints (they never override clear evidence).

    Returns:
        One :class:`ColumnResult` per column, in the order given.
    """
    if not columns:
        return []
    indexes = ", ".join(str(i) for i in range(len(columns)))
    values = ", ".join(f"CAST({quote_ident(c)} AS VARCHAR)" for c in columns)
    sql = (
        f"WITH s AS ({_sample_sql(relation_sql, columns, sample_rows)}), "
        f"l AS (SELECT unnest([{indexes}]) AS i, unnest([{values}]) AS v FROM s) "
        "SELECT i::BIGINT AS i, v, hash(v) AS h FROM l WHERE v IS NOT NULL"
    )
    counts = _Counts(len(columns))
    with engine.con.sql(sql).to_arrow_reader(batch_size=BATCH_ROWS) as reader:
        for batch in reader:
            if batch.num_rows:
                _count_batch(counts, pa.Table.from_batches([batch]))
    names = _names()
    per_column = [counts.column(i, names) for i in range(len(columns))]
    rates = [_rates(c) for c in per_column]
    return [
        _decide(column, per_column[i], i, rates, name_hints) for i, column in enumerate(columns)
    ]


def _rates(counts: dict[str, int]) -> dict[Entity, float]:
    non_null = counts["nn"]
    return {e: counts[f"m_{e.value}"] / non_null if non_null else 0.0 for e in det.DETECTORS}


def _decide(
    column: str,
    counts: dict[str, int],
    i: int,
    all_rates: list[dict[Entity, float]],
    name_hints: bool,
) -> ColumnResult:
    non_null = counts["nn"]
    distinct = counts["nd"]
    rates = dict(all_rates[i])
    hints = hinted_entities(column) if name_hints else {}
    evidence: list[str] = []
    if not non_null:
        return ColumnResult(column, None, 0.0, 0.0, 0, [tr("没有非空值", "no non-empty values")])
    # legacy 15-digit IDs count towards an ID column
    rates[E.RESIDENT_ID] = rates[E.RESIDENT_ID] + rates[E.RESIDENT_ID_15]
    if counts[f"m_{E.RESIDENT_ID_15.value}"] and rates[E.RESIDENT_ID] > rates[E.RESIDENT_ID_15]:
        evidence.append(
            tr(
                "{p} 为旧版 15 位身份证号码",
                "{p} are legacy 15-digit ID numbers",
                p=_pct(rates[E.RESIDENT_ID_15]),
            )
        )
    if E.GENDER in hints and distinct <= 4:
        rates[E.GENDER] = max(rates[E.GENDER], counts["g"] / non_null)
    candidates = {e: r for e, r in sorted(rates.items(), key=lambda kv: -kv[1]) if r > 0}
    if counts["ft"] >= FREE_TEXT_SHARE * non_null:
        share = _pct(counts["ft"] / non_null)
        evidence.append(
            tr(
                "自由文本：{share} 的值带句子标点",
                "free text: {share} of values carry sentence punctuation",
                share=share,
            )
        )
        return ColumnResult(column, None, 0.0, 0.0, non_null, evidence, candidates, True)
    eligible = {}
    for entity, rate in candidates.items():
        if rate < LOOSE_THRESHOLD.get(entity, THRESHOLD):
            continue
        if entity in NEEDS_HINT and entity not in hints and not _partner(entity, i, all_rates):
            evidence.append(
                tr(
                    "{p} 形似{label}，但仅凭取值无法判定（没有字段名提示或配对列）",
                    "{p} look like {label} values, "
                    "but the values alone cannot tell (no name hint or partner column)",
                    p=_pct(rate),
                    label=entity.label(current_lang()),
                )
            )
            continue
        if entity == E.PERSON_NAME and non_null >= 100 and distinct < 0.05 * non_null:
            evidence.append(
                tr(
                    "{p} 形似姓名，但只有 {n} 个不同的值",
                    "{p} look like names, but only {n} distinct values",
                    p=_pct(rate),
                    n=distinct,
                )
            )
            continue
        eligible[entity] = rate
    best = max(eligible.values(), default=0.0)
    for entity, what in CHECKED.items():
        shaped = counts.get(f"s_{entity.value}", 0) / non_null
        # look-alikes not explained by the winner (an ID column has the shape of card numbers)
        decoys = shaped - counts[f"m_{entity.value}"] / non_null - best
        if decoys >= 0.05:
            evidence.append(
                tr(
                    "{p} 形似{label}，但未通过 {what_zh}（诱饵）",
                    "{p} look like {label}s but fail {what} (decoys)",
                    p=_pct(decoys),
                    label=entity.label(current_lang()),
                    what=what,
                    what_zh=CHECKED_ZH[entity],
                )
            )
    winner = _winner(eligible, hints)
    if winner is None:
        for hinted, word in hints.items():
            evidence.append(
                tr(
                    "字段名提示“{word}”指向{kind}，但取值不符",
                    "name hint '{word}' suggests {kind}, but values disagree",
                    word=word,
                    kind=hinted.value if current_lang() == "en" else hinted.label_zh,
                )
            )
            break
        return ColumnResult(column, None, 0.0, 0.0, non_null, evidence, candidates)
    rate = eligible[winner]
    confidence = STRENGTH.get(winner, DEFAULT_STRENGTH) * rate
    if winner in CHECKED:
        evidence.insert(
            0,
            tr(
                "{p} 通过 {what_zh}",
                "{p} pass {what}",
                p=_pct(rate),
                what=CHECKED[winner],
                what_zh=CHECKED_ZH[winner],
            ),
        )
    else:
        evidence.insert(
            0,
            tr(
                "{p} 符合{label}的识别规则",
                "{p} match the {label} detector",
                p=_pct(rate),
                label=winner.label(current_lang()),
            ),
        )
    if winner in hints:
        evidence.append(tr("字段名提示“{word}”", "name hint '{word}'", word=hints[winner]))
        confidence += HINT_BONUS
    elif hints:
        word = next(iter(hints.values()))
        evidence.append(
            tr(
                "字段名提示“{word}”与取值不符，以取值为准",
                "name hint '{word}' overruled by the values",
                word=word,
            )
        )
    candidates.pop(winner, None)
    return ColumnResult(
        column,
        winner,
        round(min(confidence, 0.99), 3),
        round(rate, 4),
        non_null,
        evidence,
        candidates,
    )


def _winner(eligible: dict[Entity, float], hints: dict[Entity, str]) -> Entity | None:
    """The best eligible entity; among near-ties (within NEAR_TIE) a hinted one wins."""
    if not eligible:
        return None
    best = max(eligible.values())
    tied = [e for e, r in eligible.items() if r >= best - NEAR_TIE]
    hinted = [e for e in tied if e in hints]
    pool = hinted or tied
    return max(pool, key=lambda e: (eligible[e], STRENGTH.get(e, DEFAULT_STRENGTH)))


def _partner(entity: Entity, i: int, all_rates: list[dict[Entity, float]]) -> bool:
    """Latitude needs a longitude column beside it (and vice versa)."""
    other = {E.LATITUDE: E.LONGITUDE, E.LONGITUDE: E.LATITUDE}.get(entity)
    if other is None:
        return False
    return any(j != i and r.get(other, 0.0) >= 0.9 for j, r in enumerate(all_rates))
