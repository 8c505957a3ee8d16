"""The share service through its Python API, on SQLite and PostgreSQL: approval flows by share
type, refusals, the grant's life (suspend, resume, revoke, expiry, withdrawal), quotas metered
atomically (also under concurrent calls), statistics with small groups withheld, paging in the
version's row order, and the ODRL export.

Every test starts from :func:`tests.api_support.build_world`: a protected dataset
``edu_roll_shared`` (有条件共享) published as ``edu.scores`` (public) and ``edu.private``
(restricted to ``uni``), and a grant of ``consumer`` on ``edu.scores`` with ``max_calls=1000``.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from dizuo.audit import log as audit
from dizuo.auth import service as auth
from dizuo.catalog import service as catalog
from dizuo.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    PolicyViolation,
    QuotaExceeded,
)
from dizuo.share import deliver
from dizuo.share import service as share
from dizuo.share.models import AccessRequest, Grant, Usage
from dizuo.share.schemas import DecisionIn, GrantChange, GrantTerms, ProductIn, RequestIn
from dizuo.workspace import Workspace
from tests.api_support import build_world

# -- helpers -----------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    """build_world hashes seven passwords; Argon2id at full cost adds seconds and tests
    nothing here (tests/test_auth.py covers it)."""
    monkeypatch.setattr(
        auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


def who(ws: Workspace, name: str) -> auth.Principal:
    """The principal of a user holding every permission of its roles (as build_world does)."""
    with ws.session() as s:
        return auth.principal_of(s, name)


def ask(ws: Workspace, consumer: str, product: str = "edu.scores", **kw: Any) -> str:
    spec = RequestIn(product=product, purpose=kw.pop("purpose", "教育研究"), **kw)
    with ws.session(write=True) as s:  # as the API calls it
        return str(share.create_request(ws, s, who(ws, consumer), spec).id)


def decide(
    ws: Workspace, name: str, rid: str, decision: str = "approve", **kw: Any
) -> tuple[str, str | None]:
    """One decision; the request's status and the new grant's id (if this made one)."""
    spec = DecisionIn(decision=decision, **kw)  # type: ignore[arg-type]
    with ws.session(write=True) as s:
        request, grant = share.decide(ws, s, who(ws, name), rid, spec)
        return request.status, (str(grant.id) if grant else None)


def granted(
    ws: Workspace,
    consumer: str,
    product: str = "edu.scores",
    terms: GrantTerms | None = None,
    **kw: Any,
) -> str:
    """A grant through the full 有条件共享 flow: the provider, then the operator with terms."""
    rid = ask(ws, consumer, product, **kw)
    assert decide(ws, "edu_provider", rid) == ("pending", None)
    status, gid = decide(ws, "operator", rid, terms=terms)
    assert status == "approved" and gid is not None
    return gid


def grant_row(ws: Workspace, gid: str) -> Grant:
    with ws.session() as s:
        grant = s.get(Grant, uuid.UUID(gid))
        assert grant is not None
        return grant


def set_share_type(ws: Workspace, code: str, share_type: str) -> None:
    with ws.session() as s:
        catalog.get_dataset(s, code).share_type = share_type


def change(ws: Workspace, name: str, gid: str, action: str) -> str:
    with ws.session(write=True) as s:
        return share.change_grant(ws, s, who(ws, name), gid, action, GrantChange(reason="t")).status


def query(ws: Workspace, consumer: str, gid: str, **kw: Any) -> deliver.Page:
    args: dict[str, Any] = {"columns": None, "filter_text": "", "offset": 0, "limit": 10}
    args.update(kw)
    return deliver.query(ws, who(ws, consumer), gid, **args)


def publish(ws: Workspace, code: str, **kw: Any) -> None:
    spec: dict[str, Any] = {
        "code": code,
        "name": code,
        "dataset": "edu_roll_shared",
        "purposes": ["教育研究"],
        "delivery": ["download", "query", "statistics"],
    }
    spec.update(kw)
    with ws.session(write=True) as s:
        share.publish(ws, s, who(ws, "operator"), ProductIn(**spec))


def audited(ws: Workspace, gid: str) -> list[tuple[str, str]]:
    with ws.session() as s:
        entries, _ = audit.query(s, audit.EntryFilter(grant_id=gid), limit=10_000)
        return [(e.action, e.outcome) for e in entries]


# -- approvals ---------------------------------------------------------------------------


def test_approval_flows(ws: Workspace, tmp_path: Path) -> None:
    world = build_world(ws, tmp_path)

    # build_world's grant: provider first, then the operator with max_calls
    with ws.session() as s:
        request = s.get(AccessRequest, uuid.UUID(world.request_id))
        assert request is not None and request.status == "approved"
        assert request.needs == ["provider", "operator"]
        assert [a.step for a in request.approvals] == ["provider", "operator"]
    assert grant_row(ws, world.grant_id).max_calls == 1000

    # 有条件共享, the operator first (with terms), the provider last: the grant is made by the
    # last approval and carries the operator's terms
    rid = ask(ws, "consumer2", columns=["身份证号", "区县", "年龄", "成绩"], duration_days=30)
    terms = GrantTerms(columns=["区县", "成绩"], max_calls=7, max_rows=50, row_filter="年龄 >= 12")
    with pytest.raises(Forbidden, match="only the operator sets grant terms"):
        decide(ws, "edu_provider", rid, terms=terms)
    assert decide(ws, "operator", rid, terms=terms) == ("pending", None)
    status, gid = decide(ws, "edu_provider", rid)
    assert status == "approved" and gid is not None
    grant = grant_row(ws, gid)
    assert grant.columns == ["区县", "成绩"]
    assert (grant.max_calls, grant.max_rows) == (7, 50)
    assert "年龄" in grant.row_filter and "12" in grant.row_filter
    assert grant.purpose == "教育研究" and grant.user_id == who(ws, "consumer2").user_id
    left = auth.aware(grant.expires_at) - share.now()
    assert timedelta(days=29, hours=23) < left <= timedelta(days=30)
    # decided requests cannot be decided again, by anyone
    for name in ("operator", "edu_provider"):
        with pytest.raises(Conflict, match="already approved"):
            decide(ws, name, rid)

    # deciding one's own step twice; strangers; a rejection ends the request
    rid = ask(ws, "consumer2")
    assert decide(ws, "edu_provider", rid) == ("pending", None)
    with pytest.raises(Conflict, match="your step is already decided"):
        decide(ws, "edu_provider", rid)
    with pytest.raises(Conflict, match="already decided"):
        decide(ws, "edu_provider", rid, step="provider")
    with pytest.raises(NotFound):  # another provider's request: as if it did not exist
        decide(ws, "health_provider", rid)
    with pytest.raises(Forbidden, match="requests:decide"):
        decide(ws, "consumer2", rid)
    with pytest.raises(Forbidden, match="you cannot decide as operator"):
        decide(ws, "edu_provider", rid, step="operator")
    past = share.now() - timedelta(days=1)
    with pytest.raises(InvalidInput, match="in the past"):
        decide(ws, "operator", rid, terms=GrantTerms(expires_at=past))
    with pytest.raises(InvalidInput, match="联系电话"):
        decide(ws, "operator", rid, terms=GrantTerms(columns=["联系电话"]))
    assert decide(ws, "operator", rid, "reject", comment="不符合") == ("rejected", None)
    with pytest.raises(Conflict, match="already rejected"):
        decide(ws, "edu_provider", rid)

    rid = ask(ws, "consumer2")
    assert decide(ws, "edu_provider", rid, "reject") == ("rejected", None)
    with pytest.raises(Conflict, match="already rejected"):
        decide(ws, "operator", rid)
    with ws.session() as s:
        assert s.get(AccessRequest, uuid.UUID(rid)).decided_at is not None  # type: ignore[union-attr]

    # refusals at request time
    with pytest.raises(InvalidInput, match="purpose '商业营销' is not allowed"):
        ask(ws, "consumer2", purpose="商业营销")
    with pytest.raises(InvalidInput, match="联系电话"):
        ask(ws, "consumer2", columns=["区县", "联系电话"])  # protected away, not on offer
    with pytest.raises(InvalidInput, match="no field"):
        ask(ws, "consumer2", columns=["不存在"])
    with pytest.raises(NotFound):
        ask(ws, "consumer", "edu.private")  # restricted to uni; acme cannot see it
    assert ask(ws, "consumer2", "edu.private")
    publish(ws, "edu.files", delivery=["download"])
    with pytest.raises(InvalidInput, match="does not offer query"):
        ask(ws, "consumer2", "edu.files", delivery=["query"])

    # 无条件共享: the operator alone decides
    set_share_type(ws, "edu_roll_shared", "无条件共享")
    rid = ask(ws, "consumer2")
    with ws.session() as s:
        assert s.get(AccessRequest, uuid.UUID(rid)).needs == ["operator"]  # type: ignore[union-attr]
    with pytest.raises(Forbidden, match="cannot decide this request"):
        decide(ws, "edu_provider", rid)
    with pytest.raises(Conflict, match="needs no provider step"):
        decide(ws, "edu_provider", rid, step="provider")
    status, gid = decide(ws, "operator", rid, terms=GrantTerms(max_calls=3))
    assert status == "approved" and gid is not None and grant_row(ws, gid).max_calls == 3

    # 不予共享: neither published nor requested, even for a product published before
    set_share_type(ws, "edu_roll_shared", "不予共享")
    with pytest.raises(PolicyViolation, match="不予共享"):
        ask(ws, "consumer2")
    with pytest.raises(PolicyViolation, match="不予共享"):
        publish(ws, "edu.none")
    with pytest.raises(PolicyViolation, match="raw zone"):
        publish(ws, "edu.raw", dataset="edu_roll")

    # every decision is in the audit log, and the chain holds
    with ws.session() as s:
        _, approvals = audit.query(s, audit.EntryFilter(action="request.approve"))
        _, rejections = audit.query(s, audit.EntryFilter(action="request.reject"))
        assert (approvals, rejections) == (6, 2)
        assert audit.verify(ws, s).ok


# -- the grant's life --------------------------------------------------------------------


def test_grant_lifecycle_expiry_withdrawal_and_odrl(ws: Workspace, tmp_path: Path) -> None:
    world = build_world(ws, tmp_path)
    gid = world.grant_id

    # ODRL: the world's grant (all three modes, a call quota)
    with ws.session() as s:
        policy = share.odrl(s, share.get_grant(s, who(ws, "consumer"), gid))
    assert "http://www.w3.org/ns/odrl.jsonld" in policy["@context"]
    assert policy["@type"] == "Agreement" and policy["uid"] == f"urn:dizuo:grant:{gid}"
    assert policy["assigner"] == "urn:dizuo:org:edu" and policy["assignee"] == "urn:dizuo:org:acme"
    assert policy["target"]["uid"] == "urn:dizuo:product:edu.scores"
    assert policy["target"]["source"] == "urn:dizuo:dataset:edu_roll_shared@1"
    assert policy["target"]["refinement"] == [
        {
            "leftOperand": "dizuo:field",
            "operator": "isAnyOf",
            "rightOperand": ["身份证号", "区县", "成绩"],
        }
    ]
    assert sorted(p["action"] for p in policy["permission"]) == ["aggregate", "read", "reproduce"]
    constraints = {c["leftOperand"]: c for c in policy["permission"][0]["constraint"]}
    assert set(constraints) == {"dateTime", "purpose", "count"}
    assert constraints["dateTime"]["operator"] == "lt"
    assert constraints["dateTime"]["rightOperand"]["@type"] == "xsd:dateTime"
    expires = auth.aware(grant_row(ws, gid).expires_at).isoformat()
    assert constraints["dateTime"]["rightOperand"]["@value"] == expires
    assert constraints["purpose"] == {
        "leftOperand": "purpose",
        "operator": "eq",
        "rightOperand": "教育研究",
    }
    assert constraints["count"] == {
        "leftOperand": "count",
        "operator": "lteq",
        "rightOperand": 1000,
    }
    assert policy["prohibition"] == [
        {"target": "urn:dizuo:product:edu.scores", "action": "distribute"}
    ]
    assert policy["dizuo:status"] == "active"

    # a second grant: two modes, a row quota and a row filter
    gid2 = granted(
        ws,
        "consumer",
        delivery=["download", "query"],
        terms=GrantTerms(max_rows=100, row_filter="区县 = '锦江区'"),
    )
    with ws.session() as s:
        policy2 = share.odrl(s, share.get_grant(s, who(ws, "consumer"), gid2))
    assert {p["action"] for p in policy2["permission"]} == {"reproduce", "read"}
    refinements = {r["leftOperand"]: r for r in policy2["target"]["refinement"]}
    assert "锦江区" in refinements["dizuo:rowFilter"]["rightOperand"]
    constraints2 = {c["leftOperand"]: c for c in policy2["permission"][0]["constraint"]}
    assert set(constraints2) == {"dateTime", "purpose", "dizuo:rows"}
    assert constraints2["dizuo:rows"]["rightOperand"] == 100
    with pytest.raises(Forbidden, match="does not include statistics"):
        deliver.statistics(ws, who(ws, "consumer"), gid2, group_by=["区县"], filter_text="")
    with pytest.raises(NotFound):  # someone else's grant
        query(ws, "consumer2", gid2)

    # suspend → refused in every mode; resume → allowed; revoke is final
    assert len(query(ws, "consumer", gid, limit=3).rows) == 3
    with pytest.raises(Forbidden, match="grants:manage"):
        change(ws, "consumer", gid, "suspend")
    with pytest.raises(Forbidden, match="grants:manage"):
        change(ws, "edu_provider", gid, "suspend")
    assert change(ws, "operator", gid, "suspend") == "suspended"
    with pytest.raises(Forbidden, match="suspended"):
        query(ws, "consumer", gid)
    with pytest.raises(Forbidden, match="suspended"):
        deliver.download(ws, who(ws, "consumer"), gid, fmt="csv", columns=None)
    with pytest.raises(Forbidden, match="suspended"):
        deliver.statistics(ws, who(ws, "consumer"), gid, group_by=["区县"], filter_text="")
    with pytest.raises(Conflict):
        change(ws, "operator", gid, "suspend")
    assert change(ws, "operator", gid, "resume") == "active"
    with pytest.raises(Conflict):
        change(ws, "operator", gid, "resume")
    assert len(query(ws, "consumer", gid, limit=2).rows) == 2
    assert change(ws, "operator", gid, "revoke") == "revoked"
    with pytest.raises(Forbidden, match="revoked"):
        query(ws, "consumer", gid)
    for action in ("resume", "suspend", "revoke"):
        with pytest.raises(Conflict, match="revoked"):
            change(ws, "operator", gid, action)
    assert grant_row(ws, gid).calls_used == 2  # refused calls cost nothing
    log = audited(ws, gid)
    assert log.count(("data.query", "ok")) == 2
    assert ("data.query", "denied") in log and ("data.download", "denied") in log
    assert [a for a, o in log if a.startswith("grant.")] == [
        "grant.create",
        "grant.suspend",
        "grant.resume",
        "grant.revoke",
    ]

    # expiry
    assert len(query(ws, "consumer", gid2, limit=1).rows) == 1
    with ws.session() as s:
        s.get(Grant, uuid.UUID(gid2)).expires_at = share.now() - timedelta(seconds=1)  # type: ignore[union-attr]
    with pytest.raises(Forbidden, match="expired"):
        query(ws, "consumer", gid2)
    with ws.session() as s:
        grant = share.get_grant(s, who(ws, "consumer"), gid2)
        assert share.effective_status(grant) == "expired"
        assert share.odrl(s, grant)["dizuo:status"] == "expired"

    # withdrawal stops deliveries and new requests
    gid3 = granted(ws, "consumer2", "edu.private")
    assert query(ws, "consumer2", gid3, limit=1).rows
    with ws.session(write=True) as s:
        share.withdraw(ws, s, who(ws, "operator"), "edu.private")
    with pytest.raises(Forbidden, match="withdrawn"):
        query(ws, "consumer2", gid3)
    with pytest.raises(PolicyViolation, match="withdrawn"):
        ask(ws, "consumer2", "edu.private")  # still visible to its grantee, not requestable
    with pytest.raises(NotFound):
        ask(ws, "consumer", "edu.private")
    with ws.session() as s:
        assert audit.verify(ws, s).ok


# -- quotas, statistics, paging ----------------------------------------------------------


def test_quotas_statistics_and_paging(ws: Workspace, tmp_path: Path) -> None:
    world = build_world(ws, tmp_path)
    total = len(world.rows)

    # calls
    gid = granted(ws, "consumer2", terms=GrantTerms(max_calls=2))
    assert query(ws, "consumer2", gid, limit=1).quota["calls_left"] == 1
    assert query(ws, "consumer2", gid, limit=1).quota["calls_left"] == 0
    with pytest.raises(QuotaExceeded, match="call quota is spent"):
        query(ws, "consumer2", gid, limit=1)
    with pytest.raises(QuotaExceeded):
        deliver.statistics(ws, who(ws, "consumer2"), gid, group_by=["区县"], filter_text="")
    assert grant_row(ws, gid).calls_used == 2

    # rows: a page clipped to what is left, then nothing more
    gid = granted(ws, "consumer2", terms=GrantTerms(max_rows=10))
    page = query(ws, "consumer2", gid, limit=4)
    assert len(page.rows) == 4 and not page.clipped_by_quota and page.next_offset == 4
    assert page.quota["rows_left"] == 6
    page = query(ws, "consumer2", gid, offset=4, limit=100)
    assert len(page.rows) == 6 and page.clipped_by_quota and page.next_offset == 10
    assert page.quota["rows_left"] == 0
    with pytest.raises(QuotaExceeded, match="row quota is spent"):
        query(ws, "consumer2", gid, offset=10, limit=1)
    assert grant_row(ws, gid).rows_used == 10

    # a download larger than what is left is refused whole and costs nothing
    downloads = set(ws.tmp_path.glob("download-*"))
    gid = granted(ws, "consumer2", terms=GrantTerms(max_rows=total - 1))
    with pytest.raises(QuotaExceeded, match=f"holds {total} rows; the grant has {total - 1}"):
        deliver.download(ws, who(ws, "consumer2"), gid, fmt="parquet", columns=None)
    grant = grant_row(ws, gid)
    assert (grant.rows_used, grant.calls_used) == (0, 0)
    assert set(ws.tmp_path.glob("download-*")) == downloads
    assert ("data.download", "denied") in audited(ws, gid)
    # exactly what is left is allowed
    gid = granted(ws, "consumer2", terms=GrantTerms(max_rows=total))
    got = deliver.download(ws, who(ws, "consumer2"), gid, fmt="parquet", columns=["区县", "成绩"])
    table = pq.read_table(got.path)
    assert got.rows == total == table.num_rows and table.column_names == ["区县", "成绩"]
    assert table.to_pylist() == [{"区县": r["区县"], "成绩": r["成绩"]} for r in world.rows]
    got.path.unlink()
    assert grant_row(ws, gid).rows_used == total
    with pytest.raises(QuotaExceeded):
        query(ws, "consumer2", gid, limit=1)

    # statistics: groups smaller than the product's min_cell are withheld
    by_age = Counter(int(str(r["年龄"])) for r in world.rows)
    min_cell = sorted(by_age.values())[len(by_age) // 2]  # about half the groups are smaller
    shown = {age: n for age, n in by_age.items() if n >= min_cell}
    assert 0 < len(shown) < len(by_age)
    publish(ws, "edu.stats", columns=["区县", "年龄"], delivery=["statistics"], min_cell=min_cell)
    gid = granted(ws, "consumer2", "edu.stats")
    stats = deliver.statistics(ws, who(ws, "consumer2"), gid, group_by=["年龄"], filter_text="")
    assert stats.min_cell == min_cell
    assert {g["年龄"]: g["count"] for g in stats.groups} == shown
    assert [g["年龄"] for g in stats.groups] == sorted(shown)
    assert stats.suppressed_groups == len(by_age) - len(shown)
    # two dimensions: smaller cells, more of them withheld; a filter narrows first
    stats = deliver.statistics(
        ws, who(ws, "consumer2"), gid, group_by=["区县", "年龄"], filter_text="年龄 >= 12"
    )
    cells = Counter(
        (r["区县"], int(str(r["年龄"]))) for r in world.rows if int(str(r["年龄"])) >= 12
    )
    assert {(g["区县"], g["年龄"]): g["count"] for g in stats.groups} == {
        k: n for k, n in cells.items() if n >= min_cell
    }
    assert stats.suppressed_groups == sum(1 for n in cells.values() if n < min_cell)
    with pytest.raises(InvalidInput, match="成绩"):
        deliver.statistics(ws, who(ws, "consumer2"), gid, group_by=["成绩"], filter_text="")
    with pytest.raises(Forbidden, match="does not include query"):
        query(ws, "consumer2", gid)

    # paging: the version's row order, no overlap, no gap, next_offset until the end
    expected = [(r["区县"], r["成绩"]) for r in world.rows]
    for limit in (50, 48):
        rows: list[dict[str, Any]] = []
        offsets = []
        offset: int | None = 0
        while offset is not None:
            page = query(ws, "consumer", world.grant_id, offset=offset, limit=limit)
            assert page.offset == offset and page.columns == ["身份证号", "区县", "成绩"]
            assert not page.clipped_by_quota
            rows += page.rows
            offsets.append(offset)
            offset = page.next_offset
        assert offsets == list(range(0, total, limit))
        assert [(r["区县"], r["成绩"]) for r in rows] == expected
        ids = [r["身份证号"] for r in rows]
        assert len(set(ids)) == total  # no row twice
        assert not set(ids) & {r["身份证号"] for r in world.rows}  # pseudonyms only
    # a filtered page keeps the order too
    page = query(ws, "consumer", world.grant_id, filter_text="区县 = '锦江区'", limit=1000)
    assert [r["成绩"] for r in page.rows] == [
        r["成绩"] for r in world.rows if r["区县"] == "锦江区"
    ]
    assert page.next_offset is None
    past_end = query(ws, "consumer", world.grant_id, offset=total, limit=10)
    assert past_end.rows == [] and past_end.next_offset is None


def test_concurrent_calls_cannot_overspend_a_quota(ws: Workspace, tmp_path: Path) -> None:
    build_world(ws, tmp_path)
    principal = who(ws, "consumer2")

    def race(gid: str, limit: int, threads: int = 10) -> tuple[list[int], list[BaseException]]:
        rows: list[int] = []
        errors: list[BaseException] = []
        start = threading.Barrier(threads)

        def call() -> None:
            start.wait()
            try:
                page = deliver.query(
                    ws, principal, gid, columns=None, filter_text="", offset=0, limit=limit
                )
                rows.append(len(page.rows))
            except BaseException as exc:  # collected and checked below
                errors.append(exc)

        pool = [threading.Thread(target=call) for _ in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join(timeout=300)
        return rows, errors

    gid = granted(ws, "consumer2", terms=GrantTerms(max_calls=3))
    done, errors = race(gid, 1)
    assert len(done) == 3, errors
    assert len(errors) == 7 and all(isinstance(e, QuotaExceeded) for e in errors), errors
    grant = grant_row(ws, gid)
    assert (grant.calls_used, grant.rows_used) == (3, 3)
    with ws.session() as s:
        _, metered, n = share.usage(s, who(ws, "operator"), gid, offset=0, limit=100)
        assert n == 3 and all(isinstance(u, Usage) for u in metered)
    log = audited(ws, gid)
    assert log.count(("data.query", "ok")) == 3 and log.count(("data.query", "denied")) == 7

    # a row quota under the same race: never more rows than granted
    gid = granted(ws, "consumer2", terms=GrantTerms(max_rows=10))
    done, errors = race(gid, 3)
    assert all(isinstance(e, QuotaExceeded) for e in errors), errors
    assert sum(done) == grant_row(ws, gid).rows_used <= 10 and len(done) >= 3

    with ws.session() as s:
        verdict = audit.verify(ws, s)
        assert verdict.ok, verdict


# -- two decisions at once ---------------------------------------------------------------


def overlap(ws: Workspace, backend: str, first: Any, second: Any) -> tuple[Any, Any]:
    """``first(session)`` runs in a write transaction held open until ``second(session)``,
    in another, waits for it (PostgreSQL: a lock wait in pg_locks; SQLite: at its BEGIN
    IMMEDIATE); then both finish. Each one's result, or the exception it raised."""
    out: dict[str, Any] = {}
    pid: dict[str, int] = {}
    holding, release = threading.Event(), threading.Event()

    def run_first() -> None:
        try:
            with ws.session(write=True) as s:
                out["first"] = first(s)
                holding.set()
                release.wait(60)
        except BaseException as exc:  # returned to the test
            out["first"] = exc
            holding.set()

    def run_second() -> None:
        try:
            with ws.session(write=True) as s:
                if backend == "postgres":
                    pid["pid"] = s.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
                out["second"] = second(s)
        except BaseException as exc:  # returned to the test
            out["second"] = exc

    a = threading.Thread(target=run_first)
    a.start()
    assert holding.wait(60)
    b = threading.Thread(target=run_second)
    b.start()
    deadline = time.monotonic() + 20
    while b.is_alive() and time.monotonic() < deadline:
        if backend == "sqlite":
            b.join(0.5)  # waiting at BEGIN IMMEDIATE, or done
            break
        if "pid" in pid:
            with ws.db.connect() as conn:
                waits = conn.execute(
                    sa.text("SELECT count(*) FROM pg_locks WHERE pid = :p AND NOT granted"),
                    {"p": pid["pid"]},
                ).scalar()
            if waits:
                break
        time.sleep(0.02)
    release.set()
    a.join(60)
    b.join(60)
    return out["first"], out["second"]


