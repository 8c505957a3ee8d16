"""Free text from templates, with the exact character span of every embedded entity.

A template is a ``str.format`` pattern such as ``"市民{name}来电反映：{issue}。电话{phone}"``.
Each record picks one template; a template's rows are assembled column-wise with Arrow
(literal pieces broadcast, slot values taken for those rows), and the start of every piece
is the running sum of the code-point lengths of the pieces before it — so spans are exact
Python string offsets without looking at a single row in Python.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from dizuo.demo import strings
from dizuo.demo.truth import SPAN_SCHEMA

I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Slot:
    """Values for one placeholder: one per record; an entity slot also names its person."""

    values: pa.Array
    entity: str | None = None
    person: I64 | None = None  # person_id per record (-1: nobody in the registry)


def fields(template: str) -> list[str]:
    """The placeholder names of a template."""
    return [f for _, f, _, _ in string.Formatter().parse(template) if f]


def render(
    templates: Sequence[str],
    choice: I64,
    slots: Mapping[str, Slot],
    dataset: str,
    column: str,
    row_offset: int = 0,
) -> tuple[pa.Array, pa.Table]:
    """Texts (null where ``choice`` is -1) and their spans (a :data:`SPAN_SCHEMA` table).

    Span rows are ``row_offset`` plus the record's index.
    """
    n = len(choice)
    texts: list[pa.Array] = []
    order: list[I64] = []
    spans: list[pa.Table] = []
    for t, template in enumerate(templates):
        rows = np.flatnonzero(choice == t)
        m = len(rows)
        if m == 0:
            continue
        pieces: list[tuple[pa.Array, Slot | None]] = []
        for literal, field, _, _ in string.Formatter().parse(template):
            if literal:
                pieces.append((strings.arrow(literal, m), None))
            if field:
                slot = slots[field]
                values = slot.values.take(pa.array(rows))
                if values.null_count:
                    raise ValueError(f"slot {field!r} has nulls for template {t}")
                pieces.append((values, slot))
        lens = np.stack([strings.lengths(p) for p, _ in pieces])
        starts = np.cumsum(lens, axis=0) - lens
        texts.append(pc.binary_join_element_wise(*[p for p, _ in pieces], ""))
        order.append(rows)
        for k, (values, piece) in enumerate(pieces):
            if piece is None or piece.entity is None:
                continue
            person = piece.person[rows] if piece.person is not None else np.full(m, -1)
            spans.append(
                pa.table(
                    [
                        strings.repeat(dataset, m),
                        pa.array(rows + row_offset),
                        strings.repeat(column, m),
                        strings.repeat(piece.entity, m),
                        pa.array(starts[k]),
                        pa.array(starts[k] + lens[k]),
                        values,
                        pa.array(person, mask=person < 0),
                    ],
                    schema=SPAN_SCHEMA,
                )
            )
    if not texts:
        return pa.nulls(n, pa.string()), SPAN_SCHEMA.empty_table()
    where = np.full(n, -1, dtype=np.int64)
    where[np.concatenate(order)] = np.arange(sum(len(o) for o in order))
    text = pa.concat_arrays(texts).take(pa.array(where, mask=where < 0))
    table = pa.concat_tables(spans) if spans else SPAN_SCHEMA.empty_table()
    if table.num_rows:
        table = table.take(pc.sort_indices(table, [("row", "ascending"), ("start", "ascending")]))
    return text, table


def pick_templates(
    rng: np.random.Generator,
    templates: Sequence[str],
    weights: Sequence[float],
    available: Mapping[str, npt.NDArray[np.bool_]],
    fallback: int,
) -> I64:
    """Choose a template per record; records missing a slot's data get ``fallback``."""
    n = len(next(iter(available.values())))
    w = np.asarray(weights, dtype=np.float64)
    choice: I64 = rng.choice(len(templates), n, p=w / w.sum())
    for t, template in enumerate(templates):
        for field in fields(template):
            if field in available:
                choice[(choice == t) & ~available[field]] = fallback
    return choice


def phone_variants(rng: np.random.Generator, phones: I64) -> pa.Array:
    """Phones as people write them: plain, full-width, 138-1234-5678 or 138 1234 5678."""
    n = len(phones)
    kind = rng.choice(4, n, p=[0.68, 0.14, 0.10, 0.08])
    zero = np.where(kind == 1, strings.FULLWIDTH_ZERO, strings.ASCII_ZERO).astype(np.uint32)
    digits = strings.int_digits(phones, 11).astype(np.uint32) + zero[:, None]
    grouped = kind >= 2
    sep = np.where(kind == 2, ord("-"), ord(" ")).astype(np.uint32)
    out = np.zeros((n, 13), dtype=np.uint32)
    out[:, :11] = digits
    g = np.flatnonzero(grouped)
    out[g, 0:3] = digits[g, 0:3]
    out[g, 3] = sep[g]
    out[g, 4:8] = digits[g, 3:7]
    out[g, 8] = sep[g]
    out[g, 9:13] = digits[g, 7:11]
    return strings.text(strings.from_codepoints(out))


def id_variants(
    rng: np.random.Generator, digits: npt.NDArray[np.uint8], fullwidth_share: float = 0.15
) -> pa.Array:
    """ID numbers as written in text: mostly plain, sometimes in full-width digits."""
    full = rng.random(len(digits)) < fullwidth_share
    return strings.text(strings.digits_text(digits, fullwidth=full))
