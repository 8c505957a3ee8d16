"""Routes of ``audit``: auditors read and verify the log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from dizuo.api.deps import WS, Caller, Page, meta
from dizuo.api.errors import RESPONSES
from dizuo.api.schemas import AuditPage, VerifyOut
from dizuo.audit import log as audit

router = APIRouter(tags=["audit"], responses=RESPONSES)


@router.get("/audit/entries", response_model=AuditPage, summary="Read the audit log")
def entries(
    ws: WS,
    caller: Caller,
    page: Page,
    user: Annotated[str | None, Query(max_length=128)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    dataset: Annotated[str | None, Query(max_length=128)] = None,
    grant: Annotated[str | None, Query(max_length=36)] = None,
    since: Annotated[datetime | None, Query()] = None,
    until: Annotated[datetime | None, Query()] = None,
) -> dict[str, Any]:
    caller.require("audit:read")
    where = audit.EntryFilter(
        actor=user,
        action=action,
        dataset=dataset,
        grant_id=grant,
        since=audit._iso(since),
        until=audit._iso(until),
    )
    with ws.session() as s:
        rows, total = audit.query(s, where, offset=page.offset, limit=page.limit)
        return {
            "items": [audit.entry_dict(e) for e in rows],
            "page": meta(page, total),
        }


@router.get("/audit/verify", response_model=VerifyOut, summary="Verify the hash chain")
def verify(ws: WS, caller: Caller) -> dict[str, Any]:
    caller.require("audit:read")
    with ws.session() as s:
        return audit.verify(ws, s).to_dict()


@router.get("/audit/public-key", summary="The checkpoints' Ed25519 public key (hex)")
def public_key(ws: WS, caller: Caller) -> dict[str, str]:
    caller.require("audit:read")
    return {"algorithm": "Ed25519", "public_key": audit.public_key(ws)}
