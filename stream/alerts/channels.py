"""The configured receivers, built from the ``alerts`` section."""

from __future__ import annotations

from platewatch.errors import PlatewatchError
from stream.alerts.config import AlertsConfig
from stream.alerts.mqtt import MqttChannel
from stream.alerts.types import Channel
from stream.alerts.webhook import WebhookChannel


class ReceiverConfigError(PlatewatchError, ValueError):
    """Two receivers share a name; delivery records could not tell them apart."""


def build_channels(config: AlertsConfig) -> list[Channel]:
    """One channel per webhook, plus MQTT when configured (not connected yet)."""
    channels: list[Channel] = [WebhookChannel(w) for w in config.webhooks]
    if config.mqtt is not None:
        channels.append(MqttChannel(config.mqtt))
    names = [c.name for c in channels]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ReceiverConfigError(
            f"alert receivers need distinct names; repeated: {', '.join(repeated)}"
        )
    return channels


async def open_channels(channels: list[Channel]) -> None:
    for channel in channels:
        if isinstance(channel, MqttChannel):
            channel.start()


async def close_channels(channels: list[Channel]) -> None:
    for channel in channels:
        if isinstance(channel, WebhookChannel | MqttChannel):
            await channel.close()
