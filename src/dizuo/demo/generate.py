"""Generate the demo city: department files, ground truth and ``manifest.json``.

>>> manifest = generate_city(Path("city"), scale=1.0, seed=20221)  # doctest: +SKIP

Everything is drawn from NumPy PCG64 streams derived from ``seed`` (one stream per table),
so the output is byte-for-byte identical for the same ``(seed, scale)``.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from dizuo.demo import (
    education,
    errors,
    health,
    hotline,
    market,
    metro,
    people,
    places,
    statistics,
    tourism,
    transit,
)
from dizuo.demo.context import Context
from dizuo.demo.manifest import CityManifest, DemoDataset, Department
from dizuo.demo.truth import ENTITY_TYPES, Truth

Progress = Callable[[str, float], None]

PERSONS_PER_UNIT = 44_000
MIN_PERSONS = 500
DEPARTMENTS = (
    Department("cdedu", "成都市教育局"),
    Department("cdwjw", "成都市卫生健康委员会"),
    Department("cdjtys", "成都市交通运输局"),
    Department("cdwglj", "成都市文化广电旅游局"),
    Department("cdscjg", "成都市市场监督管理局"),
    Department("cdstats", "成都市统计局"),
    Department("cdwlb", "成都市政务服务管理和网络理政办公室"),
)

# Which planted error kinds each dataset can hold (the fields it has).
ERROR_SCOPE: dict[str, tuple[str, ...]] = {
    education.CODE: errors.NAME_KINDS + errors.ID_KINDS + errors.DATE_KINDS + errors.PHONE_KINDS,
    health.CODE: errors.NAME_KINDS + errors.ID_KINDS + errors.PHONE_KINDS,
    transit.TAPS_CODE: (),
    tourism.HOTEL_CODE: errors.NAME_KINDS + errors.ID_KINDS + errors.PHONE_KINDS,
    tourism.SCENIC_CODE: errors.NAME_KINDS + ("id_legacy15", "id_fullwidth", "id_check_typo"),
    market.CODE: errors.NAME_KINDS + errors.PHONE_KINDS,
    hotline.CODE: errors.NAME_KINDS + errors.PHONE_KINDS,
}

STEPS: tuple[tuple[str, Callable[[Context], DemoDataset]], ...] = (
    ("edu_student_roll", education.generate),
    ("health_outpatient_visits", health.generate),
    ("transit_metro_stations", transit.generate_stations),
    ("transit_card_taps", transit.generate_taps),
    ("tourism_hotel_checkins", tourism.generate_hotels),
    ("tourism_scenic_entries", tourism.generate_scenic),
    ("market_enterprise_registry", market.generate),
    ("stats_digital_economy", statistics.generate),
    ("hotline_12345_tickets", hotline.generate),
)


def persons_for(scale: float) -> int:
    """Size of the latent population at ``scale``."""
    return max(MIN_PERSONS, round(PERSONS_PER_UNIT * scale))


def generate_city(
    folder: Path,
    *,
    scale: float = 1.0,
    seed: int = 20221,
    progress: Callable[[str, float], None] | None = None,
) -> CityManifest:
    """Write a synthetic Chengdu into ``folder`` and return its manifest.

    Args:
        folder: Target folder; created if missing. Files of an earlier run are replaced.
        scale: Size factor: 1.0 gives 44,000 persons and about 212,000 records (150,000 of
            them transit taps); row counts grow linearly (100 gives 15 million taps).
        seed: Seed of every random draw; the same ``(seed, scale)`` gives identical bytes.
        progress: Called as ``progress(step, fraction_done)`` before each step and at the end.

    Returns:
        The manifest, also written to ``folder / "manifest.json"``.
    """
    if scale <= 0:
        raise ValueError("scale must be positive")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(folder / "truth", ignore_errors=True)
    total = len(STEPS) + 2

    def report(step: str, done: int) -> None:
        if progress is not None:
            progress(step, done / total)

    report("persons", 0)
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 0])))
    pop = people.build_population(rng, persons_for(scale))
    truth = Truth(folder)
    ctx = Context(folder=folder, seed=seed, scale=scale, pop=pop, truth=truth)
    datasets: list[DemoDataset] = []
    for i, (code, step) in enumerate(STEPS, start=1):
        report(code, i)
        meta = step(ctx)
        assert meta.code == code
        datasets.append(meta)
    report("truth", len(STEPS) + 1)
    paths = {"persons": truth.table("persons", people.persons_table(pop))}
    paths |= truth.close()
    paths["transit_cards"] = "truth/transit_cards.parquet"
    manifest = CityManifest(
        folder=str(folder),
        seed=seed,
        scale=scale,
        city=places.CITY,
        departments=list(DEPARTMENTS),
        datasets=datasets,
        truth=paths,
        notes=_notes(pop.n),
    )
    manifest.write()
    report("done", total)
    return manifest


def _notes(persons: int) -> dict[str, Any]:
    return {
        "generator": "dizuo.demo.generate_city",
        "reference_date": str(people.REFERENCE_DATE),
        "persons": persons,
        "error_rates": dict(errors.ERROR_RATES),
        "error_rate_meaning": (
            "probability that one field of one record gets the error, among records "
            f"eligible for it; 15-digit IDs only for holders born before "
            f"{errors.LEGACY_BORN_BEFORE}"
        ),
        "error_scope": {k: list(v) for k, v in ERROR_SCOPE.items()},
        "entity_types": list(ENTITY_TYPES),
        "uscc_decoy_rate": market.USCC_DECOY_RATE,
        "transit_card_luhn_valid_share": transit.LUHN_VALID_SHARE,
        "metro_lines": list(metro.LINES),
        "real": [
            "2022 数字经济核心产业增加值 2779.51 亿元、占 GDP 13.4%、比上年提高 0.3 个百分点、"
            "占全省 64.3%（成都市公开发布数据）",
            "行政区划名称与代码（GB/T 2260）及其历史代码",
            "道路、地铁线路与站点、学校、医院、景区、酒店的名称",
            "ICD-10 编码与名称、国民经济行业门类",
        ],
        "synthetic": [
            "全部人员、证件号、手机号、住址及其所有记录",
            "其余年份的统计指标（数据来源列标注为“模拟”）",
            "地铁站点坐标为近似位置",
            "票价、费用、注册资本等数值",
        ],
    }
