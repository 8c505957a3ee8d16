"""Fellegi–Sunter record linkage, trained without labels, vectorised end to end.

>>> model = Model(
...     comparisons=[Comparison("surname", kind="name", tf=True), Comparison("dob", kind="date")],
...     blocking=[("surname",), ("dob",)],
... )
>>> result = link([table_a, table_b], model, link_type="link_only")  # doctest: +SKIP
>>> result.matches  # left, right, weight, probability  # doctest: +SKIP

The steps, each a handful of array operations (no loop over records or pairs):

1. **Encode** every compared column once over all records: a dictionary of distinct values and
   one code per record (:mod:`dizuo.link.compare`).
2. **Block.** Each blocking rule is a set of columns that must agree exactly. Records are
   sorted by the rule's key and every pair inside a key group becomes a candidate; a pair
   already produced by an earlier rule is dropped (the earlier key agrees), so no global
   de-duplication is needed. A key group with more than ``max_block_pairs`` pairs (a
   placeholder value, a very common name) is skipped and reported: this keeps the candidate
   pairs growing with the data, not with its square.
3. **Compare** every candidate pair on every comparison, giving a small matrix of levels.
4. **u from value frequencies.** The chance that two *random* records agree exactly on a
   column is computed exactly from the value counts (Σ n_s(v)·n_t(v) over pairs of sources);
   the split of the remaining probability between the fuzzy levels comes from the cross product
   of a frequency-weighted sample of distinct values (a few million weighted cells, scored in
   C). With ``tf=True`` an exact agreement on value v uses v's own frequency instead (term
   frequency adjustment: agreeing on 张伟 says less than agreeing on 欧阳娜).
5. **m by EM.** For each training rule (by default the blocking rules), the candidate pairs
   that agree on that rule are a population rich in matches; EM over the *other* comparisons,
   on the counts of distinct level patterns (a few thousand, not millions of pairs), estimates
   m with u held at its frequency values. Each comparison's m is the median over the sessions
   that could see it (one session whose block is mostly look-alike non-matches must not
   outweigh the others).
6. **Prior.** The probability λ that two random records match solves λ = E[matches] / (all
   possible pairs), where E[matches] is the sum of match probabilities of the candidates — a
   one-dimensional fixed point.
7. **Threshold without labels.** Sorting pairs by match probability, the expected true
   positives at any cut are the sum of the probabilities above it; the threshold maximises the
   expected F1 that follows. It is reported with its expected precision and recall.
8. Optionally **one-to-one** between sources: rounds of mutual best matches.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from dizuo.errors import InvalidInput
from dizuo.i18n import tr
from dizuo.link import compare
from dizuo.link.compare import Encoded

LinkType = Literal["link_only", "dedupe", "link_and_dedupe"]
Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Levels = npt.NDArray[np.int8]

FLOOR = 1e-9  # smallest m or u: a level never seen is rare, not impossible
U_SAMPLE_RECORDS = 2000
U_SAMPLE_PAIRS = 160_000
EM_ITERATIONS = 200
EM_TOLERANCE = 1e-7


@dataclass(frozen=True)
class Comparison:
    """How one column is compared (see :mod:`dizuo.link.compare` for the kinds and levels).

    Attributes:
        column: Column name in every input table.
        kind: Comparison kind.
        tf: Term-frequency adjustment of exact agreement.
    """

    column: str
    kind: str = "exact"
    tf: bool = False

    def __post_init__(self) -> None:
        if self.kind not in compare.KINDS:
            raise InvalidInput(
                tr(
                    "比较方式 {kind} 未知（可选：{known}）",
                    "unknown comparison kind {kind} (known: {known})",
                    kind=self.kind,
                    known=", ".join(compare.KINDS),
                )
            )


@dataclass(frozen=True)
class Block:
    """A blocking rule: columns that must agree, with its own limit on a key group's pairs.

    A rule on a weak key (a name alone) gets a small limit: a name shared by a handful of
    records is evidence worth comparing, one shared by thousands is not a block.
    """

    columns: tuple[str, ...]
    max_pairs: int | None = None


def _rule(rule: tuple[str, ...] | Block) -> Block:
    return rule if isinstance(rule, Block) else Block(tuple(rule))


@dataclass(frozen=True)
class Model:
    """A linkage model: comparisons, blocking rules and training rules.

    Attributes:
        comparisons: The comparisons (one per column).
        blocking: Rules; each a tuple of columns that must agree exactly for a pair to be a
            candidate (or a :class:`Block` with its own group limit). Columns need not be
            compared (a derived key such as a birth year).
        training: Rules for EM sessions (default: the blocking rules).
        max_block_pairs: Key groups with more candidate pairs than this are skipped.
        one_to_one: Keep at most one match per record and other source.
        threshold: A fixed match-probability threshold instead of the expected-F1 one.
    """

    comparisons: Sequence[Comparison]
    blocking: Sequence[tuple[str, ...] | Block]
    training: Sequence[tuple[str, ...]] | None = None
    max_block_pairs: int = 250_000
    one_to_one: bool = False
    threshold: float | None = None


@dataclass
class Parameters:
    """The trained model, for explanation (``m``, ``u`` and weights per comparison level)."""

    names: list[str]
    levels: list[tuple[str, ...]]
    m: list[Floats]
    u: list[Floats]
    prior: float
    sessions: list[dict[str, object]] = field(default_factory=list)

    def weights(self) -> list[Floats]:
        """log2(m/u) per level (level 0, missing, weighs 0)."""
        out = []
        for m, u in zip(self.m, self.u, strict=True):
            w = np.log2(np.maximum(m, FLOOR) / np.maximum(u, FLOOR))
            w[0] = 0.0
            out.append(w)
        return out

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready description."""
        return {
            "prior": self.prior,
            "comparisons": [
                {
                    "column": name,
                    "levels": [
                        {"level": lv, "m": float(m[i + 1]), "u": float(u[i + 1]), "weight": w}
                        for i, (lv, w) in enumerate(
                            zip(levels, [float(x) for x in weight[1:]], strict=True)
                        )
                    ],
                }
                for name, levels, m, u, weight in zip(
                    self.names, self.levels, self.m, self.u, self.weights(), strict=True
                )
            ],
            "sessions": self.sessions,
        }


