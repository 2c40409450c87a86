"""The built-in synthetic camera: cars with rendered plates driving across a road.

It uses alphabet.scene.SyntheticTraffic where that module exists; otherwise a small
stand-in below draws plates with alphabet.render, one car after another, so the demo and
the tests always have a camera whose plates are known.
"""

from __future__ import annotations

import asyncio
import importlib
import random
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import cv2
import numpy as np
import numpy.typing as npt

from alphabet.synth import draw_plate
from alphabet.text import CHARSET
from model.types import Frame
from stream import metrics
from stream.config import CameraConfig, SyntheticSource


class Traffic(Protocol):
    def frame(self, i: int) -> Any: ...


@dataclass(frozen=True)
class PlainScene:
    """pixels: (H, W, 3) BGR uint8; boxes: (N, 4) x, y, w, h; texts: N plate texts."""

    pixels: npt.NDArray[np.uint8]
    boxes: npt.NDArray[np.float32]
    texts: list[str]


#: Plate look (alphabet.formats): the EU layout takes any 5-8 letters and digits.
PLATE_FORMAT = "eu"
#: Frames one car takes to cross the picture.
CROSSING_FRAMES = 20
#: Plate size in the frame, as a fraction of the frame width (w) and of that width (h).
PLATE_WIDTH = 0.2
PLATE_ASPECT = 0.2


class PlainTraffic:
    """One car at a time crossing left to right; car k carries ``plates[k % len]``.

    A gap of a few empty frames separates cars so each pass is one track.
    """

    def __init__(
        self, seed: int, size: tuple[int, int], plates: Sequence[str] | None = None
    ) -> None:
        self.size = size
        rng = random.Random(seed)
        self.plates = (
            list(plates)
            if plates
            else ["".join(rng.choice(CHARSET) for _ in range(7)) for _ in range(50)]
        )
        self._rng_seed = seed
        self._renders: dict[str, npt.NDArray[np.uint8]] = {}

    def _plate(self, text: str, w: int, h: int) -> npt.NDArray[np.uint8]:
        key = f"{text}:{w}x{h}"
        if key not in self._renders:
            plate = draw_plate(text, PLATE_FORMAT, np.random.default_rng(self._rng_seed), height=h)
            self._renders[key] = np.asarray(cv2.resize(plate, (w, h)), np.uint8)
        return self._renders[key]

    def frame(self, i: int) -> PlainScene:
        width, height = self.size
        pixels = np.full((height, width, 3), (90, 95, 100), np.uint8)
        cv2.rectangle(pixels, (0, height * 2 // 3), (width, height), (60, 60, 60), -1)
        period = CROSSING_FRAMES + 4
        car, step = divmod(i, period)
        if step >= CROSSING_FRAMES:
            return PlainScene(pixels, np.zeros((0, 4), np.float32), [])
        text = self.plates[car % len(self.plates)]
        pw = int(width * PLATE_WIDTH)
        ph = max(12, int(pw * PLATE_ASPECT))
        cw, ch = pw * 2, ph * 5
        x = int(-cw + (width + cw) * (step + 0.5) / CROSSING_FRAMES)
        y = height // 2 - ch // 2
        colour = tuple(
            int(c) for c in random.Random(self._rng_seed + car).sample(range(40, 200), 3)
        )
        cv2.rectangle(pixels, (x, y), (x + cw, y + ch), colour, -1)
        px, py = x + (cw - pw) // 2, y + ch - ph - ph // 2
        plate = self._plate(text, pw, ph)
        x0, x1 = max(px, 0), min(px + pw, width)
        if x1 - x0 < pw:  # a plate only partly in view is left undrawn, as if hidden
            return PlainScene(pixels, np.zeros((0, 4), np.float32), [])
        pixels[py : py + ph, x0:x1] = plate[:, x0 - px : x1 - px]
        box = np.array([[px, py, pw, ph]], np.float32)
        return PlainScene(pixels, box, [text])


def make_traffic(source: SyntheticSource) -> Traffic:
    """alphabet.scene.SyntheticTraffic when available, else :class:`PlainTraffic`."""
    size = (source.width, source.height)
    try:
        scene = importlib.import_module("alphabet.scene")
    except ModuleNotFoundError:
        return PlainTraffic(source.seed, size, source.plates)
    traffic: Traffic = scene.SyntheticTraffic(
        source.seed, size=size, fps=source.fps, plates=source.plates
    )
    return traffic


class SyntheticCamera:
    """Frames of synthetic traffic at ``fps``, drawn on a worker thread, stamped in real time.

    ``scenes`` keeps the last scenes drawn (index -> texts) so tests can see what was shown.
    """

    finite = False
    waits_for_publisher = False

    def __init__(self, camera: str, config: CameraConfig, traffic: Traffic | None = None):
        if not isinstance(config.source, SyntheticSource):
            raise TypeError(f"camera {camera!r} is not a synthetic source")
        self.camera = camera
        self.source = config.source
        self.traffic = traffic or make_traffic(config.source)
        self.shown: dict[str, int] = {}
        self._closed = False

    async def __aiter__(self) -> AsyncIterator[Frame]:
        period = 1.0 / self.source.fps
        start = time.monotonic()
        i = 0
        while not self._closed:
            scene = await asyncio.to_thread(self.traffic.frame, i)
            for text in scene.texts:
                self.shown[text] = self.shown.get(text, 0) + 1
            pixels = np.ascontiguousarray(scene.pixels, dtype=np.uint8)
            metrics.FRAMES_RECEIVED.labels(self.camera).inc()
            yield Frame(self.camera, datetime.now(UTC), pixels, i)
            i += 1
            delay = start + i * period - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)

    async def close(self) -> None:
        self._closed = True
