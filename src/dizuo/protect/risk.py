"""Re-identification risk of a table on its quasi-identifiers, before and after protection.

Records that agree on every quasi-identifier (QI) form an equivalence class; an attacker who
knows a person's QIs and that the person is in the table (the *prosecutor*) picks one record of
the class, so the record's risk is 1 / |class|. The measures (as in ARX and GB/T 37964-2019):

* **prosecutor risk** — the highest and the average 1 / |class| over records;
* **journalist risk** — the attacker does not know the person is in the table and matches
  against a *population* table: 1 / |matching population records|. Without a population table
  it equals the prosecutor risk (the report says so);
* **marketer risk** — the share of records an attacker re-identifies when matching all of them:
  #classes / #records, or with a population the average of 1 / |population class|;
* **unique records** — the share of records alone in their class;
* **records at risk** — the share (and count) of records whose prosecutor risk exceeds a
  threshold;
* and what the table achieves: k (the smallest class), and per sensitive attribute the distinct
  l, the entropy l (exp of the lowest class entropy) and t (the largest Earth Mover's Distance
  between a class and the whole table, equal and ordered ground distance).

Suppressed records (flagged by the caller) are left out: they are not published with their QIs.
Every measure is a vectorised group-by: the QI columns are dictionary-encoded, combined into one
integer key and counted with ``np.unique``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from dizuo.errors import InvalidInput, Location
from dizuo.i18n import tr

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]

#: records whose prosecutor risk exceeds this are "at risk" (1/5: classes under 5 records)
THRESHOLD = 0.2


@dataclass
class Sensitive:
    """What a table achieves for one sensitive attribute.

    Attributes:
        attribute: The attribute.
        distinct_l: The fewest distinct values in a class.
        entropy_l: exp of the lowest entropy of the values in a class (natural logarithm).
        t_equal: The largest EMD of a class to the table, equal ground distance.
        t_ordered: The same with the ordered ground distance (values in ascending order).
    """

    attribute: str
    distinct_l: int
    entropy_l: float
    t_equal: float
    t_ordered: float


@dataclass
class Risk:
    """Re-identification risk of a table (see the module documentation).

    Attributes:
        records: Records assessed (suppressed ones left out).
        suppressed: Records left out as suppressed.
        classes: Equivalence classes.
        k: The smallest class (0 if there are no records).
        prosecutor_max: The highest 1 / |class|.
        prosecutor_average: The average over records of 1 / |class|.
        journalist_max: The highest 1 / |population class|.
        journalist_average: The average over records of 1 / |population class|.
        marketer: The expected share of records re-identified by matching all of them.
        unique_share: The share of records alone in their class.
        threshold: The risk above which a record counts as at risk.
        at_risk: Records whose prosecutor risk exceeds the threshold.
        at_risk_share: Their share.
        population: Whether a population table was used (else journalist = prosecutor).
        sensitive: Per sensitive attribute, the l and t achieved.
        notes: Remarks for the reader, in the current language.
    """

    records: int
    suppressed: int
    classes: int
    k: int
    prosecutor_max: float
    prosecutor_average: float
    journalist_max: float
    journalist_average: float
    marketer: float
    unique_share: float
    threshold: float
    at_risk: int
    at_risk_share: float
    population: bool
    sensitive: list[Sensitive] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The report as a JSON-ready dict."""
        return asdict(self)


def _codes(columns: Sequence[pa.ChunkedArray | pa.Array]) -> tuple[Ints, list[int]]:
    """Per column, dense codes of its values (null is a value), shared by all its chunks."""
    out: list[Ints] = []
    sizes: list[int] = []
    for column in columns:
        array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        if pa.types.is_dictionary(array.type):
            array = array.cast(array.type.value_type)
        encoded = pc.dictionary_encode(array, null_encoding="encode")
        out.append(np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64))
        sizes.append(max(len(encoded.dictionary), 1))
    return np.stack(out, axis=1) if out else np.zeros((0, 0), np.int64), sizes


def _keys(codes: Ints, sizes: list[int]) -> Ints:
    """One integer key per row of codes (compacted whenever it would overflow)."""
    key = np.zeros(len(codes), dtype=np.int64)
    span = 1
    for j, size in enumerate(sizes):
        if span * size >= 1 << 62:
            _, key = np.unique(key, return_inverse=True)
            span = int(key.max()) + 1 if len(key) else 1
        key = key * size + codes[:, j]
        span *= size
    return key


def _check(table: pa.Table, names: Sequence[str], what: str) -> None:
    for name in names:
        if name not in table.column_names:
            raise InvalidInput(
                tr("{what}中没有列 {c!r}", "{what} has no column {c!r}", what=what, c=name),
                where=Location(column=name),
                hint=tr("现有的列：{cols}", "columns: {cols}", cols=", ".join(table.column_names)),
            )


