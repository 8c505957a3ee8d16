"""Pairwise accuracy of a record linkage, vectorised: shared by the linkage benchmarks.

Records are numbered globally (row ``i`` of the first table is ``i``, row ``j`` of the second
is ``len(first) + j``, …). A pair is unordered: ``(i, j)`` and ``(j, i)`` are the same pair and
are stored as ``left < right``. A pair is coded as one int64 key, ``left * n + right`` for
``n`` records, and sets of pairs are compared with ``np.intersect1d`` on the sorted keys.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class PairScores:
    """Precision, recall and F1 of predicted pairs against true pairs."""

    precision: float
    recall: float
    f1: float
    tp: int
    fp: int
    fn: int

    @property
    def predicted(self) -> int:
        return self.tp + self.fp

    @property
    def true(self) -> int:
        return self.tp + self.fn


def pair_keys(left: npt.ArrayLike, right: npt.ArrayLike, n: int) -> Ints:
    """The sorted, distinct int64 keys of the unordered pairs ``(left[k], right[k])``.

    Self-pairs (``left == right``) are kept: as predictions they are false positives.

    Raises:
        ValueError: The arrays differ in length, or a record number is outside ``[0, n)``.
    """
    lo = np.asarray(left, dtype=np.int64)
    hi = np.asarray(right, dtype=np.int64)
    if lo.shape != hi.shape:
        raise ValueError(f"left and right differ in length ({lo.size} and {hi.size})")
    if lo.size and (min(lo.min(), hi.min()) < 0 or max(lo.max(), hi.max()) >= n):
        raise ValueError(f"a record number is outside [0, {n})")
    if n > 3_037_000_499:  # n * n must fit in an int64
        raise ValueError(f"too many records for int64 pair keys: {n}")
    lo, hi = np.minimum(lo, hi), np.maximum(lo, hi)
    return np.unique(lo * np.int64(n) + hi)


def score_pairs(
    predicted_left: npt.ArrayLike,
    predicted_right: npt.ArrayLike,
    true_left: npt.ArrayLike,
    true_right: npt.ArrayLike,
    n: int,
) -> PairScores:
    """Pairwise precision, recall and F1 of the predicted pairs (duplicates counted once).

    ``n`` is the total number of records (the bound of the global record numbers). An empty
    prediction has precision 1 by convention (it asserts nothing false).
    """
    pred = pair_keys(predicted_left, predicted_right, n)
    truth = pair_keys(true_left, true_right, n)
    tp = int(np.intersect1d(pred, truth, assume_unique=True).size)
    fp = int(pred.size) - tp
    fn = int(truth.size) - tp
    precision = tp / pred.size if pred.size else 1.0
    recall = tp / truth.size if truth.size else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return PairScores(precision, recall, f1, tp, fp, fn)


def true_pairs(entity: npt.ArrayLike, source: npt.ArrayLike | None = None) -> tuple[Ints, Ints]:
    """All pairs of records of the same entity, as ``(left, right)`` with ``left < right``.

    ``entity[i]`` is the entity of global record ``i``. With ``source`` (the table each
    record comes from), only pairs across tables count — a link between tables; without it,
    every pair within an entity counts — a deduplication.
    """
    ent = np.asarray(entity, dtype=np.int64)
    src = None if source is None else np.asarray(source, dtype=np.int64)
    order = np.argsort(ent, kind="stable").astype(np.int64)
    sorted_ent = ent[order]
    # the records of one entity are consecutive in `order`: pair each with the ones k after
    # it, for k up to the largest entity (a handful in practice), all rows at once per k
    starts = np.flatnonzero(np.r_[True, sorted_ent[1:] != sorted_ent[:-1]])
    largest = int(np.diff(np.r_[starts, ent.size]).max()) if ent.size else 0
    lefts: list[Ints] = []
    rights: list[Ints] = []
    for k in range(1, largest):
        same = sorted_ent[:-k] == sorted_ent[k:]
        a, b = order[:-k][same], order[k:][same]
        if src is not None:
            across = src[a] != src[b]
            a, b = a[across], b[across]
        lefts.append(np.minimum(a, b))
        rights.append(np.maximum(a, b))
    if not lefts:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(lefts), np.concatenate(rights)
