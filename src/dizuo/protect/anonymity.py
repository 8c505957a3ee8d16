"""Privacy models over quasi-identifiers, and the searches that satisfy them with least loss.

Models (GB/T 37964-2019 names them; the definitions are those of ARX):

* :class:`KAnonymity` — every equivalence class (records equal on all quasi-identifiers, QIs)
  holds at least k records;
* :class:`DistinctLDiversity` — at least l distinct values of a sensitive attribute per class;
* :class:`EntropyLDiversity` — the entropy of the sensitive attribute in each class is at least
  log l;
* :class:`TCloseness` — the Earth Mover's Distance between the sensitive attribute's distribution
  in each class and in the whole table is at most t; the ground distance is equal (categorical:
  EMD = half the L1 distance) or ordered (values in ascending order, the distance between the
  i-th and j-th of m values |i - j| / (m - 1)), as in Li et al. (2007) and ARX.

With a *suppression limit* s, the records of classes that violate a model are suppressed (their
QIs become ``*``, :attr:`Result.suppressed` flags them), and a transformation is acceptable when
at most s × n records are suppressed — as in ARX. For t-closeness the released records are then
also checked against the distribution of the released records themselves (suppressing a class
changes it), until nothing changes, so that the release as published satisfies the model.

Two searches:

* :func:`full_domain` — the *optimal* full-domain generalisation: a node of the lattice of
  per-QI levels, the one with the least loss (LM, below) among the nodes that satisfy every model
  within the suppression limit. It is a branch and bound over the lattice: the loss of a node with
  nothing suppressed, LM₀, depends only on its levels (a sum over QIs of per-(QI, level)
  constants), and suppression only adds loss (a suppressed record costs 1 per QI, the maximum),
  so LM₀ is a lower bound. Nodes are evaluated in increasing LM₀ and the search stops when the
  next LM₀ is no lower than the best loss found. This is optimal without assuming that the
  models are monotonic. Three shortcuts only skip nodes that provably cannot win: a node is
  dropped as soon as its certain suppression (classes under k; for l-diversity and t-closeness
  a lower bound from the classes of its leading or trailing QIs alone, by the concavity of
  entropy and the convexity of the EMD) exceeds the limit or costs the best loss; and where the
  models are monotonic (k-anonymity and distinct l-diversity; entropy l and t-closeness without
  suppression) a node is skipped when one of two generalisations of it, evaluated once per
  combination of leading or trailing levels, fails. Evaluating a node is a group-by of integers:
  the records are collapsed once to their distinct QI rows (and distinct (row, sensitive value)
  pairs); the rows are rolled up per combination of levels of the leading QIs (cached, each from
  a finer roll-up), and a node's class key is one multiply-add over the rolled-up entries,
  counted with ``np.bincount``.
* :func:`mondrian` — local recoding by multidimensional Mondrian (LeFevre et al., 2006): all
  current partitions are cut at once, round after round, each at the weighted median of the QI
  with the widest normalised range (numbers by value; categorical values between the subtrees of
  their hierarchy), falling back to the next widest QI and then to uneven cuts when the halves
  would violate a model. Within the suppression limit, a cut may then suppress a violating half
  when that lowers the loss. A final partition's numbers become the range ``lo-hi`` and its
  categorical values their lowest common generalisation.

Loss metrics (:func:`loss_lm`, :func:`discernibility`, :func:`generalisation_intensity`,
:func:`non_uniform_entropy`) read a :class:`Result`. LM is ARX's "loss": Iyengar's metric
averaged over records and QIs — a released value covering m of the attribute's M leaves costs
(m - 1) / (M - 1), a suppressed record 1. As in ARX, M counts the distinct original values that
occur in the data. A Mondrian range ``lo-hi`` covers the distinct values of the data between lo
and hi.
"""

from __future__ import annotations

import heapq
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, TypeAlias

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from dizuo.errors import InvalidInput, Location
from dizuo.i18n import tr
from dizuo.protect.hierarchy import TOP, Coded, Hierarchy

Ints = npt.NDArray[np.int64]
Codes = npt.NDArray[np.int32]
Floats = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]

#: slack for comparing entropies and distances with their thresholds
EPS = 1e-9
#: level combinations of the leading QIs, each with its rolled-up rows (full-domain search)
GROUP_COMBOS = 256
#: numbers the cached roll-ups of the full-domain search may hold (8 bytes each)
SLICE_CELLS = 1 << 25
#: key spaces up to this many times the number of keys are marked in a table rather than
#: sorted (four times as many while the table stays under DENSE_CELLS)
DENSE_SPAN = 8
DENSE_CELLS = 1 << 21
#: where Mondrian cuts a partition, as shares of its records: the median first, then
#: uneven cuts when the halves of the median cut would violate a model
CUTS = (0.5, 0.35, 0.65, 0.2, 0.8)
#: share of the suppression limit Mondrian may spend in one step under t-closeness
STEP = 0.1
#: QI domains up to this size have Mondrian's LCAs tabulated for every pair of ordinals
LCA_TABLE = 256
#: lattices up to this many nodes are ordered at once; larger ones lazily with a heap
EAGER_LATTICE = 1 << 20


# -- models ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class KAnonymity:
    """Every equivalence class holds at least ``k`` records."""

    k: int


@dataclass(frozen=True)
class DistinctLDiversity:
    """At least ``l`` distinct values of ``attribute`` in every equivalence class."""

    l: int  # noqa: E741 - the model's name
    attribute: str


@dataclass(frozen=True)
class EntropyLDiversity:
    """The entropy of ``attribute`` in every equivalence class is at least log ``l``."""

    l: float  # noqa: E741 - the model's name
    attribute: str


@dataclass(frozen=True)
class TCloseness:
    """The EMD between ``attribute``'s distribution in each class and overall is at most ``t``.

    ``ordered``: use the ordered ground distance (values in ascending order: numbers by value,
    text by code point); otherwise the equal ground distance.
    """

    t: float
    attribute: str
    ordered: bool = False


Model: TypeAlias = KAnonymity | DistinctLDiversity | EntropyLDiversity | TCloseness


@dataclass(frozen=True)
class Configuration:
    """Privacy models and the share of records that may be suppressed to satisfy them."""

    models: tuple[Model, ...]
    suppression_limit: float = 0.0

    def describe(self) -> list[dict[str, Any]]:
        """The models as JSON-ready dicts."""
        return [{"model": type(m).__name__, **asdict(m)} for m in self.models]


# -- the prepared problem --------------------------------------------------------------------


@dataclass
class _Sensitive:
    """A sensitive attribute: its distinct (QI row, value) pairs and overall distribution.

    Values are coded in ascending order (numbers by value, text by code point).
    """

    name: str
    values: pa.Array
    size: int
    prior: Floats
    pair_row: Ints
    pair_value: Ints
    pair_weight: Floats
    #: the pairs of distinct row r are pair_start[r] … pair_start[r + 1] - 1 (pairs are sorted)
    pair_start: Ints


@dataclass
class _Problem:
    """The data collapsed to its distinct QI rows (with weights) and sensitive pairs."""

    data: pa.Table
    qis: list[str]
    coded: list[Coded]
    config: Configuration
    sensitive: dict[str, _Sensitive]
    n: int
    row_of_record: Ints
    ords: Codes  # rows × QIs
    weight: Floats
    #: the class size below which a model is surely violated (k, and l for l-diversity)
    min_size: int = field(init=False)
    #: whether class sizes decide every model (k-anonymity only)
    size_only: bool = field(init=False)
    #: whether a model is t-closeness
    has_closeness: bool = field(init=False)
    #: whether a node fails whenever a generalisation of it fails (see :meth:`_Lattice.possible`)
    monotone: bool = field(init=False)

    def __post_init__(self) -> None:
        sizes = [1]
        for m in self.config.models:
            if isinstance(m, KAnonymity):
                sizes.append(m.k)
            elif isinstance(m, DistinctLDiversity | EntropyLDiversity):
                sizes.append(math.ceil(m.l - EPS))
        self.min_size = max(sizes)
        self.size_only = all(isinstance(m, KAnonymity) for m in self.config.models)
        self.has_closeness = any(isinstance(m, TCloseness) for m in self.config.models)
        # merging classes keeps k and distinct l, so a generalisation never suppresses a record
        # its specialisation keeps; entropy l (concave) and t (convex EMD) only if nothing may
        # be suppressed at all
        self.monotone = self.config.suppression_limit == 0 or all(
            isinstance(m, KAnonymity | DistinctLDiversity) for m in self.config.models
        )

    @property
    def allowed(self) -> float:
        """How many records may be suppressed."""
        return self.config.suppression_limit * self.n + 1e-9


def _models(models: Model | Sequence[Model]) -> tuple[Model, ...]:
    if isinstance(models, KAnonymity | DistinctLDiversity | EntropyLDiversity | TCloseness):
        return (models,)
    return tuple(models)


