"""CLI command: `kefu guard check` — check proposed replies against the shop's facts before they are sent."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path

import typer

from kefu.config import shop_rules
from kefu.domain.promise_guard import GuardContext, ShopFacts, check_text

guard_app = typer.Typer(
    name="guard",
    help="承诺守卫：检查回复中店铺做不到的承诺 / Promise guard: catch promises in replies the shop cannot keep",
    no_args_is_help=True,
)


def load_facts_file(path: Path) -> ShopFacts:
    """Shop facts from a JSON object file (keys of ShopFacts, over the configured defaults); errors name the file."""
    try:
        values = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from exc
    if not isinstance(values, dict):
        raise ValueError(f"{path}: expected a JSON object of shop facts")
    defaults = dict(shop_rules(None)["promise_guard"])
    try:
        return ShopFacts.from_rules({"promise_guard": {**defaults, **values}})
    except (ValueError, KeyError) as exc:
        raise ValueError(f"{path}: {exc}") from exc


@guard_app.command("check")
def check_command(
    facts_file: Path = typer.Option(None, "--facts", help="店铺事实 JSON 文件 / shop facts JSON file (FILE.json)"),
    province: str = typer.Option(None, "--province", help="买家省份 / the buyer's province (e.g. 新疆)"),
    high_risk: bool = typer.Option(False, "--high-risk", help="高风险买家：警告升级为拦截 / high-risk buyer: warn → block"),
    now: str = typer.Option(None, "--now", help="当前时间 ISO 8601（默认现在）/ the time now, ISO 8601 (default: now)"),
) -> None:
    """从标准输入逐行读取拟发送的回复，每行输出一个 JSON / Read proposed replies from stdin, print one JSON per line."""
    try:
        facts = load_facts_file(facts_file) if facts_file else ShopFacts.from_rules(shop_rules(None))
    except ValueError as exc:
        typer.echo(f"店铺事实有误 / bad shop facts: {exc}", err=True)
        raise typer.Exit(2) from exc
    try:
        moment = datetime.fromisoformat(now) if now else datetime.now(timezone.utc)
    except ValueError as exc:
        typer.echo(f"--now 不是 ISO 时间 / --now is not an ISO time: {now}", err=True)
        raise typer.Exit(2) from exc
    context = GuardContext(province=province, now=moment, high_risk=high_risk)
    for line in sys.stdin:
        text = line.rstrip("\r\n")
        verdict = check_text(text, facts, context)
        sys.stdout.write(json.dumps({"text": text, **verdict.to_json()}, ensure_ascii=False) + "\n")


def register(app: typer.Typer) -> None:
    """Add the `kefu guard` group to the root app."""
    app.add_typer(guard_app, name="guard")
