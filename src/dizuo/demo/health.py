"""市卫生健康委 — 门诊就诊记录 (outpatient visits), a GBK CSV with Windows line endings.

Children and the elderly visit more often. The diagnosis (ICD-10) is drawn for the patient's
group (children see 儿科; some diagnoses are for women or older men only) and decides the
department; the hospital is one that runs that department. The doctor's note (医生备注) is
free text that sometimes names the patient or a family member and carries a phone number or
an ID number — each of them recorded in truth/spans.parquet.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from dizuo.demo import errors, freetext, strings, vocab, writers
from dizuo.demo.context import Context, only
from dizuo.demo.manifest import DemoDataset
from dizuo.demo.truth import Column
from dizuo.demo.venues import CLINICAL_DEPARTMENTS, HOSPITALS

CODE = "health_outpatient_visits"
VISITS_PER_UNIT = 20_000
YEAR_START = np.datetime64("2024-01-01")
COLUMNS = [
    Column("就诊流水号"),
    Column("姓名", "person_name", "patient"),
    Column("性别", "sex", "patient"),
    Column("年龄", "age", "patient"),
    Column("身份证号", "resident_id", "patient"),
    Column("lxdh", "mobile_phone", "patient"),
    Column("就诊医院"),
    Column("就诊科室"),
    Column("诊断编码", "diagnosis", "patient"),
    Column("诊断名称", "diagnosis", "patient"),
    Column("费用金额"),
    Column("就诊时间"),
    Column("医生备注", "free_text", note="自由文本：含姓名、电话、身份证号，见 spans"),
]
NOTE_TEMPLATES = (
    "{symptom}{days}天，予{treatment}，嘱{advice}。",
    "患者{name}，{age}岁，因{symptom}就诊，{advice}。",
    "家属{rel_name}（{relation}）陪同就诊，联系电话{rel_phone}。",
    "患者自述{symptom}{days}天，身份证{id}已核验，医保结算。",
    "患者{name}要求开具病假证明，电话：{phone}",
    "复诊。{advice}，不适随诊。如有变化请联系{phone}（本人）",
    "{name}，{symptom}伴{symptom2}，既往体健；紧急联系人{rel_name} {rel_phone}",
    "{symptom}，查体无特殊。{treatment}；{advice}",
)
NOTE_WEIGHTS = (25, 12, 8, 7, 6, 4, 3, 10)
NOTE_SHARE = 0.65  # the rest have no note
PART_ROWS = 500_000  # visits generated and written at a time


def _diagnoses(
    rng: np.random.Generator, age: npt.NDArray[np.int64], male: npt.NDArray[np.bool_]
) -> npt.NDArray[np.int64]:
    diag = vocab.DIAGNOSES
    child_depts = ("眼科", "口腔科", "皮肤科", "耳鼻咽喉科", "骨科", "急诊科")
    child = [d.group == "child" or (d.group == "any" and d.department in child_depts) for d in diag]
    groups = (  # who, which diagnoses
        (age < 14, child),
        ((age >= 14) & ~male, [d.group in ("any", "adult", "female") for d in diag]),
        ((age >= 14) & (age < 45) & male, [d.group in ("any", "adult") for d in diag]),
        ((age >= 45) & male, [d.group in ("any", "adult", "male") for d in diag]),
    )
    out = np.zeros(len(age), dtype=np.int64)
    for mask, accepts in groups:
        w = np.where(accepts, [d.weight for d in diag], 0.0)
        rows = np.flatnonzero(mask)
        out[rows] = np.searchsorted(np.cumsum(w) / w.sum(), rng.random(len(rows)), "right")
    return out


def _hospitals(rng: np.random.Generator, dept: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    out = np.zeros(len(dept), dtype=np.int64)
    for i, name in enumerate(CLINICAL_DEPARTMENTS):
        w = np.array(
            [h.weight if h.departments is None or name in h.departments else 0.0 for h in HOSPITALS]
        )
        rows = np.flatnonzero(dept == i)
        out[rows] = np.searchsorted(np.cumsum(w) / w.sum(), rng.random(len(rows)), "right")
    return out


def _visit_times(
    rng: np.random.Generator,
    emergency: npt.NDArray[np.bool_],
    born: npt.NDArray[np.int64],
    days: tuple[int, int],
) -> npt.NDArray[np.datetime64]:
    """Visit times on days ``[lo, hi)`` of 2024, never before the patient's birth.

    ``born`` is the birth as a day of 2024 (negative for earlier years; always < hi).
    """
    lo, hi = days
    n = len(emergency)
    day = rng.integers(lo, hi, n)
    weekday = day % 7  # 2024-01-01 was a Monday
    friday = np.maximum(day - weekday + 4, lo)
    day = np.where((weekday >= 5) & (rng.random(n) < 0.4), friday, day)  # quieter weekends
    late = day < born
    day = np.where(late, born + np.floor(rng.random(n) * (hi - born)).astype(np.int64), day)
    hour = np.where(
        emergency,
        rng.integers(0, 24, n),
        rng.choice(
            [8, 9, 10, 11, 14, 15, 16, 17], n, p=[0.14, 0.2, 0.18, 0.1, 0.12, 0.11, 0.1, 0.05]
        ),
    )
    seconds = hour * 3600 + rng.integers(0, 3600, n)
    start = (YEAR_START + day.astype("timedelta64[D]")).astype("datetime64[s]")
    out: npt.NDArray[np.datetime64] = start + seconds.astype("timedelta64[s]")
    return out


def generate(ctx: Context) -> DemoDataset:
    """Write the outpatient visits (in parts of whole days); returns their catalogue entry."""
    n = ctx.rows(VISITS_PER_UNIT)
    parts = -(-n // PART_ROWS)
    path = "市卫健委_门诊就诊记录.csv"
    with writers.CsvWriter(ctx.folder / path, encoding="gbk", eol="\r\n") as out:
        for k in range(parts):
            size = n * (k + 1) // parts - n * k // parts
            days = (366 * k // parts, 366 * (k + 1) // parts)
            out.write(_part(ctx, ctx.rng(CODE, k), size, days, out.rows))
    ctx.truth.columns(CODE, COLUMNS)
    return DemoDataset(
        code=CODE,
        org="cdwjw",
        name="门诊就诊记录",
        summary=(
            "全市二级以上医疗机构门诊就诊明细，含患者身份、就诊科室、ICD-10 诊断、费用及医生备注。"
        ),
        category="卫生健康",
        update_cycle="每日",
        share_type="有条件共享",
        share_condition="仅限卫生健康、医保部门用于医疗服务监管，使用前须脱敏",
        open_type="不予开放",
        keywords=["门诊", "就诊", "诊断", "ICD-10", "医疗费用"],
        path=path,
        encoding="gbk",
        rows=n,
    )


def _part(
    ctx: Context, rng: np.random.Generator, n: int, days: tuple[int, int], offset: int
) -> pa.Table:
    """``n`` visits on ``days`` (a range of days of 2024); rows start at ``offset``."""
    pop = ctx.pop
    age_w = np.select(
        [pop.age < 6, pop.age < 15, pop.age < 45, pop.age < 65], [2.0, 1.2, 0.8, 1.2], 2.0
    )
    born_by_end = pop.birth < YEAR_START + np.timedelta64(days[1], "D")
    patients = ctx.sample(rng, n, born_by_end, weight=age_w)
    diag = _diagnoses(rng, pop.age[patients], pop.male[patients])
    d_dept = np.array([CLINICAL_DEPARTMENTS.index(d.department) for d in vocab.DIAGNOSES])
    dept = d_dept[diag]
    hospital = _hospitals(rng, dept)
    born = (pop.birth[patients] - YEAR_START).astype(np.int64)
    times = _visit_times(rng, dept == CLINICAL_DEPARTMENTS.index("急诊科"), born, days)
    order = np.argsort(times, kind="stable")
    patients, diag, dept, hospital = (a[order] for a in (patients, diag, dept, hospital))
    times = times[order]
    median = np.array([d.fee for d in vocab.DIAGNOSES])[diag]
    cents = np.round(median * rng.lognormal(0.0, 0.45, n) * 100).astype(np.int64)
    age = age_on(pop.birth[patients], times)
    f = ctx.person_fields(rng, patients)
    note, spans = _notes(ctx, rng, patients, age, offset)
    rows = offset + np.arange(n, dtype=np.int64)
    kinds = errors.NAME_KINDS + errors.ID_KINDS + errors.PHONE_KINDS
    ctx.truth.records(CODE, rows, patients, "patient", only(f.masks, kinds))
    ctx.truth.spans(spans)
    return pa.table(
        {
            "就诊流水号": strings.join(["MZ2024", strings.zero_pad(rows + 10_001, 8)]),
            "姓名": f.name,
            "性别": ctx.sex(patients),
            "年龄": pa.array(age),
            "身份证号": f.resident_id,
            "lxdh": f.phone,
            "就诊医院": strings.take([h.name for h in HOSPITALS], hospital),
            "就诊科室": strings.take(list(CLINICAL_DEPARTMENTS), dept),
            "诊断编码": strings.take([d.code for d in vocab.DIAGNOSES], diag),
            "诊断名称": strings.take([d.name for d in vocab.DIAGNOSES], diag),
            "费用金额": strings.money(cents),
            "就诊时间": strings.dates_text(times, "%Y-%m-%d %H:%M:%S"),
            "医生备注": note,
        }
    )


def age_on(
    birth: npt.NDArray[np.datetime64], when: npt.NDArray[np.datetime64]
) -> npt.NDArray[np.int64]:
    """Whole years of age on each date."""
    by, bm, bd = strings.ymd(birth)
    wy, wm, wd = strings.ymd(when.astype("datetime64[D]"))
    before = (wm < bm) | ((wm == bm) & (wd < bd))
    out: npt.NDArray[np.int64] = wy - by - before.astype(np.int64)
    return out


def _notes(
    ctx: Context,
    rng: np.random.Generator,
    patients: npt.NDArray[np.int64],
    age: npt.NDArray[np.int64],
    offset: int,
) -> tuple[pa.Array, pa.Table]:
    pop = ctx.pop
    n = len(patients)
    relative = pop.relative()[patients]
    rel = np.maximum(relative, 0)
    has_rel_phone = (relative >= 0) & (pop.phone[rel] > 0)
    available = {
        "phone": pop.phone[patients] > 0,
        "rel_name": has_rel_phone,
        "rel_phone": has_rel_phone,
    }
    choice = freetext.pick_templates(rng, NOTE_TEMPLATES, NOTE_WEIGHTS, available, fallback=0)
    choice[rng.random(n) >= NOTE_SHARE] = -1
    relation = np.where(
        pop.spouse[patients] >= 0, 0, np.where(pop.father[patients] == relative, 1, 2)
    )
    rel_person = np.where(has_rel_phone, relative, -1)

    def pick(words: tuple[str, ...]) -> pa.Array:
        return strings.take(list(words), rng.integers(0, len(words), n))

    slots = {
        "name": freetext.Slot(strings.text(pop.name[patients]), "person_name", patients),
        "age": freetext.Slot(strings.num(age)),
        "phone": freetext.Slot(
            freetext.phone_variants(rng, pop.phone[patients]), "mobile_phone", patients
        ),
        "id": freetext.Slot(
            freetext.id_variants(rng, pop.id_digits[patients]), "resident_id", patients
        ),
        "rel_name": freetext.Slot(strings.text(pop.name[rel]), "person_name", rel_person),
        "rel_phone": freetext.Slot(
            freetext.phone_variants(rng, pop.phone[rel]), "mobile_phone", rel_person
        ),
        "relation": freetext.Slot(strings.take(["配偶", "父亲", "母亲"], relation)),
        "symptom": freetext.Slot(pick(vocab.SYMPTOMS)),
        "symptom2": freetext.Slot(pick(vocab.SYMPTOMS)),
        "treatment": freetext.Slot(pick(vocab.TREATMENTS)),
        "advice": freetext.Slot(pick(vocab.ADVICE)),
        "days": freetext.Slot(strings.num(rng.integers(1, 15, n))),
    }
    return freetext.render(NOTE_TEMPLATES, choice, slots, CODE, "医生备注", offset)
