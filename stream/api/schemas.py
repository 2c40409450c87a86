"""Request and response bodies of the API (pydantic; they make /openapi.json)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, Field

from stream.alerts.types import Alert
from stream.watchlist import WatchlistEntry

#: Row ids: positive and within a 64-bit SQL integer.
RowId = Annotated[int, Path(ge=1, le=2**63 - 1, description="id")]
QueryId = Annotated[int | None, Query(ge=1, le=2**63 - 1)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EntryIn(_In):
    """A watchlist entry as the user types it."""

    plate_text: str = Field(
        min_length=1,
        max_length=40,
        description="plate text; '?' one unknown character, '*' any run (matched on the reading)",
        examples=["AA5149EK", "AB?123C", "KA*"],
    )
    threshold: float | None = Field(
        default=None, ge=-1, le=1, description="cosine to reach; absent: the configured default"
    )
    label: str = Field(default="", max_length=200, description="why it is watched")
    hours: str | None = Field(
        default=None,
        max_length=20,
        description="daily active window in local time, HH:MM-HH:MM; absent: all day",
        examples=["08:00-18:00", "22:00-06:00"],
    )


class EntryOut(BaseModel):
    id: int
    plate_text: str
    threshold: float
    label: str
    hours: str | None
    created: datetime | None

    @classmethod
    def of(cls, entry: WatchlistEntry) -> EntryOut:
        return cls(
            id=entry.id,
            plate_text=entry.plate_text,
            threshold=entry.threshold,
            label=entry.label,
            hours=str(entry.hours) if entry.hours else None,
            created=entry.created,
        )


class SightingOut(BaseModel):
    """A stored sighting. In a search, ``score`` ranks it: for a typed text the cosine to
    the render fused with how well the reading fits (model.fusion), for an image or a
    vector the cosine; ``vector_score`` is the cosine alone (what watchlist thresholds
    compare with) and ``reading_score`` the reading's part, where there is one."""

    id: int
    camera: str
    seen_at: datetime
    reading: str
    reading_confidence: float | None = None
    score: float | None = None
    vector_score: float | None = None
    reading_score: float | None = None
    crop_url: str
    frame_url: str
    box: list[float] | None = Field(
        default=None,
        description="the plate in the frame as fractions of its width and height: "
        "x, y (top-left), w, h; null where no frame was kept",
    )


class EntryCreated(BaseModel):
    entry: EntryOut
    past: list[SightingOut] = Field(
        description="sightings of the look-back window (default 24 h) that already match"
    )


class DeliveryOut(BaseModel):
    receiver: str
    status: str = Field(description="pending, delivered or failed (gave up)")
    attempts: int
    last_error: str | None
    delivered_at: datetime | None


@dataclass(frozen=True)
class AlertDetail(Alert):
    """An alert (stream.alerts.types.Alert is the API's alert model) and its deliveries."""

    deliveries: list[DeliveryOut] = field(default_factory=list)

    @classmethod
    def of(cls, alert: Alert, deliveries: list[DeliveryOut]) -> AlertDetail:
        return cls(**{**alert.__dict__, "deliveries": deliveries})


class CameraIn(_In):
    """A camera added at run time: a name, a source, and any per-camera settings."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="letters, digits, _ . -")
    settings: dict[str, Any] = Field(
        description="the camera's config as in the config file: source plus overrides",
        examples=[{"source": {"type": "url", "url": "rtsp://192.0.2.10/stream1"}}],
    )


class CameraOut(BaseModel):
    name: str
    status: str
    since: datetime
    failures: int
    frames_received: int
    frames_queued: int
    frames_dropped: int
    queue_depth: int
    last_error: str | None

    @classmethod
    def of(cls, state: Any) -> CameraOut:
        fields = {k: getattr(state, k) for k in cls.model_fields}
        return cls(**{**fields, "status": str(state.status)})
