"""Email through an SMTP server (stdlib smtplib): UTF-8 subject and body, STARTTLS, implicit TLS or plain, 4xx retryable."""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from kefu.channels.base import INVALID_RECIPIENT, NETWORK, NOT_CONFIGURED, Delivery, DeliveryResult
from kefu.domain.privacy import mask_email

log = logging.getLogger(__name__)

NAME = "smtp"
SECURITY_MODES = ("starttls", "ssl", "none")
DEFAULT_SUBJECT = "来自店铺的消息 / A message from the shop"


def valid_address(address: str | None) -> str | None:
    """The bare address when it looks like name@domain.tld (no spaces, one @), else None."""
    _, addr = parseaddr(address or "")
    if not addr or addr.count("@") != 1 or any(c.isspace() for c in addr):
        return None
    local, domain = addr.split("@")
    return addr if local and "." in domain and not domain.startswith(".") and not domain.endswith(".") else None


def build_message(delivery: Delivery, *, sender: str, recipient: str) -> EmailMessage:
    """A UTF-8 text/plain email (subject RFC 2047-encoded by the email package); Message-ID carries the message id."""
    message = EmailMessage()
    message["Subject"] = delivery.subject or DEFAULT_SUBJECT
    message["From"] = sender
    message["To"] = recipient
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(idstring=delivery.message_id.replace("@", "_")[:60], domain="kefu.local")
    message["X-Kefu-Message-Id"] = delivery.message_id
    message.set_content(delivery.text, charset="utf-8")
    return message


class SmtpEmailChannel:
    """Sends one email per delivery, one connection each; off until a host and a From address are configured."""

    name = NAME

    def __init__(self, *, host: str | None, port: int = 587, security: str = "starttls", username: str | None = None,
                 password: str | None = None, sender: str | None = None, timeout: float = 10.0,
                 ssl_context: ssl.SSLContext | None = None):
        self.host = (host or "").strip()
        self.port = port
        self.security = (security or "starttls").lower()
        self.username = username or None
        self.password = password or None
        self.sender = (sender or "").strip()
        self.timeout = timeout
        self.ssl_context = ssl_context

    @property
    def off_reason(self) -> str | None:
        if not self.host or not self.sender:
            return "KEFU_SMTP_HOST / KEFU_SMTP_FROM 未设置 / SMTP is not configured"
        if self.security not in SECURITY_MODES:
            return f"KEFU_SMTP_SECURITY 只能是 {', '.join(SECURITY_MODES)} / unknown SMTP security {self.security!r}"
        return None

    def send(self, delivery: Delivery) -> DeliveryResult:
        off = self.off_reason
        if off:
            return DeliveryResult.failed(NOT_CONFIGURED, off, retryable=False)
        recipient = valid_address(delivery.to_email)
        if recipient is None:
            return DeliveryResult.failed(INVALID_RECIPIENT, "邮箱地址无效 / not a valid email address", retryable=False)
        message = build_message(delivery, sender=self.sender, recipient=recipient)
        try:
            with self._connect() as smtp:
                if self.username and self.password:
                    smtp.login(self.username, self.password)
                refused = smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()), (550, b""))
            return self._refused(code, text, recipient)
        except smtplib.SMTPAuthenticationError as exc:
            return DeliveryResult.failed(f"smtp_{exc.smtp_code}", "SMTP 登录失败 / SMTP login refused: check KEFU_SMTP_USERNAME/PASSWORD",
                                         retryable=False)
        except smtplib.SMTPResponseException as exc:
            return self._refused(exc.smtp_code, exc.smtp_error, recipient)
        except (smtplib.SMTPException, OSError) as exc:  # disconnects, timeouts, refused connections, TLS failures
            log.warning("smtp: could not deliver to %s: %s", mask_email(recipient), type(exc).__name__)
            return DeliveryResult.failed(NETWORK, f"SMTP 连接失败 / SMTP connection failed: {type(exc).__name__}", retryable=True)
        if refused:
            code, text = next(iter(refused.values()))
            return self._refused(code, text, recipient)
        return DeliveryResult.sent(message["Message-ID"])

    def _connect(self) -> smtplib.SMTP:
        context = self.ssl_context or ssl.create_default_context()
        if self.security == "ssl":
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.security == "starttls":
                smtp.starttls(context=context)
        except BaseException:
            smtp.close()
            raise
        return smtp

    @staticmethod
    def _refused(code: int, text: bytes | str, recipient: str) -> DeliveryResult:
        detail = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
        log.warning("smtp refused %s: %s", mask_email(recipient), code)
        return DeliveryResult.failed(f"smtp_{code}", f"SMTP {code}: {detail}", retryable=400 <= code < 500)


def sender_address(display_name: str, address: str) -> str:
    """A From header value with a (Chinese) display name, e.g. 我的店 <service@example.com>."""
    return str(Address(display_name=display_name, addr_spec=address))
