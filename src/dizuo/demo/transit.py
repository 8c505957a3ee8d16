"""市交通运输局 — 公交地铁刷卡记录 (card taps, Parquet) and 地铁站点信息 (stations, CSV).

Riders hold one card each (天府通-style, 16 digits starting 5101 — a Mastercard-like prefix —
with a final digit that fails the Luhn test for most cards: a bank-card decoy). Student and
senior cards are registered to their holder; ordinary cards only sometimes, so about 40 % of
cards carry the holder's ID. Each card has a home and a work station: weekday mornings go
home → work, evenings back, other trips anywhere. A metro trip taps in and out (the fare is
charged on the way out, by distance); a bus trip taps once. Taps cover June 2024 and are
written in day-ordered chunks of about a million rows, so memory stays flat at any scale.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from dizuo.demo import ids, metro, strings, writers
from dizuo.demo.context import Context
from dizuo.demo.manifest import DemoDataset
from dizuo.demo.truth import Column

I64 = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]
TAPS_CODE = "transit_card_taps"
STATIONS_CODE = "transit_metro_stations"
TAPS_PER_UNIT = 150_000
CHUNK_ROWS = 1_000_000
LUHN_VALID_SHARE = 0.05  # cards whose number happens to pass a Luhn test
START = np.datetime64("2024-06-01")
DAYS = 30
CARD_TYPES = ("普通卡", "学生卡", "老年卡")
TAP_KINDS = ("进站", "出站", "公交刷卡")
METRO_SHARE = 0.6
TAP_COLUMNS = [
    Column("jylsh"),
    Column(
        "kh",
        "transit_card",
        "holder",
        has_decoys=True,
        decoy_of="bank_card",
        note="16 位交通卡号，5101 开头，多数不满足 Luhn 校验：银行卡号的干扰项",
    ),
    Column("klx"),
    Column("col_04", "resident_id", "holder", note="记名卡持卡人身份证号，不记名卡为空"),
    Column("xlmc"),
    Column("zdmc"),
    Column("jysj"),
    Column("jylx"),
    Column("jyje"),
]
STATION_COLUMNS = [
    Column("站点编码"),
    Column("站点名称"),
    Column("所属线路"),
    Column("站序"),
    Column("纬度", note="WGS-84，近似位置"),
    Column("经度", note="WGS-84，近似位置"),
    Column("是否换乘站"),
]
TAP_SCHEMA = pa.schema(
    [
        ("jylsh", pa.int64()),
        ("kh", pa.string()),
        ("klx", pa.string()),
        ("col_04", pa.string()),
        ("xlmc", pa.string()),
        ("zdmc", pa.string()),
        ("jysj", pa.timestamp("s")),
        ("jylx", pa.string()),
        ("jyje", pa.float64()),
    ]
)


def _stops() -> tuple[list[tuple[str, str, int]], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    stops = metro.line_stations()
    lat = np.array([metro.STATIONS[s][0] for _, s, _ in stops])
    lon = np.array([metro.STATIONS[s][1] for _, s, _ in stops])
    return stops, lat, lon


def _km(
    lat1: npt.NDArray[np.float64],
    lon1: npt.NDArray[np.float64],
    lat2: npt.NDArray[np.float64],
    lon2: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """Great-circle distance in km."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = (
        np.sin((p2 - p1) / 2) ** 2
        + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    )
    out: npt.NDArray[np.float64] = 6371.0 * 2 * np.arcsin(np.sqrt(a))
    return out


