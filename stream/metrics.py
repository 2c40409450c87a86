"""Every Prometheus metric of the service, defined once, here.

Code increments these where the event happens; nothing is reconstructed from logs.
All names start with ``platewatch_``; counters end in ``_total``, durations are seconds.
They live in their own registry so tests and several services in one process stay apart
from the client library's process-wide default (see :func:`render`).
"""

from __future__ import annotations

import contextlib

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

REGISTRY = CollectorRegistry(auto_describe=True)
# The process's own figures (resident memory, CPU seconds, open files) as
# platewatch_process_*, read from /proc where there is one.
ProcessCollector(namespace="platewatch", registry=REGISTRY)

#: Latency buckets (seconds) from a few milliseconds to half a minute.
_LATENCY = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

# --- cameras and frames -----------------------------------------------------------------

FRAMES_RECEIVED = Counter(
    "platewatch_frames_received_total",
    "Video frames arriving from the camera (compressed packets for FFmpeg sources).",
    ["camera"],
    registry=REGISTRY,
)
FRAMES_DECODED = Counter(
    "platewatch_frames_decoded_total",
    "Frames decoded to pixels and handed to the camera's runner.",
    ["camera"],
    registry=REGISTRY,
)
FRAMES_QUEUED = Counter(
    "platewatch_frames_queued_total",
    "Frames kept by sampling and the motion gate and put on the camera's queue.",
    ["camera"],
    registry=REGISTRY,
)
FRAMES_SKIPPED = Counter(
    "platewatch_frames_skipped_total",
    "Frames left out on purpose, by reason (sampling, motion).",
    ["camera", "reason"],
    registry=REGISTRY,
)
FRAMES_DROPPED = Counter(
    "platewatch_frames_dropped_total",
    "Frames dropped because the camera's queue was full (the oldest goes).",
    ["camera"],
    registry=REGISTRY,
)
FRAMES_PROCESSED = Counter(
    "platewatch_frames_processed_total",
    "Frames that went through detection (and embedding of their plates).",
    ["camera"],
    registry=REGISTRY,
)
CAMERA_UP = Gauge(
    "platewatch_camera_up",
    "1 while the camera delivers frames, 0 while reconnecting or down.",
    ["camera"],
    registry=REGISTRY,
)
CAMERA_RECONNECTS = Counter(
    "platewatch_camera_reconnects_total",
    "Times a camera failed and a reconnect was scheduled.",
    ["camera"],
    registry=REGISTRY,
)
QUEUE_DEPTH = Gauge(
    "platewatch_queue_depth",
    "Frames waiting in a camera's queue.",
    ["camera"],
    registry=REGISTRY,
)

# --- pipeline ---------------------------------------------------------------------------

DETECTIONS = Counter(
    "platewatch_plates_detected_total",
    "Plate boxes found by the detector.",
    ["camera"],
    registry=REGISTRY,
)
DETECT_SECONDS = Histogram(
    "platewatch_detection_seconds",
    "Time to detect plates in one frame.",
    buckets=_LATENCY,
    registry=REGISTRY,
)
EMBED_SECONDS = Histogram(
    "platewatch_embedding_seconds",
    "Time of one embedding call (a batch of crops from any cameras).",
    buckets=_LATENCY,
    registry=REGISTRY,
)
EMBED_BATCH = Histogram(
    "platewatch_embedding_batch_size",
    "Crops per embedding call.",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
    registry=REGISTRY,
)
END_TO_END_SECONDS = Histogram(
    "platewatch_end_to_end_seconds",
    "From the arrival of a sighting's last frame to the sighting being stored and searchable.",
    buckets=_LATENCY,
    registry=REGISTRY,
)
TRACKS_OPEN = Gauge(
    "platewatch_tracks_open",
    "Plates being followed across frames, not yet closed into sightings.",
    registry=REGISTRY,
)

# --- store ------------------------------------------------------------------------------