def test_concurrent_revoke_and_resume_keep_the_revocation(
    ws: Workspace, tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    world = build_world(ws, tmp_path)
    gid = world.grant_id
    assert change(ws, "operator", gid, "suspend") == "suspended"
    operator = who(ws, "operator")

    def act(action: str) -> Any:
        return lambda s: share.change_grant(ws, s, operator, gid, action, GrantChange()).status

    first, second = overlap(ws, backend, act("revoke"), act("resume"))
    assert first == "revoked"
    assert isinstance(second, Conflict), second
    assert grant_row(ws, gid).status == "revoked"


def test_concurrent_provider_and_operator_approvals_make_one_grant(
    ws: Workspace, tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    build_world(ws, tmp_path)
    rid = ask(ws, "consumer2")
    provider, operator = who(ws, "edu_provider"), who(ws, "operator")

    def approve(principal: auth.Principal) -> Any:
        def run(s: Any) -> Any:
            req, grant = share.decide(ws, s, principal, rid, DecisionIn(decision="approve"))
            return req.status, grant is not None

        return run

    first, second = overlap(ws, backend, approve(provider), approve(operator))
    assert first == ("pending", False)
    assert second == ("approved", True), second
    with ws.session() as s:
        grants = s.scalars(sa.select(Grant).where(Grant.request_id == uuid.UUID(rid))).all()
        assert len(grants) == 1


def test_the_same_step_decided_twice_at_once_is_a_conflict(
    ws: Workspace, tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    build_world(ws, tmp_path)
    set_share_type(ws, "edu_roll_shared", "无条件共享")
    rid = ask(ws, "consumer2")
    operator = who(ws, "operator")

    def approve(s: Any) -> Any:
        return share.decide(ws, s, operator, rid, DecisionIn(decision="approve"))[0].status

    first, second = overlap(ws, backend, approve, approve)
    assert first == "approved"
    if isinstance(second, BaseException) and not isinstance(second, Conflict):
        raise second
    assert isinstance(second, Conflict), second