def _prepare(
    data: pa.Table,
    qis: dict[str, Hierarchy],
    models: Model | Sequence[Model],
    suppression_limit: float,
) -> _Problem:
    """Validate the inputs and collapse the data to weighted distinct rows."""
    try:
        limit = float(suppression_limit)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(
            tr(
                "抑制上限 {s!r} 不是数",
                "the suppression limit {s!r} is not a number",
                s=suppression_limit,
            )
        ) from exc
    config = Configuration(_models(models), limit)
    n = data.num_rows
    _check(data, qis, config)
    coded = [h.code(data[name], column=name) for name, h in qis.items()]
    inverse, first, counts = _group_rows([c.ordinal for c in coded], [c.domain for c in coded])
    sensitive: dict[str, _Sensitive] = {}
    for name in sorted({m.attribute for m in config.models if not isinstance(m, KAnonymity)}):
        codes, values = _sensitive_codes(data[name])
        size = len(values)
        freq = np.bincount(codes, minlength=size).astype(np.float64)
        pairs, weights = np.unique(inverse * size + codes, return_counts=True)
        pair_row = pairs // size
        sensitive[name] = _Sensitive(
            name=name,
            values=values,
            size=size,
            prior=freq / n,
            pair_row=pair_row,
            pair_value=pairs % size,
            pair_weight=weights.astype(np.float64),
            pair_start=np.searchsorted(pair_row, np.arange(len(counts) + 1)).astype(np.int64),
        )
    return _Problem(
        data=data,
        qis=list(qis),
        coded=coded,
        config=config,
        sensitive=sensitive,
        n=n,
        row_of_record=inverse,
        ords=np.stack([c.ordinal[first] for c in coded], axis=1).astype(np.int32),
        weight=counts.astype(np.float64),
    )


def _check(data: pa.Table, qis: dict[str, Hierarchy], config: Configuration) -> None:
    """One clear error for each kind of broken input."""
    columns = data.column_names
    available = ", ".join(columns[:20]) + (" …" if len(columns) > 20 else "")
    if not qis:
        raise InvalidInput(
            tr("至少需要一个准标识符", "at least one quasi-identifier is needed"),
            hint=tr("为准标识符列给出泛化层级", "give a hierarchy for each quasi-identifier"),
        )
    for name, hierarchy in qis.items():
        if name not in columns:
            raise _unknown(name, available)
        if not isinstance(hierarchy, Hierarchy):
            raise InvalidInput(
                tr(
                    "列 {c!r} 的层级不是 Hierarchy",
                    "the hierarchy of {c!r} is not a Hierarchy",
                    c=name,
                ),
                where=Location(column=name),
            )
    if not config.models:
        raise InvalidInput(
            tr("至少需要一个隐私模型", "at least one privacy model is needed"),
            hint="KAnonymity, DistinctLDiversity, EntropyLDiversity, TCloseness",
        )
    limit = config.suppression_limit
    if not (0.0 <= limit <= 1.0) or math.isnan(limit):
        raise InvalidInput(
            tr(
                "隐私模型的抑制上限 {s} 须在 0 到 1 之间",
                "the suppression limit {s} must be between 0 and 1",
                s=limit,
            ),
            hint=tr(
                "例如 0.05 表示最多抑制 5% 的记录",
                "e.g. 0.05 allows suppressing up to 5 % of the records",
            ),
        )
    n = data.num_rows
    if n == 0:
        raise InvalidInput(tr("数据没有记录", "the data has no records"))
    for m in config.models:
        if isinstance(m, KAnonymity):
            if not isinstance(m.k, int | np.integer) or m.k < 1:
                raise InvalidInput(
                    tr(
                        "k 须为正整数，而不是 {k!r}",
                        "k must be a positive integer, not {k!r}",
                        k=m.k,
                    )
                )
            if m.k > n:
                raise InvalidInput(
                    tr(
                        "k = {k} 大于记录数 {n}",
                        "k = {k} is larger than the number of records ({n})",
                        k=m.k,
                        n=n,
                    ),
                    hint=tr("减小 k 或提供更多记录", "lower k or provide more records"),
                )
            continue
        if m.attribute not in columns:
            raise _unknown(m.attribute, available)
        if m.attribute in qis:
            raise InvalidInput(
                tr(
                    "敏感属性 {c!r} 不能同时是准标识符",
                    "the sensitive attribute {c!r} cannot also be a quasi-identifier",
                    c=m.attribute,
                ),
                where=Location(column=m.attribute),
            )
        if isinstance(m, DistinctLDiversity | EntropyLDiversity) and not m.l >= 1:
            raise InvalidInput(
                tr("l 须至少为 1，而不是 {l!r}", "l must be at least 1, not {l!r}", l=m.l),
                where=Location(column=m.attribute),
            )
        if isinstance(m, TCloseness) and not 0.0 <= m.t <= 1.0:
            raise InvalidInput(
                tr(
                    "t 须在 0 到 1 之间，而不是 {t!r}",
                    "t must be between 0 and 1, not {t!r}",
                    t=m.t,
                ),
                where=Location(column=m.attribute),
            )


def _unknown(name: str, available: str) -> InvalidInput:
    return InvalidInput(
        tr("数据中没有列 {c!r}", "the data has no column {c!r}", c=name),
        where=Location(column=name),
        hint=tr("现有的列：{cols}", "columns: {cols}", cols=available),
    )