def _sensitive(column: pa.ChunkedArray, cls: Ints, classes: int, name: str) -> Sensitive:
    """Distinct l, entropy l and t of one sensitive attribute over the classes."""
    array = column.combine_chunks()
    if pa.types.is_dictionary(array.type):
        array = array.cast(array.type.value_type)
    encoded = pc.dictionary_encode(array, null_encoding="encode")
    order = np.asarray(pc.sort_indices(encoded.dictionary).to_numpy())
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    values = rank[np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)]
    size = max(len(order), 1)
    counts = np.bincount(cls * size + values, minlength=classes * size).reshape(classes, size)
    sizes = counts.sum(axis=1, keepdims=True).astype(np.float64)
    p = counts / sizes
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -np.where(p > 0, p * np.log(p), 0.0).sum(axis=1)
    prior = counts.sum(axis=0) / counts.sum()
    present = prior > 0
    diff = p[:, present] - prior[present]
    m = int(present.sum())
    t_equal = 0.5 * np.abs(diff).sum(axis=1)
    t_ordered = np.abs(np.cumsum(diff, axis=1)).sum(axis=1) / (m - 1) if m > 1 else t_equal * 0
    return Sensitive(
        attribute=name,
        distinct_l=int((counts > 0).sum(axis=1).min()),
        entropy_l=float(math.exp(entropy.min())),
        t_equal=float(t_equal.max()),
        t_ordered=float(t_ordered.max()),
    )


def assess(
    table: pa.Table,
    qis: Sequence[str],
    sensitive: Sequence[str] = (),
    suppressed: Mask | None = None,
    *,
    population: pa.Table | None = None,
    threshold: float = THRESHOLD,
) -> Risk:
    """The re-identification risk of ``table`` on ``qis``.

    Args:
        table: The table (original or anonymised).
        qis: The quasi-identifiers.
        sensitive: Sensitive attributes to report l and t for.
        suppressed: Per record, whether it is suppressed (left out); default none.
        population: A table of the population the records come from, with the same QI columns
            written the same way (e.g. generalised alike); enables journalist risk.
        threshold: Prosecutor risk above which a record is at risk.

    Raises:
        InvalidInput: An unknown column, a mask of the wrong length, or no QI.
    """
    if not qis:
        raise InvalidInput(tr("至少需要一个准标识符", "at least one quasi-identifier is needed"))
    _check(table, [*qis, *sensitive], tr("数据", "the data"))
    n_all = table.num_rows
    if suppressed is not None and len(suppressed) != n_all:
        raise InvalidInput(
            tr(
                "抑制标记有 {m} 个，记录有 {n} 条",
                "the suppression mask has {m} entries for {n} records",
                m=len(suppressed),
                n=n_all,
            )
        )
    keep = np.ones(n_all, dtype=np.bool_) if suppressed is None else ~np.asarray(suppressed)
    released = table.filter(pa.array(keep)) if not keep.all() else table
    n = released.num_rows
    notes: list[str] = []
    if population is not None:
        _check(population, qis, tr("总体表", "the population table"))
        both = [
            pa.chunked_array(released[q].chunks + population[q].cast(released[q].type).chunks)
            for q in qis
        ]
        codes, sizes = _codes(both)
    else:
        codes, sizes = _codes([released[q] for q in qis])
        notes.append(
            tr(
                "未提供总体表：记者风险等于检察官风险",
                "no population table: journalist risk equals prosecutor risk",
            )
        )
    key = _keys(codes, sizes)
    sample_key = key[:n]
    if n == 0:
        return Risk(
            0,
            n_all,
            0,
            0,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            threshold,
            0,
            0.0,
            population is not None,
            [],
            notes,
        )
    uniq, cls, counts = np.unique(sample_key, return_inverse=True, return_counts=True)
    size = counts[cls].astype(np.float64)
    risk = 1.0 / size
    if population is not None:
        pop_key = key[n:]
        at = np.searchsorted(uniq, pop_key)
        at = np.minimum(at, len(uniq) - 1)
        found = uniq[at] == pop_key
        pop_counts = np.bincount(at[found], minlength=len(uniq)).astype(np.float64)
        pop_size = np.maximum(pop_counts, counts)[cls]  # the sample is part of the population
        journalist = 1.0 / pop_size
        if (pop_counts < counts).any():
            notes.append(
                tr(
                    "部分等价类在总体表中的记录少于样本：按样本计",
                    "some classes have fewer records in the population than in the sample: "
                    "the sample's count was used",
                )
            )
        marketer = float(journalist.mean())
    else:
        journalist = risk
        marketer = len(uniq) / n
    at_risk = int((risk > threshold).sum())
    sens = [_sensitive(released[s], cls.astype(np.int64), len(uniq), s) for s in sensitive]
    return Risk(
        records=n,
        suppressed=n_all - n,
        classes=len(uniq),
        k=int(counts.min()),
        prosecutor_max=float(risk.max()),
        prosecutor_average=float(risk.mean()),
        journalist_max=float(journalist.max()),
        journalist_average=float(journalist.mean()),
        marketer=marketer,
        unique_share=float((counts[cls] == 1).mean()),
        threshold=threshold,
        at_risk=at_risk,
        at_risk_share=at_risk / n,
        population=population is not None,
        sensitive=sens,
        notes=notes,
    )


def before_after(
    original: pa.Table,
    anonymised: pa.Table,
    qis: Sequence[str],
    sensitive: Sequence[str] = (),
    suppressed: Mask | None = None,
    *,
    population: pa.Table | None = None,
    threshold: float = THRESHOLD,
) -> dict[str, Risk]:
    """The risk of the original table and of its anonymised version, side by side.

    The population table, if given, is used for the original only (it is written like the
    original, not like the generalised release).
    """
    before = assess(original, qis, sensitive, population=population, threshold=threshold)
    after = assess(anonymised, qis, sensitive, suppressed, threshold=threshold)
    return {"before": before, "after": after}
