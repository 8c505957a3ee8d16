"""The audit log's hash chain on SQLite and PostgreSQL: every kind of tampering is caught and
the first bad entry named; signed checkpoints catch a chain rewritten by someone who knows SM3;
concurrent appends keep one gap-free order; the query filters; the ``dizuo audit`` commands.

Digests are recomputed here with :mod:`hashlib` (its own SM3 and SHA-256) from the documented
formula, so the tests do not only agree with the code with itself."""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from dizuo.audit import log as audit
from dizuo.audit.models import GENESIS, AuditCheckpoint, AuditEntry, AuditHead
from dizuo.errors import InvalidInput
from dizuo.workspace import Workspace

FIELDS = ("seq", "at", "actor", "action", "outcome", "target", "dataset", "grant_id", "details")
ACTORS = ("alice", "bob", "carol")
ACTIONS = ("product.publish", "request.create", "data.query")
GRANTS = ("00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002")


# -- helpers -----------------------------------------------------------------------------


def oracle_digest(prev: str, values: dict[str, Any], algorithm: str = "sm3") -> str:
    """``H(prev ‖ sorted compact JSON of the fields)``, computed without dizuo."""
    text = json.dumps(
        {k: values[k] for k in FIELDS}, ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )
    h = hashlib.new(algorithm)
    h.update(bytes.fromhex(prev))
    h.update(text.encode("utf-8"))
    return h.hexdigest()


def fill(ws: Workspace, n: int) -> None:
    """Append ``n`` entries, one transaction each, with varied actors, actions and targets."""
    for i in range(n):
        with ws.session() as s:
            audit.record(
                ws,
                s,
                actor=ACTORS[i % 3],
                action=ACTIONS[i % 3],
                target=f"thing:{i}",
                dataset="edu_roll" if i % 2 == 0 else "health_visits",
                grant_id=GRANTS[i % 2] if i % 4 < 2 else None,
                details={"i": i, "名称": "学生名册", "columns": ["区县", "成绩"]},
            )


def verify(ws: Workspace) -> audit.Verdict:
    with ws.session() as s:
        return audit.verify(ws, s)


def rows(ws: Workspace) -> list[dict[str, Any]]:
    with ws.session() as s:
        return [
            {**{k: getattr(e, k) for k in FIELDS}, "prev_digest": e.prev_digest, "digest": e.digest}
            for e in s.scalars(sa.select(AuditEntry).order_by(AuditEntry.seq))
        ]


def sql(ws: Workspace, statement: str, **params: Any) -> None:
    """What someone with write access to the catalog database can do."""
    with ws.db.begin() as conn:
        conn.execute(sa.text(statement), params)


def set_head(ws: Workspace, seq: int, digest: str) -> None:
    sql(ws, "UPDATE audit_head SET seq = :s, digest = :d WHERE id = 1", s=seq, d=digest)


# -- the chain ---------------------------------------------------------------------------


def test_an_intact_chain_verifies_and_matches_the_documented_formula(ws: Workspace) -> None:
    fill(ws, 12)
    verdict = verify(ws)
    assert verdict.ok, verdict
    assert (verdict.entries, verdict.head, verdict.first_bad, verdict.problem) == (12, 12, None, "")
    entries = rows(ws)
    assert [e["seq"] for e in entries] == list(range(1, 13))
    prev = GENESIS
    for e in entries:
        assert e["prev_digest"] == prev
        assert e["digest"] == oracle_digest(prev, e), e["seq"]
        prev = e["digest"]
    # details read back exactly as they were hashed (Chinese text kept, not \u-escaped)
    assert entries[0]["details"] == {"i": 0, "名称": "学生名册", "columns": ["区县", "成绩"]}
    with ws.session() as s:
        head = s.get(AuditHead, 1)
        assert head is not None and (head.seq, head.digest) == (12, prev)


def test_an_empty_log_verifies(ws: Workspace) -> None:
    verdict = verify(ws)
    assert verdict.ok and verdict.entries == 0 and verdict.head == 0