def _sensitive_codes(column: pa.Array | pa.ChunkedArray) -> tuple[Codes, pa.Array]:
    """Codes of a sensitive attribute in ascending value order (null is a value of its own)."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if pa.types.is_dictionary(array.type):
        array = array.cast(array.type.value_type)
    encoded = pc.dictionary_encode(array, null_encoding="encode")
    values = encoded.dictionary
    rank = np.empty(len(values), dtype=np.int32)
    order = np.asarray(pc.array_sort_indices(values, null_placement="at_end").to_numpy())
    rank[order] = np.arange(len(values), dtype=np.int32)
    codes = rank[np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)]
    return codes.astype(np.int32), values.take(pa.array(order))


def _group_rows(columns: list[Codes], radices: list[int]) -> tuple[Ints, Ints, Ints]:
    """Distinct rows of integer columns: (row of each record, first record of each row, count)."""
    key = np.zeros(len(columns[0]), dtype=np.int64)
    span = 1
    for codes, radix in zip(columns, radices, strict=True):
        if span * max(radix, 1) >= 1 << 62:  # compact before the key would overflow
            _, key = np.unique(key, return_inverse=True)
            span = int(key.max()) + 1
        key = key * radix + codes
        span *= max(radix, 1)
    _, first, inverse, counts = np.unique(
        key, return_index=True, return_inverse=True, return_counts=True
    )
    return inverse.astype(np.int64), first.astype(np.int64), counts.astype(np.int64)


def _weigh(sizes: Floats, mask: Mask) -> float:
    """Total size of the masked classes (not ``np.dot``: BLAS threads spin between calls)."""
    return float((sizes * mask).sum())


def _dense(key: Ints, span: int) -> tuple[Ints, int]:
    """Dense class ids 0 … C - 1 (in key order) of integer keys in [0, span).

    Small key spaces are marked in a lookup table, large ones sorted (``np.unique``).
    """
    if span <= max(DENSE_SPAN * len(key), min(4 * DENSE_SPAN * len(key), DENSE_CELLS)):
        used = np.zeros(span, dtype=np.bool_)
        used[key] = True
        present = np.flatnonzero(used)
        ids = np.empty(span, dtype=np.int64)
        ids[present] = np.arange(len(present))
        return ids[key], len(present)
    uniq, inverse = np.unique(key, return_inverse=True)
    return inverse.astype(np.int64), len(uniq)


# -- judging classes -------------------------------------------------------------------------


def _far(counts: Floats, sizes: Floats, prior: Floats, model: TCloseness) -> Mask:
    """Which classes (rows of value ``counts``, of ``sizes`` records) are more than t from
    ``prior`` — the EMD scaled by the class size, so nothing is divided."""
    keep = prior > 0
    if not keep.all():
        counts, prior = counts[:, keep], prior[keep]
    m = len(prior)
    if m <= 1:
        return np.zeros(len(counts), dtype=np.bool_)
    diff = counts - sizes[:, None] * prior[None, :]
    if model.ordered:
        scaled = np.abs(np.cumsum(diff, axis=1)).sum(axis=1) / (m - 1)
    else:
        scaled = 0.5 * np.abs(diff).sum(axis=1)
    return np.asarray(scaled > (model.t + EPS) * sizes)


Hist: TypeAlias = Callable[[str, Ints], Floats]


def _violations(
    problem: _Problem,
    sizes: Floats,
    hist: Hist,
    *,
    released: bool,
    stop: bool,
    small: Mask | None = None,
    room: float | None = None,
    shifted: bool = False,
) -> Mask | None:
    """Which classes violate a model.

    Args:
        problem: The problem.
        sizes: The size of each class (0 for an unused class id, which is never checked).
        hist: For a sensitive attribute and some classes, their classes × values counts.
        released: If classes are suppressed (within the limit), also check t-closeness against
            the distribution of the records that remain, suppressing more classes until nothing
            changes — the release as published then satisfies it.
        stop: Return None as soon as more records violate than the limit allows.
        small: ``sizes < problem.min_size`` if already known (and within the limit).
        room: How many records may be suppressed (default: the limit).
        shifted: Records outside these classes are suppressed already: check the released
            distribution even if no class violates.
    """
    allowed = problem.allowed if room is None else room
    if small is None:
        bad = sizes < problem.min_size
        if stop and _weigh(sizes, bad) > allowed:
            return None
    else:
        bad = small.copy()
    closeness: list[TCloseness] = []
    for m in problem.config.models:
        if isinstance(m, KAnonymity):
            continue
        good = np.flatnonzero(~bad)  # only classes not yet violating need a look
        if not len(good):
            break
        h = hist(m.attribute, good)
        if isinstance(m, DistinctLDiversity):
            far = (h > 0).sum(axis=1) < m.l
        elif isinstance(m, EntropyLDiversity):
            p = h / sizes[good, None]
            with np.errstate(divide="ignore", invalid="ignore"):
                entropy = -np.where(p > 0, p * np.log(p), 0.0).sum(axis=1)
            far = entropy < math.log(m.l) - EPS
        else:
            closeness.append(m)
            far = _far(h, sizes[good], problem.sensitive[m.attribute].prior, m)
        if not far.any():
            continue
        bad[good[far]] = True
        if stop and _weigh(sizes, bad) > allowed:
            return None
    if released and closeness and (bad.any() or shifted):
        used = np.flatnonzero(sizes > 0)
        counts = {m.attribute: hist(m.attribute, used) for m in closeness}
        while not bad[used].all() and _weigh(sizes, bad) <= allowed:
            before = int(bad.sum())
            for m in closeness:
                h = counts[m.attribute]
                kept = h[~bad[used]].sum(axis=0)
                bad[used[_far(h, sizes[used], kept / kept.sum(), m)]] = True
            if int(bad.sum()) == before:
                break
    if stop and _weigh(sizes, bad) > allowed:
        return None
    return bad


def _pair_hist(
    cls: Ints, classes: int, good: Ints, pairs: tuple[Ints, Ints, Floats], size: int
) -> Floats:
    """Value counts of the classes ``good`` (rows in that order), from (row, value, weight)
    pairs and the class of each row (-1: none)."""
    row, value, weight = pairs
    slot = np.full(classes + 1, len(good), dtype=np.int64)  # other classes: one spare row
    slot[good] = np.arange(len(good))
    flat = slot[cls[row]] * size + value
    counts = np.bincount(flat, weights=weight, minlength=(len(good) + 1) * size)
    return np.asarray(counts[: len(good) * size], dtype=np.float64).reshape(len(good), size)


def _judge(
    problem: _Problem, cls: Ints, classes: int, *, rows: Ints | None = None, released: bool
) -> tuple[Floats, Mask]:
    """Class sizes and which classes violate a model.

    Args:
        problem: The problem.
        cls: The class of each distinct QI row (of ``rows``, if given).
        classes: Number of classes.
        rows: The distinct QI rows ``cls`` is about (default: all).
        released: See :func:`_violations`.
    """
    w = problem.weight if rows is None else problem.weight[rows]
    sizes = np.asarray(np.bincount(cls, weights=w, minlength=classes), dtype=np.float64)
    if rows is None:
        full = cls
    else:
        full = np.full(len(problem.weight), -1, dtype=np.int64)
        full[rows] = cls

    def hist(name: str, good: Ints) -> Floats:
        sa = problem.sensitive[name]
        pairs = (sa.pair_row, sa.pair_value, sa.pair_weight)
        return _pair_hist(full, classes, good, pairs, sa.size)

    bad = _violations(problem, sizes, hist, released=released, stop=False)
    assert bad is not None
    return sizes, bad


# -- results ---------------------------------------------------------------------------------


@dataclass
class Released:
    """The released values of one QI.

    Attributes:
        codes: Per record, the id of its released value (suppressed records: the last id).
        labels: The text of each id; the last is ``*`` for suppressed records.
        covered: Per id, how many of the attribute's leaves (occurring in the data) it covers.
        level: Per id, its level in the hierarchy (for a Mondrian range, the lowest level whose
            label covers it).
        domain: M, the number of distinct original values of the attribute in the data.
        height: The hierarchy's top level.
        original: Per record, the ordinal of its original value.
    """

    codes: Codes
    labels: pa.Array
    covered: Ints
    level: Ints
    domain: int
    height: int
    original: Codes

    def column(self) -> pa.Array:
        """The released values as strings."""
        return self.labels.take(pa.array(self.codes))


@dataclass
class Result:
    """An anonymised table and how it was obtained.

    Attributes:
        table: The data with every QI replaced by its released value (strings); suppressed
            records keep their other columns and have ``*`` in every QI.
        suppressed: Per record, whether it is suppressed.
        method: ``full_domain`` or ``mondrian``.
        config: The models and the suppression limit.
        qis: The quasi-identifiers.
        levels: The generalisation level of each QI (full-domain), else None.
        loss: ARX's LM (see :func:`loss_lm`).
        classes: Number of equivalence classes among the released records.
        nodes_evaluated: Lattice nodes evaluated (full-domain) or partitions made (Mondrian).
        lattice_size: Number of nodes of the lattice (full-domain), else 0.
        seconds: Wall time of the search, including coding the data and building the table.
        released: Per QI, the released values.
    """

    table: pa.Table
    suppressed: Mask
    method: Literal["full_domain", "mondrian"]
    config: Configuration
    qis: list[str]
    levels: dict[str, int] | None
    loss: float
    classes: int
    nodes_evaluated: int
    lattice_size: int
    seconds: float
    released: dict[str, Released] = field(repr=False)

    @property
    def suppressed_count(self) -> int:
        """How many records are suppressed."""
        return int(self.suppressed.sum())

    @property
    def node(self) -> tuple[int, ...] | None:
        """The levels as a lattice node, in QI order (full-domain), else None."""
        return None if self.levels is None else tuple(self.levels[q] for q in self.qis)

    def released_table(self) -> pa.Table:
        """The table without the suppressed records (what is published when they are dropped)."""
        return self.table.filter(pa.array(~self.suppressed))

    def summary(self) -> dict[str, Any]:
        """The result as a JSON-ready dict (for reports)."""
        return {
            "method": self.method,
            "models": self.config.describe(),
            "suppression_limit": self.config.suppression_limit,
            "quasi_identifiers": list(self.qis),
            "levels": self.levels,
            "records": self.table.num_rows,
            "suppressed": self.suppressed_count,
            "classes": self.classes,
            "loss_lm": self.loss,
            "discernibility": discernibility(self),
            "generalisation_intensity": generalisation_intensity(self),
            "non_uniform_entropy": non_uniform_entropy(self),
            "nodes_evaluated": self.nodes_evaluated,
            "lattice_size": self.lattice_size,
            "seconds": self.seconds,
        }


def _released(
    coded: Coded, ids: Codes, labels: pa.Array, covered: Ints, level: Ints, suppressed: Mask
) -> Released:
    """A QI's released values, with the ``*`` of suppressed records as the last id."""
    star = len(labels)
    codes = np.where(suppressed, star, ids).astype(np.int32)
    return Released(
        codes=codes,
        labels=pa.concat_arrays([labels.cast(pa.string()), pa.array([TOP], pa.string())]),
        covered=np.append(covered, coded.domain).astype(np.int64),
        level=np.append(level, coded.levels - 1).astype(np.int64),
        domain=coded.domain,
        height=coded.levels - 1,
        original=coded.ordinal,
    )


def _finish(
    problem: _Problem,
    released: dict[str, Released],
    suppressed: Mask,
    *,
    method: Literal["full_domain", "mondrian"],
    levels: dict[str, int] | None,
    evaluated: int,
    lattice: int,
    start: float,
) -> Result:
    table = problem.data
    for name, rel in released.items():
        index = table.column_names.index(name)
        table = table.set_column(index, pa.field(name, pa.string()), rel.column())
    result = Result(
        table=table,
        suppressed=suppressed,
        method=method,
        config=problem.config,
        qis=problem.qis,
        levels=levels,
        loss=0.0,
        classes=0,
        nodes_evaluated=evaluated,
        lattice_size=lattice,
        seconds=0.0,
        released=released,
    )
    result.loss = loss_lm(result)
    result.classes = int(len(_class_sizes(result)))
    result.seconds = time.perf_counter() - start
    return result


# -- metrics ---------------------------------------------------------------------------------


