"""市统计局 — 数字经济核心产业主要指标 (2018–2024), an Excel workbook.

The 2022 row holds Chengdu's published figures exactly: core digital-economy industries
added 2779.51 亿元 of value, 13.4 % of GDP, 0.3 percentage points more than in 2021, and
64.3 % of Sichuan's. Its other cells are left empty rather than invented. Every other year
is simulated (plausible values consistent with the published row: 2021's share is 13.1 %),
and the column 数据来源 says so ("公开发布" vs "模拟"). The table does not grow with scale.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from dizuo.demo import writers
from dizuo.demo.context import Context
from dizuo.demo.manifest import DemoDataset
from dizuo.demo.truth import Column

CODE = "stats_digital_economy"
PUBLISHED_YEAR = 2022
PUBLISHED = {
    "数字经济核心产业增加值（亿元）": 2779.51,
    "占地区生产总值比重（%）": 13.4,
    "比重比上年提高（百分点）": 0.3,
    "占全省比重（%）": 64.3,
}
YEARS = (2018, 2019, 2020, 2021, 2022, 2023, 2024)
SHARE_2017 = 11.0  # simulated, for the 2018 change
VALUE_2017 = 1578.20  # simulated, for the 2018 growth rate
# Simulated series (the 2022 entries are the published ones and are overwritten anyway).
VALUE = (1792.36, 2056.81, 2289.40, 2602.47, 2779.51, 3046.28, 3338.75)
SHARE = (11.5, 12.1, 12.7, 13.1, 13.4, 13.9, 14.3)
PROVINCE_SHARE = (60.1, 61.0, 62.2, 63.5, 64.3, 64.8, 65.2)
SOFTWARE = (3005.2, 3370.8, 3712.5, 4139.6, None, 4987.3, 5402.9)
BASE_STATIONS_5G = (None, 3100, 31000, 47200, None, 81500, 92300)
COLUMNS = (
    [Column("年份")]
    + [Column(k) for k in PUBLISHED]
    + [
        Column("核心产业增加值增速（%）"),
        Column("软件业务收入（亿元）"),
        Column("5G基站数（个）"),
        Column("数据来源"),
        Column("备注"),
    ]
)


def indicator_table() -> pa.Table:
    """The indicator table (fixed values; see the module docstring)."""
    value = np.array(VALUE)
    share = np.array(SHARE)
    change = np.round(np.diff(np.concatenate([[SHARE_2017], share])), 1)
    growth = np.round((value / np.concatenate([[VALUE_2017], value[:-1]]) - 1) * 100, 1)
    published = np.array(YEARS) == PUBLISHED_YEAR
    growth_col = pa.array(growth, mask=published)  # would mix published and simulated values
    return pa.table(
        {
            "年份": pa.array(YEARS, pa.int64()),
            "数字经济核心产业增加值（亿元）": pa.array(value),
            "占地区生产总值比重（%）": pa.array(share),
            "比重比上年提高（百分点）": pa.array(change),
            "占全省比重（%）": pa.array(PROVINCE_SHARE),
            "核心产业增加值增速（%）": growth_col,
            "软件业务收入（亿元）": pa.array(SOFTWARE, pa.float64()),
            "5G基站数（个）": pa.array(BASE_STATIONS_5G, pa.int64()),
            "数据来源": pa.array(["公开发布" if p else "模拟" for p in published]),
            "备注": pa.array(
                [
                    "成都市公开发布数据；其余指标本表未收录"
                    if p
                    else "模拟数据，仅供演示，非官方统计"
                    for p in published
                ]
            ),
        }
    )


def generate(ctx: Context) -> DemoDataset:
    """Write the indicator workbook; returns its catalogue entry."""
    data = indicator_table()
    path = "市统计局_数字经济核心产业指标.xlsx"
    sheet = "数字经济指标"
    writers.write_xlsx(
        data,
        ctx.folder / path,
        sheet=sheet,
        title="数字经济核心产业主要指标",
        creator="成都市统计局",
    )
    ctx.truth.columns(CODE, COLUMNS)
    return DemoDataset(
        code=CODE,
        org="cdstats",
        name="数字经济核心产业主要指标",
        summary=(
            "成都市 2018—2024 年数字经济核心产业增加值、占 GDP 比重、占全省比重等年度指标。"
            "2022 年为公开发布数据，其余年份为模拟数据。"
        ),
        category="统计",
        update_cycle="每年",
        share_type="无条件共享",
        share_condition="",
        open_type="无条件开放",
        keywords=["数字经济", "核心产业", "增加值", "统计指标"],
        path=path,
        sheet=sheet,
        rows=data.num_rows,
    )
