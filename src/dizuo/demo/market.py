"""市市场监督管理局 — 企业登记信息 (business registry), a UTF-8 CSV with a byte-order mark.

Market entities of three kinds, told apart by the second character of their unified social
credit code: companies ("1": 成都+字号+行业+有限公司), individual businesses ("2": …店)
and farmers' cooperatives ("3": …专业合作社). The legal representative is a person of the
registry, and the contact phone is theirs. A small share of codes are decoys: the last
character is wrong, so the GB 32100 check fails (listed in truth/decoys.parquet).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dizuo.demo import errors, ids, places, strings, vocab, writers
from dizuo.demo.context import Context, only
from dizuo.demo.manifest import DemoDataset
from dizuo.demo.truth import Column

CODE = "market_enterprise_registry"
ENTERPRISES_PER_UNIT = 3_000
USCC_DECOY_RATE = 0.02
KIND_WEIGHTS = (0.85, 0.12, 0.03)  # 企业 / 个体工商户 / 农民专业合作社
KIND_LABELS = ("有限责任公司(自然人投资或控股)", "个体工商户", "农民专业合作社")
STATUSES = (("存续", 0.78), ("在业", 0.06), ("注销", 0.09), ("吊销", 0.04), ("迁出", 0.03))
COLUMNS = [
    Column(
        "统一社会信用代码",
        "uscc",
        has_decoys=True,
        decoy_of="uscc",
        note="约 2% 为校验位错误的干扰项，见 decoys.parquet",
    ),
    Column("企业名称"),
    Column("市场主体类型"),
    Column("法定代表人", "person_name", "legal_rep"),
    Column("注册资本(万元)"),
    Column("行业门类"),
    Column("住所", note="经营场所地址（非个人住址）"),
    Column("成立日期"),
    Column("登记状态"),
    Column("登记机关"),
    Column("lxdh", "mobile_phone", "legal_rep"),
]
CAPITALS = np.array([3, 5, 10, 20, 30, 50, 100, 200, 300, 500, 1000, 2000, 5000, 10000])
CAPITAL_W = np.array([3, 6, 12, 8, 6, 14, 18, 9, 6, 8, 5, 2, 2, 1], dtype=np.float64)


def _trade_names(rng: np.random.Generator, n: int) -> pa.Array:
    """字号: Faker's two-character company prefixes, or two trade-name characters."""
    faker_names = list(vocab.company_prefixes())
    pool = np.array(list(vocab.TRADE_NAME_CHARS))
    composed = np.strings.add(
        pool[rng.integers(0, len(pool), n)], pool[rng.integers(0, len(pool), n)]
    )
    use_faker = rng.random(n) < 0.35
    faker_pick = np.array(faker_names)[rng.integers(0, len(faker_names), n)]
    return strings.text(np.where(use_faker, faker_pick, composed))