def loss_lm(result: Result) -> float:
    """ARX's loss metric "LM": Iyengar's loss averaged over records and QIs.

    A released value covering m of the attribute's M distinct original values costs
    (m - 1) / (M - 1) (0 when M = 1); a suppressed record costs 1 in every QI. For a Mondrian
    range ``lo-hi`` of a numeric QI, m is the number of distinct values of the data between lo
    and hi; for a categorical QI it is the number of leaves under the released label.
    """
    total = 0.0
    for rel in result.released.values():
        share = _share_of(rel.covered, rel.domain)
        total += float(share[rel.codes].mean()) if len(rel.codes) else 0.0
    return total / max(len(result.released), 1)


def _share_of(covered: Ints, domain: int) -> Floats:
    if domain <= 1:
        return np.zeros(len(covered), dtype=np.float64)
    return (covered.astype(np.float64) - 1.0) / (domain - 1)


def _class_sizes(result: Result) -> Ints:
    """Sizes of the equivalence classes of the released (not suppressed) records."""
    keep = ~result.suppressed
    if not keep.any():
        return np.zeros(0, dtype=np.int64)
    columns = [rel.codes[keep] for rel in result.released.values()]
    radices = [len(rel.labels) for rel in result.released.values()]
    _, _, counts = _group_rows(columns, radices)
    return counts


def discernibility(result: Result) -> float:
    """The discernibility metric: Σ |class|² over released classes, plus n per suppressed record."""
    sizes = _class_sizes(result).astype(np.float64)
    n = float(len(result.suppressed))
    return float((sizes**2).sum() + result.suppressed_count * n)


def generalisation_intensity(result: Result) -> float:
    """Mean over records and QIs of level / top level (suppressed records: 1)."""
    total = 0.0
    for rel in result.released.values():
        height = max(rel.height, 1)
        total += float((np.minimum(rel.level, height) / height)[rel.codes].mean())
    return total / max(len(result.released), 1)


def non_uniform_entropy(result: Result) -> float:
    """Non-uniform entropy, normalised to [0, 1].

    Σ over QIs and records of -log₂ P(original value | released value), the probabilities
    counted in the data, divided by the same sum with every value released as ``*``.
    """
    lost = 0.0
    most = 0.0
    for rel in result.released.values():
        ids = rel.codes.astype(np.int64)
        pair = ids * rel.domain + rel.original
        joint = np.bincount(pair)[pair]
        given = np.bincount(ids)[ids]
        alone = np.bincount(rel.original)[rel.original]
        lost += float(-np.log2(joint / given).sum())
        most += float(-np.log2(alone / len(ids)).sum())
    return lost / most if most > 0 else 0.0


# -- full-domain generalisation --------------------------------------------------------------


