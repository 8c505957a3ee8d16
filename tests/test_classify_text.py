"""Free-text spans: hand-made cases and the demo city's labelled spans."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dizuo.classify.entities import Entity
from dizuo.classify.text import Span, scan_text
from dizuo.demo.generate import generate_city

E = Entity


def kinds(text: str) -> list[tuple[str, Entity]]:
    return [(s.text, s.entity) for s in scan_text([text])[0]]


def test_hand_made_texts() -> None:
    text = (
        "市民王琪代其家人孙阳反映：成都市双流区西航港大道186号5栋2单元801室噪音，"
        "电话１５９０２５１９３８０。"
    )
    assert kinds(text) == [
        ("王琪", E.PERSON_NAME),
        ("孙阳", E.PERSON_NAME),
        ("成都市双流区西航港大道186号5栋2单元801室", E.ADDRESS),
        ("１５９０２５１９３８０", E.MOBILE_PHONE),
    ]
    assert kinds("来电人赵敏（身份证号５１０１０８２００９０４０８１４５ｘ）称") == [
        ("赵敏", E.PERSON_NAME),
        ("５１０１０８２００９０４０８１４５ｘ", E.RESIDENT_ID),
    ]
    assert kinds("家属电话138-1234-5678，备用 138 1234 5679") == [
        ("138-1234-5678", E.MOBILE_PHONE),
        ("138 1234 5679", E.MOBILE_PHONE),
    ]
    mixed = (
        "卡号6222020200112233446，企业91510106MA30UU7TXB，车牌川A12345，IP 10.0.0.1，邮箱 a.b@x.cn"
    )
    assert [k for _, k in kinds(mixed)] == [
        E.BANK_CARD,
        E.USCC,
        E.LICENSE_PLATE,
        E.IPV4,
        E.EMAIL,
    ]


def test_decoys_in_text_are_not_spans() -> None:
    assert kinds("订单号510108200904081451，流水号12345678901，卡号5101124063916058") == []
    assert kinds("发热3天，予对症处理，嘱多饮水。") == []


def test_offsets_index_the_original_text() -> None:
    texts = ["电话：１３８１２３４５６７８", None, "", "反映人：刘洋\u3000电话：13912345678"]
    found = scan_text(pa.array(texts))
    assert [len(f) for f in found] == [1, 0, 0, 2]
    for text, spans in zip(texts, found, strict=True):
        for span in spans:
            assert isinstance(span, Span) and text is not None
            assert text[span.start : span.end] == span.text


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("city_text")
    generate_city(folder, scale=0.2)
    return folder


def test_demo_city_spans(city: Path) -> None:
    manifest = json.loads((city / "manifest.json").read_text(encoding="utf-8"))
    paths = {d["code"]: d for d in manifest["datasets"]}
    truth = pq.read_table(city / "truth" / "spans.parquet").to_pylist()
    want = {(t["dataset"], t["row"], t["start"], t["end"], t["entity_type"]) for t in truth}
    got: set[tuple[str, int, int, int, str]] = set()
    con = duckdb.connect()
    for dataset, column in {(t["dataset"], t["column"]) for t in truth}:
        meta = paths[dataset]
        raw = (city / meta["path"]).read_bytes().decode(meta["encoding"] or "utf-8")
        tmp = city / f"{dataset}.utf8{Path(meta['path']).suffix}"
        tmp.write_text(raw, encoding="utf-8")
        reader = "read_json" if tmp.suffix == ".json" else "read_csv"
        texts = con.sql(f"SELECT \"{column}\" FROM {reader}('{tmp}')").to_arrow_table()
        for row, spans in enumerate(scan_text(texts.column(0))):
            got |= {(dataset, row, s.start, s.end, s.entity.value) for s in spans}
    per_entity = {}
    for entity in {w[4] for w in want}:
        w = {x for x in want if x[4] == entity}
        g = {x for x in got if x[4] == entity}
        per_entity[entity] = (len(w & g) / max(1, len(g)), len(w & g) / len(w))
    hits = len(want & got)
    precision, recall = hits / len(got), hits / len(want)
    assert precision >= 0.9 and recall >= 0.9, (precision, recall, per_entity)
    for entity, (p, r) in per_entity.items():
        assert p >= 0.85 and r >= 0.85, (entity, per_entity)
