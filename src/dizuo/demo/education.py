"""市教育局 — 学生学籍信息 (student roll), handed over as an Excel workbook.

Every school-age child (6–17 on 31 August 2024, the enrolment cut-off) with parents in the
registry may be enrolled; the guardian is the father or the mother. The roll is sorted as a
school exports it: by school, grade and class.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from dizuo.demo import errors, places, strings, vocab, writers
from dizuo.demo.context import Context, only
from dizuo.demo.manifest import DemoDataset
from dizuo.demo.truth import Column
from dizuo.demo.venues import (
    CHINESE_ORDINALS,
    GENERATED_PER_LEVEL,
    HIGH,
    MIDDLE,
    PRIMARY,
    REAL_SCHOOLS,
    School,
)

CODE = "edu_student_roll"
STUDENTS_PER_UNIT = 6_000
CUTOFF = np.datetime64("2024-08-31")
GRADES = (
    "一年级",
    "二年级",
    "三年级",
    "四年级",
    "五年级",
    "六年级",
    "初一",
    "初二",
    "初三",
    "高一",
    "高二",
    "高三",
)
COLUMNS = [
    Column("xjh", "student_number", "student", note="全国学籍号：G + 身份证号"),
    Column("xm", "person_name", "student"),
    Column("xb", "sex", "student"),
    Column("mz", "ethnicity", "student"),
    Column("csrq", "birth_date", "student"),
    Column("sfzh", "resident_id", "student"),
    Column("学校名称"),
    Column("年级"),
    Column("班级"),
    Column("入学年份"),
    Column("监护人姓名", "person_name", "guardian"),
    Column("监护人联系电话", "mobile_phone", "guardian"),
    Column("jtzz", "address", "student"),
]


def schools() -> list[School]:
    """Real schools plus generated ones, so every division has every level."""
    out = list(REAL_SCHOOLS)
    for d in places.DISTRICTS:
        for i in range(GENERATED_PER_LEVEL):
            ordinal = CHINESE_ORDINALS[i]
            out.append(School(f"{d.name}第{ordinal}小学", d.code, (PRIMARY,)))
            out.append(School(f"{d.name}第{ordinal}中学", d.code, (MIDDLE, HIGH)))
    return out


def _age_at_cutoff(birth: np.ndarray) -> np.ndarray:
    year, month, day = strings.ymd(birth)
    del day
    return 2024 - year - (month > 8).astype(np.int64)  # born after 31 Aug: birthday still ahead


def generate(ctx: Context) -> DemoDataset:
    """Write the student roll; returns its catalogue entry."""
    rng = ctx.rng(CODE)
    pop = ctx.pop
    age = _age_at_cutoff(pop.birth)
    eligible = (age >= 6) & (age <= 17) & (pop.father >= 0)
    students = np.sort(ctx.sample(rng, ctx.rows(STUDENTS_PER_UNIT), eligible, replace=False))
    n = len(students)
    grade = age[students] - 6
    level = np.where(grade < 6, PRIMARY, np.where(grade < 9, MIDDLE, HIGH))

    table = schools()
    district_codes = np.array([d.code for d in places.DISTRICTS])
    school_district = np.array([s.district for s in table])
    weight = np.array([s.weight for s in table])
    home = district_codes[pop.district[students]]
    anywhere = rng.random(n) < 0.1  # some attend a school outside their district
    school = np.zeros(n, dtype=np.int64)
    u = rng.random(n)
    for lv in (PRIMARY, MIDDLE, HIGH):
        offers = np.array([lv in s.levels for s in table])
        for code in district_codes:
            here = (level == lv) & (home == code)
            for far in (False, True):
                rows = np.flatnonzero(here & (anywhere == far))
                ok = offers & ((school_district == code) | far)
                cdf = np.cumsum(np.where(ok, weight, 0.0))
                school[rows] = np.searchsorted(cdf / cdf[-1], u[rows], "right")
    klass = rng.integers(1, 9, n)
    order = np.lexsort((rng.random(n), klass, grade, school))
    students, grade, level, school, klass = (
        a[order] for a in (students, grade, level, school, klass)
    )

    guardian = np.where(rng.random(n) < 0.55, pop.father[students], pop.mother[students])
    s_name, s_name_masks = errors.plant_names(rng, pop.name[students])
    s_id, s_id_masks = errors.plant_ids(rng, pop.id_digits[students], pop.birth_year[students])
    (y, m, d), swapped = errors.plant_birthdates(rng, pop.birth[students])
    g = ctx.person_fields(rng, guardian)
    first_year = 2024 - np.where(
        level == PRIMARY, grade, np.where(level == MIDDLE, grade - 6, grade - 9)
    )
    eth = [e for e, _ in vocab.ETHNICITIES]
    data = pa.table(
        {
            "xjh": strings.join(["G", ctx.true_ids(students)]),
            "xm": strings.text(s_name),
            "xb": ctx.sex(students),
            "mz": strings.take(eth, pop.ethnicity[students]),
            "csrq": strings.join(
                [strings.num(y), "-", strings.zero_pad(m, 2), "-", strings.zero_pad(d, 2)]
            ),
            "sfzh": s_id,
            "学校名称": strings.take([s.name for s in table], school),
            "年级": strings.take(list(GRADES), grade),
            "班级": strings.join([strings.num(klass), "班"]),
            "入学年份": pa.array(first_year.astype(np.int64)),
            "监护人姓名": g.name,
            "监护人联系电话": g.phone,
            "jtzz": pop.address(students),
        }
    )
    rows = np.arange(n, dtype=np.int64)
    ctx.truth.records(
        CODE,
        rows,
        students,
        "student",
        {**s_name_masks, **s_id_masks, "birthdate_swap": swapped},
    )
    ctx.truth.records(
        CODE, rows, guardian, "guardian", only(g.masks, errors.NAME_KINDS + errors.PHONE_KINDS)
    )
    ctx.truth.columns(CODE, COLUMNS)
    meta = DemoDataset(
        code=CODE,
        org="cdedu",
        name="学生学籍信息",
        summary=(
            "全市中小学在籍学生学籍基本信息，含学生身份信息、就读学校、年级班级及监护人联系方式。"
        ),
        category="教育",
        update_cycle="每年",
        share_type="有条件共享",
        share_condition="仅限教育、公安、卫生健康部门履职使用，须经市教育局审批",
        open_type="不予开放",
        keywords=["学籍", "学生", "中小学", "监护人"],
        path="",
        rows=n,
    )
    for stale in ("市教育局_学生学籍信息.xlsx", "市教育局_学生学籍信息.csv"):  # an earlier run's
        (ctx.folder / stale).unlink(missing_ok=True)
    if n <= writers.EXCEL_MAX_ROWS:
        meta.path, meta.sheet = "市教育局_学生学籍信息.xlsx", "学籍信息"
        writers.write_xlsx(
            data, ctx.folder / meta.path, sheet="学籍信息", title=meta.name, creator="成都市教育局"
        )
    else:
        meta.path, meta.encoding = "市教育局_学生学籍信息.csv", "utf-8"
        writers.write_csv(data, ctx.folder / meta.path)
    return meta
