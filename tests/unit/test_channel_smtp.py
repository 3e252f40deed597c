"""SMTP channel against a local aiosmtpd server: UTF-8 subject and body, STARTTLS, login, 4xx/5xx answers, no server."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller")
trustme = pytest.importorskip("trustme")
from aiosmtpd.smtp import AuthResult, LoginPassword  # noqa: E402

from kefu.channels.base import Delivery  # noqa: E402
from kefu.channels.smtp_email import SmtpEmailChannel, sender_address, valid_address  # noqa: E402


class Inbox:
    """An aiosmtpd handler that keeps what arrived and answers some recipients with the codes a real server uses."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], EmailMessage]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("full@"):
            return "452 4.2.2 Mailbox full, try later"
        if address.startswith("nobody@"):
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def certificate_authority():
    return trustme.CA()


@pytest.fixture()
def smtp_server(certificate_authority) -> Iterator[tuple[int, Inbox]]:
    inbox = Inbox()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate_authority.issue_cert("localhost", "127.0.0.1").configure_cert(server_context)

    def accept(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"shop", b"s3cret")
        return AuthResult(success=ok, handled=False)

    controller = aiosmtpd_controller.Controller(
        inbox, hostname="127.0.0.1", port=_free_port(), tls_context=server_context, authenticator=accept,
        auth_require_tls=True,
    )
    controller.start()
    yield controller.port, inbox
    controller.stop()


def _client_context(certificate_authority) -> ssl.SSLContext:
    context = ssl.create_default_context()
    certificate_authority.configure_trust(context)
    return context


def _channel(port: int, **extra) -> SmtpEmailChannel:
    fields = {"host": "127.0.0.1", "port": port, "security": "none", "sender": sender_address("小美的店", "service@shop.example"),
              "timeout": 5}
    return SmtpEmailChannel(**{**fields, **extra})


def _delivery(to: str | None = "buyer@example.com", **extra) -> Delivery:
    fields = {"message_id": "msg-42", "text": "亲，您的包裹已发出，顺丰 SF0000000000001。", "to_email": to,
              "subject": "【小美的店】发货通知"}
    return Delivery(**{**fields, **extra})


def test_a_plain_send_arrives_with_utf8_subject_and_body(smtp_server):
    port, inbox = smtp_server
    result = _channel(port).send(_delivery())
    assert result.ok and result.provider_message_id and "kefu.local" in result.provider_message_id
    mail_from, rcpt, message = inbox.messages[-1]
    assert mail_from == "service@shop.example" and rcpt == ["buyer@example.com"]
    assert str(message["Subject"]) == "【小美的店】发货通知"
    assert message.get_content().strip() == "亲，您的包裹已发出，顺丰 SF0000000000001。"
    assert message.get_content_charset() == "utf-8"
    assert message["X-Kefu-Message-Id"] == "msg-42"
    assert "小美的店" in str(message["From"])


def test_starttls_with_login(smtp_server, certificate_authority):
    port, inbox = smtp_server
    channel = _channel(port, security="starttls", username="shop", password="s3cret",
                       ssl_context=_client_context(certificate_authority))
    assert channel.send(_delivery()).ok
    assert len(inbox.messages) == 1


def test_a_wrong_password_is_permanent(smtp_server, certificate_authority):
    port, inbox = smtp_server
    channel = _channel(port, security="starttls", username="shop", password="wrong",
                       ssl_context=_client_context(certificate_authority))
    result = channel.send(_delivery())
    assert not result.ok and not result.retryable and result.error_code == "smtp_535"
    assert inbox.messages == []


def test_starttls_against_an_untrusted_certificate_fails_without_sending(smtp_server):
    port, inbox = smtp_server
    result = _channel(port, security="starttls").send(_delivery())  # the system trust store does not know the test CA
    assert not result.ok and result.error_code == "network"
    assert inbox.messages == []


def test_a_full_mailbox_is_retryable(smtp_server):
    port, _ = smtp_server
    result = _channel(port).send(_delivery("full@example.com"))
    assert not result.ok and result.retryable and result.error_code == "smtp_452"


def test_an_unknown_user_is_permanent(smtp_server):
    port, _ = smtp_server
    result = _channel(port).send(_delivery("nobody@example.com"))
    assert not result.ok and not result.retryable and result.error_code == "smtp_550"


def test_no_server_is_a_retryable_network_error():
    result = _channel(_free_port()).send(_delivery())
    assert result.error_code == "network" and result.retryable


@pytest.mark.parametrize("address", [None, "", "buyer", "buyer@", "@example.com", "a b@example.com", "buyer@localhost"])
def test_bad_addresses_are_refused_before_connecting(address):
    result = _channel(_free_port()).send(_delivery(address))
    assert result.error_code == "invalid_recipient" and not result.retryable


def test_valid_address_takes_a_display_name():
    assert valid_address("王小姐 <wang@example.com>") == "wang@example.com"


def test_without_host_or_sender_the_channel_is_off():
    assert SmtpEmailChannel(host=None, sender=None).send(_delivery()).error_code == "not_configured"
    assert SmtpEmailChannel(host="h", sender="a@b.cn", security="tls13").send(_delivery()).error_code == "not_configured"