def generate(ctx: Context) -> DemoDataset:
    """Write the business registry; returns its catalogue entry."""
    rng = ctx.rng(CODE)
    pop = ctx.pop
    n = ctx.rows(ENTERPRISES_PER_UNIT)
    kind = rng.choice(3, n, p=np.array(KIND_WEIGHTS))
    industry_w = np.array([w for *_, w in vocab.INDUSTRIES])
    industry = rng.choice(len(vocab.INDUSTRIES), n, p=industry_w / industry_w.sum())
    industry = np.where(kind == 2, 0, industry)  # cooperatives farm
    district_w = np.array([d.population for d in places.DISTRICTS])
    district = rng.choice(len(places.DISTRICTS), n, p=district_w / district_w.sum())
    city_level = (kind == 0) & (rng.random(n) < 0.3)  # registered with the city bureau
    codes = np.array([d.code for d in places.DISTRICTS], dtype=np.int64)
    region = np.where(city_level, places.CITY_CODE, codes[district])
    day0 = np.datetime64("1995-01-01").astype(np.int64)
    span = np.datetime64("2024-12-31").astype(np.int64) - day0
    founded = (day0 + np.floor(span * rng.random(n) ** 0.6).astype(np.int64)).astype(
        "datetime64[D]"
    )
    new_style = founded >= np.datetime64("2015-10-01")
    uscc = ids.uscc_codes(rng, kind.astype(np.int64) + 1, region, new_style | (rng.random(n) < 0.2))
    decoy = rng.random(n) < USCC_DECOY_RATE
    alphabet = np.array([ord(c) for c in ids.USCC_ALPHABET], dtype=np.uint32)
    good = ids.USCC_VALUE_OF[uscc[:, 17].astype(np.int64)]
    uscc[decoy, 17] = alphabet[(good[decoy] + rng.integers(1, 31, int(decoy.sum()))) % 31]
    uscc_text = strings.text(strings.from_codepoints(uscc))

    reps = ctx.sample(rng, n, (pop.age >= 22) & (pop.age <= 75) & pop.has_phone())
    f = ctx.person_fields(rng, reps)
    trade = _trade_names(rng, n)
    district_names = strings.take(places.district_names(), district)
    word = strings.take([i[2] for i in vocab.INDUSTRIES], industry)
    company = strings.join(["成都", trade, word, "有限公司"])
    shop = strings.join(["成都市", district_names, trade, word, "店"])
    coop = strings.join([district_names, trade, "种植专业合作社"])
    name = pc.case_when(
        pc.make_struct(pa.array(kind == 0), pa.array(kind == 1), field_names=["a", "b"]),
        company,
        shop,
        coop,
    )
    roads = [(d.name, r) for d in places.DISTRICTS for r in d.roads]
    counts = np.array([len(d.roads) for d in places.DISTRICTS])
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    road = first[district] + np.floor(rng.random(n) * counts[district]).astype(np.int64)
    address = strings.join(
        [
            "四川省成都市",
            district_names,
            strings.take([r for _, r in roads], road),
            strings.num(rng.integers(1, 600, n)),
            "号",
        ]
    )
    floor_part = strings.join(
        [
            strings.num(rng.integers(1, 12, n)),
            "栋",
            strings.num(rng.integers(1, 30, n)),
            "层",
            strings.num(rng.integers(1, 40, n)),
            "号",
        ]
    )
    address = pc.if_else(
        pa.array(rng.random(n) < 0.5), strings.join([address, floor_part]), address
    )
    capital = CAPITALS[rng.choice(len(CAPITALS), n, p=CAPITAL_W / CAPITAL_W.sum())].astype(float)
    odd = rng.random(n) < 0.15
    capital = np.where(odd, np.round(capital * rng.uniform(0.3, 3.0, n), 2), capital)
    capital = np.where(kind == 1, np.round(rng.uniform(1, 50, n), 1), capital)
    status_w = np.array([w for _, w in STATUSES])
    status = rng.choice(len(STATUSES), n, p=status_w / status_w.sum())
    authority = pc.if_else(
        pa.array(city_level),
        pa.scalar("成都市市场监督管理局"),
        strings.join(["成都市", district_names, "市场监督管理局"]),
    )
    order = np.argsort(founded, kind="stable")
    perm = pa.array(order)
    data = pa.table(
        {
            "统一社会信用代码": uscc_text.take(perm),
            "企业名称": name.take(perm),
            "市场主体类型": strings.take(list(KIND_LABELS), kind[order]),
            "法定代表人": f.name.take(perm),
            "注册资本(万元)": pa.array(capital[order]),
            "行业门类": strings.take(
                [f"{c} {label}" for c, label, *_ in vocab.INDUSTRIES], industry[order]
            ),
            "住所": address.take(perm),
            "成立日期": strings.dates_text(founded[order], "%Y/%m/%d"),
            "登记状态": strings.take([s for s, _ in STATUSES], status[order]),
            "登记机关": authority.take(perm),
            "lxdh": f.phone.take(perm),
        }
    )
    inverse = np.empty(n, dtype=np.int64)
    inverse[order] = np.arange(n)
    masks = {k: v[order] for k, v in only(f.masks, errors.NAME_KINDS + errors.PHONE_KINDS).items()}
    ctx.truth.records(CODE, np.arange(n), reps[order], "legal_rep", masks)
    bad = np.flatnonzero(decoy[order])
    ctx.truth.decoys(
        CODE, bad, "统一社会信用代码", uscc_text.take(pa.array(order[bad])), "uscc_bad_check"
    )
    ctx.truth.columns(CODE, COLUMNS)
    path = "市市场监管局_企业登记信息.csv"
    writers.write_csv(data, ctx.folder / path, encoding="utf-8-sig")
    return DemoDataset(
        code=CODE,
        org="cdscjg",
        name="企业登记信息",
        summary=(
            "全市市场主体登记基本信息，"
            "含统一社会信用代码、名称、类型、法定代表人、注册资本、行业、住所、成立日期和登记状态。"
        ),
        category="市场监管",
        update_cycle="每日",
        share_type="无条件共享",
        share_condition="",
        open_type="有条件开放",
        keywords=["企业", "市场主体", "统一社会信用代码", "登记"],
        path=path,
        encoding="utf-8-sig",
        rows=n,
    )
