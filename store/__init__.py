"""Sightings and their search: SQL rows are the truth, the hnswlib index is their cache."""

from store.datadir import resolve_data_dir
from store.dedup import DedupSettings, add_deduplicated
from store.reindex import reindex
from store.search import SearchFilters, search_image, search_text, search_vector
from store.store import Store, open_store
from store.types import Camera, Match, NewSighting, Sighting, SightingNotFound, StoreError
from store.vectors import HnswSettings

__all__ = [
    "Camera",
    "DedupSettings",
    "HnswSettings",
    "Match",
    "NewSighting",
    "SearchFilters",
    "Sighting",
    "SightingNotFound",
    "Store",
    "StoreError",
    "add_deduplicated",
    "open_store",
    "reindex",
    "resolve_data_dir",
    "search_image",
    "search_text",
    "search_vector",
]
