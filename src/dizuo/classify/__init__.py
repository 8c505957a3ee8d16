"""Classify: entity detectors, column classification and free-text span scanning.

The public API:

- :class:`~dizuo.classify.entities.Entity` — the entity types and their labels;
- :func:`~dizuo.classify.detectors.match_sql` — a DuckDB boolean expression per entity;
- :func:`~dizuo.classify.columns.classify_columns` — one verdict per column;
- :func:`~dizuo.classify.text.scan_text` — entity spans in free text.
"""

from __future__ import annotations

from dizuo.classify.columns import ColumnResult, classify_columns
from dizuo.classify.detectors import match_sql, prepare
from dizuo.classify.entities import Entity
from dizuo.classify.text import Span, scan_text

__all__ = [
    "ColumnResult",
    "Entity",
    "Span",
    "classify_columns",
    "match_sql",
    "prepare",
    "scan_text",
]