def _floor(problem: _Problem, pairs: dict[str, tuple[Ints, Ints, Floats]], groups: int) -> float:
    """Records that the l-diversity and t-closeness models surely suppress in any refinement
    of some groups of records (the classes of a node refine its leading or trailing classes).

    A group with fewer than l distinct values leaves fewer in every class. Entropy is concave,
    so a group of entropy h < log l has at least 1 - h / log l of its records in classes below
    log l. The EMD to a fixed distribution is convex, so a group at distance d > t from it has
    at least (d - t) / (1 - t) of its records in classes farther than t (and checking against the
    released distribution on top only suppresses more).

    Args:
        problem: The problem.
        pairs: Per sensitive attribute, (group, value, weight) of its distinct pairs.
        groups: Number of groups.
    """
    share = np.zeros(groups)
    sizes = np.zeros(groups)
    for m in problem.config.models:
        if isinstance(m, KAnonymity):
            continue
        sa = problem.sensitive[m.attribute]
        group, value, weight = pairs[m.attribute]
        counts = np.bincount(
            group * sa.size + value, weights=weight, minlength=groups * sa.size
        ).reshape(groups, sa.size)
        sizes = counts.sum(axis=1)
        if isinstance(m, DistinctLDiversity):
            share = np.maximum(share, (counts > 0).sum(axis=1) < m.l)
        elif isinstance(m, EntropyLDiversity):
            least = math.log(m.l) - EPS  # what a class must reach (see _violations)
            if least > 0:
                with np.errstate(divide="ignore", invalid="ignore"):
                    p = counts / sizes[:, None]
                    entropy = -np.where(p > 0, p * np.log(p), 0.0).sum(axis=1)
                share = np.maximum(share, 1 - entropy / least)
        elif m.t + EPS < 1:
            diff = counts - sizes[:, None] * sa.prior[None, :]
            if m.ordered:
                scaled = np.abs(np.cumsum(diff, axis=1)).sum(axis=1) / max(sa.size - 1, 1)
            else:
                scaled = 0.5 * np.abs(diff).sum(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                far = np.where(sizes > 0, (scaled / sizes - m.t - EPS) / (1 - m.t - EPS), 0.0)
            share = np.maximum(share, far)
    return float((np.clip(share, 0.0, 1.0) * sizes).sum())


@dataclass
class _Slice:
    """The distinct rows rolled up to one combination of levels of the leading QIs.

    An *entry* is a distinct (leading class, trailing bottom tuple) pair: every node with these
    leading levels is evaluated on the entries instead of on all distinct rows.
    """

    labels: Ints  # leading classes × leading QIs: the label ids of each class
    lead: Ints  # per entry: its leading class
    tail: Ints  # per entry: its trailing bottom tuple
    weight: Floats  # per entry: records
    loss: Floats  # per entry: Σ over the leading QIs of the LM share
    pairs: dict[str, tuple[Ints, Ints, Floats]]  # per sensitive attribute: (entry, value, weight)
    floor: float | None = None  # records the l/t models surely suppress at every node

    @property
    def classes(self) -> int:
        return len(self.labels)

    @property
    def cells(self) -> int:
        """Numbers held, for the cache's budget."""
        pairs = sum(len(p[0]) for p in self.pairs.values())
        return self.labels.size + 4 * len(self.lead) + 3 * pairs


class _Lattice:
    """The lattice of per-QI levels, and cheap evaluation of its nodes.

    The QIs with the largest domains *lead* (as many as keep their level combinations under
    :data:`GROUP_COMBOS`), the others *trail*. For each combination of leading levels the rows
    are rolled up into a :class:`_Slice` — from the slice one level finer, so a roll-up costs
    the size of that slice, not of the data; for each combination of trailing levels a small map
    sends each bottom trailing tuple to its class. A node's class key is then one multiply-add
    over the slice's entries, counted with ``np.bincount``.
    """

    def __init__(self, problem: _Problem) -> None:
        self.problem = problem
        self.heights = [c.levels for c in problem.coded]
        q = len(problem.qis)
        self.width = q
        # per (QI, level): the label of each distinct row, and LM₀'s per-(QI, level) constant
        self.labels: list[list[Codes]] = []
        self.shares: list[list[Floats]] = []
        self.up: list[list[Ints]] = []  # label id at level j → label id at level j + 1
        self.lm0: list[Floats] = []
        for i, coded in enumerate(problem.coded):
            ords = problem.ords[:, i]
            self.labels.append([coded.parents[j][ords] for j in range(coded.levels)])
            self.shares.append([coded.share(j) for j in range(coded.levels)])
            ups = []
            for j in range(coded.levels - 1):
                up = np.zeros(len(coded.labels[j]), dtype=np.int64)
                up[coded.parents[j]] = coded.parents[j + 1]
                ups.append(up)
            self.up.append(ups)
            costs = [
                float((problem.weight * self.shares[i][j][self.labels[i][j]]).sum())
                for j in range(coded.levels)
            ]
            self.lm0.append(np.array(costs) / (problem.n * q))
        by_domain = sorted(range(q), key=lambda i: -problem.coded[i].domain)
        self.lead: list[int] = []
        combos = 1
        for i in by_domain:
            if not self.lead or combos * self.heights[i] <= GROUP_COMBOS:
                self.lead.append(i)
                combos *= self.heights[i]
        self.trail = [i for i in by_domain if i not in self.lead]
        key, span = self._key([(i, 0) for i in self.trail])
        self.tail_of_row, self.tails = _dense(key, span)
        self.tail_first = np.zeros(self.tails, dtype=np.int64)
        self.tail_first[self.tail_of_row] = np.arange(len(key))
        self._slices: OrderedDict[tuple[int, ...], _Slice] = OrderedDict()
        self._cells = 0
        self._maps: dict[tuple[int, ...], tuple[Ints, int, Floats]] = {}
        self._tail_floors: dict[tuple[int, ...], float] = {}
        self._probes: dict[tuple[int, ...], bool] = {}
        #: nodes evaluated so far
        self.evaluated = 0

    @property
    def size(self) -> int:
        """Number of nodes."""
        return math.prod(self.heights)

    def _key(self, levels: list[tuple[int, int]]) -> tuple[Ints, int]:
        """Mixed-radix key of the rows' labels at (QI, level) pairs, and its span."""
        key = np.zeros(len(self.problem.weight), dtype=np.int64)
        span = 1
        for i, level in levels:
            size = len(self.problem.coded[i].labels[level])
            if span * size >= 1 << 62:
                key, span = _dense(key, span)
            key = key * size + self.labels[i][level]
            span *= size
        return key, span

    def _lead_key(self, labels: Ints, levels: tuple[int, ...]) -> tuple[Ints, int]:
        """Mixed-radix key of label tuples (one column per leading QI), and its span."""
        key = np.zeros(len(labels), dtype=np.int64)
        span = 1
        for col, (i, level) in enumerate(zip(self.lead, levels, strict=True)):
            size = len(self.problem.coded[i].labels[level])
            if span * size >= 1 << 62:
                key, span = _dense(key, span)
            key = key * size + labels[:, col]
            span *= size
        return key, span

    def slice(self, levels: tuple[int, ...]) -> _Slice:
        """The rows rolled up to these levels of the leading QIs (cached).

        Built from the smallest cached slice that is finer in every leading QI, else from the
        distinct rows.
        """
        found = self._slices.get(levels)
        if found is not None:
            self._slices.move_to_end(levels)
            return found
        below = self._finer(levels)
        if below is None:  # from the distinct rows
            problem = self.problem
            labels = np.stack(
                [self.labels[i][level] for i, level in zip(self.lead, levels, strict=True)], axis=1
            ).astype(np.int64)
            lead = np.arange(len(labels), dtype=np.int64)
            tail = self.tail_of_row
            weight = problem.weight
            pairs = {
                n: (sa.pair_row, sa.pair_value, sa.pair_weight)
                for n, sa in problem.sensitive.items()
            }
        else:
            finer, part = below
            labels = part.labels.copy()
            for c, (i, level) in enumerate(zip(self.lead, levels, strict=True)):
                for j in range(finer[c], level):  # up the hierarchy, one level at a time
                    labels[:, c] = self.up[i][j][labels[:, c]]
            lead, tail, weight, pairs = part.lead, part.tail, part.weight, part.pairs
        key, span = self._lead_key(labels, levels)
        of_class, classes = _dense(key, span)
        first = np.zeros(classes, dtype=np.int64)
        first[of_class] = np.arange(len(of_class))
        labels = labels[first]
        entry_key = of_class[lead] * self.tails + tail
        of_entry, entries = _dense(entry_key, classes * self.tails)
        head = np.zeros(entries, dtype=np.int64)
        head[of_entry] = entry_key
        class_loss = np.zeros(classes)
        for col, (i, level) in enumerate(zip(self.lead, levels, strict=True)):
            class_loss += self.shares[i][level][labels[:, col]]
        rolled = {}
        for name, (entry, value, w) in pairs.items():
            size = self.problem.sensitive[name].size
            pair_key = of_entry[entry] * size + value
            at, count = _dense(pair_key, entries * size)
            pair_head = np.zeros(count, dtype=np.int64)
            pair_head[at] = pair_key
            summed = np.asarray(np.bincount(at, weights=w, minlength=count), np.float64)
            rolled[name] = (pair_head // size, pair_head % size, summed)
        found = _Slice(
            labels=labels,
            lead=head // self.tails,
            tail=head % self.tails,
            weight=np.asarray(np.bincount(of_entry, weights=weight, minlength=entries), np.float64),
            loss=class_loss[head // self.tails],
            pairs=rolled,
        )
        self._slices[levels] = found
        self._cells += found.cells
        while self._cells > SLICE_CELLS and len(self._slices) > 1:  # forget the oldest
            oldest = next(iter(self._slices))
            self._cells -= self._slices.pop(oldest).cells
        return found

    def _finer(self, levels: tuple[int, ...]) -> tuple[tuple[int, ...], _Slice] | None:
        """The smallest cached slice one level below ``levels`` in one leading QI — or, if none
        is cached, at or below ``levels`` in every leading QI — if any."""
        best: tuple[tuple[int, ...], _Slice] | None = None
        for c, level in enumerate(levels):
            if level:
                have = levels[:c] + (level - 1,) + levels[c + 1 :]
                part = self._slices.get(have)
                if part is not None and (best is None or len(part.lead) < len(best[1].lead)):
                    best = (have, part)
        if best is not None:
            return best
        for have, part in self._slices.items():
            if all(h <= level for h, level in zip(have, levels, strict=True)):
                if best is None or len(part.lead) < len(best[1].lead):
                    best = (have, part)
        return best

    def tail_map(self, levels: tuple[int, ...]) -> tuple[Ints, int, Floats]:
        """For these levels of the trailing QIs: class of each bottom tuple, count, LM shares."""
        found = self._maps.get(levels)
        if found is not None:
            return found
        rows = self.tail_first
        key = np.zeros(self.tails, dtype=np.int64)
        span = 1
        loss = np.zeros(self.tails)
        for i, level in zip(self.trail, levels, strict=True):
            size = len(self.problem.coded[i].labels[level])
            labels = self.labels[i][level][rows]
            key = key * size + labels
            span *= size
            loss += self.shares[i][level][labels]
        cls, count = _dense(key, span)
        found = (cls, count, loss)
        self._maps[levels] = found
        return found

    def order(self) -> Iterator[tuple[tuple[int, ...], float]]:
        """Nodes in increasing LM₀ (ties: fewer levels first), lazily."""
        if self.size <= EAGER_LATTICE:
            total = np.zeros(1)
            steps = np.zeros(1, dtype=np.int64)
            for i, h in enumerate(self.heights):
                total = (total[:, None] + self.lm0[i][None, :]).ravel()
                steps = (steps[:, None] + np.arange(h)[None, :]).ravel()
            order = np.lexsort((steps, total))
            nodes = np.stack(np.unravel_index(order, self.heights), axis=1)
            for node, bound in zip(nodes.tolist(), total[order].tolist(), strict=True):
                yield tuple(node), bound
            return
        start = tuple(0 for _ in self.heights)
        heap = [(self._bound(start), 0, start)]
        seen = {start}
        while heap:
            bound, _, node = heapq.heappop(heap)
            yield node, bound
            for i, h in enumerate(self.heights):
                if node[i] + 1 < h:
                    up = node[:i] + (node[i] + 1,) + node[i + 1 :]
                    if up not in seen:
                        seen.add(up)
                        heapq.heappush(heap, (self._bound(up), sum(up), up))

    def _bound(self, node: tuple[int, ...]) -> float:
        return float(sum(self.lm0[i][level] for i, level in enumerate(node)))

    def possible(self, node: tuple[int, ...]) -> bool:
        """Whether ``node`` may satisfy the models, judged from two generalisations of it: the
        node with the trailing QIs at their top levels, and the one with the leading QIs there
        (each evaluated once and cached). Only for monotonic models, where a node whose
        generalisation fails fails too."""
        top = [h - 1 for h in self.heights]
        for keep in (self.lead, self.trail):
            probe = tuple(node[i] if i in keep else top[i] for i in range(len(node)))
            found = self._probes.get(probe)
            if found is None:
                found = self._probes[probe] = self.evaluate(probe, 0.0, math.inf) is not None
            if not found:
                return False
        return True

    def _tail_floor(self, levels: tuple[int, ...], tail_cls: Ints, tails: int) -> float:
        """:func:`_floor` for the classes of the trailing QIs at these levels (cached)."""
        found = self._tail_floors.get(levels)
        if found is None:
            pairs = {
                n: (tail_cls[self.tail_of_row[sa.pair_row]], sa.pair_value, sa.pair_weight)
                for n, sa in self.problem.sensitive.items()
            }
            found = self._tail_floors[levels] = _floor(self.problem, pairs, tails)
        return found

    def evaluate(self, node: tuple[int, ...], bound: float, best: float) -> float | None:
        """The loss at ``node``, or None if it does not satisfy the models within the limit
        or surely costs at least ``best``."""
        problem = self.problem
        self.evaluated += 1
        part = self.slice(tuple([node[i] for i in self.lead]))
        tail_cls, tails, tail_loss = self.tail_map(tuple([node[i] for i in self.trail]))
        if not problem.size_only:  # l / t alone may already need too much suppression
            if part.floor is None:
                by_lead = {n: (part.lead[e], v, w) for n, (e, v, w) in part.pairs.items()}
                part.floor = _floor(problem, by_lead, part.classes)
            tail_floor = self._tail_floor(tuple([node[i] for i in self.trail]), tail_cls, tails)
            if max(part.floor, tail_floor) > problem.allowed:
                return None
        key = part.lead * tails + tail_cls[part.tail]
        span = part.classes * tails
        if span > 4 * len(key) + 1024:  # sparse keys: make them dense
            key, span = _dense(key, span)
        sizes = np.asarray(np.bincount(key, weights=part.weight, minlength=span), np.float64)
        few = sizes < problem.min_size  # unused keys weigh nothing
        small = few[key]
        if float((part.weight * small).sum()) > problem.allowed:
            return None
        if problem.size_only or best < math.inf:  # what suppressing the small classes costs
            loss = bound + self._extra(part, small, tail_loss)
            if problem.size_only or loss >= best:
                return None if loss >= best else loss

        def hist(name: str, good: Ints) -> Floats:
            size = problem.sensitive[name].size
            return _pair_hist(key, span, good, part.pairs[name], size)

        bad = _violations(problem, sizes, hist, released=False, stop=True, small=few)
        if bad is None:
            return None
        loss = bound + self._extra(part, bad[key], tail_loss)
        if loss >= best:
            return None
        if problem.has_closeness and bad.any():  # check against the released distribution
            bad = _violations(problem, sizes, hist, released=True, stop=True, small=few)
            if bad is None:
                return None
            loss = bound + self._extra(part, bad[key], tail_loss)
        return None if loss >= best else loss

    def _extra(self, part: _Slice, entries: Mask, tail_loss: Floats) -> float:
        """The loss suppressing these entries adds to LM₀."""
        if not entries.any():
            return 0.0
        kept = part.loss[entries] + tail_loss[part.tail[entries]]
        extra = float((part.weight[entries] * (self.width - kept)).sum())
        return extra / (self.problem.n * self.width)

    def suppressed(self, node: tuple[int, ...]) -> Mask:
        """Which distinct rows are suppressed at ``node`` (the same verdict, on the rows)."""
        lead_key, lead_span = self._key([(i, node[i]) for i in self.lead])
        lead, classes = _dense(lead_key, lead_span)
        tail_cls, tails, _ = self.tail_map(tuple(node[i] for i in self.trail))
        cls, count = _dense(lead * tails + tail_cls[self.tail_of_row], classes * tails)
        _, bad = _judge(self.problem, cls, count, released=True)
        return bad[cls]


def full_domain(
    data: pa.Table,
    qis: dict[str, Hierarchy],
    models: Model | Sequence[Model],
    suppression_limit: float = 0.0,
) -> Result:
    """The optimal full-domain generalisation (least LM) that satisfies ``models``.

    Branch and bound over the lattice of per-QI levels (see the module documentation).

    Args:
        data: The table.
        qis: Each quasi-identifier's hierarchy.
        models: The privacy models, all of which must hold.
        suppression_limit: Share of records (0–1) that may be suppressed.

    Returns:
        The anonymised table, the levels, the suppressed records and the loss.

    Raises:
        InvalidInput: Broken input (an unknown column, a value missing from a hierarchy, k
            larger than the data, a limit outside 0–1, …) or no node satisfies the models.
    """
    start = time.perf_counter()
    problem = _prepare(data, qis, models, suppression_limit)
    lattice = _Lattice(problem)
    best: tuple[float, tuple[int, ...]] | None = None
    for node, bound in lattice.order():
        limit = math.inf if best is None else best[0]
        if bound >= limit:
            break
        if problem.monotone and not lattice.possible(node):
            continue
        loss = lattice.evaluate(node, bound, limit)
        if loss is not None:
            best = (loss, node)
    if best is None:
        raise _infeasible(problem)
    node = best[1]
    suppressed = lattice.suppressed(node)[problem.row_of_record]
    released = {}
    for i, coded in enumerate(problem.coded):
        level = node[i]
        labels = coded.labels[level]
        released[coded.column] = _released(
            coded,
            coded.codes(level),
            labels,
            coded.leaves[level],
            np.full(len(labels), level, dtype=np.int64),
            suppressed,
        )
    return _finish(
        problem,
        released,
        suppressed,
        method="full_domain",
        levels={q: int(level) for q, level in zip(problem.qis, node, strict=True)},
        evaluated=lattice.evaluated,
        lattice=lattice.size,
        start=start,
    )


def _infeasible(problem: _Problem) -> InvalidInput:
    return InvalidInput(
        tr(
            "没有任何泛化方案能在抑制上限 {s:.1%} 内满足隐私模型",
            "no generalisation satisfies the privacy models within the suppression limit ({s:.1%})",
            s=problem.config.suppression_limit,
        ),
        hint=tr(
            "放宽模型参数、提高抑制上限，或使用更粗的泛化层级",
            "weaken the models, raise the suppression limit or use coarser hierarchies",
        ),
    )


# -- Mondrian --------------------------------------------------------------------------------


def _segments(sorted_ids: Ints) -> tuple[Ints, Ints]:
    """Starts and ids of the runs of equal values of a sorted array."""
    starts = np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]])
    return starts, sorted_ids[starts]


