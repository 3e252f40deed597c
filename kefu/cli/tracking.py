"""CLI commands: `kefu track subscribe` (ask Kuaidi100 to push parcels' tracks) and `kefu track replay` (unmatched pushes)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import typer

from kefu.adapters.kuaidi100_client import Kuaidi100Client
from kefu.cli.context import store_of
from kefu.config import Settings
from kefu.services.shops import find_shop
from kefu.services.tracking import replay_unmatched, subscribe_parcels

track_app = typer.Typer(
    name="track",
    help="物流跟踪：订阅快递100推送、重放未匹配的推送 / Parcel tracking: Kuaidi100 subscriptions, unmatched pushes",
    no_args_is_help=True,
)

ShopOption = typer.Option(None, "--shop", help="店铺名称、ID 或 Shopify 域名 / shop name, id or Shopify domain")
HTTP_TIMEOUT = 15.0


def http_client() -> httpx.Client:
    """The HTTP client used to reach Kuaidi100 (replaced in tests)."""
    return httpx.Client(timeout=HTTP_TIMEOUT)


def _shop_id(session, name: str | None) -> str | None:
    if not name:
        return None
    shop = find_shop(session, name)
    if shop is None:
        typer.echo(f"找不到店铺 / no such shop: {name}", err=True)
        raise typer.Exit(1)
    return shop.id


@track_app.command("subscribe")
def subscribe(
    ctx: typer.Context,
    shop: str = ShopOption,
    since: int = typer.Option(30, "--since", min=1, help="只看最近 N 天发货的包裹 / parcels shipped in the last N days"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON / print JSON"),
) -> None:
    """订阅已发货、未签收的包裹 / Subscribe shipped, unsigned parcels to Kuaidi100's push service."""
    settings = Settings.from_env()
    store = store_of(ctx)
    with http_client() as http, store.session() as session:
        client = Kuaidi100Client(settings.kuaidi100_key, settings.kuaidi100_salt, settings.kuaidi100_callback_url, http)
        report = subscribe_parcels(
            session, client, since=datetime.now(UTC) - timedelta(days=since), shop_id=_shop_id(session, shop)
        )
    if as_json:
        typer.echo(json.dumps({"counts": report.counts, "stopped": report.stopped,
                               "problems": [{"waybill_no": w, "status": s, "message": m} for w, s, m in report.problems]},
                              ensure_ascii=False, indent=2))
    else:
        if report.stopped and not report.total:
            typer.echo(report.stopped)
        for waybill, status, message in report.problems:
            typer.echo(f"{waybill}: {status}: {message}")
        counts = ", ".join(f"{status} {n}" for status, n in sorted(report.counts.items())) or "0"
        typer.echo(f"包裹 / parcels: {counts}")
        if report.stopped and report.total:
            typer.echo(f"已停止 / stopped: {report.stopped}")
    if report.stopped and report.total:
        raise typer.Exit(1)  # the account itself is wrong: every further call would fail too


@track_app.command("replay")
def replay(ctx: typer.Context, shop: str = ShopOption) -> None:
    """重放未匹配的物流推送 / Apply kept unmatched pushes again, once their orders have been imported."""
    with store_of(ctx).session() as session:
        results = replay_unmatched(session, now=datetime.now(UTC), shop_id=_shop_id(session, shop))
        for result in results:
            typer.echo(f"{result.carrier_code} {result.waybill_no}: {result.state.value if result.state else '-'}")
    typer.echo(f"已匹配 / matched: {len(results)}")


def register(app: typer.Typer) -> None:
    """Add the `kefu track` group to the root app."""
    app.add_typer(track_app, name="track")
