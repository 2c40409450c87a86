"""Delivery of stored alerts to every receiver, with retries, from the outbox.

An alert is written to the outbox (one ``alerts`` row, one ``alert_deliveries`` row per
receiver) BEFORE anything is sent. This loop then sends each pending delivery, marks it
delivered on the receiver's acknowledgement (so it is never sent to that receiver again),
and on failure waits with exponential backoff, per receiver: a receiver that is down holds
its own alerts back, in order, and gets them when it comes back; the others go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from stream import metrics
from stream.alerts.config import RetryConfig
from stream.alerts.types import Alert, Channel, DeliveryError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    """One alert owed to one receiver. attempts: sends tried so far."""

    id: int
    alert: Alert
    receiver: str
    attempts: int


class DeliveryLog(Protocol):
    """The outbox's delivery side (see stream.alerts.outbox.Outbox); blocking calls."""

    def pending(self, receivers: list[str], limit: int) -> list[Delivery]:
        """Undelivered, not given-up deliveries to ``receivers``, oldest alert first."""
        ...

    def delivered(self, delivery_id: int, at: datetime) -> None: ...

    def failed(self, delivery_id: int, error: str, give_up: bool) -> None: ...


def backoff_s(retry: RetryConfig, failures: int) -> float:
    """Seconds to wait after the ``failures``-th failure in a row (1, 2, 3...)."""
    return float(min(retry.max_s, retry.initial_s * retry.factor ** max(0, failures - 1)))


class Dispatcher:
    """Sends the outbox's pending deliveries; run :meth:`run` as one task per service."""

    def __init__(
        self, log_: DeliveryLog, channels: Mapping[str, Channel], retry: RetryConfig
    ) -> None:
        self._log = log_
        self._channels = dict(channels)
        self._retry = retry
        self._wake = asyncio.Event()
        self._failures: dict[str, int] = defaultdict(int)
        self._resume_at: dict[str, float] = {}

    @property
    def receivers(self) -> list[str]:
        return list(self._channels)

    def wake(self) -> None:
        """A new alert is in the outbox: deliver now instead of at the next retry."""
        self._wake.set()

    def _ready(self, now: float) -> list[str]:
        return [n for n in self._channels if self._resume_at.get(n, 0.0) <= now]

    async def deliver_due(self, batch: int = 100) -> int:
        """One round: each receiver not waiting out a backoff gets its pending alerts in
        order, stopping at its first failure. Returns how many were delivered."""
        ready = self._ready(time.monotonic())
        counts = await asyncio.gather(*(self._round(r, batch) for r in ready))
        return sum(counts)

    async def _round(self, receiver: str, batch: int) -> int:
        # Each receiver reads its own queue, so one with a long backlog starves no other.
        pending = await asyncio.to_thread(self._log.pending, [receiver], batch)
        return await self._drain(receiver, pending) if pending else 0

    async def _drain(self, receiver: str, deliveries: list[Delivery]) -> int:
        channel = self._channels[receiver]
        done = 0
        for d in deliveries:
            try:
                await channel.send(d.alert)
            except DeliveryError as exc:
                await self._failed(d, str(exc))
                return done
            except Exception as exc:  # a bug in a channel must not stop the others
                log.exception("alert channel %s crashed", receiver)
                await self._failed(d, f"{type(exc).__name__}: {exc}")
                return done
            now = datetime.now(UTC)
            await asyncio.to_thread(self._log.delivered, d.id, now)
            metrics.ALERTS_DELIVERED.labels(receiver).inc()
            metrics.ALERT_DELIVERY_SECONDS.labels(receiver).observe(
                max(0.0, (now - d.alert.raised_at).total_seconds())
            )
            self._failures.pop(receiver, None)
            self._resume_at.pop(receiver, None)
            done += 1
        return done

    async def _failed(self, d: Delivery, error: str) -> None:
        self._failures[d.receiver] += 1
        wait = backoff_s(self._retry, self._failures[d.receiver])
        self._resume_at[d.receiver] = time.monotonic() + wait
        age = datetime.now(UTC) - d.alert.raised_at
        give_up = age > timedelta(seconds=self._retry.give_up_after_s)
        metrics.ALERT_DELIVERY_FAILURES.labels(d.receiver).inc()
        log.warning(
            "alert %s to %s failed (%s); %s",
            d.alert.id,
            d.receiver,
            error,
            "giving up" if give_up else f"retrying in {wait:.1f} s",
        )
        await asyncio.to_thread(self._log.failed, d.id, error, give_up)

    def _sleep_s(self) -> float:
        if not self._resume_at:
            return 5.0  # also picks up alerts another process put in a shared database
        return max(0.05, min(5.0, min(self._resume_at.values()) - time.monotonic()))

    async def run(self) -> None:
        """Deliver forever: on :meth:`wake`, when a backoff ends, and every few seconds."""
        while True:
            try:
                await self.deliver_due()
            except Exception:
                log.exception("alert delivery round failed; retrying")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._sleep_s())