@dataclass
class _Layout:
    """Rows of some partitions grouped by partition (``local`` numbers the partitions)."""

    order: Ints
    local: Ints
    ids: Ints
    width: Floats
    lca: Ints
    weight: Floats


#: per sensitive attribute, some rows' pairs: (position of the row, value, weight)
_Pairs: TypeAlias = tuple[Ints, Ints, Floats]


class _Ranked:
    """Rows sorted by value within their partition, for weighted quantile cuts."""

    def __init__(self, loc: Ints, value: Ints, w: Floats, parts: int) -> None:
        span = int(value.max()) + 1 if len(value) else 1
        order = np.argsort(loc * span + value, kind="stable")
        self.loc, self.value = loc, value
        self.sorted = value[order]
        self.cum = np.cumsum(w[order])
        self.total = np.bincount(loc, weights=w, minlength=parts)
        count = np.bincount(loc, minlength=parts)
        self.base = np.cumsum(self.total) - self.total
        self.first = np.cumsum(count) - count
        self.last = np.maximum(self.first + count - 1, 0)

    def below(self, share: float) -> Mask:
        """Per row, whether it falls below the cut at ``share`` of its partition's records (the
        value reached there stays below, unless it is the largest: each side keeps a value)."""
        at = np.searchsorted(self.cum, self.base + share * self.total - 1e-9, side="left")
        cut = self.sorted[np.clip(at, self.first, self.last)]
        top = self.sorted[self.last]
        cut = np.where(cut >= top, cut - 1, cut)
        return np.asarray(self.value <= cut[self.loc])


#: useful cuts found by :meth:`_Mondrian._relaxed` but not applied yet: per partition its id,
#: the loss saved and the records suppressed; per row of these partitions the row, whether it
#: is suppressed, and its partition
_Cuts: TypeAlias = tuple[Ints, Floats, Floats, Ints, Mask, Ints]


def _no_cuts() -> _Cuts:
    empty = np.zeros(0, dtype=np.int64)
    return empty, np.zeros(0), np.zeros(0), empty, np.zeros(0, dtype=np.bool_), empty