SIGHTINGS_STORED = Counter(
    "platewatch_sightings_stored_total",
    "Sightings written to the store.",
    ["camera"],
    registry=REGISTRY,
)
STORE_ERRORS = Counter(
    "platewatch_store_errors_total",
    "Failed attempts to store a batch of sightings (each batch is retried once).",
    registry=REGISTRY,
)
INDEX_SIZE = Gauge(
    "platewatch_index_vectors",
    "Vectors in the search index.",
    registry=REGISTRY,
)
# Cluster mode (stream/cluster.py): what this process holds, and how many share the cameras.
CLUSTER_CAMERAS_HELD = Gauge(
    "platewatch_cluster_cameras_held",
    "Cameras this process holds a lease on and runs (cluster mode).",
    registry=REGISTRY,
)
CLUSTER_LIVE_NODES = Gauge(
    "platewatch_cluster_live_nodes",
    "Service processes with a fresh heartbeat in the shared database (cluster mode).",
    registry=REGISTRY,
)
LEASE_ROUND_ERRORS = Counter(
    "platewatch_cluster_lease_round_errors_total",
    "Lease rounds that failed (database unreachable or refused).",
    registry=REGISTRY,
)
HOOK_ERRORS = Counter(
    "platewatch_sighting_hook_errors_total",
    "on_sighting callbacks that raised.",
    registry=REGISTRY,
)

# --- alerts and watchlist (HTTP API's section) -------------------------------------------
# Metrics of stream/api, stream/watchlist.py and stream/alerts/ go below this line.

ALERTS_RAISED = Counter(
    "platewatch_alerts_raised_total",
    "Sightings that matched a watchlist entry (one per entry matched), by camera.",
    ["camera"],
    registry=REGISTRY,
)
ALERTS_DELIVERED = Counter(
    "platewatch_alerts_delivered_total",
    "Alerts a receiver acknowledged, by receiver (webhook or MQTT name).",
    ["receiver"],
    registry=REGISTRY,
)
ALERT_DELIVERY_FAILURES = Counter(
    "platewatch_alert_delivery_failures_total",
    "Attempts to send an alert that failed (each is retried with backoff), by receiver.",
    ["receiver"],
    registry=REGISTRY,
)
ALERT_DELIVERY_SECONDS = Histogram(
    "platewatch_alert_delivery_seconds",
    "From an alert being raised to a receiver acknowledging it (retries included).",
    ["receiver"],
    buckets=(*_LATENCY, 60.0, 300.0, 3600.0),
    registry=REGISTRY,
)
WATCHLIST_MATCH_SECONDS = Histogram(
    "platewatch_watchlist_match_seconds",
    "Time to compare one sighting with every watchlist entry.",
    buckets=(0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1),
    registry=REGISTRY,
)
WATCHLIST_ENTRIES = Gauge(
    "platewatch_watchlist_entries",
    "Entries on the watchlist.",
    registry=REGISTRY,
)


# --- process ----------------------------------------------------------------------------

HEAP_TRIMS = Counter(
    "platewatch_heap_trims_total",
    "Times the C heap's free pages were handed back to the system (stream/heap.py).",
    registry=REGISTRY,
)
HEAP_RELEASED = Counter(
    "platewatch_heap_released_bytes_total",
    "Resident memory handed back to the system by heap trims.",
    registry=REGISTRY,
)


def render() -> tuple[bytes, str]:
    """The text exposition of every metric above and its content type, for /metrics."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def forget_camera(camera: str) -> None:
    """Drop a removed camera's labelled series so /metrics stops showing it."""
    for metric in (
        FRAMES_RECEIVED,
        FRAMES_DECODED,
        FRAMES_QUEUED,
        FRAMES_DROPPED,
        FRAMES_PROCESSED,
        CAMERA_UP,
        CAMERA_RECONNECTS,
        QUEUE_DEPTH,
        DETECTIONS,
        SIGHTINGS_STORED,
    ):
        with contextlib.suppress(KeyError):
            metric.remove(camera)
    for reason in ("sampling", "motion"):
        with contextlib.suppress(KeyError):
            FRAMES_SKIPPED.remove(camera, reason)
