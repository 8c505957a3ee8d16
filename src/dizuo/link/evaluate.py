"""Quality of a person index against ground truth: pairwise precision, recall and F1.

Two records are a *true pair* when they are the same person and a *predicted pair* when the
index gives them the same person key. Counting is done on the contingency table of (predicted
person, true person), never on the pairs themselves, so it is linear in the records.
Per error kind (a name written by ear, a swapped birth date, a missing ID, …) the counts are
restricted to pairs that involve at least one record carrying that error.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]


def _pairs(counts: Ints) -> int:
    return int((counts * (counts - 1) // 2).sum())


def _cells(*keys: Ints) -> Ints:
    """A dense id per distinct combination of keys."""
    stacked = np.stack(keys, axis=1)
    _, inverse = np.unique(stacked, axis=0, return_inverse=True)
    return np.asarray(inverse.reshape(-1), dtype=np.int64)


def _counts(tp: int, predicted: int, true: int) -> dict[str, float]:
    precision = tp / predicted if predicted else 1.0
    recall = tp / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "tp": tp,
        "fp": predicted - tp,
        "fn": true - tp,
    }


def _restricted(group: Ints, flagged: Bools) -> int:
    """Pairs inside groups that involve at least one flagged record."""
    size = np.bincount(group)
    marked = np.bincount(group, weights=flagged.astype(np.float64)).astype(np.int64)
    unmarked = size - marked
    return _pairs(size) - _pairs(unmarked)


def pairwise(predicted: Ints, truth: Ints, flagged: Bools | None = None) -> dict[str, float]:
    """Pairwise precision, recall and F1 of a clustering.

    Args:
        predicted: Predicted person label per record.
        truth: True person id per record.
        flagged: When given, only pairs with at least one flagged record count.
    """
    cell = _cells(predicted, truth)
    pred = _cells(predicted)
    true = _cells(truth)
    if flagged is None:
        return _counts(
            _pairs(np.bincount(cell)), _pairs(np.bincount(pred)), _pairs(np.bincount(true))
        )
    return _counts(
        _restricted(cell, flagged), _restricted(pred, flagged), _restricted(true, flagged)
    )


def by_kind(predicted: Ints, truth: Ints, kinds: dict[str, Bools]) -> dict[str, dict[str, float]]:
    """Overall scores and scores per error kind (``kinds``: kind → records carrying it)."""
    out = {"all": pairwise(predicted, truth)}
    clean = np.ones(len(truth), dtype=bool)
    for kind, mask in kinds.items():
        clean &= ~mask
        if mask.any():
            out[kind] = pairwise(predicted, truth, mask)
            out[kind]["records"] = int(mask.sum())
    out["no_error"] = pairwise(predicted, truth, clean)
    out["no_error"]["records"] = int(clean.sum())
    return out


def against_truth(
    index: pa.Table, truth: Path, kinds: Sequence[str]
) -> dict[str, dict[str, float]]:
    """Score a person index (``dataset``, ``row``, ``role``, ``person_key``) against the demo
    city's ground truth (``truth/record_person.parquet`` and ``truth/columns.parquet``: the
    truth role of each name column).

    Returns:
        :func:`by_kind` scores over the records the truth knows.
    """
    import duckdb

    con = duckdb.connect()
    try:
        con.register("idx", index)
        records = str(truth / "record_person.parquet")
        columns = str(truth / "columns.parquet")
        joined = con.sql(
            """
            SELECT i.person_key, t.person_id, t.errors
            FROM idx i
            JOIN read_parquet(?) c
              ON c.dataset = split_part(i.dataset, '@', 1) AND c."column" = i.role
             AND c.entity_type = 'person_name'
            JOIN read_parquet(?) t
              ON t.dataset = c.dataset AND t.row = i.row AND t.role = c.role
            ORDER BY i.dataset, i.role, i.row
            """,
            params=[columns, records],
        ).to_arrow_table()
    finally:
        con.close()
    keys = joined.column("person_key").combine_chunks().dictionary_encode().indices
    predicted = np.asarray(keys.to_numpy(zero_copy_only=False), dtype=np.int64)
    truth_ids = np.asarray(joined.column("person_id").to_numpy(), dtype=np.int64)
    masks = kind_masks(joined.column("errors").combine_chunks(), kinds)
    return by_kind(predicted, truth_ids, masks)


def kind_masks(errors: pa.Array, kinds: Sequence[str]) -> dict[str, Bools]:
    """Per error kind: which records' error lists (a ``list<string>`` array) name it."""
    flat = pc.list_flatten(errors)
    rows = np.asarray(pc.list_parent_indices(errors).to_numpy(), dtype=np.int64)
    masks = {}
    for kind in kinds:
        mask = np.zeros(len(errors), dtype=bool)
        hit = np.asarray(pc.equal(flat, kind).to_numpy(zero_copy_only=False), dtype=bool)
        mask[rows[hit]] = True
        masks[kind] = mask
    return masks
