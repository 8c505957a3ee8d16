"""Export the catalog: W3C DCAT (JSON-LD) and a GB/T 21063 政务信息资源目录 table."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from dizuo.catalog import service
from dizuo.catalog.models import Dataset, Version

DCAT_CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "csvw": "http://www.w3.org/ns/csvw#",
    "dizuo": "https://dizuo.org/ns#",
}

# Update cycles (更新周期) → Dublin Core frequency vocabulary.
FREQUENCY = {
    "实时": "continuous",
    "每日": "daily",
    "每周": "weekly",
    "每月": "monthly",
    "每季度": "quarterly",
    "每半年": "semiannual",
    "每年": "annual",
    "不定期": "irregular",
}

GBT21063_COLUMNS = [
    ("code", "信息资源代码"),
    ("name", "信息资源名称"),
    ("provider", "信息资源提供方"),
    ("provider_code", "提供方代码"),
    ("summary", "信息资源摘要"),
    ("category", "信息资源分类"),
    ("format", "信息资源格式"),
    ("items", "信息项信息"),
    ("update_cycle", "更新周期"),
    ("share_type", "共享类型"),
    ("share_condition", "共享条件"),
    ("open_type", "开放属性"),
    ("published_on", "发布日期"),
    ("keywords", "关键字"),
    ("version", "最新版本"),
    ("rows", "记录数"),
]


def _dataset_node(session: Session, dataset: Dataset, version: Version | None) -> dict[str, Any]:
    node: dict[str, Any] = {
        "@id": f"urn:dizuo:dataset:{dataset.code}",
        "@type": "dcat:Dataset",
        "dct:identifier": dataset.code,
        "dct:title": {"@value": dataset.name, "@language": "zh"},
        "dct:description": {"@value": dataset.summary, "@language": "zh"},
        "dcat:keyword": list(dataset.keywords or []),
        "dcat:theme": dataset.category,
        "dizuo:shareType": dataset.share_type,
        "dizuo:shareCondition": dataset.share_condition,
        "dizuo:openType": dataset.open_type,
        "dct:modified": {"@value": dataset.updated_at.isoformat(), "@type": "xsd:dateTime"},
    }
    if dataset.organisation is not None:
        node["dct:publisher"] = {
            "@id": f"urn:dizuo:org:{dataset.organisation.code}",
            "@type": "foaf:Agent",
            "foaf:name": dataset.organisation.name,
        }
    if dataset.published_on:
        node["dct:issued"] = {"@value": dataset.published_on.isoformat(), "@type": "xsd:date"}
    if dataset.update_cycle in FREQUENCY:
        node["dct:accrualPeriodicity"] = {
            "@id": f"http://purl.org/cld/freq/{FREQUENCY[dataset.update_cycle]}"
        }
    if version is not None:
        fields = service.version_fields(session, version)
        node["dcat:distribution"] = [
            {
                "@type": "dcat:Distribution",
                "dct:format": "Parquet",
                "dcat:mediaType": "application/vnd.apache.parquet",
                "dcat:byteSize": {"@value": version.bytes, "@type": "xsd:nonNegativeInteger"},
                "dizuo:version": version.number,
                "dizuo:rows": version.rows,
                "csvw:tableSchema": {
                    "csvw:column": [
                        {
                            "csvw:name": f.name,
                            "csvw:datatype": f.type,
                            "csvw:required": not f.nullable,
                            "dct:description": f.description,
                        }
                        for f in fields
                    ]
                },
            }
        ]
    return node


def dcat(session: Session, codes: list[str] | None = None) -> dict[str, Any]:
    """The catalog (or some datasets of it) as a DCAT JSON-LD document."""
    rows = service.list_datasets(session)
    if codes:
        for code in codes:
            service.get_dataset(session, code)  # a clear error for an unknown code
        rows = [(d, v) for d, v in rows if d.code in codes]
    return {
        "@context": DCAT_CONTEXT,
        "@id": "urn:dizuo:catalog",
        "@type": "dcat:Catalog",
        "dct:title": {"@value": "政务信息资源目录", "@language": "zh"},
        "dcat:dataset": [_dataset_node(session, d, v) for d, v in rows],
    }


def gbt21063_rows(session: Session, codes: list[str] | None = None) -> list[dict[str, Any]]:
    rows = service.list_datasets(session)
    if codes:
        for code in codes:
            service.get_dataset(session, code)
        rows = [(d, v) for d, v in rows if d.code in codes]
    out = []
    for dataset, version in rows:
        fields = service.version_fields(session, version) if version else []
        out.append(
            {
                "code": dataset.code,
                "name": dataset.name,
                "provider": dataset.organisation.name if dataset.organisation else "",
                "provider_code": dataset.organisation.code if dataset.organisation else "",
                "summary": dataset.summary,
                "category": dataset.category,
                "format": dataset.format,
                "items": "；".join(f"{f.name}（{f.type}）" for f in fields),
                "update_cycle": dataset.update_cycle,
                "share_type": dataset.share_type,
                "share_condition": dataset.share_condition,
                "open_type": dataset.open_type,
                "published_on": dataset.published_on.isoformat() if dataset.published_on else "",
                "keywords": "，".join(dataset.keywords or []),
                "version": version.number if version else "",
                "rows": version.rows if version else "",
            }
        )
    return out


def gbt21063_csv(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([title for _, title in GBT21063_COLUMNS])
    for row in rows:
        writer.writerow([row[key] for key, _ in GBT21063_COLUMNS])
    return buf.getvalue()


def gbt21063_xlsx(rows: list[dict[str, Any]], path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "政务信息资源目录"
    ws.append([title for _, title in GBT21063_COLUMNS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append([row[key] for key, _ in GBT21063_COLUMNS])
    ws.freeze_panes = "A2"
    wb.save(path)