@dataclass
class Linkage:
    """The result of :func:`link`.

    Attributes:
        pairs: Candidate pairs with match probability ≥ 0.001: ``left``, ``right`` (global
            record index: rows of the first table, then of the second, …), ``weight``
            (log2 odds), ``probability``.
        matches: The accepted pairs (same columns).
        threshold: The match-probability threshold used.
        expected: Expected precision, recall and F1 at that threshold (from the model).
        parameters: The trained model.
        blocking: Per rule: candidate pairs it added, key groups skipped and their pairs.
        records: Records per input table.
    """

    pairs: pa.Table
    matches: pa.Table
    threshold: float
    expected: dict[str, float]
    parameters: Parameters
    blocking: list[dict[str, object]]
    records: list[int]


# -- records -----------------------------------------------------------------------------------


@dataclass
class Records:
    """All input records, encoded once."""

    source: npt.NDArray[np.int32]
    sizes: list[int]
    columns: dict[str, Encoded]

    @property
    def n(self) -> int:
        return len(self.source)


def _records(tables: Sequence[pa.Table], model: Model) -> Records:
    kinds: dict[str, str] = {c.column: c.kind for c in model.comparisons}
    rules = [_rule(r).columns for r in model.blocking] + list(model.training or [])
    for rule in rules:
        for col in rule:
            kinds.setdefault(col, "exact")
    sizes = [t.num_rows for t in tables]
    source = np.repeat(np.arange(len(tables), dtype=np.int32), sizes)
    columns: dict[str, Encoded] = {}
    for col, kind in kinds.items():
        parts = []
        for i, t in enumerate(tables):
            if col not in t.column_names:
                raise InvalidInput(
                    tr(
                        "第 {i} 张表缺少列 {col}",
                        "table {i} has no column {col}",
                        i=i + 1,
                        col=col,
                    )
                )
            parts.append(t.column(col).combine_chunks())
        types = {p.type for p in parts}
        if len(types) > 1:
            parts = [p.cast(pa.string()) for p in parts]
        columns[col] = compare.encode(pa.concat_arrays(parts), kind)
    return Records(source, sizes, columns)


# -- blocking ----------------------------------------------------------------------------------


