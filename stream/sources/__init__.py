"""Camera sources by type: each turns a camera's config into a FrameSource.

>>> source = create_source("gate", camera_config, whip_hub)
>>> async for frame in source: ...
"""

from __future__ import annotations

from stream.config import CameraConfig, FolderSource, SyntheticSource, UrlSource, WhipSource
from stream.sources.base import FrameSource, SourceError
from stream.sources.whip import WhipCamera, WhipHub


def create_source(camera: str, config: CameraConfig, hub: WhipHub) -> FrameSource:
    """A fresh source for one connection attempt of ``camera``."""
    source = config.source
    if isinstance(source, UrlSource):
        from stream.sources.ffmpeg import FfmpegSource

        return FfmpegSource(camera, config)
    if isinstance(source, FolderSource):
        from stream.sources.folder import FolderCamera

        return FolderCamera(camera, config)
    if isinstance(source, SyntheticSource):
        from stream.sources.synthetic import SyntheticCamera

        return SyntheticCamera(camera, config)
    if isinstance(source, WhipSource):
        return WhipCamera(camera, config, hub)
    raise SourceError(f"camera {camera!r}: no source for type {type(source).__name__}")


__all__ = ["FrameSource", "SourceError", "WhipHub", "create_source"]
