"""Routes of ``share``: data products, requests and approvals, grants, delivery, metering."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Query, status
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from dizuo.api.deps import WS, Caller, Page, meta
from dizuo.api.errors import RESPONSES
from dizuo.api.schemas import (
    GrantOut,
    GrantPage,
    ProductOut,
    ProductPage,
    QueryOut,
    RequestOut,
    RequestPage,
    StatisticsOut,
    UsagePage,
)
from dizuo.auth.models import User
from dizuo.auth.service import aware
from dizuo.catalog.models import Organisation
from dizuo.share import deliver
from dizuo.share import service as share
from dizuo.share.models import AccessRequest, Grant, Product
from dizuo.share.schemas import (
    DecisionIn,
    GrantChange,
    ProductIn,
    QueryIn,
    RequestIn,
    StatisticsIn,
)

router = APIRouter(
    tags=["share"], responses={**RESPONSES, 429: RESPONSES[403] | {"description": "quota spent"}}
)


def product_out(s: Any, p: Product) -> dict[str, Any]:
    fields, grade = share.product_fields(s, p)
    return {
        "code": p.code,
        "name": p.name,
        "description": p.description,
        "provider": p.provider.code,
        "provider_name": p.provider.name,
        "dataset": p.dataset.code,
        "version": p.version.number,
        "share_type": p.dataset.share_type,
        "grade": grade,
        "rights": dict(p.rights),
        "purposes": list(p.purposes),
        "terms": p.terms,
        "price": p.price,
        "currency": p.currency,
        "delivery": list(p.delivery),
        "visibility": p.visibility,
        "status": p.status,
        "rows": p.version.rows,
        "fields": fields,
        "created_at": aware(p.created_at),
    }


def brief(p: Product) -> dict[str, Any]:
    return {
        "code": p.code,
        "name": p.name,
        "provider": p.provider.code,
        "purposes": list(p.purposes),
        "delivery": list(p.delivery),
        "price": p.price,
        "currency": p.currency,
        "status": p.status,
    }


def _names(s: Any, user_id: Any, org_id: Any) -> tuple[str, str]:
    user = s.get(User, user_id)
    org = s.get(Organisation, org_id)
    return (user.username if user else "?", org.code if org else "?")


def request_out(s: Any, r: AccessRequest, grant: Grant | None = None) -> dict[str, Any]:
    who, org = _names(s, r.user_id, r.org_id)
    if grant is None and r.status == "approved":
        grant = s.scalar(sa.select(Grant).where(Grant.request_id == r.id))
    return {
        "id": str(r.id),
        "product": r.product.code,
        "requester": who,
        "organisation": org,
        "purpose": r.purpose,
        "justification": r.justification,
        "columns": list(r.columns),
        "delivery": list(r.delivery),
        "duration_days": r.duration_days,
        "needs": list(r.needs),
        "status": r.status,
        "approvals": [
            {
                "step": a.step,
                "decision": a.decision,
                "comment": a.comment,
                "by": _names(s, a.user_id, r.org_id)[0],
                "at": aware(a.created_at),
            }
            for a in r.approvals
        ],
        "created_at": aware(r.created_at),
        "decided_at": aware(r.decided_at) if r.decided_at else None,
        "grant": str(grant.id) if grant is not None else None,
    }


def grant_out(s: Any, g: Grant) -> dict[str, Any]:
    who, org = _names(s, g.user_id, g.org_id)
    return {
        "id": str(g.id),
        "product": g.product.code,
        "consumer": who,
        "organisation": org,
        "purpose": g.purpose,
        "columns": list(g.columns),
        "delivery": list(g.delivery),
        "row_filter": g.row_filter,
        "expires_at": aware(g.expires_at),
        "status": share.effective_status(g),
        "status_reason": g.status_reason,
        "max_rows": g.max_rows,
        "max_calls": g.max_calls,
        "rows_used": g.rows_used,
        "calls_used": g.calls_used,
        "bytes_used": g.bytes_used,
        "created_at": aware(g.created_at),
    }


# -- products ----------------------------------------------------------------------------


@router.get("/products", response_model=ProductPage, summary="Search the data products you may see")
def list_products(
    ws: WS,
    caller: Caller,
    page: Page,
    q: Annotated[str, Query(max_length=200, description="words to look for")] = "",
) -> dict[str, Any]:
    caller.require("products:read")
    with ws.session() as s:
        items, total = share.list_products(s, caller, q, offset=page.offset, limit=page.limit)
        return {"items": [brief(p) for p in items], "page": meta(page, total)}


@router.get("/products/{code}", response_model=ProductOut, summary="A product page")
def get_product(ws: WS, caller: Caller, code: str) -> dict[str, Any]:
    caller.require("products:read")
    with ws.session() as s:
        return product_out(s, share.get_product(s, caller, code))


@router.post(
    "/products",
    response_model=ProductOut,
    status_code=status.HTTP_201_CREATED,
    summary="Publish a shared-zone version as a product (operator)",
)
def publish(ws: WS, caller: Caller, body: ProductIn) -> dict[str, Any]:
    with ws.session(write=True) as s:
        return product_out(s, share.publish(ws, s, caller, body))


@router.post("/products/{code}/withdraw", response_model=ProductOut, summary="Withdraw a product")
def withdraw(ws: WS, caller: Caller, code: str) -> dict[str, Any]:
    with ws.session(write=True) as s:
        return product_out(s, share.withdraw(ws, s, caller, code))


# -- requests ----------------------------------------------------------------------------


@router.post(
    "/requests",
    response_model=RequestOut,
    status_code=status.HTTP_201_CREATED,
    summary="Request access to a product (consumer)",
)
def create_request(ws: WS, caller: Caller, body: RequestIn) -> dict[str, Any]:
    with ws.session(write=True) as s:
        return request_out(s, share.create_request(ws, s, caller, body))


@router.get("/requests", response_model=RequestPage, summary="Requests you may see")
def list_requests(
    ws: WS,
    caller: Caller,
    page: Page,
    status_: Annotated[
        Literal["pending", "approved", "rejected"] | None, Query(alias="status")
    ] = None,
) -> dict[str, Any]:
    with ws.session() as s:
        items, total = share.list_requests(
            s, caller, status=status_, offset=page.offset, limit=page.limit
        )
        return {"items": [request_out(s, r) for r in items], "page": meta(page, total)}


@router.get("/requests/{request_id}", response_model=RequestOut, summary="One request")
def get_request(ws: WS, caller: Caller, request_id: str) -> dict[str, Any]:
    with ws.session() as s:
        return request_out(s, share.get_request(s, caller, request_id))


@router.post(
    "/requests/{request_id}/decision",
    response_model=RequestOut,
    summary="Approve or reject (provider step, operator step)",
)
def decide(ws: WS, caller: Caller, request_id: str, body: DecisionIn) -> dict[str, Any]:
    with ws.session(write=True) as s:
        request, grant = share.decide(ws, s, caller, request_id, body)
        return request_out(s, request, grant)


# -- grants ------------------------------------------------------------------------------


@router.get("/grants", response_model=GrantPage, summary="Grants you may see")
def list_grants(
    ws: WS,
    caller: Caller,
    page: Page,
    status_: Annotated[
        Literal["active", "suspended", "revoked"] | None, Query(alias="status")
    ] = None,
) -> dict[str, Any]:
    with ws.session() as s:
        items, total = share.list_grants(
            s, caller, status=status_, offset=page.offset, limit=page.limit
        )
        return {"items": [grant_out(s, g) for g in items], "page": meta(page, total)}


@router.get("/grants/{grant_id}", response_model=GrantOut, summary="One grant with its metering")
def get_grant(ws: WS, caller: Caller, grant_id: str) -> dict[str, Any]:
    with ws.session() as s:
        return grant_out(s, share.get_grant(s, caller, grant_id))


def _change(action: str) -> Callable[..., dict[str, Any]]:
    def change(ws: WS, caller: Caller, grant_id: str, body: GrantChange) -> dict[str, Any]:
        with ws.session(write=True) as s:
            return grant_out(s, share.change_grant(ws, s, caller, grant_id, action, body))

    change.__name__ = f"{action}_grant"
    return change


for _action, _summary in (
    ("suspend", "Suspend a grant"),
    ("resume", "Resume a suspended grant"),
    ("revoke", "Revoke a grant (final)"),
):
    router.add_api_route(
        f"/grants/{{grant_id}}/{_action}",
        _change(_action),
        methods=["POST"],
        response_model=GrantOut,
        summary=_summary,
    )


@router.get(
    "/grants/{grant_id}/odrl",
    summary="The grant as a W3C ODRL policy (JSON-LD)",
    response_model=dict[str, Any],
)
def odrl(ws: WS, caller: Caller, grant_id: str) -> dict[str, Any]:
    with ws.session() as s:
        return share.odrl(s, share.get_grant(s, caller, grant_id))


@router.get("/grants/{grant_id}/usage", response_model=UsagePage, summary="Metered calls")
def usage(ws: WS, caller: Caller, grant_id: str, page: Page) -> dict[str, Any]:
    with ws.session() as s:
        grant, rows, total = share.usage(s, caller, grant_id, offset=page.offset, limit=page.limit)
        return {
            "grant": grant_out(s, grant),
            "items": [
                {
                    "at": aware(u.at),
                    "mode": u.mode,
                    "rows": u.rows,
                    "bytes": u.bytes,
                    "user": _names(s, u.user_id, grant.org_id)[0],
                }
                for u in rows
            ],
            "page": meta(page, total),
        }


# -- delivery ----------------------------------------------------------------------------


@router.get(
    "/grants/{grant_id}/download",
    summary="Download the granted fields and rows (Parquet or CSV)",
    response_class=FileResponse,
    responses={200: {"content": {"application/vnd.apache.parquet": {}, "text/csv": {}}}},
)
def download(
    ws: WS,
    caller: Caller,
    grant_id: str,
    format: Annotated[Literal["parquet", "csv"], Query()] = "parquet",
) -> FileResponse:
    result = deliver.download(ws, caller, grant_id, fmt=format, columns=None)
    return FileResponse(
        result.path,
        media_type=result.media_type,
        filename=result.filename,
        headers={"X-Dizuo-Rows": str(result.rows)},
        background=BackgroundTask(result.path.unlink, missing_ok=True),
    )


@router.post("/grants/{grant_id}/query", response_model=QueryOut, summary="One page of rows")
def query(ws: WS, caller: Caller, grant_id: str, body: QueryIn) -> dict[str, Any]:
    page = deliver.query(
        ws,
        caller,
        grant_id,
        columns=body.columns,
        filter_text=body.filter,
        offset=body.offset,
        limit=body.limit,
    )
    return page.__dict__


@router.post(
    "/grants/{grant_id}/statistics",
    response_model=StatisticsOut,
    summary="Counts per group (small groups withheld)",
)
def statistics(ws: WS, caller: Caller, grant_id: str, body: StatisticsIn) -> dict[str, Any]:
    return deliver.statistics(
        ws, caller, grant_id, group_by=body.group_by, filter_text=body.filter
    ).__dict__
