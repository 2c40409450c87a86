"""Delivery of stored alerts to every receiver, with retries, from the outbox.

An alert is written to the outbox (one ``alerts`` row, one ``alert_deliveries`` row per
receiver) BEFORE anything is sent. This loop then sends each pending delivery, marks it
delivered on the receiver's acknowledgement (so it is never sent to that receiver again),
and on failure waits with exponential backoff, per receiver: a receiver that is down holds
its own alerts back, in order, and gets them when it comes back; the others go on.

Several service processes may share one database (cluster mode): each dispatcher CLAIMS
the deliveries it is about to send (``claimed_by``, ``claimed_until``) in one atomic
UPDATE, so each delivery is sent by one process. A process that dies holding claims
loses them when they run out (``claim_s``); a failed send is retried from its
``next_attempt_at`` by whichever process claims it then. A process killed after the
receiver took an alert but before marking it delivered sends it again: receivers drop a
repeat by its ``X-Platewatch-Alert`` id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
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


@dataclass(frozen=True)
class Claim:
    """Deliveries taken by ``node`` at ``now`` (UTC) for ``claim_s`` seconds."""

    node: str
    now: datetime
    claim_s: float

    @property
    def until(self) -> datetime:
        return self.now + timedelta(seconds=self.claim_s)


def default_node() -> str:
    """A name for this process among others sharing the database: host-pid-random."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:4]}"


class DeliveryLog(Protocol):
    """The outbox's delivery side (see stream.alerts.outbox.Outbox); blocking calls."""

    def claim(self, receiver: str, limit: int, claim: Claim) -> list[Delivery]:
        """Due deliveries to ``receiver`` nobody holds, oldest alert first, now held."""
        ...

    def release(self, delivery_ids: list[int], node: str) -> None: ...

    def delivered(self, delivery_id: int, at: datetime) -> None: ...

    def failed(self, delivery_id: int, error: str, retry_at: datetime | None) -> None: ...


@dataclass
class _Drained:
    """Of one claimed batch: how many have their outcome recorded, how many delivered."""

    finished: int = 0
    delivered: int = 0


def backoff_s(retry: RetryConfig, failures: int) -> float:
    """Seconds to wait after the ``failures``-th failure in a row (1, 2, 3...)."""
    return float(min(retry.max_s, retry.initial_s * retry.factor ** max(0, failures - 1)))


class Dispatcher:
    """Sends the outbox's pending deliveries; run :meth:`run` as one task per service.

    node: this process's name in the claims (default: host-pid-random); claim_s: how
    long a claim holds, longer than a batch of sends takes (a send stops at its
    channel's timeout, and the batch stops early when the claim is about to run out).
    """

    def __init__(
        self,
        log_: DeliveryLog,
        channels: Mapping[str, Channel],
        retry: RetryConfig,
        node: str | None = None,
        claim_s: float = 60.0,
    ) -> None:
        self._log = log_
        self._channels = dict(channels)
        self._retry = retry
        self.node = node or default_node()
        self._claim_s = claim_s
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
        claim = Claim(self.node, datetime.now(UTC), self._claim_s)
        # The claim is trusted until a margin before it runs out, by this clock.
        trusted_until = time.monotonic() + 0.8 * self._claim_s
        taken = await asyncio.to_thread(self._log.claim, receiver, batch, claim)
        if not taken:
            return 0
        done = _Drained()
        try:
            await self._drain(receiver, taken, trusted_until, done)
        finally:
            # Not sent, or stopped mid-send (the service is shutting down): free for the
            # next round or process at once rather than when the claim runs out.
            left = [d.id for d in taken[done.finished :]]
            if left:
                await asyncio.to_thread(self._log.release, left, self.node)
        return done.delivered

    async def _drain(
        self, receiver: str, deliveries: list[Delivery], trusted_until: float, done: _Drained
    ) -> None:
        channel = self._channels[receiver]
        for d in deliveries:
            if time.monotonic() > trusted_until:
                return  # another process may take these soon: claim them again
            try:
                await channel.send(d.alert)
            except DeliveryError as exc:
                await self._failed(d, str(exc))
                done.finished += 1
                return
            except Exception as exc:  # a bug in a channel must not stop the others
                log.exception("alert channel %s crashed", receiver)
                await self._failed(d, f"{type(exc).__name__}: {exc}")
                done.finished += 1
                return
            now = datetime.now(UTC)
            await asyncio.to_thread(self._log.delivered, d.id, now)
            done.finished += 1
            done.delivered += 1
            metrics.ALERTS_DELIVERED.labels(receiver).inc()
            metrics.ALERT_DELIVERY_SECONDS.labels(receiver).observe(
                max(0.0, (now - d.alert.raised_at).total_seconds())
            )
            self._failures.pop(receiver, None)
            self._resume_at.pop(receiver, None)

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
        retry_at = None if give_up else datetime.now(UTC) + timedelta(seconds=wait)
        await asyncio.to_thread(self._log.failed, d.id, error, retry_at)

    def _sleep_s(self) -> float:
        if not self._resume_at:
            return 5.0  # also picks up alerts another process put in a shared database
        return max(0.05, min(5.0, min(self._resume_at.values()) - time.monotonic()))

    async def run(self) -> None:
        """Deliver forever: on :meth:`wake`, when a backoff ends, and every few seconds."""
        while True:
            # Cleared before the round: an alert stored during it starts the next at once.
            self._wake.clear()
            try:
                await self.deliver_due()
            except Exception:
                log.exception("alert delivery round failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._sleep_s())
