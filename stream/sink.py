"""Where closed tracks become stored sightings: the store engineer's API, behind one seam.

The service writes through a :class:`SightingSink` from one thread only (the store's
single writer); :func:`open_sink` builds the real one on store.open_store.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from stream.tracking import PassingPlate


class SightingSink(Protocol):
    #: The underlying store object (for the HTTP API's searches).
    store: Any

    def add(self, plates: Sequence[PassingPlate]) -> list[Any]:
        """Store the plates as sightings (blocking); return the stored sightings."""
        ...

    def index_size(self) -> int:
        """Vectors in the search index."""
        ...

    def close(self) -> None: ...
