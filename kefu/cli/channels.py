"""CLI commands: `kefu channels list|test` — which outgoing-message channels are configured, and one test send."""

from __future__ import annotations

import json
import uuid

import typer
from rich.console import Console
from rich.table import Table

from kefu.channels import CHANNEL_NAMES, Delivery, build_channel
from kefu.channels.registry import channel_name
from kefu.config import Settings
from kefu.domain.privacy import mask_email, mask_phone

channels_app = typer.Typer(
    name="channels",
    help="发送渠道：短信（阿里云、腾讯云）、邮件、Webhook / Outgoing-message channels: SMS, email, webhook",
    no_args_is_help=True,
)


@channels_app.command("list")
def list_command(as_json: bool = typer.Option(False, "--json", help="输出 JSON / print JSON")) -> None:
    """列出渠道及是否已配置（不显示密钥）/ List the channels and whether each is configured (no secrets shown)."""
    settings = Settings.from_env()
    try:
        default = channel_name(settings.channels.default)
    except ValueError as exc:
        typer.echo(f"KEFU_CHANNEL: {exc}", err=True)
        default = None
    rows = []
    for name in CHANNEL_NAMES:
        channel = build_channel(name, settings)
        off = getattr(channel, "off_reason", None)
        rows.append({"channel": name, "default": name == default, "ready": off is None,
                     "note": off or ("演练：只记日志，不发送 / dry run: logs, never sends" if name == "console" else "")})
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table("渠道 channel", "默认 default", "可用 ready", "说明 note")
    for row in rows:
        table.add_row(row["channel"], "✓" if row["default"] else "", "✓" if row["ready"] else "✗", row["note"])
    Console(soft_wrap=True).print(table)


def _params(pairs: list[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise typer.BadParameter(f"--param 要写成 名=值 / --param takes name=value, got {pair!r}")
        params[name.strip()] = value
    return params


@channels_app.command("test")
def test_command(
    name: str = typer.Argument(..., help=f"渠道 / channel: {', '.join(CHANNEL_NAMES)}"),
    to: str = typer.Option(..., "--to", help="收件人：手机号、邮箱或 URL / recipient: phone, email or URL"),
    text: str = typer.Option("这是一条测试消息 / a test message from kefu", "--text", help="正文 / message text"),
    template: str = typer.Option(None, "--template", help="短信模板 / SMS template code (Aliyun SMS_…, Tencent TemplateId)"),
    param: list[str] = typer.Option([], "--param", help="模板变量 名=值，可重复 / template variable name=value, repeatable"),
    sign_name: str = typer.Option(None, "--sign", help="短信签名（默认用配置的）/ SMS sign name (default: configured)"),
    subject: str = typer.Option(None, "--subject", help="邮件主题 / email subject"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON / print JSON"),
) -> None:
    """发送一条测试消息，检查渠道配置 / Send one test message to check a channel's configuration."""
    try:
        channel = build_channel(name, Settings.from_env())
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    delivery = Delivery(
        message_id=f"test-{uuid.uuid4().hex[:12]}", text=text, template_code=template, template_params=_params(param),
        sign_name=sign_name, subject=subject,
        to_phone=to if "@" not in to and "://" not in to else None,
        to_email=to if "@" in to and "://" not in to else None,
        to_url=to if "://" in to else None,
    )
    result = channel.send(delivery)
    shown = mask_phone(delivery.to_phone) or mask_email(delivery.to_email) or delivery.to_url
    if as_json:
        typer.echo(json.dumps({"channel": channel.name, "to": shown, "ok": result.ok,
                               "provider_message_id": result.provider_message_id, "retryable": result.retryable,
                               "error_code": result.error_code, "error": result.error}, ensure_ascii=False, indent=2))
    elif result.ok:
        typer.echo(f"✓ {channel.name} → {shown}: 已受理 / accepted ({result.provider_message_id or '-'})")
    else:
        again = "可稍后重试 / retryable" if result.retryable else "需修改后再发 / fix before resending"
        typer.echo(f"✗ {channel.name} → {shown}: {result.error_code}: {result.error} ({again})", err=True)
    if not result.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the `kefu channels` group to the root app."""
    app.add_typer(channels_app, name="channels")
