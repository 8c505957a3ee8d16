"""Accounts, tokens, the audit log and the server: ``dizuo user``, ``dizuo token``,
``dizuo audit``, ``dizuo serve``. The CLI acts with the workspace's own authority (whoever can
read the workspace folder administers it); every change is audited as ``DIZUO_USER``."""

from __future__ import annotations

import json
import sys
import uuid
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from dizuo.cli.context import state
from dizuo.cli.options import JsonOpt
from dizuo.cli.output import console, print_json, table
from dizuo.errors import DizuoError, InvalidInput
from dizuo.i18n import tr

user_app = typer.Typer(help=tr("账号", "Accounts"), no_args_is_help=True)
token_app = typer.Typer(help=tr("API 令牌", "API tokens"), no_args_is_help=True)
audit_app = typer.Typer(help=tr("审计日志", "The audit log"), no_args_is_help=True)


class AuditBroken(DizuoError):
    kind = "audit_broken"
    exit_code = 11


def _password(stdin: bool) -> str:
    if stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first: str = typer.prompt(tr("密码", "password"), hide_input=True)
    again: str = typer.prompt(tr("再输一次", "again"), hide_input=True)
    if first != again:
        raise InvalidInput(tr("两次输入的密码不一致", "the passwords differ"))
    return first


