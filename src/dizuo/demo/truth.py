"""Ground truth: which person each record is about, what each column holds, where free-text
entities sit, and which values are decoys.

Files written into ``truth/``:

- ``persons.parquet`` — the latent population (see :func:`dizuo.demo.people.persons_table`).
- ``record_person.parquet`` — dataset, row (0-based file order), person_id, role (whose
  fields these are: "student", "guardian", "patient", …) and errors (list of planted kinds).
- ``columns.parquet`` — dataset, column, entity_type (null for non-personal columns), role,
  has_decoys, decoy_of (the entity the decoys imitate), note.
- ``spans.parquet`` — dataset, row, column, entity_type, start, end (Python string indices,
  end exclusive), text, person_id (null when the entity is nobody in the registry).
- ``decoys.parquet`` — dataset, row, column, value, reason: values that look like an entity
  but fail its check (e.g. USCCs with a wrong check character).
- ``transit_cards.parquet`` — every transit card: card_no, person_id, card_type, registered,
  luhn_valid.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from dizuo.demo import strings
from dizuo.demo.errors import Masks, error_lists

I64 = npt.NDArray[np.int64]

RECORD_SCHEMA = pa.schema(
    [
        ("dataset", pa.string()),
        ("row", pa.int64()),
        ("person_id", pa.int64()),
        ("role", pa.string()),
        ("errors", pa.list_(pa.string())),
    ]
)
SPAN_SCHEMA = pa.schema(
    [
        ("dataset", pa.string()),
        ("row", pa.int64()),
        ("column", pa.string()),
        ("entity_type", pa.string()),
        ("start", pa.int64()),
        ("end", pa.int64()),
        ("text", pa.string()),
        ("person_id", pa.int64()),
    ]
)
DECOY_SCHEMA = pa.schema(
    [
        ("dataset", pa.string()),
        ("row", pa.int64()),
        ("column", pa.string()),
        ("value", pa.string()),
        ("reason", pa.string()),
    ]
)

# Entity types used in columns.parquet and spans.parquet.
ENTITY_TYPES = (
    "person_name",
    "resident_id",
    "mobile_phone",
    "address",
    "birth_date",
    "age",
    "sex",
    "ethnicity",
    "diagnosis",
    "student_number",
    "transit_card",
    "uscc",
    "free_text",  # a column of free text; its entities are in spans.parquet
)


@dataclass(frozen=True)
class Column:
    """What one column of a dataset holds."""

    name: str
    entity: str | None = None
    role: str | None = None
    has_decoys: bool = False
    decoy_of: str | None = None
    note: str = ""


def write_parquet(table: pa.Table, path: Path) -> None:
    """Write a table deterministically (zstd, no timestamps in the file)."""
    pq.write_table(table, path, compression="zstd", row_group_size=1 << 20)


class Truth:
    """Collects the ground truth while the datasets are generated."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder / "truth"
        self.folder.mkdir(parents=True, exist_ok=True)
        self._records = pq.ParquetWriter(
            self.folder / "record_person.parquet", RECORD_SCHEMA, compression="zstd"
        )
        self._columns: list[dict[str, object]] = []
        self._spans: list[pa.Table] = []
        self._decoys: list[pa.Table] = []

    def records(
        self, dataset: str, rows: I64, person_ids: I64, role: str, masks: Masks | None = None
    ) -> None:
        """Record that ``rows`` of ``dataset`` hold ``role`` fields of ``person_ids``."""
        n = len(rows)
        table = pa.table(
            [
                strings.repeat(dataset, n),
                pa.array(rows.astype(np.int64)),
                pa.array(person_ids.astype(np.int64)),
                strings.repeat(role, n),
                error_lists(masks or {}, n),
            ],
            schema=RECORD_SCHEMA,
        )
        self._records.write_table(table, row_group_size=1 << 20)

    def columns(self, dataset: str, columns: list[Column]) -> None:
        """Describe every column of ``dataset``."""
        for c in columns:
            self._columns.append(
                {
                    "dataset": dataset,
                    "column": c.name,
                    "entity_type": c.entity,
                    "role": c.role,
                    "has_decoys": c.has_decoys,
                    "decoy_of": c.decoy_of,
                    "note": c.note,
                }
            )

    def spans(self, table: pa.Table) -> None:
        """Add free-text entity spans (a table with :data:`SPAN_SCHEMA`)."""
        self._spans.append(table.cast(SPAN_SCHEMA))

    def decoys(self, dataset: str, rows: I64, column: str, values: pa.Array, reason: str) -> None:
        """Record decoy values (look like an entity, fail its check)."""
        n = len(rows)
        self._decoys.append(
            pa.table(
                [
                    strings.repeat(dataset, n),
                    pa.array(rows.astype(np.int64)),
                    strings.repeat(column, n),
                    values,
                    strings.repeat(reason, n),
                ],
                schema=DECOY_SCHEMA,
            )
        )

    def table(self, name: str, table: pa.Table) -> str:
        """Write another truth table; returns its path relative to the city folder."""
        write_parquet(table, self.folder / f"{name}.parquet")
        return f"truth/{name}.parquet"

    def close(self) -> dict[str, str]:
        """Write the collected tables; returns name → path relative to the city folder."""
        self._records.close()
        columns = pa.Table.from_pylist(
            self._columns,
            schema=pa.schema(
                [
                    ("dataset", pa.string()),
                    ("column", pa.string()),
                    ("entity_type", pa.string()),
                    ("role", pa.string()),
                    ("has_decoys", pa.bool_()),
                    ("decoy_of", pa.string()),
                    ("note", pa.string()),
                ]
            ),
        )
        paths = {"record_person": "truth/record_person.parquet"}
        paths["columns"] = self.table("columns", columns)
        spans = pa.concat_tables(self._spans) if self._spans else SPAN_SCHEMA.empty_table()
        paths["spans"] = self.table("spans", spans)
        decoys = pa.concat_tables(self._decoys) if self._decoys else DECOY_SCHEMA.empty_table()
        paths["decoys"] = self.table("decoys", decoys)
        return paths
