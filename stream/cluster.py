"""Many service processes, one database: each runs the cameras it holds a lease on.

With ``cluster: {enabled: true}`` and ``store.url`` naming a PostgreSQL database, the
service starts no camera by itself; a :class:`LeaseKeeper` task claims a fair share of the
config's cameras through store.leases every ``renew_s`` seconds, starts those it won and
stops those it lost or must hand over, through the service's ``add_camera`` /
``remove_camera``. A process that dies stops renewing; its cameras run elsewhere within
``lease_s + renew_s`` seconds (10 + 3 by default: at most ~13 s unserved).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, model_validator

from platewatch.errors import PlatewatchError
from stream import metrics

if TYPE_CHECKING:
    from store.leases import LeaseStep
    from stream.service import Service

log = logging.getLogger(__name__)


class ClusterError(PlatewatchError, ValueError):
    """Cluster mode cannot run with this config; the message says what is needed."""


class ClusterConfig(BaseModel):
    """Share the config's cameras with other processes through leases in the database."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(default=False, title="cluster mode", description="needs store.url")
    lease_s: float = Field(
        default=10.0, gt=0, le=3600, title="lease seconds", description="a claim's life"
    )
    renew_s: float = Field(
        default=3.0, gt=0, le=1200, title="renew seconds", description="between lease rounds"
    )
    node_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        title="node name",
        description="unique per process; absent: host-pid-random",
    )

    @model_validator(mode="after")
    def _renew_within_lease(self) -> ClusterConfig:
        if self.renew_s * 2 > self.lease_s:
            raise ValueError(
                f"renew_s ({self.renew_s}) must be at most half of lease_s ({self.lease_s}), "
                "or a slow round lets a live process lose its cameras"
            )
        return self


def default_node_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:4]}"


class LeaseKeeper:
    """Keeps the service's running cameras equal to the cameras this node holds."""

    def __init__(self, service: Service, config: ClusterConfig) -> None:
        store = service.store
        if getattr(store, "engine", None) is None or store.engine.dialect.name != "postgresql":
            raise ClusterError(
                "cluster.enabled needs store.url to name a PostgreSQL database "
                "(postgresql+psycopg://...) that every process shares"
            )
        # Here, not at the top: the config reads ClusterConfig without loading the store.
        from store.leases import Leases, LeaseSettings

        self.service = service
        self.config = config
        settings = LeaseSettings(config.node_id or default_node_id(), config.lease_s)
        # Cameras switched off in the config are nobody's to run.
        wanted = [name for name, camera in service.config.cameras.items() if camera.enabled]
        self.leases = Leases(store.engine, settings, wanted)
        self._running: set[str] = set()
        # Monotonic time until which the leases last renewed are surely still ours.
        self._valid_until = 0.0
        self._task: asyncio.Task[None] | None = None

    @property
    def node_id(self) -> str:
        return self.leases.node_id

    @property
    def running(self) -> frozenset[str]:
        return frozenset(self._running)

    async def start(self) -> None:
        """Register the cameras, take a first share now, then keep renewing in a task."""
        await asyncio.to_thread(self.leases.register)
        await self.round()
        self._task = asyncio.create_task(self._loop(), name="lease-keeper")
        log.info("cluster node %s running cameras: %s", self.node_id, sorted(self._running))

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.renew_s)
            await self.round()

    async def round(self) -> None:
        """One lease round: renew and claim, then start and stop cameras to match."""
        began = time.monotonic()
        try:
            step = await asyncio.to_thread(self.leases.step)
        except Exception:
            metrics.LEASE_ROUND_ERRORS.inc()
            log.exception("lease round of node %s failed", self.node_id)
            if time.monotonic() >= self._valid_until:
                # Unrenewed leases may be another node's by now: stop before it starts.
                await self._stop(set(self._running))
            return
        # The server set expiries at or after `began`; ours are safe until then + lease.
        self._valid_until = began + self.config.lease_s - self.config.renew_s / 2
        await self._apply(step)

    async def _apply(self, step: LeaseStep) -> None:
        lost = self._running - step.held
        await self._stop(lost | (self._running & step.surplus))
        if step.surplus:
            await asyncio.to_thread(self.leases.release, step.surplus)
        for name in sorted(step.held - step.surplus - self._running):
            await self.service.add_camera(name, self.service.config.cameras[name])
            self._running.add(name)
        metrics.CLUSTER_CAMERAS_HELD.set(len(self._running))
        metrics.CLUSTER_LIVE_NODES.set(step.live_nodes)
        if lost:
            log.warning("node %s lost cameras %s", self.node_id, sorted(lost))

    async def _stop(self, names: set[str]) -> None:
        for name in sorted(names):
            with contextlib.suppress(KeyError):  # removed through the API meanwhile
                await self.service.remove_camera(name)
            self._running.discard(name)
        metrics.CLUSTER_CAMERAS_HELD.set(len(self._running))

    async def stop(self) -> None:
        """Stop the task and the cameras, then hand every lease back at once."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._stop(set(self._running))
        try:
            await asyncio.to_thread(self.leases.leave)
        except Exception:  # the leases run out by themselves
            log.exception("node %s could not release its leases", self.node_id)