class _Mondrian:
    """Breadth-first multidimensional Mondrian over the distinct rows."""

    def __init__(self, problem: _Problem) -> None:
        self.problem = problem
        self._pending: _Cuts = _no_cuts()
        coded = problem.coded
        self.numeric = np.array([c.values is not None for c in coded])
        self.domain = np.array([c.domain for c in coded], dtype=np.int64)
        top = max(c.levels for c in coded)
        # flat lookups of every (QI, level) table: parent label of an ordinal, leaves of a label
        self.parent_at = np.zeros((len(coded), top), dtype=np.int64)
        self.label_at = np.zeros((len(coded), top), dtype=np.int64)
        parents: list[Codes] = []
        leaves: list[Ints] = []
        p_off = l_off = 0
        for q, c in enumerate(coded):
            for j in range(c.levels):
                self.parent_at[q, j], self.label_at[q, j] = p_off, l_off
                parents.append(c.parents[j])
                leaves.append(c.leaves[j])
                p_off += c.domain
                l_off += len(c.labels[j])
        self.parents = np.concatenate(parents).astype(np.int64)
        self.leaves = np.concatenate(leaves).astype(np.int64)
        # small domains: the LCA level and label of every (lo, hi) pair, looked up by lo·M + hi
        self.lca_table: list[tuple[Ints, Ints] | None] = []
        for q, c in enumerate(coded):
            if c.domain > LCA_TABLE:
                self.lca_table.append(None)
                continue
            grid = np.arange(c.domain, dtype=np.int64)
            lo, hi = np.repeat(grid, c.domain), np.tile(grid, c.domain)
            self.lca_table.append(self._lca(q, lo, hi))

    def lca(self, q: int, lo: Ints, hi: Ints) -> tuple[Ints, Ints]:
        """The lowest level at which ordinals lo … hi share a label, and that label's id.

        Ordinals follow the hierarchy's order, in which every subtree is contiguous, so the
        range shares a label exactly when its two ends do.
        """
        table = self.lca_table[q]
        if table is not None:
            at = lo * int(self.domain[q]) + hi
            return table[0][at], table[1][at]
        return self._lca(q, lo, hi)

    def _lca(self, q: int, lo: Ints, hi: Ints) -> tuple[Ints, Ints]:
        coded = self.problem.coded[q]
        level = np.full(len(lo), coded.levels - 1, dtype=np.int64)
        for j in reversed(range(coded.levels)):
            same = coded.parents[j][lo] == coded.parents[j][hi]
            level = np.where(same, j, level)
        return level, self.parents[self.parent_at[q][level] + lo]

    def widths(self, lo: Ints, hi: Ints) -> tuple[Floats, Ints]:
        """Per (partition, QI): the LM share its recoding would cost, and the LCA level."""
        parts, qis = lo.shape
        width = np.zeros((parts, qis))
        lca = np.zeros((parts, qis), dtype=np.int64)
        for q in range(qis):
            if self.numeric[q]:
                covered = hi[:, q] - lo[:, q] + 1
            else:
                lca[:, q], label = self.lca(q, lo[:, q], hi[:, q])
                covered = self.leaves[self.label_at[q][lca[:, q]] + label]
            domain = int(self.domain[q])
            width[:, q] = (covered - 1) / (domain - 1) if domain > 1 else 0.0
        return width, lca

    def _layout(self, chosen: Mask, part: Ints, out: Mask) -> _Layout:
        """The rows of the chosen partitions, grouped, with their ranges and widths."""
        problem = self.problem
        idx = np.flatnonzero(chosen[part] & ~out)
        order = idx[np.argsort(part[idx], kind="stable")]
        starts, ids = _segments(part[order])
        ords = problem.ords[order].astype(np.int64)
        lo = np.minimum.reduceat(ords, starts, axis=0)
        hi = np.maximum.reduceat(ords, starts, axis=0)
        width, lca = self.widths(lo, hi)
        local = np.repeat(np.arange(len(ids)), np.diff(np.r_[starts, len(order)]))
        weight = np.bincount(local, weights=problem.weight[order], minlength=len(ids))
        return _Layout(order, local, ids, width, lca, np.asarray(weight, dtype=np.float64))

    def _cuts(self, lay: _Layout, pending: Mask) -> Iterator[tuple[Mask, Ints, Ints, Mask, Mask]]:
        """Candidate cuts of the pending partitions, best first: the median in the widest QI,
        … the median in the narrowest, then uneven cuts (see :data:`CUTS`).

        Yields (partitions tried, their rows, each row's partition, whether it goes left, which
        children violate a model); ``pending`` may be updated between yields.
        """
        problem = self.problem
        parts = len(lay.ids)
        rank = np.argsort(-lay.width, axis=1, kind="stable")
        wide = np.take_along_axis(lay.width, rank, axis=1) > 0
        ranked: dict[int, tuple[Ints, Ints, _Ranked, Floats, dict[str, _Pairs]]] = {}
        for share in CUTS:
            for r in range(lay.width.shape[1]):
                trying = pending & wide[:, r]
                if not trying.any():
                    continue
                if r not in ranked:
                    dim = rank[:, r]
                    sel = trying[lay.local]
                    rows, loc = lay.order[sel], lay.local[sel]
                    d = dim[loc]
                    # numbers split by value, categories between the subtrees of their LCA
                    level = np.where(self.numeric[d], 0, lay.lca[loc, d] - 1)
                    value = self.parents[self.parent_at[d, level] + problem.ords[rows, d]]
                    w = problem.weight[rows]
                    ranked[r] = (rows, loc, _Ranked(loc, value, w, parts), w, self._pairs(rows))
                rows, loc, cuts, w, pairs = ranked[r]
                left = cuts.below(share)
                child = loc * 2 + (~left).astype(np.int64)
                now = trying[loc]
                if now.all():
                    counted = np.bincount(child, weights=w, minlength=2 * parts)
                else:
                    rows, loc, left = rows[now], loc[now], left[now]
                    counted = np.bincount(child[now], weights=w[now], minlength=2 * parts)
                sizes = np.asarray(counted, dtype=np.float64)
                # the children of partitions not tried weigh nothing and count as violating
                yield trying, rows, loc, left, self._violating(child, sizes, pairs)

    def _pairs(self, rows: Ints) -> dict[str, _Pairs]:
        """Per sensitive attribute, the (row position, value, weight) of the pairs of ``rows``."""
        found: dict[str, _Pairs] = {}
        for name, sa in self.problem.sensitive.items():
            begin = sa.pair_start[rows]
            count = sa.pair_start[rows + 1] - begin
            pos = np.repeat(np.arange(len(rows), dtype=np.int64), count)
            idx = np.repeat(begin - (np.cumsum(count) - count), count) + np.arange(len(pos))
            found[name] = (pos, sa.pair_value[idx], sa.pair_weight[idx])
        return found

    def _violating(self, cls: Ints, sizes: Floats, pairs: dict[str, _Pairs]) -> Mask:
        """Which classes violate a model, given the class of each row of ``pairs`` (classes of
        size 0 violate, whatever their rows)."""
        problem = self.problem
        classes = len(sizes)
        counts: dict[str, Floats] = {}

        def hist(name: str, good: Ints) -> Floats:
            found = counts.get(name)
            if found is None:
                pos, value, weight = pairs[name]
                size = problem.sensitive[name].size
                flat = cls[pos] * size + value
                counted = np.bincount(flat, weights=weight, minlength=classes * size)
                found = counts[name] = np.asarray(counted, np.float64).reshape(classes, size)
            return found[good]

        bad = _violations(problem, sizes, hist, released=False, stop=False)
        assert bad is not None
        return bad

    def _strict(self, part: Ints, made: int, out: Mask, active: Mask) -> int:
        """Cut the active partitions, round after round, while both halves satisfy the models."""
        problem = self.problem
        while active.any():
            lay = self._layout(active, part, out)
            # a partition smaller than twice the least class cannot be cut
            pending = lay.weight >= 2 * problem.min_size
            fresh: list[Ints] = []
            for trying, rows, loc, left, fails in self._cuts(lay, pending):
                ok = trying & ~fails[0::2] & ~fails[1::2]
                if ok.any():
                    go = ok[loc]
                    base = made + 2 * np.cumsum(ok) - 2  # two new ids per partition cut
                    new = base[loc[go]] + (~left[go]).astype(np.int64)
                    part[rows[go]] = new
                    fresh.append(new)
                    made += 2 * int(ok.sum())
                    pending &= ~ok
                if not pending.any():
                    break
            active = np.zeros(made, dtype=np.bool_)
            for new in fresh:
                active[new] = True
        return made

    def _relaxed(
        self, part: Ints, made: int, out: Mask, tried: Mask, budget: float
    ) -> tuple[int, Mask | None]:
        """Cuts that suppress a violating half to refine the other, within ``budget`` records.

        For every partition not tried yet, the first candidate cut with exactly one violating
        half whose suppression lowers the loss; the cuts with the most loss saved per record
        suppressed are applied until the budget is spent. A partition's cut depends on its rows
        alone, so the useful cuts not applied are kept (:attr:`_pending`) for the next call.

        Returns:
            The number of partition ids made, and the new partitions to cut further (None if
            no cut was applied). Partitions without a useful cut are marked in ``tried``.
        """
        problem = self.problem
        q = len(problem.qis)
        present = np.zeros(made, dtype=np.bool_)
        present[part[~out]] = True
        # cuts found before, of partitions still released and unchanged
        k_ids, k_gain, k_lost, k_rows, k_drop, k_owner = self._pending
        live = present[k_ids] & ~tried[k_ids]
        if not live.all():
            alive = np.zeros(made, dtype=np.bool_)
            alive[k_ids[live]] = True
            keep = alive[k_owner]
            k_ids, k_gain, k_lost = k_ids[live], k_gain[live], k_lost[live]
            k_rows, k_drop, k_owner = k_rows[keep], k_drop[keep], k_owner[keep]
        fresh = ~tried & present
        fresh[k_ids] = False
        f_ids: Ints = np.zeros(0, dtype=np.int64)
        f_gain: Floats = np.zeros(0)
        f_lost: Floats = np.zeros(0)
        cut_rows: list[Ints] = [k_rows]
        cut_out: list[Mask] = [k_drop]
        cut_owner: list[Ints] = [k_owner]
        if fresh.any():
            lay = self._layout(fresh, part, out)
            parts = len(lay.ids)
            pending = lay.weight >= problem.min_size + 1
            before = lay.weight * lay.width.sum(axis=1)
            gain = np.zeros(parts)
            lost = np.zeros(parts)
            for trying, rows, loc, left, fails in self._cuts(lay, pending):
                one = trying & (fails[0::2] != fails[1::2])
                if not one.any():
                    continue
                sel = one[loc]
                rows, loc, left = rows[sel], loc[sel], left[sel]
                drop = left == fails[0::2][loc]  # the row's half violates
                keep_rows, keep_loc = rows[~drop], loc[~drop]
                order = np.argsort(keep_loc, kind="stable")
                keep_rows, keep_loc = keep_rows[order], keep_loc[order]
                starts, ids = _segments(keep_loc)
                ords = problem.ords[keep_rows].astype(np.int64)
                width, _ = self.widths(
                    np.minimum.reduceat(ords, starts, axis=0),
                    np.maximum.reduceat(ords, starts, axis=0),
                )
                kept_w = np.bincount(keep_loc, weights=problem.weight[keep_rows], minlength=parts)
                dropped_w = np.bincount(
                    loc[drop], weights=problem.weight[rows[drop]], minlength=parts
                )
                after = np.zeros(parts)
                after[ids] = kept_w[ids] * width.sum(axis=1)
                saved = before - after - dropped_w * q
                good = one & (saved > 0)
                if good.any():
                    gain[good], lost[good] = saved[good], dropped_w[good]
                    pick = good[loc]
                    cut_rows.append(rows[pick])
                    cut_out.append(drop[pick])
                    cut_owner.append(lay.ids[loc[pick]])
                    pending &= ~good
                if not pending.any():
                    break
            tried[lay.ids[gain <= 0]] = True  # no cut of theirs helps: do not look again
            useful = gain > 0
            f_ids, f_gain, f_lost = lay.ids[useful], gain[useful], lost[useful]
        # every useful cut, by partition id (the order the partitions are ranked in)
        all_ids = np.concatenate([k_ids, f_ids])
        by_id = np.argsort(all_ids, kind="stable")
        all_ids = all_ids[by_id]
        all_gain = np.concatenate([k_gain, f_gain])[by_id]
        all_lost = np.concatenate([k_lost, f_lost])[by_id]
        rows = np.concatenate(cut_rows)
        drop = np.concatenate(cut_out)
        owner = np.concatenate(cut_owner)
        ranking = np.argsort(-all_gain / all_lost, kind="stable")
        fits = np.cumsum(all_lost[ranking]) <= budget
        chosen = np.zeros(len(all_ids), dtype=np.bool_)
        chosen[ranking[fits]] = True
        chosen_id = np.zeros(made, dtype=np.bool_)
        chosen_id[all_ids[chosen]] = True
        apply = chosen_id[owner]
        self._pending = (
            all_ids[~chosen],
            all_gain[~chosen],
            all_lost[~chosen],
            rows[~apply],
            drop[~apply],
            owner[~apply],
        )
        if not chosen.any():
            return made, None
        rows, drop, owner = rows[apply], drop[apply], owner[apply]
        out[rows[drop]] = True
        count = int(chosen.sum())
        new_id = np.full(made, -1, dtype=np.int64)
        new_id[all_ids[chosen]] = made + np.arange(count)
        part[rows[~drop]] = new_id[owner[~drop]]
        made += count
        active = np.zeros(made, dtype=np.bool_)
        active[made - count :] = True
        return made, active

    def run(self, budget: float) -> tuple[Ints, int, Mask]:
        """Partition the distinct rows; suppress up to ``budget`` records where that lowers the
        loss.

        With t-closeness, suppression goes in steps of at most :data:`STEP` of the budget, each
        ending with a check against the distribution of the records still released (which
        suppression shifts), suppressing the partitions that fail; if that would exceed the
        budget, the step is undone and the search stops.

        Returns:
            The partition of every distinct row, how many partition ids were made, and which
            rows are suppressed.
        """
        problem = self.problem
        rows = len(problem.weight)
        part = np.zeros(rows, dtype=np.int64)
        out = np.zeros(rows, dtype=np.bool_)
        self._pending = _no_cuts()
        made = self._strict(part, 1, out, np.ones(1, dtype=np.bool_))
        tried = np.zeros(made, dtype=np.bool_)
        spent = 0.0
        while budget - spent >= 1:
            saved = (part.copy(), made, out.copy(), tried.copy())
            share = STEP if problem.has_closeness else 1.0
            step = min(budget - spent, max(budget * share, 1.0))
            made, active = self._relaxed(part, made, out, tried, step)
            if active is None:
                break
            made = self._strict(part, made, out, active)
            tried = np.r_[tried, np.zeros(made - len(tried), dtype=np.bool_)]
            if problem.has_closeness and not self._released(part, made, out, budget):
                part, made, out, tried = saved
                break
            spent = float(problem.weight[out].sum())
        return part, made, out

    def _released(self, part: Ints, made: int, out: Mask, budget: float) -> bool:
        """Check the partitions against the released records' distribution (t-closeness) and
        suppress the ones that fail (updating ``out``); False if that exceeds ``budget``."""
        problem = self.problem
        keep = np.flatnonzero(~out)
        cls, classes = _dense(part[keep], made)
        sizes = np.bincount(cls, weights=problem.weight[keep], minlength=classes).astype(np.float64)
        full = np.full(len(part), -1, dtype=np.int64)
        full[keep] = cls

        def hist(name: str, good: Ints) -> Floats:
            sa = problem.sensitive[name]
            pairs = (sa.pair_row, sa.pair_value, sa.pair_weight)
            return _pair_hist(full, classes, good, pairs, sa.size)

        room = budget - float(problem.weight[out].sum())
        bad = _violations(problem, sizes, hist, released=True, stop=False, room=room, shifted=True)
        assert bad is not None
        if _weigh(sizes, bad) > room:
            return False
        out[keep[bad[cls]]] = True
        return True

    def recode(self, part: Ints, made: int, suppressed: Mask) -> dict[str, Released]:
        """The released values of every QI: ranges for numbers, LCAs for categories."""
        problem = self.problem
        order = np.argsort(part, kind="stable")
        starts, ids = _segments(part[order])
        ords = problem.ords[order].astype(np.int64)
        lo = np.minimum.reduceat(ords, starts, axis=0)
        hi = np.maximum.reduceat(ords, starts, axis=0)
        slot = np.zeros(made, dtype=np.int64)
        slot[ids] = np.arange(len(ids))
        part_of_record = slot[part[problem.row_of_record]]
        released: dict[str, Released] = {}
        for q, coded in enumerate(problem.coded):
            level, label = self.lca(q, lo[:, q], hi[:, q])
            if coded.values is not None:
                key = lo[:, q] * coded.domain + hi[:, q]
            else:
                key = level * len(self.leaves) + self.label_at[q][level] + label
            _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
            a, b, levels = lo[first, q], hi[first, q], level[first]
            if coded.values is not None:
                text_lo = pa.array(coded.values[a]).cast(pa.string())
                text_hi = pa.array(coded.values[b]).cast(pa.string())
                ranged = pc.binary_join_element_wise(text_lo, text_hi, "-")
                single = coded.labels[0].take(pa.array(a))
                labels = pc.if_else(pa.array(a == b), single, ranged)
                covered = b - a + 1
            else:
                at = self.label_at[q][levels] + label[first]
                mine = pa.array(at - self.label_at[q][0])  # this QI's labels, all levels
                labels = pa.concat_arrays(list(coded.labels)).take(mine)
                covered = self.leaves[at]
            released[coded.column] = _released(
                coded,
                inverse.astype(np.int32)[part_of_record],
                labels,
                covered.astype(np.int64),
                levels.astype(np.int64),
                suppressed,
            )
        return released


