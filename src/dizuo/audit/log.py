"""The audit log (审计日志): every action appended to a hash chain, verified end to end.

Each entry's digest is ``H(previous digest ‖ canonical JSON of the entry)`` with SM3 by default
(SHA-256 on request). Appends lock the single ``audit_head`` row (an UPDATE first, so SQLite
takes its write lock and PostgreSQL a row lock), so the chain has one order on every database.
Every ``audit_checkpoint_every`` entries — and on ``dizuo audit checkpoint`` — the head is
signed with an Ed25519 key derived from the workspace secret: whoever edits the database and
recomputes the chain after an edit still cannot forge the signature of an earlier checkpoint.

Entries carry identifiers, counts, field names and digests — never a personal value.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy.orm import Session

from dizuo.audit.models import GENESIS, AuditCheckpoint, AuditEntry, AuditHead
from dizuo.errors import InvalidInput
from dizuo.i18n import tr

if TYPE_CHECKING:
    from dizuo.workspace import Workspace

ALGORITHMS: dict[str, type[hashes.HashAlgorithm]] = {"sm3": hashes.SM3, "sha256": hashes.SHA256}
FIELDS = ("seq", "at", "actor", "action", "outcome", "target", "dataset", "grant_id", "details")


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(values: dict[str, Any]) -> bytes:
    """The bytes that are hashed: the entry's fields as sorted, compact JSON."""
    return json.dumps(
        {k: values[k] for k in FIELDS}, ensure_ascii=False, sort_keys=True, separators=(",", ":")
    ).encode("utf-8")


def digest_of(prev: str, values: dict[str, Any], algorithm: str) -> str:
    h = hashes.Hash(ALGORITHMS[algorithm]())
    h.update(bytes.fromhex(prev))
    h.update(canonical(values))
    return h.finalize().hex()


def _plain(details: dict[str, Any] | None) -> dict[str, Any]:
    """Details as the JSON they will read back as (so the hash survives the round trip)."""
    out: dict[str, Any] = json.loads(json.dumps(details or {}, ensure_ascii=False, default=str))
    return out


def _signing_key(secret: bytes) -> Ed25519PrivateKey:
    seed = HKDF(
        algorithm=hashes.SM3(), length=32, salt=None, info=b"dizuo audit checkpoint"
    ).derive(secret)
    return Ed25519PrivateKey.from_private_bytes(seed)


def _public_hex(key: Ed25519PublicKey) -> str:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def public_key(ws: Workspace) -> str:
    """The hex Ed25519 public key checkpoints are signed with (give it to the regulator)."""
    return _public_hex(_signing_key(ws.secret_key()).public_key())


def keyed_digest(ws: Workspace, text: str) -> str:
    """HMAC-SM3 of ``text`` under a key derived from the workspace secret, for the log: it
    tells equal values apart without letting anyone confirm a guessed value (an ID number
    typed as a user name, a literal in a filter) by hashing candidates."""
    key = HKDF(algorithm=hashes.SM3(), length=32, salt=None, info=b"dizuo audit digest").derive(
        ws.secret_key()
    )
    mac = hmac.HMAC(key, hashes.SM3())
    mac.update(text.encode("utf-8"))
    return mac.finalize().hex()[:32]


def _message(seq: int, digest: str, at: str) -> bytes:
    return f"dizuo-audit-checkpoint:{seq}:{digest}:{at}".encode()


