"""Outgoing-message channels: one adapter per provider behind the `Channel` protocol, chosen by `build_channel`."""

from kefu.channels.base import Channel, Delivery, DeliveryResult
from kefu.channels.registry import CHANNEL_NAMES, build_channel

__all__ = ["CHANNEL_NAMES", "Channel", "Delivery", "DeliveryResult", "build_channel"]
