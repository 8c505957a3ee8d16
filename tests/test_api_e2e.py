"""The whole data service over HTTP, on SQLite and on PostgreSQL: register and upload,
classify, protect and publish, request and approve, download exactly what was granted, the
quota and then the revocation stop the consumer, and the auditor's chain check catches an
edited entry."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pyarrow.parquet as pq
import sqlalchemy as sa
from stdnum.cn import ric

from dizuo.lake.query import run_sql
from dizuo.workspace import Workspace
from tests.api_support import Api, error, ok, seed_accounts, serve

DISTRICTS = ["锦江区", "青羊区", "金牛区", "武侯区", "成华区"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英"


def _check(body: str) -> str:
    """GB 11643 check character of a 17-digit body."""
    return "10X98765432"[sum(int(c) * pow(2, 17 - i, 11) for i, c in enumerate(body)) % 11]


def student_csv(path: Path, n: int = 240, seed: int = 7) -> list[dict[str, object]]:
    """A roll of students: names, resident IDs with valid check digits, phones, district,
    age and score."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        birth = f"{rng.randint(2008, 2018)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
        body = f"510104{birth}{i % 1000:03d}"
        rows.append(
            {
                "姓名": rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
                "身份证号": body + _check(body),
                "联系电话": f"13{rng.randint(0, 9)}{rng.randint(10**7, 10**8 - 1)}",
                "区县": DISTRICTS[i % len(DISTRICTS)],
                "年龄": 2026 - int(birth[:4]),
                "成绩": rng.randint(40, 100),
            }
        )
    assert all(ric.is_valid(str(r["身份证号"])) for r in rows)  # python-stdnum as the oracle
    header = list(rows[0])
    lines = [",".join(header)] + [",".join(str(r[h]) for h in header) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return rows


RECIPE = {
    "version": 1,
    "default": "drop",
    "fields": {
        "姓名": {"transform": "mask", "preset": "person_name"},
        "身份证号": {"transform": "pseudonymise"},
        "联系电话": {"transform": "mask", "preset": "mobile_phone"},
        "区县": "keep",
        "年龄": "keep",
        "成绩": "keep",
    },
}


def test_the_data_service_end_to_end(ws: Workspace, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    seed_accounts(ws)
    source = tmp_path / "学生名册.csv"
    rows = student_csv(source)
    with serve(ws) as base:
        anonymous = Api(base)
        provider = anonymous.as_user("edu_provider")
        operator = anonymous.as_user("operator")
        consumer = anonymous.as_user("consumer")
        auditor = anonymous.as_user("auditor")

        # the provider registers the resource (有条件共享) and uploads the file
        ok(
            provider.post(
                "/datasets",
                json={"code": "edu_roll", "name": "学生名册", "share_type": "有条件共享"},
            ),
            201,
        )
        with source.open("rb") as fh:
            up = ok(
                provider.post("/datasets/edu_roll/versions", files={"file": (source.name, fh)}),
                201,
            )
        assert up["version"] == 1 and up["rows"] == len(rows)

        # the operator classifies, protects and publishes
        verdict = ok(operator.post("/datasets/edu_roll/classify", json={"sample_rows": None}))
        entities = {c["column"]: c["entity"] for c in verdict["columns"]}
        assert entities["身份证号"] == "resident_id" and entities["联系电话"] == "mobile_phone"
        # the raw zone cannot be published
        error(
            operator.post(
                "/products",
                json={
                    "code": "edu.raw",
                    "name": "x",
                    "dataset": "edu_roll",
                    "purposes": ["科研"],
                    "delivery": ["download"],
                },
            ),
            403,
            "policy_violation",
        )
        protected = ok(operator.post("/datasets/edu_roll/protect", json={"recipe": RECIPE}))
        assert protected["target"] == "edu_roll_shared@1"
        product = ok(
            operator.post(
                "/products",
                json={
                    "code": "edu.scores",
                    "name": "学生成绩（去标识化）",
                    "description": "各区学生成绩，用于教育研究",
                    "dataset": "edu_roll_shared",
                    "columns": ["身份证号", "姓名", "区县", "年龄", "成绩"],
                    "row_filter": "年龄 >= 10",
                    "purposes": ["教育研究", "政策评估"],
                    "terms": "仅限申请用途，不得再识别个人",
                    "price": "0",
                    "delivery": ["download", "query", "statistics"],
                },
            ),
            201,
        )
        fields = {f["name"]: f for f in product["fields"]}
        assert fields["身份证号"]["classification"]["pi"] is True
        assert fields["身份证号"]["classification"]["protection"] == "pseudonymise"
        assert "联系电话" not in fields
        assert rows[0]["身份证号"] not in str(product)  # no raw values on a product page

        # the consumer finds it, and requests three fields by download and query
        found = ok(consumer.get("/products", params={"q": "学生成绩"}))
        assert [p["code"] for p in found["items"]] == ["edu.scores"]
        request = ok(
            consumer.post(
                "/requests",
                json={
                    "product": "edu.scores",
                    "purpose": "教育研究",
                    "columns": ["身份证号", "区县", "成绩"],
                    "delivery": ["download", "query"],
                    "duration_days": 30,
                },
            ),
            201,
        )
        assert request["needs"] == ["provider", "operator"]
        rid = request["id"]
        # nothing before approval: the consumer has no grant
        assert ok(consumer.get("/grants"))["page"]["total"] == 0

        # the expected rows, computed from the source file without dizuo
        expected = [r for r in rows if int(r["年龄"]) >= 10 and r["区县"] == "锦江区"]
        assert 0 < len(expected) < len(rows)

        # the provider approves its step; the operator approves with terms
        step1 = ok(provider.post(f"/requests/{rid}/decision", json={"decision": "approve"}))
        assert step1["status"] == "pending" and step1["grant"] is None
        error(
            provider.post(f"/requests/{rid}/decision", json={"decision": "approve"}),
            409,
            "conflict",
        )
        step2 = ok(
            operator.post(
                f"/requests/{rid}/decision",
                json={
                    "decision": "approve",
                    "terms": {"row_filter": "区县 = '锦江区'", "max_rows": len(expected)},
                },
            )
        )
        assert step2["status"] == "approved"
        gid = step2["grant"]
        grant = ok(consumer.get(f"/grants/{gid}"))
        assert grant["columns"] == ["身份证号", "区县", "成绩"] and grant["status"] == "active"

        # a field outside the grant, or a filter on one, is refused (and costs nothing)
        error(
            consumer.post(f"/grants/{gid}/query", json={"columns": ["年龄"]}), 400, "invalid_input"
        )
        error(
            consumer.post(f"/grants/{gid}/query", json={"filter": "年龄 > 3"}), 400, "invalid_input"
        )
        error(consumer.post(f"/grants/{gid}/statistics", json={"group_by": ["区县"]}), 403)

        # download: exactly the granted fields and rows, from the protected version
        r = consumer.get(f"/grants/{gid}/download", params={"format": "parquet"})
        assert r.status_code == 200, r.text
        table = pq.read_table(io.BytesIO(r.content))
        assert table.column_names == ["身份证号", "区县", "成绩"]
        assert table.num_rows == len(expected)
        oracle = run_sql(
            ws,
            "SELECT 身份证号, 区县, 成绩 FROM edu_roll_shared WHERE 年龄 >= 10 AND 区县 = '锦江区'",
        )
        assert sorted(table.to_pylist(), key=str) == sorted(oracle.to_pylist(), key=str)
        assert sorted(table.column("成绩").to_pylist()) == sorted(int(x["成绩"]) for x in expected)
        raw_ids = {str(x["身份证号"]) for x in rows}
        assert not raw_ids & set(table.column("身份证号").to_pylist())  # pseudonyms only

        # the row quota is spent: the next call is refused
        error(consumer.post(f"/grants/{gid}/query", json={"limit": 10}), 429, "quota_exceeded")
        metered = ok(consumer.get(f"/grants/{gid}/usage"))
        assert metered["grant"]["rows_used"] == len(expected)
        assert metered["grant"]["calls_used"] == 1
        assert [u["mode"] for u in metered["items"]] == ["download"]
        assert ok(operator.get(f"/grants/{gid}/usage"))["grant"]["bytes_used"] > 0

        # the operator revokes: the call after is refused for that reason
        ok(operator.post(f"/grants/{gid}/revoke", json={"reason": "项目结束"}))
        gone = error(consumer.post(f"/grants/{gid}/query", json={"limit": 1}), 403, "forbidden")
        assert "revoked" in gone["message"]
        error(consumer.get(f"/grants/{gid}/download"), 403, "forbidden")

        # ODRL export
        policy = ok(consumer.get(f"/grants/{gid}/odrl"))
        assert policy["@type"] == "Agreement" and policy["uid"].endswith(gid)
        assert {p["action"] for p in policy["permission"]} == {"reproduce", "read"}

        # the auditor verifies the chain and reads it by grant
        verified = ok(auditor.get("/audit/verify"))
        assert verified["ok"] is True, verified
        by_grant = ok(auditor.get("/audit/entries", params={"grant": gid, "limit": 100}))
        actions = [(e["action"], e["outcome"]) for e in by_grant["items"]]
        assert ("grant.create", "ok") in actions and ("data.download", "ok") in actions
        assert ("data.query", "denied") in actions and ("grant.revoke", "ok") in actions
        by_user = ok(auditor.get("/audit/entries", params={"user": "consumer", "limit": 500}))
        assert {e["actor"] for e in by_user["items"]} == {"consumer"}
        for action in ("version.ingest", "classify.run", "version.protect", "product.publish"):
            assert ok(auditor.get("/audit/entries", params={"action": action}))["page"]["total"]
        # consumers cannot read the log
        error(consumer.get("/audit/entries"), 403, "forbidden")
        # a checkpoint the auditor keeps outside dizuo, checked against the log later
        error(auditor.get("/audit/checkpoint"), 404, "not_found")  # none signed yet
        assert cli(ws, "audit", "checkpoint").code == 0
        kept = ok(auditor.get("/audit/checkpoint"))
        assert ok(auditor.post("/audit/verify", json={"anchor": kept}))["ok"] is True
        forged = {**kept, "digest": "0" * 64}
        assert ok(auditor.post("/audit/verify", json={"anchor": forged}))["ok"] is False

        # someone edits one entry in the database: verification fails and names it
        download_entry = next(e for e in by_grant["items"] if e["action"] == "data.download")
        with ws.db.begin() as conn:
            conn.execute(
                sa.text("UPDATE audit_log SET details = :d WHERE seq = :s"),
                {"d": '{"rows": 1}', "s": download_entry["seq"]},
            )
        broken = ok(auditor.get("/audit/verify"))
        assert broken["ok"] is False and broken["first_bad"] == download_entry["seq"]
        assert "edited" in broken["problem"]
    result = cli(ws, "audit", "verify")
    assert result.code == 11
    assert f"entry {download_entry['seq']}" in result.err
