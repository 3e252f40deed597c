"""`kefu channels list|test`: what is configured (no secrets shown) and one test send through a real channel."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from typer.testing import CliRunner

from kefu.channels.webhook import verify_signature
from kefu.cli import app

runner = CliRunner()
CHANNEL_ENV = [k for k in ("KEFU_CHANNEL", "KEFU_ALIYUN_SMS_ACCESS_KEY_ID", "KEFU_ALIYUN_SMS_ACCESS_KEY_SECRET",
                           "KEFU_TENCENT_SMS_SECRET_ID", "KEFU_TENCENT_SMS_SECRET_KEY", "KEFU_TENCENT_SMS_SDK_APP_ID",
                           "KEFU_SMTP_HOST", "KEFU_SMTP_FROM", "KEFU_WEBHOOK_CHANNEL_URL", "KEFU_WEBHOOK_CHANNEL_SECRET")]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in CHANNEL_ENV:
        monkeypatch.delenv(name, raising=False)


class Gateway(BaseHTTPRequestHandler):
    seen: list[dict] = []

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        ok = verify_signature("cli-secret", self.headers["X-Kefu-Timestamp"], body, self.headers["X-Kefu-Signature"])
        Gateway.seen.append(json.loads(body))
        data = json.dumps({"id": "gw-1"} if ok else {"error": "bad signature"}).encode()
        self.send_response(200 if ok else 401)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture()
def gateway() -> Iterator[str]:
    Gateway.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


def test_list_says_what_is_ready_without_showing_secrets(monkeypatch):
    monkeypatch.setenv("KEFU_CHANNEL", "webhook")
    monkeypatch.setenv("KEFU_WEBHOOK_CHANNEL_SECRET", "do-not-print-me")
    result = runner.invoke(app, ["channels", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["channel"]: r for r in json.loads(result.output)}
    assert rows["console"]["ready"] and not rows["console"]["default"]
    assert rows["webhook"]["ready"] and rows["webhook"]["default"]
    assert not rows["aliyun_sms"]["ready"] and "KEFU_ALIYUN_SMS_ACCESS_KEY_ID" in rows["aliyun_sms"]["note"]
    assert "do-not-print-me" not in result.output


def test_the_console_test_send_is_a_dry_run_with_the_phone_masked():
    result = runner.invoke(app, ["channels", "test", "console", "--to", "13800000077", "--json"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert answer["ok"] and answer["to"] == "138****0077" and "13800000077" not in result.output


def test_a_test_send_through_the_webhook_reaches_the_gateway(monkeypatch, gateway):
    monkeypatch.setenv("KEFU_WEBHOOK_CHANNEL_SECRET", "cli-secret")
    result = runner.invoke(app, ["channels", "test", "webhook", "--to", gateway, "--text", "测试", "--param", "name=王小姐"])
    assert result.exit_code == 0, result.output
    assert "gw-1" in result.output
    assert Gateway.seen[-1]["text"] == "测试" and Gateway.seen[-1]["template_params"] == {"name": "王小姐"}


def test_an_unconfigured_channel_fails_with_what_to_set():
    result = runner.invoke(app, ["channels", "test", "tencent_sms", "--to", "13800000077", "--template", "1"])
    assert result.exit_code == 1
    assert "not_configured" in result.output and "KEFU_TENCENT_SMS_SECRET_ID" in result.output


def test_bad_arguments_are_named():
    assert runner.invoke(app, ["channels", "test", "pigeon", "--to", "x"]).exit_code == 2
    result = runner.invoke(app, ["channels", "test", "console", "--to", "13800000077", "--param", "oops"])
    assert result.exit_code == 2 and "name=value" in result.output
