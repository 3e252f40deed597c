"""CLI commands for workbench users: `kefu user add|passwd|list|disable|enable`."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from kefu.cli.context import store_of
from kefu.web.auth import (
    ROLES,
    UserError,
    create_user,
    generate_password,
    list_users,
    set_active,
    set_password,
)

console = Console()
user_app = typer.Typer(help="工作台账号 / Workbench users (owner and agents)", no_args_is_help=True)


def _new_password(generate: bool) -> tuple[str, bool]:
    """A password typed twice at the prompt, or a generated one (True when generated: print it once)."""
    if generate:
        return generate_password(), True
    password = typer.prompt("密码 / password", hide_input=True, confirmation_prompt=True)
    return password, False


def _fail(exc: Exception) -> None:
    console.print(f"[red]✗ {exc}[/red]")
    raise typer.Exit(code=1)


@user_app.command("add")
def add(
    ctx: typer.Context,
    username: str = typer.Argument(..., help="用户名 / username"),
    role: str = typer.Option("agent", "--role", help="owner（店主）或 agent（客服）"),
    display_name: str = typer.Option(None, "--display-name", "-n", help="显示名 / display name, e.g. 小美"),
    generate: bool = typer.Option(False, "--generate", "-g", help="生成随机密码并打印一次 / generate and print a password"),
) -> None:
    """添加客服或店主账号 / Add an agent or owner account."""
    if role not in ROLES:
        _fail(UserError(f"角色只能是 owner 或 agent / role must be owner or agent, not {role!r}"))
    password, generated = _new_password(generate)
    try:
        with store_of(ctx).session() as session:
            create_user(session, username, password, role=role, display_name=display_name)
    except UserError as exc:
        _fail(exc)
    console.print(f"[green]✓[/green] 已添加 {role} 账号 / added {role}: [bold]{username}[/bold]")
    if generated:
        console.print(f"  密码（只显示这一次）/ password (shown once): [bold]{password}[/bold]")


@user_app.command("passwd")
def passwd(
    ctx: typer.Context,
    username: str = typer.Argument(..., help="用户名 / username"),
    generate: bool = typer.Option(False, "--generate", "-g", help="生成随机密码并打印一次 / generate and print a password"),
) -> None:
    """重设密码（该用户已登录的会话失效）/ Reset a password (the user's open sessions end)."""
    password, generated = _new_password(generate)
    try:
        with store_of(ctx).session() as session:
            set_password(session, username, password)
    except UserError as exc:
        _fail(exc)
    console.print(f"[green]✓[/green] 已重设密码 / password reset: [bold]{username}[/bold]")
    if generated:
        console.print(f"  新密码（只显示这一次）/ new password (shown once): [bold]{password}[/bold]")


@user_app.command("list")
def list_(ctx: typer.Context) -> None:
    """列出账号 / List accounts."""
    with store_of(ctx).session() as session:
        users = list_users(session)
    table = Table("用户名 / user", "显示名 / name", "角色 / role", "状态 / state", "最近登录 / last log-in")
    for user in users:
        table.add_row(user.username, user.display_name or "", user.role, "active" if user.active else "disabled",
                      user.last_login_at.isoformat(timespec="minutes") if user.last_login_at else "")
    console.print(table)


def _set_active(ctx: typer.Context, username: str, active: bool) -> None:
    try:
        with store_of(ctx).session() as session:
            set_active(session, username, active)
    except UserError as exc:
        _fail(exc)
    done = "已启用 / enabled" if active else "已停用 / disabled"
    console.print(f"[green]✓[/green] {done}: {username}")


@user_app.command("disable")
def disable(ctx: typer.Context, username: str = typer.Argument(...)) -> None:
    """停用账号 / Disable an account."""
    _set_active(ctx, username, False)


@user_app.command("enable")
def enable(ctx: typer.Context, username: str = typer.Argument(...)) -> None:
    """启用账号 / Enable an account."""
    _set_active(ctx, username, True)


def register(app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")
