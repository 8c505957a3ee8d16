"""Routes of ``audit``: auditors read and verify the log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from dizuo.api.deps import WS, Caller, Page, meta
from dizuo.api.errors import RESPONSES
from dizuo.api.schemas import AuditPage, VerifyOut
from dizuo.audit import log as audit
from dizuo.errors import NotFound
from dizuo.i18n import tr

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
    return audit.verify_workspace(ws).to_dict()


class CheckpointBody(BaseModel):
    """A signed checkpoint, as ``GET /audit/checkpoint`` gives it and an auditor keeps it."""

    seq: int = Field(ge=1, le=2**62)
    digest: str = Field(pattern=r"^[0-9a-f]{64}$")
    at: str = Field(max_length=32)
    algorithm: str = Field("Ed25519", max_length=16)
    public_key: str = Field(pattern=r"^[0-9a-f]{64}$")
    signature: str = Field(pattern=r"^[0-9a-f]{128}$")


class AnchorIn(BaseModel):
    anchor: CheckpointBody


@router.post(
    "/audit/verify",
    response_model=VerifyOut,
    summary="Verify the chain, and that it still holds a checkpoint kept outside it",
)
def verify_anchor(ws: WS, caller: Caller, body: AnchorIn) -> dict[str, Any]:
    caller.require("audit:read")
    return audit.verify_workspace(ws, anchor=body.anchor.model_dump()).to_dict()


@router.get(
    "/audit/checkpoint",
    response_model=CheckpointBody,
    summary="The latest signed checkpoint (keep it outside dizuo)",
)
def latest_checkpoint(ws: WS, caller: Caller) -> dict[str, Any]:
    caller.require("audit:read")
    with ws.session() as s:
        point = audit.latest_checkpoint(s)
        if point is None:
            raise NotFound(tr("还没有签名检查点", "no signed checkpoint yet"))
        return audit.checkpoint_dict(point)


@router.get("/audit/public-key", summary="The checkpoints' Ed25519 public key (hex)")
def public_key(ws: WS, caller: Caller) -> dict[str, str]:
    caller.require("audit:read")
    return {"algorithm": "Ed25519", "public_key": audit.public_key(ws)}
