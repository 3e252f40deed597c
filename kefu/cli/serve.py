"""`kefu serve`: run the workbench with uvicorn; creates the owner on first run and, with --demo, a demo shop."""

from __future__ import annotations

import logging
import os

import typer
from rich.console import Console
from sqlalchemy import func, select

from kefu.cli.context import store_of
from kefu.config import Settings
from kefu.store.database import Store
from kefu.store.tables import Order
from kefu.web.auth import ensure_owner

console = Console()


def build_demo_if_empty(store: Store) -> bool:
    """Build the demo shop when the database has no orders yet (True when built)."""
    with store.session() as session:
        if session.scalar(select(func.count()).select_from(Order)):
            return False
    from rich.progress import BarColumn, Progress, TextColumn

    from kefu.demo import build_demo_shop

    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  console=console) as bar:
        task = bar.add_task("生成演示店铺 / building the demo shop", total=1)

        def progress(step: str, done: int, total: int) -> None:
            bar.update(task, description=f"演示店铺 / demo: {step}", completed=done, total=max(total, 1))

        summary = build_demo_shop(store, progress=progress)
    console.print(
        f"[green]✓[/green] 演示店铺已生成 / demo shop built: [bold]{summary.shop_name}[/bold] — "
        f"{summary.orders} 订单 / orders, {summary.customers} 客户 / customers"
    )
    return True


def announce_owner(store: Store, settings: Settings, *, demo: bool) -> None:
    """Create the owner when no user exists and print how to log in (a generated password only this once)."""
    with store.session() as session:
        created = ensure_owner(session, settings, username="owner" if demo else None)
    if created is None:
        return
    owner, password = created
    console.print("[bold]首次启动：已创建店主账号 / first run: owner account created[/bold]")
    console.print(f"  用户名 / username: [bold]{owner.username}[/bold]")
    if password:
        console.print(f"  密码 / password:  [bold]{password}[/bold]   （只显示这一次，请记下 / shown once, write it down）")
    else:
        console.print("  密码 / password:  KEFU_OWNER_PASSWORD")


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve(
        ctx: typer.Context,
        host: str = typer.Option("127.0.0.1", "--host", help="监听地址 / address to listen on"),
        port: int = typer.Option(8000, "--port", help="端口 / port"),
        demo: bool = typer.Option(False, "--demo", help="数据库为空时生成演示店铺 / build a demo shop into an empty database"),
        workers: int = typer.Option(1, "--workers", min=1, help="服务进程数（需 PostgreSQL）/ server processes (PostgreSQL only): "
                                    "carrier pushes by the thousand want one per core"),
        access_log: bool = typer.Option(True, "--access-log/--no-access-log", help="逐个请求记日志 / log every request"),
    ) -> None:
        """启动客服工作台 / Run the workbench web server."""
        import uvicorn

        from kefu.web.app import create_app

        store = store_of(ctx)
        settings = Settings.from_env()
        if workers > 1 and store.is_sqlite:
            raise typer.BadParameter("多进程需要 PostgreSQL（SQLite 只有一个写入者）/ several workers need PostgreSQL "
                                     "(SQLite has a single writer)", param_hint="--workers")
        if demo:
            build_demo_if_empty(store)
        announce_owner(store, settings, demo=demo)
        shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        console.print(f"打开 / open: [bold link]http://{shown_host}:{port}/[/bold link]")
        warm_text_models()
        options = {"host": host, "port": port, "log_level": "info", "proxy_headers": True, "access_log": access_log}
        if workers == 1:
            uvicorn.run(create_app(store, settings), **options)
            return
        os.environ["KEFU_DATABASE_URL"] = store.url  # what each worker's app_from_env opens (--db included)
        uvicorn.run("kefu.web.app:app_from_env", factory=True, workers=workers, **options)


def warm_text_models() -> None:
    """Load (or on a fresh machine, train and cache) the message models in the background, so the first buyer
    message of the day is not the one that waits for them."""
    import threading

    def warm() -> None:
        try:
            from kefu.text.understand import analyze

            analyze("你好")
        except Exception:  # the inbox falls back to keywords; never stop the server for this
            logging.getLogger(__name__).exception("warming the text models failed")

    threading.Thread(target=warm, name="kefu-warm-text", daemon=True).start()