@pytest.mark.parametrize(
    ("column", "forged"),
    [
        ("details", '{"i": 999}'),
        ("actor", "mallory"),
        ("at", "2020-01-01T00:00:00.000000Z"),
        ("action", "data.statistics"),
        ("outcome", "denied"),
        ("target", "thing:other"),
        ("dataset", "other_dataset"),
    ],
)
def test_an_edited_entry_is_named(ws: Workspace, column: str, forged: str) -> None:
    fill(ws, 9)
    original = rows(ws)
    for k in (1, 5, 9):  # the first, one in the middle, the last
        sql(ws, f"UPDATE audit_log SET {column} = :v WHERE seq = :k", v=forged, k=k)
        verdict = verify(ws)
        assert not verdict.ok
        assert verdict.first_bad == k, (column, k, verdict)
        assert "edited" in verdict.problem and f"entry {k} " in verdict.problem
        value = original[k - 1][column]
        if column == "details":
            value = json.dumps(value, ensure_ascii=False)
        sql(ws, f"UPDATE audit_log SET {column} = :v WHERE seq = :k", v=value, k=k)
        assert verify(ws).ok, (column, k)


def test_a_deleted_entry_is_named_as_missing(ws: Workspace) -> None:
    fill(ws, 10)
    sql(ws, "DELETE FROM audit_log WHERE seq = 4")
    verdict = verify(ws)
    assert not verdict.ok and verdict.first_bad == 4
    assert "entry 4 is missing" in verdict.problem
    assert verdict.entries == 3


def test_the_first_entry_deleted_is_named(ws: Workspace) -> None:
    fill(ws, 4)
    sql(ws, "DELETE FROM audit_log WHERE seq = 1")
    verdict = verify(ws)
    assert not verdict.ok and verdict.first_bad == 1 and "missing" in verdict.problem


@pytest.mark.parametrize(("i", "j"), [(3, 7), (5, 6)])
def test_swapped_entries_name_the_first_moved_one(ws: Workspace, i: int, j: int) -> None:
    fill(ws, 10)
    # move the rows: entry i takes j's place and j takes i's (each keeps its own digests)
    sql(ws, "UPDATE audit_log SET seq = -1 WHERE seq = :i", i=i)
    sql(ws, "UPDATE audit_log SET seq = :i WHERE seq = :j", i=i, j=j)
    sql(ws, "UPDATE audit_log SET seq = :j WHERE seq = -1", j=j)
    verdict = verify(ws)
    assert not verdict.ok and verdict.first_bad == i, verdict
    assert f"entry {i} does not chain" in verdict.problem


def test_swapped_contents_with_seq_kept_are_caught(ws: Workspace) -> None:
    """The contents swapped but each row keeps its seq (so the hashed seq no longer fits)."""
    fill(ws, 8)
    entries = rows(ws)
    a, b = entries[2], entries[5]  # seq 3 and 6
    with ws.session() as s:
        for target, source in ((a, b), (b, a)):
            s.execute(
                sa.update(AuditEntry)
                .where(AuditEntry.seq == target["seq"])
                .values(
                    **{k: source[k] for k in FIELDS if k != "seq"},
                    prev_digest=source["prev_digest"],
                    digest=source["digest"],
                )
            )
    verdict = verify(ws)
    assert not verdict.ok and verdict.first_bad == 3, verdict


def test_an_inserted_forged_entry_is_caught(ws: Workspace) -> None:
    """A forged entry with a correct digest of its own, put after entry 4 with the rest moved
    up by one: the entry after it no longer chains to it."""
    fill(ws, 8)
    entries = rows(ws)
    sql(ws, "UPDATE audit_log SET seq = seq + 1000 WHERE seq >= 5")
    sql(ws, "UPDATE audit_log SET seq = seq - 999 WHERE seq >= 1000")
    prev = entries[3]["digest"]
    forged = {
        "seq": 5,
        "at": entries[4]["at"],
        "actor": "mallory",
        "action": "data.download",
        "outcome": "ok",
        "target": "product:edu.scores",
        "dataset": "edu_roll",
        "grant_id": None,
        "details": {"rows": 0},
    }
    digest = oracle_digest(prev, forged)
    with ws.session() as s:
        s.add(AuditEntry(**forged, algorithm="sm3", prev_digest=prev, digest=digest))
    verdict = verify(ws)
    assert not verdict.ok
    # the forgery itself is self-consistent; the break shows at the first entry it displaced
    assert verdict.first_bad == 6, verdict
    assert "entry 6 does not chain to entry 5" in verdict.problem

    # also re-pointing the head at the new last entry does not help
    last = rows(ws)[-1]
    set_head(ws, last["seq"], last["digest"])
    assert verify(ws).first_bad == 6


