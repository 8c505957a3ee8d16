"""Column classification: every column gets an entity type (or none), decided from its values.

All detectors for all columns run in one DuckDB aggregate query over a sample (reservoir
``USING SAMPLE n ROWS``, or every row when ``sample_rows`` is None): per column the non-null
count, an approximate distinct count, and per entity the count of values that pass the
detector (and, for numbers with a check digit, the count that have the shape but fail it).
Python then only compares a few hundred counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dizuo.classify import detectors as det
from dizuo.classify.entities import Entity
from dizuo.classify.hints import hinted_entities
from dizuo.engine.duckdb import DuckDBEngine, quote_ident, sql_literal

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


def _aggregates() -> list[tuple[str, str]]:
    """(alias, SQL) of every count, over the long table of normalised values ``c`` / ``t``."""
    forms = {"compact": "c", "text": "t"}
    out = [("nn", "count(t)"), ("nd", "approx_count_distinct(t)")]
    for entity, detector in det.DETECTORS.items():
        x = forms[detector.form]
        out.append((f"m_{entity.value}", f"count_if({det.predicate_sql(entity, x)})"))
        shape = det.shape_sql(entity, x)
        if shape is not None:
            out.append((f"s_{entity.value}", f"count_if({shape})"))
    out.append(("g", f"count_if(coalesce({det.gender_code_sql('t')}, false))"))
    out.append(("ft", f"count_if(regexp_matches(t, {sql_literal(FREE_TEXT_RE)}))"))
    return out


def classify_columns(
    engine: DuckDBEngine,
    relation_sql: str,
    columns: list[str],
    *,
    sample_rows: int | None = 10_000,
    name_hints: bool = True,
) -> list[ColumnResult]:
    """Classify columns of a relation by their values, in one DuckDB query.

    The sampled rows are turned into a long table (column index, value) with two zipped
    ``unnest`` lists, so every detector appears once in the query whatever the number of
    columns, and one ``GROUP BY`` yields the counts of every column.

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
    det.prepare(engine)
    indexes = ", ".join(str(i) for i in range(len(columns)))
    values = ", ".join(f"CAST({quote_ident(c)} AS VARCHAR)" for c in columns)
    aggregates = ", ".join(f"{expr} AS {alias}" for alias, expr in _aggregates())
    sql = (
        f"WITH s AS ({_sample_sql(relation_sql, columns, sample_rows)}), "
        f"l AS (SELECT unnest([{indexes}]) AS i, unnest([{values}]) AS v FROM s), "
        f"n AS (SELECT i, nullif({det.normalise_sql('v', 'compact')}, '') AS c, "
        f"nullif({det.normalise_sql('v', 'text')}, '') AS t FROM l) "
        f"SELECT i, {aggregates} FROM n GROUP BY i"
    )
    table = engine.query(sql)
    names = [n for n in table.column_names if n != "i"]
    counts: list[dict[str, int]] = [dict.fromkeys(names, 0) for _ in columns]
    for row in table.to_pylist():
        counts[int(row["i"])] = {n: int(row[n] or 0) for n in names}
    rates = [_rates(c) for c in counts]
    return [_decide(column, counts[i], i, rates, name_hints) for i, column in enumerate(columns)]


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
        return ColumnResult(column, None, 0.0, 0.0, 0, ["no non-empty values"])
    # legacy 15-digit IDs count towards an ID column
    rates[E.RESIDENT_ID] = rates[E.RESIDENT_ID] + rates[E.RESIDENT_ID_15]
    if counts[f"m_{E.RESIDENT_ID_15.value}"] and rates[E.RESIDENT_ID] > rates[E.RESIDENT_ID_15]:
        evidence.append(f"{_pct(rates[E.RESIDENT_ID_15])} are legacy 15-digit ID numbers")
    if E.GENDER in hints and distinct <= 4:
        rates[E.GENDER] = max(rates[E.GENDER], counts["g"] / non_null)
    candidates = {e: r for e, r in sorted(rates.items(), key=lambda kv: -kv[1]) if r > 0}
    if counts["ft"] >= FREE_TEXT_SHARE * non_null:
        share = _pct(counts["ft"] / non_null)
        evidence.append(f"free text: {share} of values carry sentence punctuation")
        return ColumnResult(column, None, 0.0, 0.0, non_null, evidence, candidates, True)
    eligible = {}
    for entity, rate in candidates.items():
        if rate < LOOSE_THRESHOLD.get(entity, THRESHOLD):
            continue
        if entity in NEEDS_HINT and entity not in hints and not _partner(entity, i, all_rates):
            evidence.append(
                f"{_pct(rate)} look like {entity.label_en} values, "
                "but the values alone cannot tell (no name hint or partner column)"
            )
            continue
        if entity == E.PERSON_NAME and non_null >= 100 and distinct < 0.05 * non_null:
            evidence.append(f"{_pct(rate)} look like names, but only {distinct} distinct values")
            continue
        eligible[entity] = rate
    best = max(eligible.values(), default=0.0)
    for entity, what in CHECKED.items():
        shaped = counts.get(f"s_{entity.value}", 0) / non_null
        # look-alikes not explained by the winner (an ID column has the shape of card numbers)
        decoys = shaped - counts[f"m_{entity.value}"] / non_null - best
        if decoys >= 0.05:
            evidence.append(f"{_pct(decoys)} look like {entity.label_en}s but fail {what} (decoys)")
    winner = _winner(eligible, hints)
    if winner is None:
        for hinted, word in hints.items():
            evidence.append(f"name hint '{word}' suggests {hinted.value}, but values disagree")
            break
        return ColumnResult(column, None, 0.0, 0.0, non_null, evidence, candidates)
    rate = eligible[winner]
    confidence = STRENGTH.get(winner, DEFAULT_STRENGTH) * rate
    if winner in CHECKED:
        evidence.insert(0, f"{_pct(rate)} pass {CHECKED[winner]}")
    else:
        evidence.insert(0, f"{_pct(rate)} match the {winner.label_en} detector")
    if winner in hints:
        evidence.append(f"name hint '{hints[winner]}'")
        confidence += HINT_BONUS
    elif hints:
        word = next(iter(hints.values()))
        evidence.append(f"name hint '{word}' overruled by the values")
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
