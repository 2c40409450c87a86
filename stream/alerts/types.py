"""The alert: a sighting that matched a watchlist entry, and what every channel sends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from platewatch.errors import PlatewatchError


class DeliveryError(PlatewatchError):
    """A receiver did not take an alert (down, refused, timed out); it will be retried."""


@dataclass(frozen=True)
class Alert:
    """One raised alert, as stored in the outbox and sent to every receiver.

    score: the cosine between the sighting and the entry's rendered text (method
    ``vector``) or 1.0 for a ``*`` pattern that fit the reading (method ``reading``).
    Times are timezone-aware UTC.
    """

    id: int
    sighting_id: int
    camera: str
    seen_at: datetime
    reading: str
    entry_id: int
    plate_text: str
    label: str
    score: float
    method: str
    raised_at: datetime
    acknowledged_at: datetime | None = None

    def payload(self) -> dict[str, Any]:
        """The JSON object every channel sends (webhook body, MQTT payload, SSE data)."""
        return {
            "id": self.id,
            "sighting_id": self.sighting_id,
            "camera": self.camera,
            "seen_at": self.seen_at.isoformat(),
            "reading": self.reading,
            "entry_id": self.entry_id,
            "plate_text": self.plate_text,
            "label": self.label,
            "score": round(self.score, 4),
            "method": self.method,
            "raised_at": self.raised_at.isoformat(),
            "acknowledged_at": self.acknowledged_at.isoformat() if self.acknowledged_at else None,
        }


class Channel(Protocol):
    """A receiver of alerts. ``send`` returns once the receiver acknowledged the alert and
    raises DeliveryError otherwise; it may be called again for the same alert after a
    failure, never after a success."""

    name: str

    async def send(self, alert: Alert) -> None: ...
