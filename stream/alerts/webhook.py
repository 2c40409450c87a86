"""Alerts POSTed as JSON to an HTTP receiver, signed so the receiver can trust them.

Headers: ``X-Platewatch-Signature: sha256=<hex>``, the HMAC-SHA256 of
``<timestamp>.<body>`` under the shared secret, with ``X-Platewatch-Timestamp`` (Unix
seconds) so a receiver can refuse old replays, and ``X-Platewatch-Alert`` (the alert id)
so it can drop a repeat. Only a 2xx answer counts as delivered.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time

import httpx

from stream.alerts.config import WebhookConfig
from stream.alerts.types import Alert, DeliveryError

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Platewatch-Signature"
TIMESTAMP_HEADER = "X-Platewatch-Timestamp"
ALERT_HEADER = "X-Platewatch-Alert"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value: ``sha256=`` + hex HMAC-SHA256 of ``timestamp.body``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """For receivers: True when ``signature`` was made with ``secret`` (constant time)."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


class WebhookChannel:
    """One configured webhook; share one instance so its connection pool is reused."""

    def __init__(self, config: WebhookConfig) -> None:
        self.name = config.name
        self._config = config
        self._client = httpx.AsyncClient(timeout=config.timeout_s)

    async def send(self, alert: Alert) -> None:
        body = json.dumps(alert.payload(crop=True), separators=(",", ":")).encode()
        stamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: stamp,
            ALERT_HEADER: str(alert.id),
            "User-Agent": "platewatch-alerts",
        }
        if self._config.secret:
            headers[SIGNATURE_HEADER] = sign(self._config.secret, stamp, body)
        try:
            answer = await self._client.post(self._config.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"webhook {self.name}: {type(exc).__name__}: {exc}") from None
        if not answer.is_success:
            raise DeliveryError(f"webhook {self.name} answered {answer.status_code}")
        log.debug("webhook %s took alert %s", self.name, alert.id)

    async def close(self) -> None:
        await self._client.aclose()