def record(
    ws: Workspace,
    session: Session,
    *,
    actor: str,
    action: str,
    target: str = "",
    dataset: str | None = None,
    grant_id: str | None = None,
    outcome: str = "ok",
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry inside ``session``'s transaction (it commits or rolls back with the
    action it records)."""
    algorithm = ws.settings.audit_algorithm
    if algorithm not in ALGORITHMS:
        raise InvalidInput(
            tr(
                "审计哈希算法 {a} 不支持（可用 sm3、sha256）",
                "audit hash {a} is not supported (use sm3 or sha256)",
                a=algorithm,
            )
        )
    session.execute(sa.update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq + 1))
    seq, prev = session.execute(
        sa.select(AuditHead.seq, AuditHead.digest).where(AuditHead.id == 1)
    ).one()
    values: dict[str, Any] = {
        "seq": int(seq),
        "at": now_iso(),
        "actor": actor,
        "action": action,
        "outcome": outcome,
        "target": target,
        "dataset": dataset,
        "grant_id": grant_id,
        "details": _plain(details),
    }
    digest = digest_of(prev, values, algorithm)
    entry = AuditEntry(**values, algorithm=algorithm, prev_digest=prev, digest=digest)
    session.add(entry)
    session.execute(sa.update(AuditHead).where(AuditHead.id == 1).values(digest=digest))
    every = ws.settings.audit_checkpoint_every
    if every > 0 and int(seq) % every == 0:
        session.flush()
        _sign(ws, session, int(seq), digest)
    return entry


def _sign(ws: Workspace, session: Session, seq: int, digest: str) -> AuditCheckpoint:
    key = _signing_key(ws.secret_key())
    at = now_iso()
    point = AuditCheckpoint(
        seq=seq,
        digest=digest,
        at=at,
        public_key=_public_hex(key.public_key()),
        signature=key.sign(_message(seq, digest, at)).hex(),
    )
    session.add(point)
    return point


def checkpoint(ws: Workspace, session: Session) -> AuditCheckpoint | None:
    """Sign the current head now (nothing to sign in an empty log or an already signed head)."""
    seq, digest = session.execute(
        sa.select(AuditHead.seq, AuditHead.digest).where(AuditHead.id == 1).with_for_update()
    ).one()
    if seq == 0 or session.get(AuditCheckpoint, seq) is not None:
        return None
    return _sign(ws, session, int(seq), digest)


# -- verification ------------------------------------------------------------------------


@dataclass
class Verdict:
    ok: bool
    entries: int = 0
    checkpoints: int = 0
    first_bad: int | None = None
    problem: str = ""
    head: int = 0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "checkpoints": self.checkpoints,
            "first_bad": self.first_bad,
            "problem": self.problem,
            "head": self.head,
        }


def _values(entry: AuditEntry) -> dict[str, Any]:
    return {k: getattr(entry, k) for k in FIELDS}


def _entries(session: Session, batch: int = 5000) -> Iterator[AuditEntry]:
    last = 0
    while True:
        rows = list(
            session.scalars(
                sa.select(AuditEntry)
                .where(AuditEntry.seq > last)
                .order_by(AuditEntry.seq)
                .limit(batch)
            )
        )
        if not rows:
            return
        yield from rows
        last = rows[-1].seq
        for row in rows:
            session.expunge(row)


def verify(ws: Workspace, session: Session, anchor: dict[str, Any] | None = None) -> Verdict:
    """Walk the chain from the first entry; name the first entry that was edited, removed,
    inserted or moved, then check the head and every signed checkpoint — and, given an
    ``anchor`` (a checkpoint kept outside the database, :func:`checkpoint_dict`), that the log
    still holds the entry it signed."""
    expected_key = public_key(ws)
    signed = {
        p.seq: p for p in session.scalars(sa.select(AuditCheckpoint).order_by(AuditCheckpoint.seq))
    }
    count = 0
    head_seq = 0

    def fail(first_bad: int | None, problem: str) -> Verdict:
        return Verdict(
            False,
            entries=count,
            checkpoints=len(signed),
            first_bad=first_bad,
            problem=problem,
            head=head_seq,
        )

    for point in signed.values():
        problem = None
        if point.public_key != expected_key:
            problem = tr(
                "检查点 {s} 不是本工作区的密钥签名的",
                "checkpoint {s} was not signed by this workspace's key",
                s=point.seq,
            )
        else:
            try:
                Ed25519PublicKey.from_public_bytes(bytes.fromhex(point.public_key)).verify(
                    bytes.fromhex(point.signature), _message(point.seq, point.digest, point.at)
                )
            except (InvalidSignature, ValueError):
                problem = tr(
                    "检查点 {s} 的签名无效", "checkpoint {s} has an invalid signature", s=point.seq
                )
        if problem:
            return fail(point.seq, problem)

    prev = GENESIS
    expected = 1
    for entry in _entries(session):
        seq = entry.seq
        if seq != expected:
            missing = expected if seq > expected else seq
            return fail(
                missing,
                problem=tr(
                    "第 {n} 条记录缺失或顺序被改动（{a} 之后是 {b}）",
                    "entry {n} is missing or out of place (entry {a} is followed by {b})",
                    n=missing,
                    a=expected - 1,
                    b=seq,
                ),
            )
        if entry.prev_digest != prev:
            return fail(
                seq,
                problem=tr(
                    "第 {n} 条记录没有接上第 {p} 条（记录被删除、插入或调换）",
                    "entry {n} does not chain to entry {p} (an entry was removed, inserted or "
                    "moved)",
                    n=seq,
                    p=seq - 1,
                ),
            )
        algorithm = entry.algorithm if entry.algorithm in ALGORITHMS else "sm3"
        if digest_of(prev, _values(entry), algorithm) != entry.digest:
            return fail(
                seq,
                problem=tr(
                    "第 {n} 条记录（{a}，{u}）的内容与摘要不符：已被修改",
                    "entry {n} ({a} by {u}) does not match its digest: it was edited",
                    n=seq,
                    a=entry.action,
                    u=entry.actor,
                ),
            )
        signed_here = signed.get(seq)
        if signed_here is not None and signed_here.digest != entry.digest:
            return fail(
                seq,
                problem=tr(
                    "第 {n} 条记录与签名检查点不符：链在此处或之前被重写",
                    "entry {n} does not match the signed checkpoint: the chain was rewritten "
                    "at or before it",
                    n=seq,
                ),
            )
        prev = entry.digest
        expected += 1
        count += 1
    last = expected - 1
    head = session.execute(
        sa.select(AuditHead.seq, AuditHead.digest).where(AuditHead.id == 1)
    ).one_or_none()
    if head is None:
        return fail(
            last + 1,
            problem=tr(
                "审计链头记录缺失（audit_head 被删除）",
                "the chain's head row is missing (audit_head was deleted)",
            ),
        )
    head_seq, head_digest = int(head[0]), head[1]
    every = ws.settings.audit_checkpoint_every
    if every > 0:
        unsigned = [m for m in range(every, head_seq + 1, every) if m not in signed]
        if unsigned:
            return fail(
                unsigned[0],
                problem=tr(
                    "第 {n} 条应有签名检查点但没有：检查点被删除（链可能被重写）",
                    "entry {n} should carry a signed checkpoint and does not: checkpoints "
                    "were deleted (the chain may have been rewritten)",
                    n=unsigned[0],
                ),
            )
    beyond = [s for s in signed if s > last]
    if head_seq != last or head_digest != prev or beyond:
        return fail(
            last + 1,
            problem=tr(
                "第 {n} 条之后的记录被删除（日志应有 {h} 条）",
                "entries after {l} were removed (the log should hold {h})",
                n=last,
                l=last,
                h=max([head_seq, *beyond]),
            ),
        )
    if anchor is not None:
        problem, anchored = _check_anchor(ws, session, anchor, expected_key)
        if problem:
            return fail(
                anchored,
                problem=problem,
            )
    return Verdict(True, entries=count, checkpoints=len(signed), head=head_seq)


def verify_workspace(ws: Workspace, anchor: dict[str, Any] | None = None) -> Verdict:
    """:func:`verify` on one snapshot of the log: on PostgreSQL a REPEATABLE READ transaction,
    so entries appended while the walk runs cannot look like tampering (SQLite reads one
    snapshot per transaction anyway)."""
    from sqlalchemy.orm import Session as OrmSession

    engine = ws.db
    if engine.dialect.name == "postgresql":
        engine = engine.execution_options(isolation_level="REPEATABLE READ")
    with OrmSession(engine) as session, session.begin():
        return verify(ws, session, anchor=anchor)


def latest_checkpoint(session: Session) -> AuditCheckpoint | None:
    return session.scalar(sa.select(AuditCheckpoint).order_by(AuditCheckpoint.seq.desc()).limit(1))


def checkpoint_dict(point: AuditCheckpoint) -> dict[str, Any]:
    """A signed checkpoint as the regulator keeps it (outside the database)."""
    return {
        "seq": point.seq,
        "digest": point.digest,
        "at": point.at,
        "algorithm": "Ed25519",
        "public_key": point.public_key,
        "signature": point.signature,
    }


def _check_anchor(
    ws: Workspace, session: Session, anchor: dict[str, Any], expected_key: str
) -> tuple[str | None, int | None]:
    try:
        seq = int(anchor["seq"])
        digest, at = str(anchor["digest"]), str(anchor["at"])
        key, signature = str(anchor["public_key"]), str(anchor["signature"])
    except (KeyError, TypeError, ValueError):
        raise InvalidInput(
            tr(
                "锚点须含 seq、digest、at、public_key、signature",
                "an anchor needs seq, digest, at, public_key and signature",
            )
        ) from None
    if key != expected_key:
        return tr(
            "锚点不是本工作区的密钥签名的", "the anchor was not signed by this workspace's key"
        ), seq
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(key)).verify(
            bytes.fromhex(signature), _message(seq, digest, at)
        )
    except (InvalidSignature, ValueError):
        return tr("锚点的签名无效", "the anchor's signature is invalid"), seq
    held = session.scalar(sa.select(AuditEntry.digest).where(AuditEntry.seq == seq))
    if held is None:
        return tr(
            "日志中已没有锚点签名的第 {n} 条记录：日志被截断",
            "the log no longer holds entry {n}, which the anchor signed: it was truncated",
            n=seq,
        ), seq
    if held != digest:
        return tr(
            "第 {n} 条记录与锚点不符：链在此处或之前被重写",
            "entry {n} does not match the anchor: the chain was rewritten at or before it",
            n=seq,
        ), seq
    return None, None


# -- reading -----------------------------------------------------------------------------


def entry_dict(e: AuditEntry) -> dict[str, Any]:
    """An entry as the API and the CLI show it."""
    return {
        "seq": e.seq,
        "at": e.at,
        "actor": e.actor,
        "action": e.action,
        "outcome": e.outcome,
        "target": e.target,
        "dataset": e.dataset,
        "grant_id": e.grant_id,
        "details": e.details,
        "digest": e.digest,
    }


@dataclass
class EntryFilter:
    actor: str | None = None
    action: str | None = None
    dataset: str | None = None
    grant_id: str | None = None
    since: str | None = None
    until: str | None = None


def _iso(value: datetime | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def query(
    session: Session, where: EntryFilter, *, offset: int = 0, limit: int = 100
) -> tuple[list[AuditEntry], int]:
    """Entries matching every given filter, oldest first, and how many match in all."""
    conditions: list[sa.ColumnElement[bool]] = []
    if where.actor:
        conditions.append(AuditEntry.actor == where.actor)
    if where.action:
        conditions.append(AuditEntry.action == where.action)
    if where.dataset:
        conditions.append(AuditEntry.dataset == where.dataset)
    if where.grant_id:
        conditions.append(AuditEntry.grant_id == where.grant_id)
    if where.since:
        conditions.append(AuditEntry.at >= _iso(where.since))
    if where.until:
        conditions.append(AuditEntry.at < _iso(where.until))
    total = session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(*conditions))
    rows = list(
        session.scalars(
            sa.select(AuditEntry)
            .where(*conditions)
            .order_by(AuditEntry.seq)
            .offset(offset)
            .limit(limit)
        )
    )
    return rows, int(total or 0)