def metro_fare(km: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """Fare in yuan by route length (a distance-band tariff: 2 yuan up to 4 km, …)."""
    bands = np.array([4, 8, 12, 18, 24, 32, 40])
    out: npt.NDArray[np.int64] = 2 + np.searchsorted(bands, km, "left").astype(np.int64)
    return out


def generate_stations(ctx: Context) -> DemoDataset:
    """Write the station list (one row per line and station)."""
    stops, lat, lon = _stops()
    names = [s for _, s, _ in stops]
    count = {s: names.count(s) for s in names}
    line_no = np.array([int("".join(ch for ch in line if ch.isdigit())) for line, _, _ in stops])
    order = np.array([i for _, _, i in stops])
    data = pa.table(
        {
            "站点编码": strings.join([strings.zero_pad(line_no, 2), strings.zero_pad(order, 2)]),
            "站点名称": pa.array(names),
            "所属线路": pa.array([line for line, _, _ in stops]),
            "站序": pa.array(order),
            "纬度": pa.array(np.round(lat, 4)),
            "经度": pa.array(np.round(lon, 4)),
            "是否换乘站": pa.array(["是" if count[s] > 1 else "否" for s in names]),
        }
    )
    path = "市交通运输局_地铁站点信息.csv"
    writers.write_csv(data, ctx.folder / path)
    ctx.truth.columns(STATIONS_CODE, STATION_COLUMNS)
    return DemoDataset(
        code=STATIONS_CODE,
        org="cdjtys",
        name="地铁站点信息",
        summary="成都地铁已开通线路站点名录，含站点编码、所属线路、站序及经纬度（近似位置）。",
        category="交通运输",
        update_cycle="不定期",
        share_type="无条件共享",
        share_condition="",
        open_type="无条件开放",
        keywords=["地铁", "站点", "线路", "经纬度"],
        path=path,
        encoding="utf-8",
        rows=data.num_rows,
    )


@dataclass
class Cards:
    """Every transit card: its owner, type, registration, number and travel habits."""

    owner: I64  # person_id
    kind: I64  # index into CARD_TYPES
    registered: Bool
    luhn: Bool
    digits: npt.NDArray[np.uint8]  # (cards, 16)
    home: I64  # index into the stops of metro.line_stations()
    work: I64
    activity: npt.NDArray[np.float64]


def _cards(ctx: Context, rng: np.random.Generator) -> Cards:
    pop = ctx.pop
    p_ride = np.select(
        [pop.age < 6, pop.age < 18, pop.age < 65, pop.age < 86], [0, 0.5, 0.6, 0.4], 0
    )
    owners = np.flatnonzero(rng.random(pop.n) < p_ride)
    n = len(owners)
    age = pop.age[owners]
    kind = np.zeros(n, dtype=np.int64)
    kind[(age < 18) & (rng.random(n) < 0.6)] = 1
    kind[(age >= 65) & (rng.random(n) < 0.7)] = 2
    registered = (kind > 0) | (rng.random(n) < 0.22)
    luhn = rng.random(n) < LUHN_VALID_SHARE
    stops, _, _ = _stops()
    busy = np.array([metro.BUSY.get(s, 1.0) for _, s, _ in stops])
    cdf = np.cumsum(busy) / busy.sum()
    return Cards(
        owner=owners,
        kind=kind,
        registered=registered,
        luhn=luhn,
        digits=ids.transit_cards(rng, n, luhn),
        home=np.searchsorted(cdf, rng.random(n), "right"),
        work=np.searchsorted(cdf, rng.random(n), "right"),
        activity=rng.lognormal(0.0, 0.9, n),
    )


def generate_taps(ctx: Context) -> DemoDataset:
    """Write the tap records in chunks; returns their catalogue entry."""
    rng = ctx.rng(TAPS_CODE)
    cards = _cards(ctx, rng)
    card_no = strings.text(strings.digits_text(cards.digits))
    holder_id = pc.if_else(
        pa.array(cards.registered),
        ctx.true_ids(cards.owner),
        pa.scalar(None, pa.string()),
    )
    ctx.truth.table(
        "transit_cards",
        pa.table(
            {
                "card_no": card_no,
                "person_id": pa.array(cards.owner),
                "card_type": strings.take(list(CARD_TYPES), cards.kind),
                "registered": pa.array(cards.registered),
                "luhn_valid": pa.array(cards.luhn),
            }
        ),
    )
    taps = ctx.rows(TAPS_PER_UNIT)
    trips = max(1, round(taps / (1 + METRO_SHARE)))
    weekday = (np.arange(DAYS) + 5) % 7  # 2024-06-01 was a Saturday
    day_w = np.where(weekday >= 5, 0.75, 1.0)
    per_day = rng.multinomial(trips, day_w / day_w.sum())
    path = "市交通运输局_公交地铁刷卡记录.parquet"
    written = 0
    with pq.ParquetWriter(ctx.folder / path, TAP_SCHEMA, compression="zstd") as out:
        first = 0
        chunk = 0
        while first < DAYS:  # a chunk is a run of whole days of about CHUNK_ROWS taps
            last = first
            expected = per_day[first] * (1 + METRO_SHARE)
            while last + 1 < DAYS and expected + per_day[last + 1] * (1 + METRO_SHARE) < CHUNK_ROWS:
                last += 1
                expected += per_day[last] * (1 + METRO_SHARE)
            days = np.repeat(np.arange(first, last + 1), per_day[first : last + 1])
            table, owner = _chunk(ctx, ctx.rng(TAPS_CODE, chunk), cards, days, weekday)
            table = table.set_column(
                0, "jylsh", pa.array(np.arange(written, written + len(table)) + 1)
            )
            table = table.set_column(1, "kh", card_no.take(table.column("kh")))
            table = table.set_column(3, "col_04", holder_id.take(table.column("col_04")))
            out.write_table(table.cast(TAP_SCHEMA), row_group_size=CHUNK_ROWS)
            reg = np.flatnonzero(cards.registered[owner])
            ctx.truth.records(TAPS_CODE, reg + written, cards.owner[owner[reg]], "holder")
            written += len(table)
            first, chunk = last + 1, chunk + 1
    ctx.truth.columns(TAPS_CODE, TAP_COLUMNS)
    return DemoDataset(
        code=TAPS_CODE,
        org="cdjtys",
        name="公交地铁刷卡记录",
        summary=(
            "天府通卡在地铁闸机和公交车载机的刷卡交易明细，"
            "含卡号、卡类型、记名卡持卡人证件号、线路站点、交易时间及金额。"
        ),
        category="交通运输",
        update_cycle="每日",
        share_type="有条件共享",
        share_condition="仅限交通、公安部门用于客流分析和案件侦查，持卡人信息须脱敏",
        open_type="不予开放",
        keywords=["公交", "地铁", "刷卡", "天府通", "客流"],
        path=path,
        rows=written,
    )


def _chunk(
    ctx: Context,
    rng: np.random.Generator,
    cards: Cards,
    days: npt.NDArray[np.int64],
    weekday: npt.NDArray[np.int64],
) -> tuple[pa.Table, npt.NDArray[np.int64]]:
    """Taps of the trips on ``days``; card columns hold card indices (replaced by the caller)."""
    n = len(days)
    stops, lat, lon = _stops()
    activity = cards.activity
    cdf = np.cumsum(activity) / activity.sum()
    card = np.minimum(np.searchsorted(cdf, rng.random(n), "right"), len(activity) - 1)
    kind = cards.kind.astype(np.int64)[card]
    home, work = cards.home[card], cards.work[card]
    busy = np.array([metro.BUSY.get(s, 1.0) for _, s, _ in stops])
    anywhere = np.searchsorted(np.cumsum(busy) / busy.sum(), rng.random((2, n)), "right")
    workday = weekday[days] < 5
    u = rng.random(n)
    morning = workday & (u < 0.3)
    evening = workday & (u >= 0.3) & (u < 0.6)
    origin = np.select([morning, evening], [home, work], np.where(u < 0.8, home, anywhere[0]))
    dest = np.select([morning, evening], [work, home], anywhere[1])
    dest = np.where(dest == origin, (dest + 7) % len(stops), dest)
    minute = np.select(
        [morning, evening],
        [rng.normal(8 * 60, 40, n), rng.normal(18 * 60, 50, n)],
        rng.uniform(6.5 * 60, 22 * 60, n),
    )
    minute = np.clip(minute, 6 * 60 + 5, 22 * 60 + 30)
    t_in = (START + days.astype("timedelta64[D]")).astype("datetime64[s]") + (
        minute * 60 + rng.integers(0, 60, n)
    ).astype(np.int64).astype("timedelta64[s]")
    km = _km(lat[origin], lon[origin], lat[dest], lon[dest]) * 1.25
    t_out = t_in + ((8 + km * 2.2 + rng.exponential(4, n)) * 60).astype(np.int64).astype(
        "timedelta64[s]"
    )
    discount = np.array([1.0, 0.5, 0.5])[kind]
    fare = np.round(metro_fare(km) * discount, 2)
    bus = rng.random(n) >= METRO_SHARE
    bus_fare = np.array([2.0, 1.0, 0.0])[kind]
    route = rng.integers(0, len(metro.BUS_ROUTES), n)

    metro_rows = np.flatnonzero(~bus)
    bus_rows = np.flatnonzero(bus)
    trip = np.concatenate([metro_rows, metro_rows, bus_rows])
    tap_kind = np.concatenate(
        [np.zeros(len(metro_rows)), np.ones(len(metro_rows)), np.full(len(bus_rows), 2)]
    ).astype(np.int64)
    stop = np.concatenate([origin[metro_rows], dest[metro_rows], np.zeros(len(bus_rows))]).astype(
        np.int64
    )
    when = np.concatenate([t_in[metro_rows], t_out[metro_rows], t_in[bus_rows]])
    amount = np.concatenate([np.zeros(len(metro_rows)), fare[metro_rows], bus_fare[bus_rows]])
    order = np.argsort(when, kind="stable")
    trip, tap_kind, stop, when, amount = (a[order] for a in (trip, tap_kind, stop, when, amount))
    is_bus = tap_kind == 2
    line_names = [line for line, _, _ in stops]
    line = pc.if_else(
        pa.array(is_bus),
        strings.take(list(metro.BUS_ROUTES), route[trip]),
        strings.take(line_names, stop),
    )
    station = pa.array(np.array([s for _, s, _ in stops])[stop], mask=is_bus)
    owner = card[trip]
    table = pa.table(
        [
            pa.array(np.zeros(len(trip), dtype=np.int64)),
            pa.array(owner),
            strings.take(list(CARD_TYPES), kind[trip]),
            pa.array(owner),
            line,
            station,
            pa.array(when),
            strings.take(list(TAP_KINDS), tap_kind),
            pa.array(amount),
        ],
        names=TAP_SCHEMA.names,
    )
    return table, owner