def _rule_key(records: Records, rule: tuple[str, ...]) -> Ints:
    """One integer key per record for a rule (-1 where a rule column is missing)."""
    key = np.zeros(records.n, dtype=np.int64)
    valid = np.ones(records.n, dtype=bool)
    for col in rule:
        enc = records.columns[col]
        codes = enc.codes.astype(np.int64)
        valid &= codes >= 0
        key = key * (enc.size + 1) + (codes + 1)
        if enc.size and key.max(initial=0) > (1 << 40):
            key = np.asarray(pa.array(key).dictionary_encode().indices, dtype=np.int64)
    key[~valid] = -1
    return key


def _group_pairs(key: Ints, max_pairs: int) -> tuple[Ints, Ints, int, int, Ints]:
    """Every pair of records sharing a key (left < right); skipped groups, their pairs and the
    records in them."""
    idx = np.flatnonzero(key >= 0)
    order = idx[np.argsort(key[idx], kind="stable")]
    sorted_key = key[order]
    if not len(order):
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, 0, 0, empty
    starts = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
    sizes = np.diff(np.r_[starts, len(order)])
    group_pairs = sizes * (sizes - 1) // 2
    big = group_pairs > max_pairs
    skipped_groups = int(big.sum())
    skipped_pairs = int(group_pairs[big].sum())
    skipped_records = order[np.repeat(big, sizes)]
    keep = (sizes > 1) & ~big
    g_start = starts[keep]
    g_size = sizes[keep]
    # each member pairs with the members after it in its group
    member = np.repeat(g_start, g_size) + _ranges(g_size)
    later = np.repeat(g_size, g_size) - _ranges(g_size) - 1
    total = int(later.sum())
    left_pos = np.repeat(member, later)
    right_pos = left_pos + 1 + _ranges(later)
    del total
    a = order[left_pos]
    b = order[right_pos]
    return np.minimum(a, b), np.maximum(a, b), skipped_groups, skipped_pairs, skipped_records


def _ranges(lengths: Ints) -> Ints:
    """Concatenated ``arange(k)`` for every k in ``lengths``."""
    total = int(lengths.sum())
    if not total:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(lengths)
    out = np.arange(total, dtype=np.int64)
    out -= np.repeat(ends - lengths, lengths)
    return out


def _allowed(
    records: Records, left: Ints, right: Ints, link_type: LinkType
) -> npt.NDArray[np.bool_]:
    if link_type == "link_only":
        out: npt.NDArray[np.bool_] = records.source[left] != records.source[right]
        return out
    return np.ones(len(left), dtype=bool)


def block(
    records: Records, model: Model, link_type: LinkType
) -> tuple[Ints, Ints, list[dict[str, object]]]:
    """Candidate pairs of the blocking rules (each pair once, from the first rule giving it)."""
    keys: list[Ints] = []
    lefts: list[Ints] = []
    rights: list[Ints] = []
    report: list[dict[str, object]] = []
    for given in model.blocking:
        rule = _rule(given)
        key = _rule_key(records, rule.columns)
        limit = rule.max_pairs if rule.max_pairs is not None else model.max_block_pairs
        left, right, skipped_groups, skipped_pairs, skipped = _group_pairs(key, limit)
        keep = _allowed(records, left, right, link_type)
        for earlier in keys:
            ke = earlier[left]
            keep &= ~((ke >= 0) & (ke == earlier[right]))
        left, right = left[keep], right[keep]
        lefts.append(left)
        rights.append(right)
        # a later rule drops only pairs this rule produced: not those of its skipped groups
        produced = key.copy()
        produced[skipped] = -1
        keys.append(produced)
        report.append(
            {
                "rule": list(rule.columns),
                "pairs": len(left),
                "skipped_groups": skipped_groups,
                "skipped_pairs": skipped_pairs,
            }
        )
    if not lefts:
        raise InvalidInput(tr("没有分块规则", "no blocking rule"))
    return np.concatenate(lefts), np.concatenate(rights), report


# -- u from value frequencies --------------------------------------------------------------------


