"""Search datasets by name, summary, keywords and field names — Chinese included.

Plain substring matching in SQL (``LIKE``) on SQLite and PostgreSQL alike: every word of the
query must appear somewhere in a dataset. A Chinese word with no exact hit also matches by its
character bigrams (学生信息 → 学生, 生信, 信息), ranked by how many match, so word order and
small differences still find the dataset. Results are ranked: name > keywords > field names >
summary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from dizuo.catalog.models import Dataset, Field, Version

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
WEIGHTS = {"name": 8, "keywords": 4, "fields": 2, "summary": 1}


@dataclass
class Hit:
    dataset: Dataset
    score: float
    matched: list[str]


def _like(term: str) -> str:
    escaped = term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _bigrams(term: str) -> list[str]:
    return [term[i : i + 2] for i in range(len(term) - 1)]


def search(session: Session, query: str, limit: int = 50) -> list[Hit]:
    words = [w for w in re.split(r"[\s,，;；]+", query.strip()) if w]
    if not words:
        return []
    latest = (
        sa.select(Version.dataset_id, sa.func.max(Version.number).label("n"))
        .group_by(Version.dataset_id)
        .subquery()
    )
    field_names = (
        sa.select(Version.dataset_id, Field.name)
        .join(Field, Field.version_id == Version.id)
        .join(
            latest, sa.and_(latest.c.dataset_id == Version.dataset_id, latest.c.n == Version.number)
        )
        .subquery()
    )

    def clauses(term: str) -> dict[str, sa.ColumnElement[bool]]:
        pattern = _like(term)
        return {
            "name": sa.func.lower(Dataset.name).like(pattern, escape="\\")
            | sa.func.lower(Dataset.code).like(pattern, escape="\\"),
            "keywords": sa.func.lower(sa.cast(Dataset.keywords, sa.Text)).like(
                pattern, escape="\\"
            ),
            "summary": sa.func.lower(Dataset.summary).like(pattern, escape="\\")
            | sa.func.lower(Dataset.category).like(pattern, escape="\\"),
            "fields": sa.exists(
                sa.select(1)
                .select_from(field_names)
                .where(
                    field_names.c.dataset_id == Dataset.id,
                    sa.func.lower(field_names.c.name).like(pattern, escape="\\"),
                )
            ),
        }

    # Candidate set: each word matches somewhere, exactly or (Chinese) by some bigram.
    conditions = []
    for word in words:
        exact = sa.or_(*clauses(word).values())
        grams = _bigrams(word) if _CJK.search(word) and len(word) > 2 else []
        if grams:
            conditions.append(sa.or_(exact, *(sa.or_(*clauses(g).values()) for g in grams)))
        else:
            conditions.append(exact)
    candidates = list(session.scalars(sa.select(Dataset).where(sa.and_(*conditions))))
    if not candidates:
        return []
    # Score the few candidates: one query per (word, place) over just these ids.
    ids = [d.id for d in candidates]
    scores = dict.fromkeys(ids, 0.0)
    matched: dict[object, set[str]] = {i: set() for i in ids}
    for word in words:
        grams = _bigrams(word) if _CJK.search(word) and len(word) > 2 else []
        for place, clause in clauses(word).items():
            for ds_id in session.scalars(sa.select(Dataset.id).where(Dataset.id.in_(ids), clause)):
                scores[ds_id] += WEIGHTS[place] * 2
                matched[ds_id].add(place)
        for gram in grams:
            for place, clause in clauses(gram).items():
                for ds_id in session.scalars(
                    sa.select(Dataset.id).where(Dataset.id.in_(ids), clause)
                ):
                    scores[ds_id] += WEIGHTS[place] / len(grams)
                    matched[ds_id].add(place)
    hits = [Hit(d, scores[d.id], sorted(matched[d.id])) for d in candidates]
    hits.sort(key=lambda h: (-h.score, h.dataset.code))
    return hits[:limit]
