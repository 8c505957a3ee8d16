"""What the city generator promises the rest of dizuo: the files it wrote, how to read them,
their GB/T 21063 metadata, and where the ground truth lies."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Department:
    """A provider organisation (数据提供方)."""

    code: str  # e.g. "cdedu"
    name: str  # e.g. "成都市教育局"


@dataclass
class DemoDataset:
    """One generated file, as a department hands it over."""

    code: str  # dataset code (资源代码), e.g. "edu_student_roll"
    org: str  # Department.code of the provider
    name: str  # 信息资源名称, e.g. "学生学籍信息"
    summary: str  # 摘要
    category: str  # 资源分类: 教育 / 卫生健康 / 交通运输 / 文化旅游 / 市场监管 / 统计 / 政务服务
    update_cycle: str  # 更新周期: 实时 / 每日 / 每月 / 每年 / 不定期
    share_type: str  # 无条件共享 / 有条件共享 / 不予共享
    share_condition: str  # 共享条件 ("" when unconditional)
    open_type: str  # 无条件开放 / 有条件开放 / 不予开放
    keywords: list[str]
    path: str  # file name relative to the city folder
    encoding: str | None = None  # for text files: "gbk", "utf-8", …
    sheet: str | None = None  # for Excel files
    rows: int = 0


@dataclass
class CityManifest:
    """Everything ``generate_city`` wrote into ``folder``.

    Ground truth files (in ``folder / "truth"``), for later issues to score themselves:

    - ``persons.parquet``: the latent population (person_id and true attributes).
    - ``record_person.parquet``: dataset code, row number (0-based, file order), person_id and
      the error kinds planted in that record (list of strings such as "name_homophone").
    - ``columns.parquet``: dataset code, column name, entity type (e.g. "resident_id",
      "mobile_phone", "person_name", …; null for non-personal columns), and whether it holds
      decoys (values that look like the entity but are not).
    - ``spans.parquet``: for free-text columns, dataset code, row number, column, entity type,
      start and end character offsets (Python string indices, end exclusive).
    """

    folder: str
    seed: int
    scale: float
    city: str
    departments: list[Department] = field(default_factory=list)
    datasets: list[DemoDataset] = field(default_factory=list)
    truth: dict[str, str] = field(default_factory=dict)  # name → relative path
    notes: dict[str, Any] = field(default_factory=dict)

    def write(self) -> Path:
        path = Path(self.folder) / "manifest.json"
        path.write_text(json.dumps(asdict(self), ensure_ascii=False, indent=2), encoding="utf-8")
        return path

    @classmethod
    def read(cls, folder: Path) -> CityManifest:
        data = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        data["departments"] = [Department(**d) for d in data["departments"]]
        data["datasets"] = [DemoDataset(**d) for d in data["datasets"]]
        return cls(**data)