@user_app.command("add", help=tr("添加账号", "Add an account"))
def user_add(
    username: Annotated[str, typer.Argument(help=tr("用户名", "user name"))],
    org: Annotated[str, typer.Option("--org", help=tr("所属机构代码", "organisation code"))],
    role: Annotated[
        list[str],
        typer.Option(
            "--role", help="provider / operator / consumer / auditor / admin（可多次 / repeatable）"
        ),
    ],
    name: Annotated[str, typer.Option("--name", help=tr("显示名", "display name"))] = "",
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin", help=tr("从标准输入读取密码", "read the password from stdin")
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    from dizuo.audit import log as audit
    from dizuo.auth import service as auth

    password = _password(password_stdin)
    ws = state.workspace()
    with ws.session(write=True) as s:
        user = auth.add_user(s, username, password, org=org, roles=role, display_name=name)
        audit.record(
            ws,
            s,
            actor=ws.actor,
            action="user.add",
            target=f"user:{username}",
            details={"org": org, "roles": list(user.roles)},
        )
        roles = list(user.roles)
    if as_json:
        print_json({"username": username, "org": org, "roles": roles})
    else:
        console.print(tr("已添加 {u}（{r}）", "added {u} ({r})", u=username, r=", ".join(roles)))


@user_app.command("list", help=tr("列出账号", "List accounts"))
def user_list(as_json: JsonOpt = False) -> None:
    from dizuo.auth import service as auth

    with state.workspace().session() as s:
        rows: list[dict[str, Any]] = [
            {
                "username": u.username,
                "name": u.display_name,
                "org": u.organisation.code,
                "roles": list(u.roles),
                "active": u.active,
            }
            for u in auth.list_users(s)
        ]
    if as_json:
        print_json(rows)
        return
    table(
        tr("账号", "Accounts"),
        [
            tr("用户名", "user"),
            tr("名称", "name"),
            tr("机构", "org"),
            tr("角色", "roles"),
            tr("启用", "active"),
        ],
        [[r["username"], r["name"], r["org"], ", ".join(r["roles"]), r["active"]] for r in rows],
    )


@user_app.command(
    "disable", help=tr("停用账号并撤销其令牌", "Disable an account, revoke its tokens")
)
def user_disable(username: Annotated[str, typer.Argument()]) -> None:
    from dizuo.audit import log as audit
    from dizuo.auth import service as auth

    ws = state.workspace()
    with ws.session(write=True) as s:
        auth.set_active(s, username, False)
        audit.record(ws, s, actor=ws.actor, action="user.disable", target=f"user:{username}")
    console.print(tr("已停用 {u}", "disabled {u}", u=username))


@token_app.command(
    "create", help=tr("为账号创建 API 令牌（只显示一次）", "Create an API token (shown once)")
)
def token_create(
    username: Annotated[str, typer.Argument(help=tr("用户名", "user name"))],
    name: Annotated[str, typer.Option("--name", help=tr("令牌用途", "what it is for"))] = "cli",
    scope: Annotated[
        list[str] | None,
        typer.Option(
            "--scope", help=tr("权限范围（可多次；默认全部）", "scope (repeatable; default all)")
        ),
    ] = None,
    days: Annotated[float, typer.Option("--days", help=tr("有效天数", "days valid"))] = 90,
    as_json: JsonOpt = False,
) -> None:
    from dizuo.audit import log as audit
    from dizuo.auth import service as auth

    ws = state.workspace()
    with ws.session(write=True) as s:
        user = auth.get_user(s, username)
        token, secret = auth.create_token(s, user, name=name, scopes=scope, days=days)
        audit.record(
            ws,
            s,
            actor=ws.actor,
            action="token.create",
            target=f"token:{token.id}",
            details={"user": username, "scopes": list(token.scopes), "days": days},
        )
        info = {
            "id": str(token.id),
            "user": username,
            "scopes": list(token.scopes),
            "expires_at": auth.aware(token.expires_at).isoformat(),
            "token": secret,
        }
    if as_json:
        print_json(info)
        return
    console.print(secret, highlight=False, soft_wrap=True)
    console.print(
        tr(
            "令牌 {i}，{d} 天后过期；只显示这一次。",
            "token {i}, expires in {d} days; shown this once.",
            i=info["id"],
            d=days,
        ),
        style="dim",
    )


@token_app.command("list", help=tr("列出令牌（不含密钥）", "List tokens (never their secrets)"))
def token_list(
    username: Annotated[str | None, typer.Argument(help=tr("用户名", "user name"))] = None,
    as_json: JsonOpt = False,
) -> None:
    from dizuo.auth import service as auth

    with state.workspace().session() as s:
        user = auth.get_user(s, username) if username else None
        rows: list[dict[str, Any]] = [
            {
                "id": str(t.id),
                "user": t.user.username,
                "name": t.name,
                "kind": t.kind,
                "scopes": list(t.scopes),
                "expires_at": auth.aware(t.expires_at).isoformat(timespec="seconds"),
                "revoked": t.revoked_at is not None,
            }
            for t in auth.list_tokens(s, user)
        ]
    if as_json:
        print_json(rows)
        return
    table(
        tr("令牌", "Tokens"),
        [
            "id",
            tr("用户", "user"),
            tr("名称", "name"),
            tr("到期", "expires"),
            tr("已撤销", "revoked"),
        ],
        [[r["id"], r["user"], r["name"], r["expires_at"], r["revoked"]] for r in rows],
    )


@token_app.command("revoke", help=tr("撤销令牌", "Revoke a token"))
def token_revoke(token_id: Annotated[str, typer.Argument(help="token id")]) -> None:
    from dizuo.audit import log as audit
    from dizuo.auth import service as auth

    try:
        ident = uuid.UUID(token_id)
    except ValueError:
        raise InvalidInput(tr("令牌编号无效: {t}", "not a token id: {t}", t=token_id)) from None
    ws = state.workspace()
    with ws.session(write=True) as s:
        auth.revoke_token(s, ident, owner=None)
        audit.record(ws, s, actor=ws.actor, action="token.revoke", target=f"token:{ident}")
    console.print(tr("已撤销 {t}", "revoked {t}", t=token_id))


@audit_app.command(
    "verify",
    help=tr("验证审计日志的哈希链与签名检查点", "Verify the hash chain and signed checkpoints"),
)
def audit_verify(
    anchor: Annotated[
        Path | None,
        typer.Option(
            "--anchor",
            help=tr(
                "库外保存的签名检查点（dizuo audit checkpoint --out 的文件）",
                "a signed checkpoint kept outside the database (a `dizuo audit checkpoint "
                "--out` file)",
            ),
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    from dizuo.audit import log as audit
    from dizuo.modelfile import read_mapping

    held = None if anchor is None else read_mapping(anchor, ("锚点文件", "anchor file"))
    verdict = audit.verify_workspace(state.workspace(), anchor=held)
    if as_json:
        print_json(verdict.to_dict())
    if not verdict.ok:
        raise AuditBroken(
            tr("审计日志验证失败: {p}", "the audit log fails verification: {p}", p=verdict.problem)
        )
    if not as_json:
        console.print(
            tr(
                "审计日志完好：{n} 条记录，{c} 个签名检查点",
                "the audit log is intact: {n} entries, {c} signed checkpoints",
                n=f"{verdict.entries:,}",
                c=verdict.checkpoints,
            ),
            style="green",
        )


@audit_app.command("checkpoint", help=tr("立即签名当前链头", "Sign the chain's head now"))
def audit_checkpoint(
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help=tr(
                "把最新的签名检查点写入文件（交给监管方，库外保存）",
                "write the latest signed checkpoint to a file (for the regulator, kept outside"
                " the database)",
            ),
        ),
    ] = None,
) -> None:
    from dizuo.audit import log as audit

    ws = state.workspace()
    with ws.session(write=True) as s:
        point = audit.checkpoint(ws, s)
        seq = point.seq if point else None
        latest = audit.latest_checkpoint(s)
        kept = audit.checkpoint_dict(latest) if latest is not None else None
    if seq is None:
        console.print(tr("无需新检查点", "nothing new to sign"))
    else:
        console.print(tr("已签名第 {n} 条", "signed entry {n}", n=seq))
    if out is not None:
        if kept is None:
            raise InvalidInput(tr("审计日志为空，没有检查点", "the log is empty: no checkpoint"))
        out.write_text(json.dumps(kept, indent=1) + "\n", encoding="utf-8")
        console.print(
            tr(
                "检查点已写入 {f}：以后用 dizuo audit verify --anchor {f} 核对",
                "checkpoint written to {f}: check against it with `dizuo audit verify "
                "--anchor {f}`",
                f=out,
            )
        )


@audit_app.command(
    "public-key",
    help=tr("检查点签名公钥（交给监管方）", "The checkpoints' public key (for the regulator)"),
)
def audit_public_key() -> None:
    from dizuo.audit import log as audit

    console.print(audit.public_key(state.workspace()), highlight=False)


@audit_app.command("log", help=tr("查看审计记录", "Read the audit log"))
def audit_log(
    user: Annotated[str | None, typer.Option("--user")] = None,
    action: Annotated[str | None, typer.Option("--action")] = None,
    dataset: Annotated[str | None, typer.Option("--dataset")] = None,
    grant: Annotated[str | None, typer.Option("--grant")] = None,
    since: Annotated[datetime | None, typer.Option("--since")] = None,
    until: Annotated[datetime | None, typer.Option("--until")] = None,
    limit: Annotated[
        int, typer.Option("--limit", help=tr("显示最近的 N 条", "show the newest N entries"))
    ] = 50,
    as_json: JsonOpt = False,
) -> None:
    from dizuo.audit import log as audit

    where = audit.EntryFilter(user, action, dataset, grant, audit._iso(since), audit._iso(until))
    with state.workspace().session() as s:
        # the newest ``limit`` entries, oldest first
        _, total = audit.query(s, where, limit=1)
        rows, total = audit.query(s, where, offset=max(0, total - limit), limit=max(1, limit))
        data = [audit.entry_dict(e) for e in rows]
    if as_json:
        print_json({"total": total, "entries": data})
        return
    table(
        tr("审计日志（{n} 条匹配）", "Audit log ({n} matching)", n=total),
        [
            "#",
            tr("时间", "at"),
            tr("谁", "who"),
            tr("动作", "action"),
            tr("结果", "outcome"),
            tr("对象", "target"),
        ],
        [
            [r["seq"], r["at"][:19], r["actor"], r["action"], r["outcome"], r["target"]]
            for r in data
        ],
    )


def serve(
    host: Annotated[str, typer.Option("--host", help=tr("监听地址", "address"))] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help=tr("端口", "port"))] = 8000,
    workers: Annotated[int, typer.Option("--workers", help=tr("线程数", "worker threads"))] = 8,
) -> None:
    """Start the data service (the HTTP API)."""
    run_server(host, port, workers)


def run_server(host: str, port: int, workers: int = 8) -> None:
    import uvicorn

    from dizuo.api.app import create_app

    app = create_app(state.workspace(), threads=workers)

    console.print(
        tr(
            "数据服务: http://{h}:{p}/api/v1/docs（Ctrl-C 停止）",
            "data service: http://{h}:{p}/api/v1/docs (Ctrl-C stops it)",
            h=host,
            p=port,
        )
    )
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