def test_truncation_is_caught_by_the_head_or_a_later_checkpoint(ws: Workspace) -> None:
    ws.settings.audit_checkpoint_every = 5
    fill(ws, 12)  # checkpoints at 5 and 10
    assert verify(ws).checkpoints == 2
    entries = rows(ws)

    # the last entries removed, the head left alone: the head says more were written
    sql(ws, "DELETE FROM audit_log WHERE seq > 11")
    verdict = verify(ws)
    assert not verdict.ok and verdict.first_bad == 12 and verdict.head == 12
    assert "entries after 11 were removed" in verdict.problem

    # ... and the head fixed to match: the checkpoint signed at 10 is beyond the end
    sql(ws, "DELETE FROM audit_log WHERE seq > 8")
    set_head(ws, 8, entries[7]["digest"])
    verdict = verify(ws)
    assert not verdict.ok and verdict.first_bad == 9, verdict
    assert "entries after 8 were removed" in verdict.problem
    assert "should hold 10" in verdict.problem


def test_truncation_after_the_last_checkpoint_is_not_detectable(ws: Workspace) -> None:
    """The documented limit: entries after the last signed checkpoint can be cut off (with
    the head fixed) unnoticed — sign often (``audit checkpoint``) to narrow that window."""
    ws.settings.audit_checkpoint_every = 5
    fill(ws, 7)
    entries = rows(ws)
    sql(ws, "DELETE FROM audit_log WHERE seq > 5")
    set_head(ws, 5, entries[4]["digest"])
    assert verify(ws).ok


