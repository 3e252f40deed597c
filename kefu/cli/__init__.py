"""The `kefu` command: one Typer group per capability, all sharing the global --db option."""

from __future__ import annotations

import typer

from kefu.cli import customers, demo, imports, serve, tracking, users
from kefu.cli import watch
from kefu.cli import growth
from kefu.cli import cases
from kefu.cli import stock
from kefu.cli import reviews
from kefu.cli import guard, text
from kefu.cli import returns
from kefu.cli import messages
from kefu.cli import chats, kb
from kefu.cli import channels
from kefu.cli.context import CliState

app = typer.Typer(
    name="kefu",
    help="kefu 客服运营台 — 淘宝/天猫与 Shopify 店铺的自托管客服工作台。\n\n"
    "kefu — a self-hosted customer-service desk for Taobao/Tmall and Shopify shops.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_show_locals=False,
)


@app.callback()
def main_options(
    ctx: typer.Context,
    db: str = typer.Option(
        None,
        "--db",
        envvar="KEFU_DATABASE_URL",
        help="数据库地址 / database URL (default sqlite:///kefu.db; postgresql://… for production)",
    ),
) -> None:
    ctx.obj = CliState(db_url=db)


imports.register(app)
customers.register(app)
serve.register(app)
demo.register(app)
users.register(app)
watch.register(app)
growth.register(app)
cases.register(app)
tracking.register(app)
stock.register(app)
reviews.register(app)
text.register(app)
guard.register(app)

returns.register(app)
messages.register(app)

chats.register(app)
kb.register(app)
channels.register(app)


def main() -> None:
    app()
