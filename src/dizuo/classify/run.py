"""Classify what a user points at: a catalogued dataset version, or any file the ingester
reads (staged to Parquet in a temporary folder, never ingested)."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dizuo.classify.columns import ColumnResult, classify_columns
from dizuo.classify.entities import Entity
from dizuo.classify.policy import (
    DatasetJudgement,
    Policy,
    birth_column,
    judge,
    load_policy,
    minors_share_sql,
)
from dizuo.engine.duckdb import DuckDBEngine, quote_ident, sql_list
from dizuo.i18n import current_lang, tr

if TYPE_CHECKING:
    from dizuo.ingest.spec import IngestSpec
    from dizuo.workspace import Workspace


@dataclass
class ClassifyReport:
    """Results for one table: where it came from, how it was read, one verdict per column."""

    target: str
    rows: int
    sampled_rows: int | None  # None: every row was read
    columns: list[ColumnResult] = field(default_factory=list)
    types: dict[str, str] = field(default_factory=dict)
    judgement: DatasetJudgement | None = None
    minors_share: float | None = None

    def as_json(self, lang: str = "zh") -> dict[str, Any]:
        j = self.judgement
        fields = {f.column: f for f in j.fields} if j else {}
        return {
            "target": self.target,
            "rows": self.rows,
            "sampled_rows": self.sampled_rows,
            "grade": j.grade if j else None,
            "grade_reasons": j.grade_reasons if j else [],
            "health_data": j.health_data if j else None,
            "whereabouts": j.whereabouts if j else None,
            "minors": j.minors if j else None,
            "minors_share": self.minors_share,
            "columns": [
                {
                    "name": r.column,
                    "type": self.types.get(r.column),
                    "entity": None if r.entity is None else str(r.entity),
                    "entity_label": None if r.entity is None else r.entity.label(lang),
                    "confidence": round(r.confidence, 3),
                    "match_rate": round(r.match_rate, 4),
                    "non_null": r.non_null,
                    "free_text": r.free_text,
                    "evidence": r.evidence,
                    "pi": fields[r.column].pi if r.column in fields else None,
                    "sensitive": fields[r.column].sensitive if r.column in fields else None,
                    "category": fields[r.column].category if r.column in fields else None,
                    "legal_basis": fields[r.column].legal_basis if r.column in fields else None,
                    "reasons": fields[r.column].reasons if r.column in fields else [],
                }
                for r in self.columns
            ],
        }


def _classify_files(
    engine: DuckDBEngine,
    target: str,
    files: list[str],
    schema: list[dict[str, Any]],
    sample_rows: int | None,
    policy_path: Path | None = None,
) -> ClassifyReport:
    from dizuo.lake.query import version_select

    relation = f"({version_select(files, schema)})"
    names = [c["name"] for c in schema]
    rows = 0
    if files:
        rows = int(engine.rows(f"SELECT count(*) FROM read_parquet({sql_list(files)})")[0][0])
    results = classify_columns(engine, relation, names, sample_rows=sample_rows)
    sampled = None if sample_rows is None or sample_rows >= rows else sample_rows
    types = {c["name"]: c["type"] for c in schema}
    policy = load_policy(policy_path)
    share = None
    birth = birth_column(results)
    if birth is not None and rows:
        column, entity = birth
        expr = minors_share_sql(quote_ident(column), entity, date.today())
        value = engine.rows(f"SELECT {expr} FROM {relation}")[0][0]
        share = None if value is None else float(value)
    verdict = judge(results, rows=rows, minors_share=share, column_types=types, policy=policy)
    _judge_free_text(engine, relation, results, verdict, policy)
    return ClassifyReport(target, rows, sampled, results, types, verdict, share)


FREE_TEXT_SAMPLE = 1_000
#: share of sampled texts that must mention an entity for the column to hold it
FREE_TEXT_MIN_SHARE = 0.01


def _judge_free_text(
    engine: DuckDBEngine,
    relation: str,
    results: list[ColumnResult],
    verdict: DatasetJudgement,
    policy: Policy,
) -> None:
    """A free-text column is as personal as what it mentions: scan a sample of its texts for
    entity spans and judge the column by the entities found (an ID number in a note makes the
    note sensitive personal information)."""
    from dizuo.classify.text import scan_text

    fields = {f.column: f for f in verdict.fields}
    for result in results:
        field = fields.get(result.column)
        if not result.free_text or field is None:
            continue
        column = quote_ident(result.column)
        texts = engine.query(
            f"SELECT {column}::VARCHAR AS t FROM {relation} WHERE {column} IS NOT NULL "
            f"LIMIT {FREE_TEXT_SAMPLE}"
        ).column("t")
        if len(texts) == 0:
            continue
        found: dict[Entity, int] = {}
        for spans in scan_text(texts):
            for entity in {s.entity for s in spans}:
                found[entity] = found.get(entity, 0) + 1
        for entity, count in sorted(found.items(), key=lambda kv: -kv[1]):
            share = count / len(texts)
            rule = policy.entities.get(entity)
            if share < FREE_TEXT_MIN_SHARE or rule is None or not rule.pi:
                continue
            field.pi = True
            if rule.sensitive and not field.sensitive:
                field.sensitive = True
                field.category = rule.category
                field.legal_basis = rule.legal_basis
            field.category = field.category or rule.category
            field.legal_basis = field.legal_basis or rule.legal_basis
            if rule.sensitive:
                reason = tr(
                    "{share:.0%} 的抽样文本提及{label}（敏感个人信息）",
                    "{share:.0%} of sampled texts mention {label} (sensitive)",
                    share=share,
                    label=entity.label(current_lang()),
                )
            else:
                reason = tr(
                    "{share:.0%} 的抽样文本提及{label}",
                    "{share:.0%} of sampled texts mention {label}",
                    share=share,
                    label=entity.label(current_lang()),
                )
            field.reasons.append(reason)


def classify_version(
    ws: Workspace,
    code: str,
    number: int | None = None,
    *,
    sample_rows: int | None = 10_000,
    policy_path: Path | None = None,
    save: bool = False,
) -> ClassifyReport:
    """Classify the columns of a dataset's version (the latest if ``number`` is None).

    With ``save``, the operators' overrides of the dataset are applied and the result is
    stored in the catalog for that version (replacing an earlier classification of it).
    """
    from dizuo.catalog import service

    with ws.session() as s:
        version = service.get_version(s, service.get_dataset(s, code), number)
        target = f"{code}@{version.number}"
        ident, snapshot = version.table_ident, version.snapshot_id
        schema = list(version.schema)
    files = ws.lake.files(ident, snapshot)
    report = _classify_files(ws.engine, target, files, schema, sample_rows, policy_path)
    if save:
        from dizuo.classify.store import save as store

        store(ws, code, int(target.rsplit("@", 1)[1]), report, policy_path)
    return report


def classify_path(
    spec: IngestSpec, *, sample_rows: int | None = 10_000, policy_path: Path | None = None
) -> ClassifyReport:
    """Classify a file (or database table) without a workspace: read it into a temporary
    folder with the ingester's readers, classify, remove the folder."""
    from dizuo.ingest import readers
    from dizuo.ingest.profile import profile

    folder = Path(tempfile.mkdtemp(prefix="dizuo-classify-"))
    engine = DuckDBEngine(temp_directory=folder)
    try:
        stage_dir = folder / "stage"
        stage_dir.mkdir()
        staged = readers.stage(engine, spec, stage_dir)
        files = [str(f) for f in staged.files]
        schema = profile(engine, staged.files).schema if staged.files else []
        return _classify_files(engine, spec.source, files, schema, sample_rows, policy_path)
    finally:
        engine.close()
        shutil.rmtree(folder, ignore_errors=True)