def _possible_pairs(counts_by_source: list[Ints], link_type: LinkType) -> float:
    totals = [float(c.sum()) for c in counts_by_source]
    if link_type == "link_only":
        return sum(totals[i] * totals[j] for i in range(len(totals)) for j in range(i))
    n = sum(totals)
    return n * (n - 1) / 2


def _agree_by_value(counts_by_source: list[Ints], link_type: LinkType) -> Floats:
    """Per distinct value: random pairs (of the link type) that both hold it."""
    if link_type == "link_only":
        total = np.zeros(len(counts_by_source[0]), dtype=np.float64)
        running = np.zeros_like(total)
        for c in counts_by_source:
            cf = c.astype(np.float64)
            total += running * cf
            running += cf
        return total
    n = sum(c.astype(np.float64) for c in counts_by_source)
    return np.asarray(n * (n - 1) / 2, dtype=np.float64)


def _counts_by_source(records: Records, enc: Encoded) -> list[Ints]:
    out = []
    for s in range(len(records.sizes)):
        codes = enc.codes[(records.source == s) & (enc.codes >= 0)]
        out.append(np.bincount(codes, minlength=enc.size).astype(np.int64))
    return out


@dataclass
class Frequencies:
    """Exact-agreement probabilities of one column, overall and per value."""

    exact: float
    share: Floats  # each value's share of the non-missing records


def frequencies(records: Records, enc: Encoded, link_type: LinkType) -> Frequencies:
    by_source = _counts_by_source(records, enc)
    possible = _possible_pairs(by_source, link_type)
    agree = _agree_by_value(by_source, link_type)
    total = float(enc.counts.sum())
    if possible <= 0 or total <= 0:
        return Frequencies(0.0, np.zeros(enc.size))
    return Frequencies(float(agree.sum() / possible), enc.counts / total)


def _sample_codes(
    rng: np.random.Generator, records: Records, enc: Encoded, sources: npt.NDArray[np.bool_]
) -> npt.NDArray[np.int32]:
    rows = np.flatnonzero(sources[records.source] & (enc.codes >= 0))
    if not len(rows):
        return np.zeros(0, dtype=np.int32)
    pick = rng.choice(rows, size=min(U_SAMPLE_RECORDS, len(rows)), replace=False)
    out: npt.NDArray[np.int32] = enc.codes[pick]
    return out


