"""The alert: a watched plate seen by a camera, and what every channel sends."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Protocol

from pydantic import Field, TypeAdapter

from platewatch.errors import PlatewatchError


class DeliveryError(PlatewatchError):
    """A receiver did not take an alert (down, refused, timed out); it will be retried."""


@dataclass(frozen=True)
class Alert:
    """One raised alert, as stored in the outbox, sent to every receiver and shown by the
    API (this class is the API's response model too).

    An alert is raised while the car is still in view, from the first view of its track
    that matches the entry: ``track`` names that pass, and ``sighting_id`` stays None until
    the track closes and its sighting is stored. score: the cosine between that view and
    the entry's rendered text (method ``vector``), or 1.0 for a ``*`` pattern that fit the
    reading (method ``reading``). crop_jpeg: the matching view, JPEG; channels send it
    base64-encoded, the API serves it at ``/api/alerts/{id}/crop.jpg``. Times are
    timezone-aware UTC.
    """

    id: int
    sighting_id: int | None
    track: str | None
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
    crop_jpeg: Annotated[bytes | None, Field(exclude=True)] = field(
        default=None, repr=False, compare=False
    )

    def payload(self, crop: bool = False) -> dict[str, Any]:
        """The JSON object channels send (webhook body, MQTT payload, SSE data): the
        API's fields, plus with ``crop`` the view as base64 JPEG (``crop_jpeg``)."""
        body: dict[str, Any] = _JSON.dump_python(self, mode="json")
        if crop:
            jpeg = self.crop_jpeg
            body["crop_jpeg"] = base64.b64encode(jpeg).decode() if jpeg else None
        return body


_JSON = TypeAdapter(Alert)


class Channel(Protocol):
    """A receiver of alerts. ``send`` returns once the receiver acknowledged the alert and
    raises DeliveryError otherwise; it may be called again for the same alert after a
    failure, never after a success."""

    name: str

    async def send(self, alert: Alert) -> None: ...
