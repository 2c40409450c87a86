"""Settings shared by every detection backend; each backend extends them with its own."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class BackendOptions(BaseModel):
    """Options every backend takes. Unknown keys are refused, naming the key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    threads: int = Field(
        default=1,
        ge=1,
        le=64,
        title="CPU threads",
        description="threads one detector uses; one per camera worker keeps cores shared fairly",
    )
