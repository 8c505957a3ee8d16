"""市文化广电旅游局 — 酒店入住登记 (hotel check-ins, TSV in GB18030) and 景区入园记录
(scenic-spot entries, NDJSON).

Scenic data are one row per ticket (not hourly aggregates): spot, entry time, ticket type
and price, party size, sales channel, and — for real-name bookings — the visitor's name and
ID number. Leisure days (weekends, summer, public holidays, above all 国庆) draw more people.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from dizuo.demo import errors, places, strings, writers
from dizuo.demo.context import Context, holiday_weights, not_before, only
from dizuo.demo.manifest import DemoDataset
from dizuo.demo.truth import Column
from dizuo.demo.venues import HOTEL_BRANCHES, HOTEL_BRANDS, LANDMARK_HOTELS, SCENIC_SPOTS, Hotel

HOTEL_CODE = "tourism_hotel_checkins"
SCENIC_CODE = "tourism_scenic_entries"
STAYS_PER_UNIT = 10_000
ENTRIES_PER_UNIT = 20_000
CHAIN_HOTELS = 60
YEAR_START = np.datetime64("2024-01-01")
HOTEL_COLUMNS = [
    Column("lkxm", "person_name", "guest"),
    Column("xb", "sex", "guest"),
    Column("zjlx"),
    Column("zjhm", "resident_id", "guest"),
    Column("col_07", "mobile_phone", "guest"),
    Column("旅馆名称"),
    Column("fjh"),
    Column("rzsj"),
    Column("ldsj"),
]
SCENIC_COLUMNS = [
    Column("ticket_no"),
    Column("scenic_spot"),
    Column("district"),
    Column("entry_time"),
    Column("ticket_type"),
    Column("unit_price"),
    Column("party_size"),
    Column("channel"),
    Column("visitor_name", "person_name", "visitor", note="仅实名预约票"),
    Column("visitor_id_no", "resident_id", "visitor", note="仅实名预约票"),
]
TICKETS = ("全价票", "半价票", "学生票", "免票", "年卡", "团体票", "免费预约", "免费入园")
CHANNELS = ("线上预约", "OTA平台", "现场购票", "旅行社")


def hotels(rng: np.random.Generator) -> list[Hotel]:
    """Landmark hotels plus a fixed draw of chain branches ("全季酒店(成都春熙路店)")."""
    combos = [(b, br, d) for b in HOTEL_BRANDS for br, d in HOTEL_BRANCHES]
    chosen = np.sort(rng.choice(len(combos), min(CHAIN_HOTELS, len(combos)), replace=False))
    chains = [
        Hotel(f"{combos[i][0]}({combos[i][1]})", combos[i][2], 1.5, 12) for i in chosen.tolist()
    ]
    return list(LANDMARK_HOTELS) + chains


def _day_of_year(rng: np.random.Generator, n: int) -> npt.NDArray[np.int64]:
    w = holiday_weights(YEAR_START, 366)
    out: npt.NDArray[np.int64] = np.searchsorted(np.cumsum(w) / w.sum(), rng.random(n), "right")
    return np.minimum(out, 365)


def _stamp(
    day: npt.NDArray[np.int64], seconds: npt.NDArray[np.int64]
) -> npt.NDArray[np.datetime64]:
    base = (YEAR_START + day.astype("timedelta64[D]")).astype("datetime64[s]")
    out: npt.NDArray[np.datetime64] = base + seconds.astype("timedelta64[s]")
    return out


def generate_hotels(ctx: Context) -> DemoDataset:
    """Write the hotel check-ins; returns their catalogue entry."""
    rng = ctx.rng(HOTEL_CODE)
    pop = ctx.pop
    n = ctx.rows(STAYS_PER_UNIT)
    table = hotels(ctx.rng("hotel-list"))
    age_w = np.where((pop.age >= 25) & (pop.age < 60), 1.5, 1.0)
    guests = ctx.sample(rng, n, pop.age >= 18, weight=age_w)
    w = np.array([h.weight for h in table])
    hotel = np.searchsorted(np.cumsum(w) / w.sum(), rng.random(n), "right")
    day = _day_of_year(rng, n)
    hour = rng.choice(np.arange(12, 24), n, p=np.array([2, 3, 5, 7, 9, 10, 10, 9, 8, 6, 4, 2]) / 75)
    t_in = _stamp(day, hour * 3600 + rng.integers(0, 3600, n))
    nights = rng.geometric(0.55, n)
    t_out = _stamp(day + nights, rng.integers(7, 13, n) * 3600 + rng.integers(0, 3600, n))
    order = np.argsort(t_in, kind="stable")
    guests, hotel = guests[order], hotel[order]
    t_in, t_out = t_in[order], t_out[order]
    floors = np.array([h.floors for h in table])[hotel]
    floor = 2 + np.floor(rng.random(n) * np.maximum(floors - 1, 1)).astype(np.int64)
    room = floor * 100 + rng.integers(1, 31, n)

    f = ctx.person_fields(rng, guests)
    data = pa.table(
        {
            "lkxm": f.name,
            "xb": ctx.sex(guests),
            "zjlx": strings.arrow("居民身份证", n),
            "zjhm": f.resident_id,
            "col_07": f.phone,
            "旅馆名称": strings.take([h.name for h in table], hotel),
            "fjh": strings.num(room),
            "rzsj": strings.dates_text(t_in, "%Y/%m/%d %H:%M"),
            "ldsj": strings.dates_text(t_out, "%Y/%m/%d %H:%M"),
        }
    )
    kinds = errors.NAME_KINDS + errors.ID_KINDS + errors.PHONE_KINDS
    ctx.truth.records(HOTEL_CODE, np.arange(n), guests, "guest", only(f.masks, kinds))
    ctx.truth.columns(HOTEL_CODE, HOTEL_COLUMNS)
    path = "市文广旅局_酒店入住登记.tsv"
    writers.write_csv(data, ctx.folder / path, encoding="gb18030", delimiter="\t")
    return DemoDataset(
        code=HOTEL_CODE,
        org="cdwglj",
        name="酒店入住登记信息",
        summary=(
            "全市旅馆业治安管理系统登记的旅客入住信息，"
            "含旅客身份、联系电话、入住酒店、房号及入住离店时间。"
        ),
        category="文化旅游",
        update_cycle="实时",
        share_type="有条件共享",
        share_condition="仅限公安、文旅部门履职使用，不得用于其他用途",
        open_type="不予开放",
        keywords=["酒店", "旅馆", "入住登记", "旅客"],
        path=path,
        encoding="gb18030",
        rows=n,
    )


def generate_scenic(ctx: Context) -> DemoDataset:
    """Write the scenic-spot entries; returns their catalogue entry."""
    rng = ctx.rng(SCENIC_CODE)
    pop = ctx.pop
    n = ctx.rows(ENTRIES_PER_UNIT)
    visitors = ctx.sample(rng, n, np.ones(pop.n, dtype=bool))
    w = np.array([s.weight for s in SCENIC_SPOTS])
    spot = np.searchsorted(np.cumsum(w) / w.sum(), rng.random(n), "right")
    born = (pop.birth[visitors] - YEAR_START).astype(np.int64)
    day = not_before(rng, _day_of_year(rng, n), born + 1, 366)
    minute = np.clip(rng.normal(11 * 60, 110, n), 8 * 60 + 30, 17 * 60 + 30).astype(np.int64)
    when = _stamp(day, minute * 60 + rng.integers(0, 60, n))
    order = np.argsort(when, kind="stable")
    visitors, spot, when = visitors[order], spot[order], when[order]

    age = pop.age[visitors]
    price = np.array([s.price for s in SCENIC_SPOTS])[spot]
    free = price == 0
    u = rng.random(n)
    real_name = rng.random(n) < np.where(free, 0.35, 0.7)
    ticket = np.select(
        [free, age < 6, age >= 70, age < 19, age >= 60, u < 0.04, u < 0.07],
        [np.where(real_name, 6, 7), 3, 3, 2, 1, 4, 5],
        0,
    )
    unit = np.select(
        [ticket == 0, ticket == 5, (ticket == 1) | (ticket == 2)],
        [price, price * 0.8, price / 2],
        0,
    )
    party = np.where(
        ticket == 5,
        rng.integers(10, 31, n),
        rng.choice([1, 2, 3, 4, 5], n, p=[0.6, 0.25, 0.07, 0.05, 0.03]),
    )
    channel = np.where(
        real_name, rng.choice([0, 1], n, p=[0.7, 0.3]), rng.choice([2, 3], n, p=[0.8, 0.2])
    )
    channel = np.where(ticket == 5, 3, channel)

    name, name_masks = errors.plant_names(rng, pop.name[visitors])
    id_kinds = ("id_legacy15", "id_fullwidth", "id_check_typo")
    vid, id_masks = errors.plant_ids(
        rng, pop.id_digits[visitors], pop.birth_year[visitors], id_kinds
    )
    not_real = pa.array(~real_name)
    none = pa.scalar(None, pa.string())
    district_of = {d.code: d.name for d in places.DISTRICTS}
    data = pa.table(
        {
            "ticket_no": strings.join(
                ["T2024", strings.zero_pad(np.arange(1, n + 1) * 7 + 300_000, 9)]
            ),
            "scenic_spot": strings.take([s.name for s in SCENIC_SPOTS], spot),
            "district": strings.take([district_of[s.district] for s in SCENIC_SPOTS], spot),
            "entry_time": strings.dates_text(when, "%Y-%m-%dT%H:%M:%S"),
            "ticket_type": strings.take(list(TICKETS), ticket),
            "unit_price": pa.array(np.round(unit, 2).astype(np.float64)),
            "party_size": pa.array(party.astype(np.int64)),
            "channel": strings.take(list(CHANNELS), channel),
            "visitor_name": pc.if_else(not_real, none, strings.text(name)),
            "visitor_id_no": pc.if_else(not_real, none, vid),
        }
    )
    rows = np.flatnonzero(real_name)
    masks = {
        k: v[rows]
        for k, v in {**name_masks, **id_masks}.items()
        if k in errors.NAME_KINDS + id_kinds
    }
    ctx.truth.records(SCENIC_CODE, rows, visitors[rows], "visitor", masks)
    ctx.truth.columns(SCENIC_CODE, SCENIC_COLUMNS)
    path = "市文广旅局_景区入园记录.ndjson"
    writers.write_json(data, ctx.folder / path, lines=True)
    return DemoDataset(
        code=SCENIC_CODE,
        org="cdwglj",
        name="景区入园记录",
        summary=(
            "全市 A 级景区及博物馆票务系统的入园明细，"
            "每行一张票：景区、入园时间、票种、票价、人数、购票渠道，实名预约票含游客姓名和证件号。"
        ),
        category="文化旅游",
        update_cycle="每日",
        share_type="有条件共享",
        share_condition="游客个人信息仅限文旅、公安部门使用；客流统计结果可无条件共享",
        open_type="有条件开放",
        keywords=["景区", "客流", "门票", "实名预约"],
        path=path,
        encoding="utf-8",
        rows=n,
    )
