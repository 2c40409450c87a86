"""The config sections the HTTP API owns: ``watchlist`` and ``auth``.

stream.config plugs them into the service's one config tree (PLUGGED_SECTIONS).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WatchlistConfig(_Section):
    """Watchlist defaults and the look into the past when an entry is added."""

    default_threshold: float = Field(
        default=0.8,
        ge=-1,
        le=1,
        title="default threshold",
        description="cosine a sighting must reach when an entry gives none",
    )
    lookback_hours: float = Field(
        default=24.0,
        ge=0,
        le=24 * 365,
        title="look back",
        description="a new entry is also searched among sightings of the last N hours; 0: off",
    )
    lookback_limit: int = Field(
        default=20, ge=1, le=1000, title="past matches shown", description="at most this many"
    )
    timezone: str | None = Field(
        default=None,
        title="time zone of active hours",
        description="IANA name (Europe/Kyiv); absent: the machine's local zone",
    )
    repeat_after_s: float = Field(
        default=60.0,
        ge=0,
        le=86400,
        title="repeat after",
        description="the same entry on the same camera alerts again only after this many seconds",
    )


class AuthConfig(_Section):
    """API tokens and request limits of the HTTP API (every /api/ route needs a token;
    /health, /ready, /metrics and /whip are the service's own and need none)."""

    enabled: bool = Field(
        default=True,
        title="tokens required",
        description="false: every request is admin (only for a service behind its own gate)",
    )
    max_upload_bytes: int = Field(
        default=8 * 1024 * 1024,
        ge=1024,
        le=1024**3,
        title="largest upload",
        description="bytes; a larger request body is refused with 413",
    )
