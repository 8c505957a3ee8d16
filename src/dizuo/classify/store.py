"""Classification results in the catalog, and operators' overrides that outlive versions.

An override belongs to a dataset's column (or, with an empty column, to the dataset's grade).
It is applied every time a version of that dataset is classified, so a reviewed decision
survives re-classification of the next version; it records who made it, when and why.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from dizuo.audit import log as audit
from dizuo.catalog import service
from dizuo.catalog.models import (
    ClassificationOverride,
    ColumnClassification,
    DatasetClassification,
)
from dizuo.classify.entities import Entity
from dizuo.classify.policy import Grade
from dizuo.errors import InvalidInput, PolicyViolation
from dizuo.i18n import tr

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from dizuo.classify.run import ClassifyReport
    from dizuo.workspace import Workspace

GRADES = ("一般数据", "重要数据", "核心数据")


def _policy_hash(policy_path: Path | None) -> str:
    from dizuo.classify import policy

    path = policy_path or Path(policy.__file__).with_name("policy.yaml")
    return hashlib.sha256(path.read_bytes()).hexdigest()


def active_overrides(session: Session, dataset_id: object) -> list[ClassificationOverride]:
    return list(
        session.scalars(
            sa.select(ClassificationOverride).where(
                ClassificationOverride.dataset_id == dataset_id,
                ClassificationOverride.active.is_(True),
            )
        )
    )


def apply_overrides(report: ClassifyReport, overrides: list[ClassificationOverride]) -> None:
    """Change the report's judgement where an operator decided otherwise."""
    judgement = report.judgement
    if judgement is None:
        return
    by_column = {o.column: o for o in overrides}
    for field in judgement.fields:
        o = by_column.get(field.column)
        if o is None:
            continue
        if o.entity is not None:
            field.entity = Entity(o.entity)
        if o.pi is not None:
            field.pi = o.pi
        if o.sensitive is not None:
            field.sensitive = o.sensitive
            field.pi = field.pi or o.sensitive
        field.reasons.append(
            tr(
                "已由 {w} 于 {t} 人工复核: {r}",
                "overridden by {w} on {t}: {r}",
                w=o.created_by,
                t=o.created_at.date().isoformat(),
                r=o.reason,
            )
        )
    grade = by_column.get("")
    if grade is not None and grade.grade:
        judgement.grade = grade.grade  # type: ignore[assignment]
        judgement.grade_reasons = [
            tr("人工定级（{w}）: {r}", "graded by {w}: {r}", w=grade.created_by, r=grade.reason)
        ]


def save(
    ws: Workspace, code: str, number: int, report: ClassifyReport, policy: Path | None
) -> None:
    """Store a version's classification (replacing an earlier one), overrides applied."""
    judgement = report.judgement
    assert judgement is not None
    with ws.session(write=True) as s:
        dataset = service.get_dataset(s, code)
        version = service.get_version(s, dataset, number)
        overrides = active_overrides(s, dataset.id)
        apply_overrides(report, overrides)
        by_column = {o.column: o for o in overrides}
        s.execute(
            sa.delete(ColumnClassification).where(ColumnClassification.version_id == version.id)
        )
        s.execute(
            sa.delete(DatasetClassification).where(DatasetClassification.version_id == version.id)
        )
        results = {r.column: r for r in report.columns}
        for position, f in enumerate(judgement.fields):
            r = results[f.column]
            s.add(
                ColumnClassification(
                    version_id=version.id,
                    position=position,
                    column=f.column,
                    entity=None if f.entity is None else str(f.entity),
                    confidence=r.confidence,
                    match_rate=r.match_rate,
                    free_text=r.free_text,
                    evidence=r.evidence,
                    pi=f.pi,
                    sensitive=f.sensitive,
                    category=f.category,
                    legal_basis=f.legal_basis,
                    reasons=f.reasons,
                    override_id=by_column[f.column].id if f.column in by_column else None,
                )
            )
        s.add(
            DatasetClassification(
                version_id=version.id,
                grade=judgement.grade,
                grade_reasons=judgement.grade_reasons,
                health_data=judgement.health_data,
                whereabouts=judgement.whereabouts,
                minors=judgement.minors,
                minors_share=report.minors_share,
                sampled_rows=report.sampled_rows,
                policy_hash=_policy_hash(policy),
                created_by=ws.actor,
            )
        )
        audit.record(
            ws,
            s,
            actor=ws.actor,
            action="classify.run",
            target=f"{code}@{number}",
            dataset=code,
            details={
                "grade": str(judgement.grade),
                "pi_columns": sum(1 for f in judgement.fields if f.pi),
                "sensitive_columns": sum(1 for f in judgement.fields if f.sensitive),
            },
        )


def add_override(
    ws: Workspace,
    code: str,
    column: str,
    *,
    reason: str,
    entity: str | None = None,
    pi: bool | None = None,
    sensitive: bool | None = None,
    grade: str | None = None,
) -> ClassificationOverride:
    """Record an operator's decision on a column (or, with ``column`` "", the grade)."""
    if not reason.strip():
        raise InvalidInput(tr("请用 --reason 说明理由", "say why with --reason"))
    if entity is not None and entity not in {e.value for e in Entity}:
        raise InvalidInput(
            tr("未知的类型 {e}", "unknown entity {e}", e=entity),
            hint=", ".join(e.value for e in Entity),
        )
    if column == "":
        if grade not in GRADES:
            raise InvalidInput(
                tr("分级必须是 {g} 之一", "the grade must be one of {g}", g=" / ".join(GRADES))
            )
    elif grade is not None:
        raise PolicyViolation(
            tr("分级针对数据集，不针对列", "a grade is for the dataset, not a column")
        )
    elif entity is None and pi is None and sensitive is None:
        raise InvalidInput(
            tr(
                "至少给出 --entity、--pi/--no-pi 或 --sensitive/--not-sensitive",
                "give at least --entity, --pi/--no-pi or --sensitive/--not-sensitive",
            )
        )
    with ws.session(write=True) as s:
        dataset = service.get_dataset(s, code)
        if column:
            latest = service.get_version(s, dataset)
            names = [c["name"] for c in latest.schema]
            if column not in names:
                raise InvalidInput(
                    tr("数据集 {d} 没有列 {c}", "dataset {d} has no column {c}", d=code, c=column),
                    hint=", ".join(names),
                )
        for old in active_overrides(s, dataset.id):
            if old.column == column:
                old.active = False
        override = ClassificationOverride(
            dataset_id=dataset.id,
            column=column,
            entity=entity,
            pi=pi,
            sensitive=sensitive,
            grade=grade,
            reason=reason.strip(),
            created_by=ws.actor,
        )
        s.add(override)
        s.flush()
        audit.record(
            ws,
            s,
            actor=ws.actor,
            action="classify.override",
            target=f"{code}:{column}" if column else code,
            dataset=code,
            details={
                "column": column,
                "entity": entity,
                "pi": pi,
                "sensitive": sensitive,
                "grade": grade,
                "override": str(override.id),
            },
        )
        return override


__all__ = ["GRADES", "Grade", "add_override", "apply_overrides", "save"]
