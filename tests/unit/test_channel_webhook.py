"""Webhook channel against a local HTTP server that verifies the HMAC-SHA256 header and answers 2xx, 4xx or 5xx."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from kefu.channels.base import Delivery
from kefu.channels.webhook import WebhookChannel, verify_signature, webhook_signature

SECRET = "hook-secret-0001"


class Receiver(BaseHTTPRequestHandler):
    seen: list[tuple[dict[str, str], dict]] = []

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        expected = "sha256=" + hmac.new(SECRET.encode(), self.headers["X-Kefu-Timestamp"].encode() + b"." + body,
                                        hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, self.headers.get("X-Kefu-Signature", "")):
            return self._answer(401, {"error": "bad signature"})
        payload = json.loads(body)
        Receiver.seen.append((dict(self.headers.items()), payload))
        status = {"/busy": 503, "/limited": 429, "/gone": 410}.get(self.path, 200)
        self._answer(status, {"id": f"gw-{payload['message_id']}"} if status == 200 else {"error": "no"})

    def _answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture()
def base_url() -> Iterator[str]:
    Receiver.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _channel(url: str | None, secret: str | None = SECRET) -> WebhookChannel:
    return WebhookChannel(url=url, secret=secret, http=httpx.Client(timeout=5), clock=lambda: 1_763_800_000)


DELIVERY = Delivery(message_id="msg-9", text="亲，您的退款已处理", to_phone="13800000009", template_params={"n": 1})


def test_a_message_is_posted_as_signed_json(base_url):
    result = _channel(f"{base_url}/hook").send(DELIVERY)
    assert result.ok and result.provider_message_id == "gw-msg-9"
    headers, payload = Receiver.seen[-1]
    assert headers["X-Kefu-Message-Id"] == "msg-9" and headers["X-Kefu-Timestamp"] == "1763800000"
    assert headers["Content-Type"].startswith("application/json")
    assert payload["event"] == "message.send" and payload["text"] == "亲，您的退款已处理"
    assert payload["to_phone"] == "13800000009" and payload["template_params"] == {"n": "1"}


def test_a_delivery_can_name_its_own_url(base_url):
    assert _channel(None).send(Delivery(message_id="m", text="t", to_url=f"{base_url}/other")).ok


def test_a_wrong_secret_is_refused_and_permanent(base_url):
    result = _channel(f"{base_url}/hook", secret="other").send(DELIVERY)
    assert result.error_code == "http_401" and not result.retryable


@pytest.mark.parametrize(("path", "code", "retryable"), [("/busy", "http_503", True), ("/limited", "http_429", True),
                                                         ("/gone", "http_410", False)])
def test_answers_map_to_retryable_or_permanent(base_url, path, code, retryable):
    result = _channel(base_url + path).send(DELIVERY)
    assert (result.ok, result.error_code, result.retryable) == (False, code, retryable)


def test_a_timeout_is_retryable_because_the_receiver_deduplicates_on_the_message_id():
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    channel = WebhookChannel(url="https://gw.example/hook", secret=SECRET, http=httpx.Client(transport=httpx.MockTransport(slow)))
    result = channel.send(DELIVERY)
    assert result.error_code == "timeout" and result.retryable


@pytest.mark.parametrize("url", [None, "", "ftp://gw.example/x", "not a url"])
def test_no_usable_url_is_a_permanent_error(url):
    assert _channel(url).send(DELIVERY).error_code == "invalid_recipient"


def test_without_a_secret_the_channel_is_off():
    assert _channel("https://gw.example/hook", secret=None).send(DELIVERY).error_code == "not_configured"


def test_the_receiver_side_check():
    header = webhook_signature(SECRET, "1763800000", b'{"a":1}')
    assert verify_signature(SECRET, "1763800000", b'{"a":1}', header)
    assert not verify_signature(SECRET, "1763800001", b'{"a":1}', header)
    assert not verify_signature(SECRET, "1763800000", b'{"a":2}', header)