def mondrian(
    data: pa.Table,
    qis: dict[str, Hierarchy],
    models: Model | Sequence[Model],
    suppression_limit: float = 0.0,
) -> Result:
    """Local recoding by multidimensional Mondrian (strict partitioning, LeFevre et al.).

    All partitions are cut at once, round after round: each at the weighted median of the QI
    with the widest normalised range (the LM share its current recoding would cost); numeric
    QIs (numeric hierarchies) are cut by value, categorical ones between the subtrees of their
    lowest common generalisation. A cut is allowed only if both halves satisfy every model
    (k-anonymity, l-diversity and t-closeness are split constraints); otherwise the median in the
    next widest QI is tried, then uneven cuts (:data:`CUTS`). Within the suppression limit, a
    final partition may then be cut with one violating half suppressed, when that lowers the
    loss (the cuts saving most loss per suppressed record first), and the kept half is cut
    further. With t-closeness this goes in steps, each checked against the distribution of the
    records still released. A final partition's numeric QIs become ``lo-hi`` (or the value
    itself), its categorical QIs their lowest common generalisation in the hierarchy.

    The loss is LM (:func:`loss_lm`): a range ``lo-hi`` covers the distinct values of the data
    between lo and hi, a label the leaves under it.

    Args:
        data: The table.
        qis: Each quasi-identifier's hierarchy.
        models: The privacy models.
        suppression_limit: Share of records (0–1) that may be suppressed.

    Raises:
        InvalidInput: Broken input, or the whole table violates a model.
    """
    start = time.perf_counter()
    problem = _prepare(data, qis, models, suppression_limit)
    rows = len(problem.weight)
    whole = np.zeros(rows, dtype=np.int64)
    _, bad = _judge(problem, whole, 1, released=False)
    if bad[0] and problem.n > problem.allowed:
        raise _infeasible(problem)
    engine = _Mondrian(problem)
    if bad[0]:  # everything suppressed, which the limit allows
        part, made, suppressed_rows = whole, 1, np.ones(rows, dtype=np.bool_)
    else:
        part, made, suppressed_rows = engine.run(problem.allowed)
    suppressed = suppressed_rows[problem.row_of_record]
    return _finish(
        problem,
        engine.recode(part, made, suppressed),
        suppressed,
        method="mondrian",
        levels=None,
        evaluated=made,
        lattice=0,
        start=start,
    )
