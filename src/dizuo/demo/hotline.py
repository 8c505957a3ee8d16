"""成都市网络理政办 — 12345 市民热线工单 (hotline tickets), a JSON array.

The caller's name and number sit in their own columns (with planted errors); the request
text (诉求内容) is written from 18 templates with varied punctuation, and embeds the caller's
name, mobile number (sometimes in full-width digits or grouped 138-1234-5678), ID number and
home address, and sometimes a neighbour's or landlord's name and number. Every embedded
personal entity is recorded in truth/spans.parquet with its exact offsets. Road names and
company names in the text are not personal data and are not labelled.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from dizuo.demo import errors, freetext, places, strings, vocab, writers
from dizuo.demo.context import Context, only
from dizuo.demo.manifest import DemoDataset
from dizuo.demo.truth import Column

CODE = "hotline_12345_tickets"
TICKETS_PER_UNIT = 3_000
YEAR_START = np.datetime64("2024-01-01")
TEMPLATES = (
    "市民{name}来电反映：{addr}附近{issue}，已持续{days}天，希望相关部门尽快处理。联系电话{phone}。",
    "来电人{name}（身份证号{id}）称其居住的{addr}{issue}，多次向社区反映未果，请求协调解决。",
    "{name}反映{district}{road}与{road2}交叉口{issue}，存在安全隐患，请核实处理！回电：{phone}",
    "市民反映：邻居{nb}家{issue}，影响休息。诉求人：{name}，电话：{phone}。",
    "诉求人{name}，联系方式{phone}，住址{addr}。反映{issue}，要求给予答复。",
    "【{category}】{name}来电，{issue}；地址：{addr}；电话：{phone}",
    "来电人称在{company}工作期间{issue}，来电人姓名{name}，身份证{id}，请相关部门核查。",
    "市民{name}咨询：{issue}。本人身份证号码为{id}，手机{phone}，请相关部门回复。",
    "{name}（{phone}）反映{district}{road}{issue}，希望尽快处理。",
    "反映人：{name}\u3000电话：{phone}\u3000内容：{addr}{issue}，至今未处理。",
    "来电人不愿透露姓名，反映{district}{road}附近{issue}。",
    "市民{name}代其家人{rel}反映：{addr}{issue}，家人行动不便，请上门处理，联系电话{phone}。",
    "{name}来电，称{month}月{day}日在{road}附近{issue}，请求协调，电话{phone}，身份证{id}。",
    "工单补充：联系人{name}，电话{phone}；另一联系人{nb}，电话{nb_phone}。",
    "市民反映{addr}{issue}。（来电号码：{phone}）",
    "诉求人：{name}；证件号：{id}；地址：{addr}；诉求：{issue}。",
    "{name}, 电话{phone}, 反映{issue}, 地点{district}{road}, 请处理.",
    "来电人{name}反映其房东{nb}{issue}，房东电话{nb_phone}，请核实！！",
)
WEIGHTS = (9, 6, 6, 5, 7, 5, 3, 4, 6, 4, 5, 3, 4, 3, 6, 4, 3, 3)
COLUMNS = [
    Column("gdbh"),
    Column("ldsj"),
    Column("来电人", "person_name", "caller"),
    Column("来电号码", "mobile_phone", "caller"),
    Column("诉求类别"),
    Column("所属区县"),
    Column("诉求内容", "free_text", note="自由文本：含姓名、电话、身份证号、住址，见 spans"),
    Column("承办单位"),
    Column("办理状态"),
]
STATUSES = ("已办结", "已回访", "办理中", "已退回")


def generate(ctx: Context) -> DemoDataset:
    """Write the hotline tickets; returns their catalogue entry."""
    rng = ctx.rng(CODE)
    pop = ctx.pop
    n = ctx.rows(TICKETS_PER_UNIT)
    adult_phone = (pop.age >= 18) & pop.has_phone()
    callers = ctx.sample(rng, n, adult_phone)
    day = rng.integers(0, 366, n)
    seconds = np.clip(rng.normal(14 * 3600, 4 * 3600, n), 7 * 3600, 23 * 3600).astype(np.int64)
    when = (YEAR_START + day.astype("timedelta64[D]")).astype("datetime64[s]") + seconds.astype(
        "timedelta64[s]"
    )
    order = np.argsort(when, kind="stable")
    callers, when = callers[order], when[order]
    categories = list(vocab.HOTLINE_TOPICS)
    category = rng.integers(0, len(categories), n)
    issues = [(c, i) for c, items in vocab.HOTLINE_TOPICS.items() for i in items]
    first = np.cumsum([0] + [len(v) for v in vocab.HOTLINE_TOPICS.values()])
    counts = np.diff(first)
    issue = first[category] + np.floor(rng.random(n) * counts[category]).astype(np.int64)

    f = ctx.person_fields(rng, callers)
    text, spans = _texts(ctx, rng, callers, category, issue, issues)
    district = pop.district[callers]
    date = strings.dates_text(when, "%Y%m%d")
    data = pa.table(
        {
            "gdbh": strings.join(["GD", date, strings.zero_pad(np.arange(1, n + 1), 6)]),
            "ldsj": strings.dates_text(when, "%Y-%m-%d %H:%M:%S"),
            "来电人": f.name,
            "来电号码": f.phone,
            "诉求类别": strings.take(categories, category),
            "所属区县": strings.take(places.district_names(), district),
            "诉求内容": text,
            "承办单位": strings.join(
                [
                    strings.take(places.district_names(), district),
                    strings.take(
                        list(vocab.HOTLINE_UNITS), rng.integers(0, len(vocab.HOTLINE_UNITS), n)
                    ),
                ]
            ),
            "办理状态": strings.take(list(STATUSES), rng.choice(4, n, p=[0.55, 0.3, 0.12, 0.03])),
        }
    )
    kinds = errors.NAME_KINDS + errors.PHONE_KINDS
    ctx.truth.records(CODE, np.arange(n), callers, "caller", only(f.masks, kinds))
    ctx.truth.columns(CODE, COLUMNS)
    ctx.truth.spans(spans)
    path = "12345热线_市民诉求工单.json"
    writers.write_json(data, ctx.folder / path, lines=False)
    return DemoDataset(
        code=CODE,
        org="cdwlb",
        name="12345市民服务热线工单",
        summary=(
            "12345 市民服务热线受理的市民诉求工单，"
            "含来电人、来电号码、诉求类别、所属区县、诉求内容、承办单位和办理状态。"
        ),
        category="政务服务",
        update_cycle="实时",
        share_type="有条件共享",
        share_condition="来电人信息仅限承办单位办理诉求使用；统计分析须脱敏",
        open_type="不予开放",
        keywords=["12345", "热线", "市民诉求", "工单"],
        path=path,
        encoding="utf-8",
        rows=n,
    )


def _texts(
    ctx: Context,
    rng: np.random.Generator,
    callers: npt.NDArray[np.int64],
    category: npt.NDArray[np.int64],
    issue: npt.NDArray[np.int64],
    issues: list[tuple[str, str]],
) -> tuple[pa.Array, pa.Table]:
    pop = ctx.pop
    n = len(callers)
    others = ctx.sample(rng, n, (pop.age >= 18) & pop.has_phone())
    others = np.where(others == callers, ctx.sample(rng, n, pop.has_phone()), others)
    relative = pop.relative()[callers]
    has_rel = relative >= 0
    rel = np.maximum(relative, 0)
    roads = [(d.name, r) for d in places.DISTRICTS for r in d.roads]
    road_first = np.cumsum([0] + [len(d.roads) for d in places.DISTRICTS])
    road_count = np.diff(road_first)
    district = pop.district[callers]

    def road_pick() -> pa.Array:
        pick = road_first[district] + np.floor(rng.random(n) * road_count[district])
        return strings.take([r for _, r in roads], pick.astype(np.int64))

    companies = strings.join(
        [
            "成都",
            strings.take(
                list(vocab.company_prefixes()), rng.integers(0, len(vocab.company_prefixes()), n)
            ),
            strings.take(
                [i[2] for i in vocab.INDUSTRIES], rng.integers(0, len(vocab.INDUSTRIES), n)
            ),
            "有限公司",
        ]
    )
    slots = {
        "name": freetext.Slot(strings.text(pop.name[callers]), "person_name", callers),
        "phone": freetext.Slot(
            freetext.phone_variants(rng, pop.phone[callers]), "mobile_phone", callers
        ),
        "id": freetext.Slot(
            freetext.id_variants(rng, pop.id_digits[callers]), "resident_id", callers
        ),
        "addr": freetext.Slot(pop.address(callers), "address", callers),
        "nb": freetext.Slot(strings.text(pop.name[others]), "person_name", others),
        "nb_phone": freetext.Slot(
            freetext.phone_variants(rng, pop.phone[others]), "mobile_phone", others
        ),
        "rel": freetext.Slot(
            strings.text(pop.name[rel]), "person_name", np.where(has_rel, relative, -1)
        ),
        "issue": freetext.Slot(strings.take([i for _, i in issues], issue)),
        "category": freetext.Slot(strings.take(list(vocab.HOTLINE_TOPICS), category)),
        "district": freetext.Slot(strings.take(places.district_names(), district)),
        "road": freetext.Slot(road_pick()),
        "road2": freetext.Slot(road_pick()),
        "company": freetext.Slot(companies),
        "days": freetext.Slot(strings.num(rng.integers(2, 60, n))),
        "month": freetext.Slot(strings.num(rng.integers(1, 13, n))),
        "day": freetext.Slot(strings.num(rng.integers(1, 29, n))),
    }
    choice = freetext.pick_templates(rng, TEMPLATES, WEIGHTS, {"rel": has_rel}, fallback=0)
    return freetext.render(TEMPLATES, choice, slots, CODE, "诉求内容")