def test_an_anchor_kept_outside_catches_truncation_after_the_last_checkpoint(
    ws: Workspace,
    cli,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    """The regulator keeps the latest signed checkpoint (``audit checkpoint --out``); cutting
    the entries it signed, head fixed, no longer goes unnoticed."""
    ws.settings.audit_checkpoint_every = 5
    fill(ws, 7)
    anchor = tmp_path / "anchor.json"
    result = cli(ws, "audit", "checkpoint", "--out", str(anchor))
    assert result.code == 0, result.err
    kept = json.loads(anchor.read_text())
    assert kept["seq"] == 7 and kept["algorithm"] == "Ed25519"
    assert cli(ws, "audit", "verify", "--anchor", str(anchor)).code == 0
    entries = rows(ws)
    sql(ws, "DELETE FROM audit_log WHERE seq > 5")
    sql(ws, "DELETE FROM audit_checkpoints WHERE seq > 5")
    set_head(ws, 5, entries[4]["digest"])
    assert verify(ws).ok  # the database alone cannot tell
    with ws.session() as s:
        verdict = audit.verify(ws, s, anchor=kept)
    assert not verdict.ok and verdict.first_bad == 7 and "truncated" in verdict.problem
    broken = cli(ws, "audit", "verify", "--anchor", str(anchor))
    assert broken.code == 11 and "entry 7" in broken.err and "Traceback" not in broken.err


def test_a_forged_or_broken_anchor_is_refused(ws: Workspace, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ws.settings.audit_checkpoint_every = 5
    fill(ws, 6)
    with ws.session() as s:
        kept = audit.checkpoint_dict(audit.latest_checkpoint(s))  # type: ignore[arg-type]
    forged = {**kept, "digest": "0" * 64}
    with ws.session() as s:
        verdict = audit.verify(ws, s, anchor=forged)
    assert not verdict.ok and "signature is invalid" in verdict.problem
    other = Ed25519PrivateKey.generate()
    foreign = {
        **kept,
        "public_key": other.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex(),
    }
    with ws.session() as s:
        assert "not signed by this workspace" in audit.verify(ws, s, anchor=foreign).problem
    bad = tmp_path / "anchor.json"
    bad.write_text("{not json")
    result = cli(ws, "audit", "verify", "--anchor", str(bad))
    assert result.code == 2 and "anchor.json" in result.err and "Traceback" not in result.err
    bad.write_text('{"seq": 1}')
    result = cli(ws, "audit", "verify", "--anchor", str(bad))
    assert result.code == 2 and "anchor needs" in result.err


def _rewrite_from(ws: Workspace, k: int, details: dict[str, Any]) -> None:
    """Edit entry k and recompute every digest after it and the head, as an attacker who
    knows SM3 (but not the workspace secret) could."""
    with ws.session() as s:
        entries = list(s.scalars(sa.select(AuditEntry).order_by(AuditEntry.seq)))
        prev = GENESIS
        for e in entries:
            if e.seq == k:
                e.details = details
            if e.seq >= k:
                e.prev_digest = prev
                e.digest = oracle_digest(prev, {f: getattr(e, f) for f in FIELDS})
            prev = e.digest
        s.execute(sa.update(AuditHead).where(AuditHead.id == 1).values(digest=prev))


def test_a_consistently_rewritten_chain_is_caught_by_the_signed_checkpoint(
    ws: Workspace,
) -> None:
    ws.settings.audit_checkpoint_every = 5
    fill(ws, 12)
    _rewrite_from(ws, 3, {"i": 2, "rows": 0})
    verdict = verify(ws)
    assert not verdict.ok
    assert verdict.first_bad == 5, verdict  # the first signed checkpoint at or after the edit
    assert "does not match the signed checkpoint" in verdict.problem


def test_deleting_the_checkpoints_does_not_hide_a_rewrite(ws: Workspace) -> None:
    ws.settings.audit_checkpoint_every = 5
    fill(ws, 12)
    _rewrite_from(ws, 3, {"i": 2, "rows": 0})
    sql(ws, "DELETE FROM audit_checkpoints")
    verdict = verify(ws)
    assert not verdict.ok and verdict.first_bad is not None and verdict.first_bad <= 5


def test_a_deleted_head_row_is_reported_not_a_crash(ws: Workspace, cli) -> None:  # type: ignore[no-untyped-def]
    fill(ws, 3)
    sql(ws, "DELETE FROM audit_head")
    verdict = verify(ws)
    assert not verdict.ok and "head" in verdict.problem
    result = cli(ws, "audit", "verify")
    assert result.code == 11 and "Traceback" not in result.err


def test_forged_checkpoints_are_refused(ws: Workspace) -> None:
    ws.settings.audit_checkpoint_every = 5
    fill(ws, 12)
    _rewrite_from(ws, 3, {"i": 2, "rows": 0})
    rewritten = {e["seq"]: e["digest"] for e in rows(ws)}
    with ws.session() as s:
        original = {
            p.seq: (p.digest, p.public_key, p.signature, p.at)
            for p in s.scalars(sa.select(AuditCheckpoint))
        }

    def set_point(seq: int, digest: str, public_key: str, signature: str) -> None:
        with ws.session() as s:
            s.execute(
                sa.update(AuditCheckpoint)
                .where(AuditCheckpoint.seq == seq)
                .values(digest=digest, public_key=public_key, signature=signature)
            )

    # 1. the checkpoint's digest replaced, the old signature kept
    digest, key, signature, at = original[5]
    set_point(5, rewritten[5], key, signature)
    verdict = verify(ws)
    assert not verdict.ok and verdict.first_bad == 5
    assert "checkpoint 5 has an invalid signature" in verdict.problem

    # 2. re-signed with the attacker's own key (and that key recorded)
    mine = Ed25519PrivateKey.generate()
    mine_public = mine.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
    message = f"dizuo-audit-checkpoint:5:{rewritten[5]}:{at}".encode()
    set_point(5, rewritten[5], mine_public, mine.sign(message).hex())
    verdict = verify(ws)
    assert not verdict.ok and verdict.first_bad == 5
    assert "not signed by this workspace's key" in verdict.problem

    # 3. signed with the attacker's key but claiming the workspace's public key
    set_point(5, rewritten[5], audit.public_key(ws), mine.sign(message).hex())
    verdict = verify(ws)
    assert not verdict.ok and "checkpoint 5 has an invalid signature" in verdict.problem

    # 4. a signature that is not even hex
    set_point(5, digest, key, "zz" * 64)
    verdict = verify(ws)
    assert not verdict.ok and "invalid signature" in verdict.problem

    # the genuine checkpoint back: it still catches the rewrite
    set_point(5, digest, key, signature)
    verdict = verify(ws)
    assert not verdict.ok and verdict.first_bad == 5
    assert "does not match the signed checkpoint" in verdict.problem


def test_checkpoint_signs_the_head_once(ws: Workspace) -> None:
    with ws.session() as s:
        assert audit.checkpoint(ws, s) is None  # an empty log
    fill(ws, 3)
    with ws.session() as s:
        point = audit.checkpoint(ws, s)
        assert point is not None and point.seq == 3
        assert point.public_key == audit.public_key(ws)
    with ws.session() as s:
        assert audit.checkpoint(ws, s) is None  # already signed
    verdict = verify(ws)
    assert verdict.ok and verdict.checkpoints == 1


# -- algorithms --------------------------------------------------------------------------


def test_sha256_chain_and_unknown_algorithm(ws: Workspace) -> None:
    fill(ws, 2)  # SM3
    ws.settings.audit_algorithm = "sha256"
    fill(ws, 3)
    entries = rows(ws)
    with ws.session() as s:
        algorithms = list(s.scalars(sa.select(AuditEntry.algorithm).order_by(AuditEntry.seq)))
    assert algorithms == ["sm3", "sm3", "sha256", "sha256", "sha256"]
    for e, algorithm in zip(entries, algorithms, strict=True):
        assert e["digest"] == oracle_digest(e["prev_digest"], e, algorithm)
    assert verify(ws).ok

    # an edit of a SHA-256 entry is caught like any other
    sql(ws, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 4")
    assert verify(ws).first_bad == 4
    sql(ws, "UPDATE audit_log SET actor = :a WHERE seq = 4", a=entries[3]["actor"])

    ws.settings.audit_algorithm = "md5"
    with pytest.raises(InvalidInput, match="md5"), ws.session() as s:
        audit.record(ws, s, actor="alice", action="x")
    with ws.session() as s:
        assert s.scalar(sa.select(AuditHead.seq)) == 5
        assert s.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 5
    assert verify(ws).ok


# -- concurrency -------------------------------------------------------------------------


def test_concurrent_appends_keep_one_gap_free_chain(ws: Workspace) -> None:
    ws.settings.audit_checkpoint_every = 50
    threads, each = 8, 25
    _ = ws.db  # create the engine before the threads race for it
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def work(t: int) -> None:
        try:
            start.wait()
            for i in range(each):
                with ws.session() as s:
                    audit.record(
                        ws, s, actor=f"user{t}", action="data.query", details={"t": t, "i": i}
                    )
        except BaseException as exc:  # reported below
            errors.append(exc)

    pool = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join(timeout=300)
    assert not errors, errors[:3]
    entries = rows(ws)
    assert [e["seq"] for e in entries] == list(range(1, threads * each + 1))
    # each thread's own appends are in its order
    for t in range(threads):
        mine = [e["details"]["i"] for e in entries if e["actor"] == f"user{t}"]
        assert mine == list(range(each))
    verdict = verify(ws)
    assert verdict.ok, verdict
    assert verdict.entries == 200 and verdict.head == 200 and verdict.checkpoints == 4


# -- reading -----------------------------------------------------------------------------


def test_query_filters_and_paging(ws: Workspace) -> None:
    fill(ws, 24)
    everything = rows(ws)

    def seqs(where: audit.EntryFilter, **kw: int) -> tuple[list[int], int]:
        with ws.session() as s:
            found, total = audit.query(s, where, **kw)
            return [e.seq for e in found], total

    def expect(pred: Any) -> list[int]:
        return [e["seq"] for e in everything if pred(e)]

    got, total = seqs(audit.EntryFilter())
    assert got == list(range(1, 25)) and total == 24
    assert seqs(audit.EntryFilter(actor="bob")) == (expect(lambda e: e["actor"] == "bob"), 8)
    assert seqs(audit.EntryFilter(action="data.query"))[0] == expect(
        lambda e: e["action"] == "data.query"
    )
    assert seqs(audit.EntryFilter(dataset="health_visits"))[0] == expect(
        lambda e: e["dataset"] == "health_visits"
    )
    by_grant = expect(lambda e: e["grant_id"] == GRANTS[1])
    assert by_grant and seqs(audit.EntryFilter(grant_id=GRANTS[1])) == (by_grant, len(by_grant))
    # every filter at once
    both = audit.EntryFilter(actor="alice", dataset="edu_roll", grant_id=GRANTS[0])
    assert seqs(both)[0] == expect(
        lambda e: (
            e["actor"] == "alice" and e["dataset"] == "edu_roll" and e["grant_id"] == GRANTS[0]
        )
    )
    assert seqs(audit.EntryFilter(actor="nobody")) == ([], 0)

    # since (inclusive) and until (exclusive), as ISO text and as datetimes
    since, until = everything[5]["at"], everything[17]["at"]
    window = expect(lambda e: since <= e["at"] < until)
    assert window and 6 in window and 18 not in window
    assert seqs(audit.EntryFilter(since=since, until=until))[0] == window
    as_dt = datetime.strptime(since, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert seqs(audit.EntryFilter(since=as_dt))[0] == expect(lambda e: e["at"] >= since)  # type: ignore[arg-type]

    # paging: oldest first, the total independent of the page
    pages = [seqs(audit.EntryFilter(), offset=o, limit=10) for o in (0, 10, 20, 30)]
    assert [p[0] for p in pages] == [
        list(range(1, 11)),
        list(range(11, 21)),
        list(range(21, 25)),
        [],
    ]
    assert {p[1] for p in pages} == {24}
    got, total = seqs(audit.EntryFilter(actor="carol"), offset=2, limit=3)
    assert got == expect(lambda e: e["actor"] == "carol")[2:5] and total == 8


# -- the CLI -----------------------------------------------------------------------------


def test_audit_commands(ws: Workspace, cli) -> None:  # type: ignore[no-untyped-def]
    fill(ws, 6)
    ok = cli(ws, "audit", "verify")
    assert ok.code == 0, ok.err
    assert "intact" in ok.out and "6 entries" in ok.out

    as_json = cli(ws, "audit", "verify", "--json")
    assert as_json.code == 0 and json.loads(as_json.out)["ok"] is True

    log = cli(ws, "audit", "log", "--json", "--user", "bob")
    assert log.code == 0, log.err
    body = json.loads(log.out)
    assert body["total"] == 2 and [e["seq"] for e in body["entries"]] == [2, 5]
    assert body["entries"][0]["details"]["名称"] == "学生名册"
    limited = json.loads(cli(ws, "audit", "log", "--json", "--limit", "4").out)
    assert limited["total"] == 6 and len(limited["entries"]) == 4
    table = cli(ws, "audit", "log", "--action", "request.create")
    assert table.code == 0 and "request.create" in table.out

    key = cli(ws, "audit", "public-key")
    assert key.code == 0 and key.out.strip() == audit.public_key(ws)
    assert len(key.out.strip()) == 64

    signed = cli(ws, "audit", "checkpoint")
    assert signed.code == 0 and "signed entry 6" in signed.out
    again = cli(ws, "audit", "checkpoint")
    assert again.code == 0 and "nothing new to sign" in again.out
    assert verify(ws).checkpoints == 1

    sql(ws, "UPDATE audit_log SET details = :d WHERE seq = 4", d='{"i": 0}')
    broken = cli(ws, "audit", "verify")
    assert broken.code == 11
    assert "entry 4" in broken.err and "edited" in broken.err
    assert "Traceback" not in broken.err
    broken_json = cli(ws, "audit", "verify", "--json")
    assert broken_json.code == 11 and json.loads(broken_json.out)["first_bad"] == 4
