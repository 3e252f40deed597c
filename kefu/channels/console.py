"""The default channel: a dry run that logs each message (phone numbers redacted) and never sends anything."""

from __future__ import annotations

import logging
from collections import deque

from kefu.channels.base import Delivery, DeliveryResult
from kefu.domain.privacy import mask_email, mask_phone, redact_phones

log = logging.getLogger(__name__)

NAME = "console"
KEPT = 200  # the last deliveries kept in memory, for a look in tests and the demo


class ConsoleChannel:
    """Accepts every delivery, writes one log line with the recipient masked and the text phone-redacted, sends nothing."""

    name = NAME

    def __init__(self) -> None:
        self.delivered: deque[Delivery] = deque(maxlen=KEPT)

    def send(self, delivery: Delivery) -> DeliveryResult:
        recipient = mask_phone(delivery.to_phone) or mask_email(delivery.to_email) or delivery.to_url or "-"
        log.info("dry run (console channel, nothing sent): message=%s to=%s template=%s text=%s",
                 delivery.message_id, recipient, delivery.template_code or "-", redact_phones(delivery.text))
        self.delivered.append(delivery)
        return DeliveryResult.sent(f"console:{delivery.message_id}")

    def find_sent(self, message_id: str) -> str | None:
        """The provider id of a message this channel took (while still kept in memory), for the outbox's crash recovery."""
        return f"console:{message_id}" if any(d.message_id == message_id for d in self.delivered) else None