def u_levels(
    records: Records, comp: Comparison, freq: Frequencies, link_type: LinkType, seed: int = 0
) -> Floats:
    """u per level (index 0 unused): exact from frequencies, the rest from a weighted sample."""
    enc = records.columns[comp.column]
    n_levels = compare.level_count(comp.kind)
    u = np.full(n_levels, FLOOR)
    u[1] = max(freq.exact, FLOOR)
    if n_levels == 3:  # exact · else: nothing to split
        u[2] = max(1.0 - u[1], FLOOR)
        return u
    rng = np.random.default_rng(seed)
    n_sources = len(records.sizes)
    if link_type == "link_only" and n_sources > 1:
        half = np.zeros(n_sources, dtype=bool)
        half[: max(1, n_sources // 2)] = True
        ca = _sample_codes(rng, records, enc, half)
        cb = _sample_codes(rng, records, enc, ~half)
    else:
        everyone = np.ones(n_sources, dtype=bool)
        ca = _sample_codes(rng, records, enc, everyone)
        cb = _sample_codes(rng, records, enc, everyone)
    if not len(ca) or not len(cb):
        return u
    va, wa = np.unique(ca, return_counts=True)
    vb, wb = np.unique(cb, return_counts=True)
    # keep the cross product within budget: the most frequent distinct values first
    budget = U_SAMPLE_PAIRS if comp.kind not in compare.MATRIX else 360_000
    while len(va) * len(vb) > budget:
        if len(va) >= len(vb):
            keep = np.argsort(-wa, kind="stable")[: max(1, len(va) * 3 // 4)]
            va, wa = va[keep], wa[keep]
        else:
            keep = np.argsort(-wb, kind="stable")[: max(1, len(vb) * 3 // 4)]
            vb, wb = vb[keep], wb[keep]
    if comp.kind in compare.MATRIX and enc.kind != "dice":
        levels = compare.cross_levels(enc, va, vb).reshape(-1)
    else:
        ga = np.repeat(va, len(vb))
        gb = np.tile(vb, len(va))
        levels = compare.distinct_levels(enc, ga, gb)
    weights = np.outer(wa, wb).reshape(-1).astype(np.float64)
    unequal = levels > 1
    if weights[unequal].sum() <= 0:
        return u
    share = np.bincount(levels[unequal], weights=weights[unequal], minlength=n_levels)
    share = share / share.sum()
    u[2:] = np.maximum(share[2:] * (1.0 - u[1]), FLOOR)
    return u


# -- EM ------------------------------------------------------------------------------------------


def _patterns(levels: Levels, radix: list[int]) -> tuple[Levels, Floats]:
    """Distinct rows of a level matrix and their counts."""
    code = np.zeros(len(levels), dtype=np.int64)
    for j, r in enumerate(radix):
        code = code * r + levels[:, j]
    uniq, counts = np.unique(code, return_counts=True)
    out = np.zeros((len(uniq), len(radix)), dtype=np.int8)
    rest = uniq.copy()
    for j in range(len(radix) - 1, -1, -1):
        rest, out[:, j] = np.divmod(rest, radix[j])
    return out, counts.astype(np.float64)


def _log_table(values: list[Floats]) -> list[Floats]:
    out = []
    for v in values:
        lv = np.log(np.maximum(v, FLOOR))
        lv[0] = 0.0
        out.append(lv)
    return out


def _initial_m(n_levels: int) -> Floats:
    m = np.zeros(n_levels)
    weights = 0.5 ** np.arange(n_levels - 1)
    m[1:] = weights / weights.sum()
    m[1] += 0.3
    m[1:] /= m[1:].sum()
    return m


def em(
    patterns: Levels, counts: Floats, u: list[Floats], m0: list[Floats], prior: float = 0.1
) -> tuple[list[Floats], float, float]:
    """EM for m and the session prior with u fixed; returns m, prior, expected matches."""
    m = [x.copy() for x in m0]
    lam = prior
    log_u = _log_table(u)
    non_match = np.zeros(len(patterns))
    for j, lu in enumerate(log_u):
        non_match += lu[patterns[:, j]]
    post = np.zeros(len(patterns))
    for _ in range(EM_ITERATIONS):
        log_m = _log_table(m)
        match = np.zeros(len(patterns))
        for j, lm in enumerate(log_m):
            match += lm[patterns[:, j]]
        a = math.log(lam) + match
        b = math.log1p(-lam) + non_match
        post = 1.0 / (1.0 + np.exp(np.clip(b - a, -700, 700)))
        weighted = post * counts
        total = weighted.sum()
        new_m = []
        change = 0.0
        for j, old in enumerate(m):
            col = patterns[:, j]
            sums = np.bincount(col, weights=weighted, minlength=len(old))
            sums[0] = 0.0
            s = sums.sum()
            nm = np.where(s > 0, sums / max(s, FLOOR), old)
            nm = np.maximum(nm, FLOOR)
            nm[0] = 0.0
            nm[1:] /= nm[1:].sum()
            change = max(change, float(np.abs(nm - old).max()))
            new_m.append(nm)
        m = new_m
        new_lam = float(min(max(total / counts.sum(), 1e-12), 1 - 1e-12))
        change = max(change, abs(new_lam - lam))
        lam = new_lam
        if change < EM_TOLERANCE:
            break
    return m, lam, float((post * counts).sum())


# -- link ----------------------------------------------------------------------------------------


def _expected_f1_threshold(prob: Floats) -> tuple[float, dict[str, float]]:
    order = np.argsort(-prob, kind="stable")
    p = prob[order]
    expected_matches = float(p.sum())
    if expected_matches <= 0 or not len(p):
        return 0.5, {"precision": 0.0, "recall": 0.0, "f1": 0.0, "matches": 0.0}
    tp = np.cumsum(p)
    k = np.arange(1, len(p) + 1)
    f1 = 2 * tp / (k + expected_matches)
    best = int(np.argmax(f1))
    threshold = float(p[best])
    return threshold, {
        "precision": float(tp[best] / (best + 1)),
        "recall": float(tp[best] / expected_matches),
        "f1": float(f1[best]),
        "matches": expected_matches,
    }


def _one_to_one(records: Records, left: Ints, right: Ints, weight: Floats) -> npt.NDArray[np.bool_]:
    """Rounds of mutual best matches: keep a pair when each record is the other's best
    among the pairs still open with that other source."""
    keep = np.zeros(len(left), dtype=bool)
    open_ = np.ones(len(left), dtype=bool)
    src_l = records.source[left].astype(np.int64)
    src_r = records.source[right].astype(np.int64)
    n_src = len(records.sizes)
    while open_.any():
        idx = np.flatnonzero(open_)
        w = weight[idx]
        # best pair per (record, other source), ties to the lower pair index
        slot_l = left[idx] * n_src + src_r[idx]
        slot_r = right[idx] * n_src + src_l[idx]
        best_l = _best_per_slot(slot_l, w)
        best_r = _best_per_slot(slot_r, w)
        mutual = best_l & best_r
        if not mutual.any():
            break
        chosen = idx[mutual]
        keep[chosen] = True
        taken_l = np.unique(left[chosen] * n_src + src_r[chosen])
        taken_r = np.unique(right[chosen] * n_src + src_l[chosen])
        rest = np.flatnonzero(open_)
        closed = np.isin(left[rest] * n_src + src_r[rest], taken_l) | np.isin(
            right[rest] * n_src + src_l[rest], taken_r
        )
        open_[rest[closed]] = False
    return keep


def _best_per_slot(slot: Ints, w: Floats) -> npt.NDArray[np.bool_]:
    order = np.lexsort((-w, slot))
    first = np.r_[True, slot[order][1:] != slot[order][:-1]]
    out = np.zeros(len(slot), dtype=bool)
    out[order[first]] = True
    return out


def link(tables: Sequence[pa.Table], model: Model, *, link_type: LinkType = "link_only") -> Linkage:
    """Link (or de-duplicate) records with a Fellegi–Sunter model trained without labels.

    Args:
        tables: Input tables holding every column the model names.
        model: Comparisons and rules.
        link_type: ``link_only`` (pairs across tables), ``dedupe`` (pairs within the tables),
            ``link_and_dedupe`` (both).

    Returns:
        The :class:`Linkage`.

    Raises:
        InvalidInput: a column is missing, a kind is unknown, or there is nothing to link.
    """
    if not tables:
        raise InvalidInput(tr("没有可链接的数据", "nothing to link"))
    if link_type == "link_only" and len(tables) < 2:
        raise InvalidInput(tr("link_only 至少需要两张表", "link_only needs at least two tables"))
    records = _records(tables, model)
    left, right, report = block(records, model, link_type)
    comps = list(model.comparisons)
    levels = np.zeros((len(left), len(comps)), dtype=np.int8)
    for j, comp in enumerate(comps):
        levels[:, j] = compare.pair_levels(records.columns[comp.column], left, right)

    freqs = [frequencies(records, records.columns[c.column], link_type) for c in comps]
    u = [
        u_levels(records, c, f, link_type, seed=j)
        for j, (c, f) in enumerate(zip(comps, freqs, strict=True))
    ]
    m, sessions = _train(model, comps, levels, u)

    params = Parameters(
        names=[c.column for c in comps],
        levels=[compare.LEVEL_NAMES[c.kind] for c in comps],
        m=m,
        u=u,
        prior=0.0,
        sessions=sessions,
    )
    weight = np.zeros(len(left))
    for j, w in enumerate(params.weights()):
        weight += w[levels[:, j]]
    for j, comp in enumerate(comps):
        if comp.tf:
            weight += _tf_adjustment(records, comp, freqs[j], u[j], left, right, levels[:, j])

    possible = _possible_pairs([np.asarray([s], dtype=np.int64) for s in records.sizes], link_type)
    prior = _prior(weight, possible)
    params.prior = prior
    odds = weight + math.log2(prior / (1 - prior))
    prob = 1.0 / (1.0 + np.exp2(-np.clip(odds, -1000, 1000)))

    if model.threshold is not None:
        threshold = model.threshold
        _, expected = _expected_f1_threshold(prob)
    else:
        threshold, expected = _expected_f1_threshold(prob)
    accept = prob >= threshold
    if model.one_to_one:
        idx = np.flatnonzero(accept)
        keep = _one_to_one(records, left[idx], right[idx], odds[idx])
        accept[:] = False
        accept[idx[keep]] = True
    shown = prob >= 1e-3
    pairs = _pair_table(left[shown], right[shown], odds[shown], prob[shown])
    matches = _pair_table(left[accept], right[accept], odds[accept], prob[accept])
    return Linkage(
        pairs=pairs,
        matches=matches,
        threshold=threshold,
        expected=expected,
        parameters=params,
        blocking=report,
        records=records.sizes,
    )


def _pair_table(left: Ints, right: Ints, weight: Floats, prob: Floats) -> pa.Table:
    return pa.table(
        {
            "left": pa.array(left, pa.int64()),
            "right": pa.array(right, pa.int64()),
            "weight": pa.array(weight, pa.float64()),
            "probability": pa.array(prob, pa.float64()),
        }
    )


def _train(
    model: Model, comps: list[Comparison], levels: Levels, u: list[Floats]
) -> tuple[list[Floats], list[dict[str, object]]]:
    rules = (
        list(model.training)
        if model.training is not None
        else [_rule(r).columns for r in model.blocking]
    )
    index = {c.column: j for j, c in enumerate(comps)}
    estimates: list[list[Floats]] = [[] for _ in comps]
    sessions: list[dict[str, object]] = []
    radix = [compare.level_count(c.kind) for c in comps]
    for rule in rules + [()]:
        fixed = [index[c] for c in rule if c in index]
        free = [j for j in range(len(comps)) if j not in fixed]
        if not free:
            continue
        if rule == () and all(estimates[j] for j in free):
            continue  # every comparison already has a session that saw it
        rows = np.ones(len(levels), dtype=bool)
        for j in fixed:
            rows &= levels[:, j] == 1
        if rows.sum() < 10:
            continue
        patterns, counts = _patterns(levels[rows][:, free], [radix[j] for j in free])
        m, lam, matches = em(
            patterns,
            counts,
            [u[j] for j in free],
            [_initial_m(radix[j]) for j in free],
        )
        for k, j in enumerate(free):
            estimates[j].append(m[k])
        sessions.append(
            {"rule": list(rule), "pairs": int(counts.sum()), "prior": lam, "matches": matches}
        )
    out = []
    for j, c in enumerate(comps):
        if estimates[j]:
            # the median over sessions: a session whose block is dominated by non-matches
            # that agree with each other (all pairs of one postcode agree on its suburb and
            # state) can turn its "match" class into "same area"; one such session must not
            # outweigh the others, as a weighted mean would let it
            mj = np.median(np.stack(estimates[j]), axis=0)
        else:
            mj = _initial_m(compare.level_count(c.kind))
        mj = np.maximum(mj, FLOOR)
        mj[0] = 0.0
        mj[1:] /= mj[1:].sum()
        out.append(mj)
    return out, sessions


def _tf_adjustment(
    records: Records,
    comp: Comparison,
    freq: Frequencies,
    u: Floats,
    left: Ints,
    right: Ints,
    level: Levels,
) -> Floats:
    """log2(u_exact / u_value) for exact agreements: rare values weigh more, common less.

    Given that one record holds value v, a random other record agrees with the chance v's
    share of the records; averaged over v this is the exact level's u (Σ share², so the
    adjustment only redistributes the weight between values)."""
    out = np.zeros(len(left))
    exact = np.flatnonzero(level == 1)
    if not exact.size:
        return out
    codes = records.columns[comp.column].codes[left[exact]]
    u_value = np.maximum(freq.share[codes], FLOOR)
    out[exact] = np.log2(u[1] / u_value)
    return out


def _prior(weight: Floats, possible: float) -> float:
    """Solve λ = Σ P(match | pair; λ) / possible pairs."""
    if possible <= 0 or not len(weight):
        return 1e-6
    factor = np.exp2(np.clip(weight, -1000, 1000))
    lam = min(0.5, max(len(weight) / possible * 0.1, 1.0 / possible))
    for _ in range(200):
        odds = lam / (1 - lam)
        post = odds * factor / (1 + odds * factor)
        new = float(min(max(post.sum() / possible, 1.0 / (possible * 10)), 0.5))
        if abs(new - lam) <= 1e-6 * lam:
            lam = new
            break
        lam = new
    return lam
