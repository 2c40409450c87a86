"""Plate detection backends, picked by name.

>>> detector = create_detector("ppocr", max_side=640)
>>> detections = detector.detect(frame)          # PlateDetections
>>> crops = cut_crops(frame, detections)         # PlateCrops

Backends: ``ppocr`` (default; PP-OCR text detector, weights inside the
rapidocr-onnxruntime wheel), ``easyocr`` (EasyOCR's CRAFT; weights placed by hand) and
``platenet`` (the project's own small network; committed weights).
Each logs at INFO which backend runs and why; one that cannot run raises
BackendUnavailableError saying what is missing. OpenCV's Haar plate cascade was measured
and left out (docs/detection.md).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from model.detect._ppocr import BackendUnavailableError
from model.protocols import Detector
from platewatch.errors import PlatewatchError

log = logging.getLogger(__name__)

#: The backend used when none is named.
DEFAULT_DETECTOR = "ppocr"


class DetectorConfigError(PlatewatchError, ValueError):
    """A detector name or option is not valid; the message names it and what is allowed."""


@dataclass(frozen=True)
class _Backend:
    module: str
    detector: str
    options: str
    why: str


_REGISTRY: dict[str, _Backend] = {
    "ppocr": _Backend(
        "model.detect.ppocr",
        "PpocrDetector",
        "PpocrOptions",
        "offline default: PP-OCRv4 text detector from the rapidocr-onnxruntime wheel",
    ),
    "easyocr": _Backend(
        "model.detect.craft",
        "CraftDetector",
        "CraftOptions",
        "EasyOCR's CRAFT text detector with weights from a local folder",
    ),
    # After easyocr: torch (CRAFT) loaded after TensorFlow in one process dies with SIGSEGV,
    # and "all" builds the backends in this order.
    "platenet": _Backend(
        "model.detect.platenet",
        "PlatenetDetector",
        "PlatenetOptions",
        "the project's own small plate network (TensorFlow), weights in model/detect/weights",
    ),
}


def detector_names() -> list[str]:
    """Every registered backend name, usable here or not."""
    return list(_REGISTRY)


def option_fields(name: str) -> set[str]:
    """Names of the options backend ``name`` accepts."""
    if name not in _REGISTRY:
        raise DetectorConfigError(
            f"unknown detector {name!r}; choose one of {', '.join(_REGISTRY)}"
        )
    backend = _REGISTRY[name]
    return set(getattr(importlib.import_module(backend.module), backend.options).model_fields)


def create_detector(name: str = DEFAULT_DETECTOR, **options: Any) -> Detector:
    """Build the backend called ``name`` with its options (see each backend's *Options).

    Raises DetectorConfigError for an unknown name or option, BackendUnavailableError when
    the backend cannot run here (missing package or weights; the message says how to fix).
    """
    backend = _REGISTRY.get(name)
    if backend is None:
        raise DetectorConfigError(
            f"unknown detector {name!r}; choose one of {', '.join(_REGISTRY)}"
        )
    module = importlib.import_module(backend.module)
    try:
        opts = getattr(module, backend.options)(**options)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(options)'}: {e['msg']}" for e in exc.errors()
        )
        raise DetectorConfigError(f"detector {name!r} options: {problems}") from None
    detector: Detector = getattr(module, backend.detector)(opts)
    log.info("plate detector %r running (%s); options %s", name, backend.why, opts.model_dump())
    return detector


def available_detectors() -> dict[str, str]:
    """Backends that can run here with default options -> what each is.

    Each is built once to find out (the first call loads their weights); the reason a
    backend is left out is logged at INFO.
    """
    found = {}
    for name, backend in _REGISTRY.items():
        try:
            create_detector(name)
        except BackendUnavailableError as exc:
            log.info("plate detector %r unavailable: %s", name, exc)
            continue
        found[name] = backend.why
    return found


def first_available(
    preferred: Sequence[str], options: Mapping[str, Mapping[str, Any]] | None = None
) -> Detector:
    """The first backend of ``preferred`` that can run here, e.g. ``("easyocr", "ppocr")``.

    options: per-backend options, by name. Each backend passed over is logged at INFO
    with the reason; when none can run, BackendUnavailableError lists every reason.
    Option mistakes (DetectorConfigError) are raised at once, never passed over.
    """
    reasons = []
    for name in preferred:
        try:
            return create_detector(name, **dict((options or {}).get(name, {})))
        except BackendUnavailableError as exc:
            log.info("plate detector %r passed over: %s", name, exc)
            reasons.append(f"{name}: {exc}")
    raise BackendUnavailableError(
        "no plate detector can run here; " + " | ".join(reasons or ["no backend named"])
    )


__all__ = [
    "DEFAULT_DETECTOR",
    "BackendUnavailableError",
    "DetectorConfigError",
    "available_detectors",
    "create_detector",
    "detector_names",
    "first_available",
    "option_fields",
]
