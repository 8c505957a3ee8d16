"""Personal-information policy and dataset grading.

The policy is data, not code: a YAML file (the packaged default is ``policy.yaml`` next to this
module) maps every :class:`~dizuo.classify.entities.Entity` to whether it is personal
information (PIPL art. 4), whether it is sensitive (PIPL art. 28), its GB/T 35273 category and
the legal basis shown in reports; it lists context rules (children under 14, whereabouts,
health data) that judge fields in their dataset as the law does; and it lists the grading rules
(GB/T 43697-2024: 核心数据 / 重要数据 / 一般数据).

:func:`judge` applies a policy to the column verdicts of one dataset; :func:`minors_share_sql`
builds the DuckDB aggregate that gives the share of records about children.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from dizuo.classify.columns import ColumnResult
from dizuo.classify.detectors import DATE_RE, RIC15_RE, RIC18_RE, normalise_sql
from dizuo.classify.entities import Entity
from dizuo.engine.duckdb import sql_literal
from dizuo.i18n import tr

Grade = Literal["核心数据", "重要数据", "一般数据"]
#: grades a rule may assign; 核心数据 comes only from an override
RuleGrade = Literal["重要数据", "一般数据"]
GRADE_ORDER: dict[str, int] = {"一般数据": 0, "重要数据": 1, "核心数据": 2}
DEFAULT_POLICY = "policy.yaml"


def _check_patterns(patterns: list[str]) -> list[str]:
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from exc
    return patterns


def _search(patterns: list[str], name: str) -> str | None:
    """The first pattern found in ``name`` (case-insensitive), or None."""
    for pattern in patterns:
        if re.search(pattern, name, re.IGNORECASE):
            return pattern
    return None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EntityPolicy(_Strict):
    """How one entity type counts under the law.

    Attributes:
        pi: Personal information (PIPL art. 4).
        sensitive: Sensitive personal information (PIPL art. 28).
        category: The GB/T 35273 category (个人基本资料, 个人身份信息, 医疗健康 …).
        legal_basis: Text shown in reports, e.g. "PIPL art. 28; GB/T 35273-2020 附录B".
        only_with_person: Personal only when the dataset also holds a person identifier.
    """

    pi: bool
    sensitive: bool = False
    category: str
    legal_basis: str
    only_with_person: bool = False

    @model_validator(mode="after")
    def _sensitive_is_pi(self) -> EntityPolicy:
        if self.sensitive and not self.pi:
            raise ValueError("an entity cannot be sensitive without being personal information")
        return self


class MinorsRule(_Strict):
    """Children's data: all their personal information is sensitive (PIPL art. 28, art. 31).

    Attributes:
        kind: ``minors``.
        age: Age under which a person is a child.
        threshold: Share of records about children above which the rule applies.
        exclude_name_patterns: Columns about another person (the guardian) keep their grade.
        legal_basis: Text shown in reports.
    """

    kind: Literal["minors"]
    age: int = Field(14, ge=1, le=30)
    threshold: float = Field(0.5, ge=0.0, lt=1.0)
    exclude_name_patterns: list[str] = []
    legal_basis: str = "PIPL art. 28 (不满十四周岁未成年人的个人信息)"

    _patterns = field_validator("exclude_name_patterns")(_check_patterns)


class WhereaboutsRule(_Strict):
    """A person, a place and a time in one record make a trace (PIPL art. 28 行踪轨迹).

    Attributes:
        kind: ``whereabouts``.
        time_types: DuckDB column types that are times.
        time_name_patterns: Column-name patterns of time columns.
        place_name_patterns: Column-name patterns of place columns (station, hotel …).
        place_entities: Entities that are places (coordinates).
        category: Category of the place and time fields.
        legal_basis: Text shown in reports.
    """

    kind: Literal["whereabouts"]
    time_types: list[str]
    time_name_patterns: list[str]
    place_name_patterns: list[str]
    place_entities: list[Entity] = []
    category: str = "行踪轨迹"
    legal_basis: str = "PIPL art. 28 (行踪轨迹)"

    _patterns = field_validator("time_name_patterns", "place_name_patterns")(_check_patterns)


class HealthRule(_Strict):
    """A diagnosis column makes the dataset health data (PIPL art. 28 医疗健康).

    Attributes:
        kind: ``health``.
        entities: Entities that are diagnoses.
        name_patterns: Column-name patterns of further health fields (医嘱, 病史 …).
        free_text: Free-text columns of a health dataset (doctors' notes) are health fields.
        category: Category of the health fields.
        legal_basis: Text shown in reports.
    """

    kind: Literal["health"]
    entities: list[Entity] = Field(min_length=1)
    name_patterns: list[str] = []
    free_text: bool = True
    category: str = "医疗健康"
    legal_basis: str = "PIPL art. 28 (医疗健康)"

    _patterns = field_validator("name_patterns")(_check_patterns)


ContextRule = Annotated[MinorsRule | WhereaboutsRule | HealthRule, Field(discriminator="kind")]


class Condition(_Strict):
    """Conditions of a grading rule; all given ones must hold.

    Attributes:
        sensitive_pi_people_at_least: The dataset holds sensitive PI of at least this many
            people.
        pi_people_at_least: The dataset holds PI of at least this many people.
        health_data: The dataset is (or is not) health data.
        whereabouts: The dataset is (or is not) a record of whereabouts.
        minors: The dataset is (or is not) mostly about children.
        entities_any: The dataset has a column of one of these entities.
    """

    sensitive_pi_people_at_least: int | None = Field(None, ge=0)
    pi_people_at_least: int | None = Field(None, ge=0)
    health_data: bool | None = None
    whereabouts: bool | None = None
    minors: bool | None = None
    entities_any: list[Entity] | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> Condition:
        if all(getattr(self, name) is None for name in type(self).model_fields):
            raise ValueError("a condition needs at least one test")
        return self


class GradeRule(_Strict):
    """One grading rule: when the condition holds, the dataset is at least ``grade``.

    Attributes:
        grade: 一般数据 or 重要数据 (核心数据 is set only by an override).
        when: The condition.
        reason: Text shown in reports (English, and Chinese when ``reason_zh`` is not given).
        reason_zh: The reason in Chinese, shown when dizuo speaks Chinese.
        source: Where the rule comes from.
    """

    grade: RuleGrade
    when: Condition
    reason: str
    reason_zh: str | None = None
    source: str = ""

    @field_validator("grade", mode="before")
    @classmethod
    def _no_core(cls, value: Any) -> Any:
        if value == "核心数据":
            raise ValueError("核心数据 is never assigned by a rule; set it with an override")
        return value


class Policy(_Strict):
    """A validated classification and grading policy (see ``policy.yaml``).

    Attributes:
        version: Format version, 1.
        person_identifiers: Entities that identify a person.
        entities: The policy of every entity type.
        context: Context rules (minors, whereabouts, health), at most one of each kind.
        default_grade: The grade when no rule applies.
        grading: The grading rules.
    """

    version: Literal[1]
    person_identifiers: list[Entity] = Field(min_length=1)
    entities: dict[Entity, EntityPolicy]
    context: list[ContextRule] = []
    default_grade: RuleGrade = "一般数据"
    grading: list[GradeRule] = []

    @model_validator(mode="after")
    def _complete(self) -> Policy:
        missing = [e.value for e in Entity if e not in self.entities]
        if missing:
            raise ValueError(f"entities: no entry for {', '.join(missing)}")
        kinds = [rule.kind for rule in self.context]
        doubled = sorted({k for k in kinds if kinds.count(k) > 1})
        if doubled:
            raise ValueError(f"context: more than one rule of kind {', '.join(doubled)}")
        return self

    def rule(self, kind: str) -> MinorsRule | WhereaboutsRule | HealthRule | None:
        """The context rule of ``kind``, or None when the policy has none."""
        return next((r for r in self.context if r.kind == kind), None)


def _error_text(error: Any) -> str:
    loc = [str(p) for p in error["loc"] if p not in ("[key]", "minors", "whereabouts", "health")]
    where = ".".join(loc) or "(top level)"
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "enum":
        message = tr("未知的实体类型 {v!r}", "unknown entity {v!r}", v=error["input"])
    return f"{where}: {message}"


def load_policy(path: Path | None = None) -> Policy:
    """Read and validate a policy file.

    Args:
        path: A YAML policy file, or None for the packaged default.

    Returns:
        The validated policy.

    Raises:
        NotFound: The file does not exist.
        InvalidInput: The file is not valid YAML or does not follow the policy schema; the
            message names the file, the line (for syntax errors) and the field.
    """
    from dizuo.modelfile import read_mapping, validate

    what = ("策略文件", "policy file")
    if path is None:
        text = resources.files("dizuo.classify").joinpath(DEFAULT_POLICY).read_text("utf-8")
        name = f"dizuo/classify/{DEFAULT_POLICY}"
        data = yaml.safe_load(text)
    else:
        path = Path(path)
        data = read_mapping(path, what)
        name = str(path)
    return validate(
        Policy,
        data,
        name=name,
        what=what,
        hint=tr(
            "参照随附的默认策略 dizuo/classify/policy.yaml",
            "compare with the packaged default dizuo/classify/policy.yaml",
        ),
        describe=_error_text,
    )


@dataclass
class FieldJudgement:
    """How one column counts under the policy.

    Attributes:
        column: The column name.
        entity: The detected entity, or None.
        pi: Personal information.
        sensitive: Sensitive personal information.
        category: The category (个人基本资料, 行踪轨迹 …), or None for a non-personal column.
        legal_basis: The legal basis of the strongest finding ("" when not personal).
        reasons: Why, in the order the rules applied.
    """

    column: str
    entity: Entity | None
    pi: bool
    sensitive: bool
    category: str | None
    legal_basis: str
    reasons: list[str] = field(default_factory=list)


@dataclass
class DatasetJudgement:
    """The policy's verdict on one dataset.

    Attributes:
        fields: One judgement per column, in the order of the column results.
        grade: 一般数据 or 重要数据 (核心数据 only by override).
        grade_reasons: The reasons of the rules that set the grade.
        health_data: The dataset holds health data.
        whereabouts: The dataset records whereabouts (行踪轨迹).
        minors: The dataset is mostly about children under the policy's age.
    """

    fields: list[FieldJudgement]
    grade: Grade
    grade_reasons: list[str]
    health_data: bool
    whereabouts: bool
    minors: bool


def _is_time(
    column: str, result: ColumnResult, types: dict[str, str], rule: WhereaboutsRule
) -> bool:
    if result.entity is Entity.BIRTH_DATE:
        return False
    kind = types.get(column, "").strip().upper()
    if kind in {t.upper() for t in rule.time_types}:
        return True
    return _search(rule.time_name_patterns, column) is not None


def _is_place(result: ColumnResult, rule: WhereaboutsRule) -> bool:
    if result.entity is not None and result.entity in rule.place_entities:
        return True
    return _search(rule.place_name_patterns, result.column) is not None


def _mark_sensitive(f: FieldJudgement, category: str, basis: str, reason: str) -> None:
    f.pi = True
    if not f.sensitive:
        f.category = category
        f.legal_basis = basis
    f.sensitive = True
    f.reasons.append(reason)


def judge(
    results: list[ColumnResult],
    *,
    rows: int,
    minors_share: float | None,
    column_types: dict[str, str],
    policy: Policy,
    people: int | None = None,
) -> DatasetJudgement:
    """Judge the columns of one dataset and grade it.

    Args:
        results: The column verdicts of :func:`~dizuo.classify.columns.classify_columns`.
        rows: Number of records of the dataset.
        minors_share: Share of records about children (from :func:`minors_share_sql`), or None
            when the dataset has no birth-date or resident-ID column.
        column_types: DuckDB type of each column (``DESCRIBE``), for the time heuristic.
        policy: The policy (:func:`load_policy`).
        people: Number of distinct persons when known; the row count otherwise (an upper
            bound for event records such as card taps).

    Returns:
        The judgement of every field and of the dataset.
    """
    persons = rows if people is None else people
    entities = {r.entity for r in results if r.entity is not None}
    has_person = bool(entities & set(policy.person_identifiers))
    fields: list[FieldJudgement] = []
    for r in results:
        f = FieldJudgement(r.column, r.entity, False, False, None, "")
        if r.entity is not None:
            ep = policy.entities[r.entity]
            f.category = ep.category
            f.legal_basis = ep.legal_basis
            label = r.entity.label_zh  # the Chinese label in both languages, as before
            if ep.pi and ep.only_with_person and not has_person:
                f.reasons.append(
                    tr(
                        "{label}：数据集中没有可识别个人的字段，不属于个人信息",
                        "{label}: not personal without a person identifier in the dataset",
                        label=label,
                    )
                )
            elif ep.pi:
                f.pi, f.sensitive = True, ep.sensitive
                if ep.sensitive:
                    reason = tr(
                        "{label}属于敏感个人信息",
                        "{label} is sensitive personal information",
                        label=label,
                    )
                else:
                    reason = tr(
                        "{label}属于个人信息", "{label} is personal information", label=label
                    )
                f.reasons.append(reason)
            else:
                f.reasons.append(
                    tr("{label}不属于个人信息", "{label} is not personal information", label=label)
                )
        fields.append(f)

    health = _apply_health(policy, results, fields, has_person)
    trace = _apply_whereabouts(policy, results, fields, column_types, has_person)
    minors = _apply_minors(policy, fields, minors_share)
    grade, reasons = _grade(policy, fields, entities, persons, health, trace, minors)
    return DatasetJudgement(fields, grade, reasons, health, trace, minors)


def _apply_health(
    policy: Policy, results: list[ColumnResult], fields: list[FieldJudgement], has_person: bool
) -> bool:
    rule = policy.rule("health")
    if not isinstance(rule, HealthRule):
        return False
    if not any(r.entity in rule.entities for r in results if r.entity is not None):
        return False
    for r, f in zip(results, fields, strict=True):
        why = None
        if r.entity is not None and r.entity in rule.entities:
            why = tr("诊断", "diagnosis")
        elif rule.free_text and r.free_text:
            why = tr("医疗健康数据集中的自由文本", "free text of a health dataset")
        elif (pattern := _search(rule.name_patterns, r.column)) is not None:
            why = tr(
                "健康字段（字段名匹配 {pattern!r}）",
                "health field (name matches {pattern!r})",
                pattern=pattern,
            )
        if why is None:
            continue
        if has_person:
            reason = tr("医疗健康数据：{why}", "health data: {why}", why=why)
            _mark_sensitive(f, rule.category, rule.legal_basis, reason)
        else:
            f.category = rule.category
            f.reasons.append(
                tr(
                    "医疗健康数据（{why}），但没有可识别个人的字段：不属于个人信息",
                    "health data ({why}) without a person identifier: not personal",
                    why=why,
                )
            )
    return True


def _apply_whereabouts(
    policy: Policy,
    results: list[ColumnResult],
    fields: list[FieldJudgement],
    types: dict[str, str],
    has_person: bool,
) -> bool:
    rule = policy.rule("whereabouts")
    if not isinstance(rule, WhereaboutsRule) or not has_person:
        return False
    times = [i for i, r in enumerate(results) if _is_time(r.column, r, types, rule)]
    places = [i for i, r in enumerate(results) if _is_place(r, rule)]
    places = [i for i in places if i not in times]
    if not times or not places:
        return False
    place_names = ", ".join(results[i].column for i in places)
    time_names = ", ".join(results[i].column for i in times)
    for i in places:
        _mark_sensitive(
            fields[i],
            rule.category,
            rule.legal_basis,
            tr(
                "行踪轨迹：个人在某一时间所处的地点（{names}）",
                "whereabouts: place of a person at a time ({names})",
                names=time_names,
            ),
        )
    for i in times:
        _mark_sensitive(
            fields[i],
            rule.category,
            rule.legal_basis,
            tr(
                "行踪轨迹：个人处于某一地点的时间（{names}）",
                "whereabouts: time of a person at a place ({names})",
                names=place_names,
            ),
        )
    return True


def _apply_minors(policy: Policy, fields: list[FieldJudgement], share: float | None) -> bool:
    rule = policy.rule("minors")
    if not isinstance(rule, MinorsRule) or share is None or share <= rule.threshold:
        return False
    for f in fields:
        if not f.pi:
            continue
        if (pattern := _search(rule.exclude_name_patterns, f.column)) is not None:
            f.reasons.append(
                tr(
                    "关于儿童以外的另一人（字段名匹配 {pattern!r}）",
                    "about another person than the child (name matches {pattern!r})",
                    pattern=pattern,
                )
            )
            continue
        if rule.age == 14:
            zh = "{share:.0%} 的记录属于不满十四周岁的未成年人：敏感个人信息"
        else:
            zh = "{share:.0%} 的记录属于不满 {age} 周岁的未成年人：敏感个人信息"
        reason = tr(
            zh,
            "{share:.0%} of records are of children under {age}: sensitive",
            share=share,
            age=rule.age,
        )
        f.reasons.append(reason)
        f.legal_basis = (
            rule.legal_basis if not f.sensitive else f"{rule.legal_basis}; {f.legal_basis}"
        )
        f.sensitive = True
    return True


def _grade(
    policy: Policy,
    fields: list[FieldJudgement],
    entities: set[Entity],
    persons: int,
    health: bool,
    trace: bool,
    minors: bool,
) -> tuple[Grade, list[str]]:
    has_pi = any(f.pi for f in fields)
    has_sensitive = any(f.sensitive for f in fields)
    grade: Grade = policy.default_grade
    reasons: list[str] = []
    for rule in policy.grading:
        c = rule.when
        tests = [
            c.sensitive_pi_people_at_least is None
            or (has_sensitive and persons >= c.sensitive_pi_people_at_least),
            c.pi_people_at_least is None or (has_pi and persons >= c.pi_people_at_least),
            c.health_data is None or c.health_data == health,
            c.whereabouts is None or c.whereabouts == trace,
            c.minors is None or c.minors == minors,
            c.entities_any is None or bool(entities & set(c.entities_any)),
        ]
        if not all(tests):
            continue
        if GRADE_ORDER[rule.grade] > GRADE_ORDER[grade]:
            grade, reasons = rule.grade, []
        if rule.grade == grade:
            reason = tr(rule.reason_zh or rule.reason, rule.reason)
            reasons.append(f"{reason} ({rule.source})" if rule.source else reason)
    if not reasons:
        reasons.append(
            tr("没有适用的分级规则：采用默认级别", "no grading rule applies: the default grade")
        )
    return grade, reasons


def _birth_sql(column_sql: str, entity: Entity) -> str:
    """SQL for the birth date (DATE, NULL when unreadable) held in a column."""
    if entity is Entity.BIRTH_DATE:
        x = normalise_sql(column_sql, "text")
        parts = f"regexp_extract({x}, {sql_literal(DATE_RE)}, ['y', 'm', 'd'])"
        text = f"concat({parts}.y, '-', {parts}.m, '-', {parts}.d)"
        return f"CAST(try_strptime({text}, '%Y-%m-%d') AS DATE)"
    if entity in (Entity.RESIDENT_ID, Entity.RESIDENT_ID_15):
        x = normalise_sql(column_sql, "compact")
        return (
            f"CAST(CASE WHEN regexp_full_match({x}, {sql_literal(RIC18_RE)}) "
            f"THEN try_strptime(substr({x}, 7, 8), '%Y%m%d') "
            f"WHEN regexp_full_match({x}, {sql_literal(RIC15_RE)}) "
            f"THEN try_strptime('19' || substr({x}, 7, 6), '%Y%m%d') END AS DATE)"
        )
    raise ValueError(f"{entity.value} holds no birth date")


def minors_share_sql(
    column_sql: str, entity: Entity, reference_date: date, *, age: int = 14
) -> str:
    """An aggregate DuckDB expression: the share of readable birth dates of children.

    The birth date is read from a birth-date column (2012-03-05, 2012/3/5, 20120305,
    2012年3月5日, or a DATE) or from a resident ID (18 digits: YYYYMMDD at positions 7–14;
    15 digits: YYMMDD at 7–12, year 19YY), after the normalisation of the detectors. A person
    is a child when ``birth + age years > reference_date``. Unreadable values and birth dates
    before 1900 or after the reference date are left out; the result is NULL when none is
    readable. Use it as ``SELECT {expr} FROM relation``.

    Args:
        column_sql: SQL of the column (e.g. a quoted identifier).
        entity: ``birth_date``, ``resident_id`` or ``resident_id_15``.
        reference_date: The date ages are computed at.
        age: Age under which a person is a child (PIPL art. 28: 14).

    Returns:
        The SQL expression (DOUBLE between 0 and 1, or NULL).

    Raises:
        ValueError: ``entity`` holds no birth date.
    """
    birth = _birth_sql(column_sql, entity)
    ref = f"DATE {sql_literal(reference_date.isoformat())}"
    valid = f"coalesce({birth} BETWEEN DATE '1900-01-01' AND {ref}, false)"
    child = f"({valid} AND {birth} + INTERVAL {int(age)} YEAR > {ref})"
    return f"(count_if({child}) / nullif(count_if({valid}), 0))"


def birth_column(results: list[ColumnResult]) -> tuple[str, Entity] | None:
    """The column to compute the share of children from: a birth date, else a resident ID."""
    for entity in (Entity.BIRTH_DATE, Entity.RESIDENT_ID, Entity.RESIDENT_ID_15):
        for r in results:
            if r.entity is entity:
                return r.column, entity
    return None
