"""The service's one config tree, validated at start.

A YAML (or JSON) file holds ``defaults`` for every camera, the ``cameras`` themselves
(each may override any default; the two are deep-merged, Frigate-style), and one section
per component: ``detector``, ``model``, ``store``, ``http``, ``tracking``, ``pipeline``.
Sections owned by the HTTP API (``watchlist``, ``alerts``, ``auth``) are picked up from
the model class its package defines (see :data:`PLUGGED_SECTIONS`); until that package
exists the key is refused like any unknown key.

Every model forbids unknown keys, and :func:`load_config` turns pydantic's errors into
lines that name the key path and say what would be right.
"""

from __future__ import annotations

import difflib
import importlib
import json
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, model_validator

import store.vectors as store_vectors
from platewatch.errors import PlatewatchError


class ConfigError(PlatewatchError, ValueError):
    """The config file is missing, unreadable or invalid; one line per problem."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- camera sources ---------------------------------------------------------------------


class UrlSource(_Section):
    """Anything FFmpeg opens: rtsp://, http(s):// (MJPEG, HLS), a video file path."""

    type: Literal["url"] = Field(title="source type", description="'url': read through FFmpeg")
    url: str = Field(min_length=1, title="stream URL", description="rtsp://, http://, or a file")
    transport: Literal["tcp", "udp"] = Field(
        default="tcp",
        title="RTSP transport",
        description="tcp survives lossy links; udp has less delay (RTSP only)",
    )
    loop: bool = Field(
        default=False,
        title="loop a file",
        description="start a file again at its end instead of ending the camera",
    )
    realtime: bool = Field(
        default=False,
        title="pace a file",
        description="deliver a file's frames at its own frame rate, as a live camera would",
    )


class WhipSource(_Section):
    """A WebRTC publisher (camera, OBS, browser) that POSTs its offer to /whip/{camera}."""

    type: Literal["whip"] = Field(title="source type", description="'whip': WebRTC publish")


class FolderSource(_Section):
    """Images (jpg/png/bmp) of a folder, in name order, played as a camera."""

    type: Literal["folder"] = Field(title="source type", description="'folder': image files")
    path: Path = Field(title="folder", description="folder of .jpg/.jpeg/.png/.bmp images")
    fps: float = Field(default=5.0, gt=0, le=120, title="frames per second played")
    loop: bool = Field(default=False, title="loop", description="start again after the last")


class SyntheticSource(_Section):
    """The built-in synthetic road: moving cars with rendered plates (for demos and tests)."""

    type: Literal["synthetic"] = Field(title="source type", description="'synthetic' traffic")
    seed: int = Field(default=0, ge=0, title="random seed", description="same seed, same cars")
    width: int = Field(default=1280, ge=64, le=7680, title="frame width", description="pixels")
    height: int = Field(default=720, ge=64, le=4320, title="frame height", description="pixels")
    fps: float = Field(default=5.0, gt=0, le=120, title="frames per second delivered")
    plates: list[str] | None = Field(
        default=None,
        title="plate texts",
        description="texts the cars carry, in turn; random plates when absent",
    )


Source = Annotated[
    UrlSource | WhipSource | FolderSource | SyntheticSource, Field(discriminator="type")
]


# --- per-camera settings (defaults, overridable per camera) -----------------------------


class MotionSettings(_Section):
    """Frames of a still scene are skipped before detection (model.detect.motion)."""

    enabled: bool = Field(default=True, title="motion gate on")
    width: int = Field(default=160, ge=8, le=4096, title="thumbnail width", description="pixels")
    threshold: int = Field(
        default=18, ge=1, le=254, title="pixel change", description="grey levels 1-254"
    )
    min_area: float = Field(
        default=0.002, ge=0, le=1, title="changed area", description="fraction of the picture"
    )
    regions: bool = Field(
        default=True,
        title="search only where it changed",
        description="the detector searches only the parts of a changed frame that moved "
        "(grown by margin), not the whole picture",
    )
    margin: float = Field(
        default=0.05,
        ge=0,
        le=1,
        title="border around a moving part",
        description="fraction of the frame's longer side",
    )


class ReconnectSettings(_Section):
    """Exponential backoff after a camera fails to open or stops sending."""

    initial_s: float = Field(default=0.5, gt=0, le=600, title="first wait", description="seconds")
    max_s: float = Field(default=30.0, gt=0, le=3600, title="longest wait", description="seconds")
    factor: float = Field(default=2.0, ge=1, le=10, title="growth of the wait per failure")
    down_after: int = Field(
        default=3,
        ge=1,
        le=1000,
        title="failures before 'down'",
        description="status turns from 'reconnecting' to 'down' after this many failures "
        "in a row (the service keeps retrying)",
    )


class CameraSettings(_Section):
    """What every camera shares unless it says otherwise."""

    sample_fps: float = Field(
        default=5.0,
        gt=0,
        le=120,
        title="frames processed per second",
        description="frames arriving faster are skipped before decoding work downstream",
    )
    queue_size: int = Field(
        default=8,
        ge=1,
        le=1000,
        title="frame queue length",
        description="frames waiting for detection; when full the oldest is dropped and counted",
    )
    open_timeout_s: float = Field(
        default=10.0, gt=0, le=600, title="open timeout", description="seconds to connect"
    )
    read_timeout_s: float = Field(
        default=5.0, gt=0, le=600, title="read timeout", description="seconds without a frame"
    )
    motion: MotionSettings = Field(default_factory=MotionSettings, title="motion gate")
    reconnect: ReconnectSettings = Field(default_factory=ReconnectSettings, title="reconnect")


class CameraConfig(CameraSettings):
    """One camera: where its frames come from, plus its (merged) settings."""

    source: Source = Field(title="frame source", description="where the frames come from")
    enabled: bool = Field(default=True, title="enabled", description="false: configured, not run")


# --- component sections -----------------------------------------------------------------


class DetectorConfig(_Section):
    name: str = Field(
        default="ppocr",
        title="detector backend",
        description="a name from model.detect (ppocr, easyocr, platenet)",
    )
    options: dict[str, Any] = Field(
        default_factory=dict,
        title="backend options",
        description="passed to model.detect.create_detector; checked by the backend",
    )


class ModelConfig(_Section):
    embedder: str = Field(
        default="default",
        title="embedding model",
        description="a shipped model name or a folder, for model.embed.load_embedder",
    )


_HNSW = store_vectors.HnswSettings()  # the defaults are the store's (docs/store.md: why)


class HnswSettings(_Section):
    m: int = Field(default=_HNSW.m, ge=2, le=128, title="HNSW M",
                   description="graph links per node")  # fmt: skip
    ef_construction: int = Field(
        default=_HNSW.ef_construction, ge=8, le=4096, title="HNSW ef_construction"
    )
    ef: int = Field(default=_HNSW.ef, ge=1, le=4096, title="HNSW ef", description="search breadth")
    refresh_s: float = Field(
        default=_HNSW.refresh_s,
        title="catch-up interval",
        description="seconds between a search's catch-ups with rows other processes "
        "committed (0: before every search; negative: never)",
    )
    build_threads: int = Field(
        default=_HNSW.build_threads, ge=-1, le=256, title="index build threads",
        description="threads for adding many rows at once; -1: every core",
    )  # fmt: skip

    def settings(self) -> store_vectors.HnswSettings:
        """The store's settings object."""
        return store_vectors.HnswSettings(**self.model_dump())


class StoreConfig(_Section):
    url: str | None = Field(
        default=None,
        title="database URL",
        description="SQLAlchemy URL (postgresql+psycopg://...); absent: SQLite in the data folder",
    )
    data_dir: Path | None = Field(
        default=None,
        title="data folder",
        description="overridden by --data; else $PLATEWATCH_DATA, else the default folder",
    )
    hnsw: HnswSettings = Field(default_factory=HnswSettings, title="vector index settings")


class HttpConfig(_Section):
    host: str = Field(default="127.0.0.1", title="listen address")
    port: int = Field(default=8080, ge=0, le=65535, title="listen port", description="0: any free")


class TrackingConfig(_Section):
    """How detections across frames become one sighting per passing car."""

    min_iou: float = Field(
        default=0.1, ge=0, le=1, title="box overlap", description="IoU that links a box to a track"
    )
    max_centre_shift: float = Field(
        default=2.5,
        ge=0,
        le=100,
        title="centre distance",
        description="largest move of a plate between frames, in plate widths",
    )
    min_cosine: float = Field(
        default=0.5,
        ge=-1,
        le=1,
        title="appearance match",
        description="cosine between a crop and its track's best crop needed to link them",
    )
    max_reading_edits: int = Field(
        default=1,
        ge=0,
        le=3,
        title="reading match",
        description="a crop that does not look like its track's best crop still joins it "
        "when their readings differ by at most this many characters (look-alikes equal)",
    )
    close_after_s: float = Field(
        default=1.5,
        gt=0,
        le=600,
        title="close after",
        description="a track unseen this long (seconds of frame time) becomes a sighting",
    )
    close_after_frames: int = Field(
        default=5,
        ge=1,
        le=10000,
        title="close after frames",
        description="... or unseen in this many processed frames of its camera",
    )
    min_hits: int = Field(
        default=1, ge=1, le=100, title="detections needed", description="shorter tracks dropped"
    )


class PipelineConfig(_Section):
    """Worker threads and batching of the heavy stages."""

    detect_workers: int = Field(
        default=1, ge=1, le=64, title="detector threads", description="frames detected at once"
    )
    embed_batch: int = Field(
        default=32, ge=1, le=1024, title="embedding batch", description="crops per network call"
    )
    embed_wait_ms: float = Field(
        default=20.0,
        ge=0,
        le=5000,
        title="batch wait",
        description="how long the first crop waits for others to fill a batch",
    )
    heap_trim_s: float = Field(
        default=60.0,
        ge=0,
        le=86400,
        title="heap trim interval",
        description="seconds between handing the C heap's free pages back to the system "
        "(stream/heap.py); 0: never",
    )
    heap_mmap_kb: int = Field(
        default=256,
        ge=0,
        le=1048576,
        title="heap mmap threshold",
        description="blocks of this many kB and more get a mapping of their own, given back "
        "when freed (glibc's M_MMAP_THRESHOLD; stream/heap.py); 0: glibc's moving default",
    )
    heap_arenas: int = Field(
        default=2,
        ge=0,
        le=1024,
        title="malloc arenas",
        description="the most C heap arenas the service's threads share (glibc's "
        "M_ARENA_MAX; stream/heap.py); 0: glibc's default, eight a core",
    )


#: Sections whose model another package defines: key -> (module, class name).
PLUGGED_SECTIONS: dict[str, tuple[str, str]] = {
    "watchlist": ("stream.api.config", "WatchlistConfig"),
    "alerts": ("stream.alerts.config", "AlertsConfig"),
    "auth": ("stream.api.config", "AuthConfig"),
    "cluster": ("stream.cluster", "ClusterConfig"),
}


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


class ServiceConfig(_Section):
    """The whole service. Cameras get ``defaults`` merged under their own keys."""

    defaults: CameraSettings = Field(
        default_factory=CameraSettings,
        title="camera defaults",
        description="settings every camera takes unless it overrides them",
    )
    cameras: dict[str, CameraConfig] = Field(
        default_factory=dict,
        title="cameras",
        description="camera name -> its source and overrides",
    )
    detector: DetectorConfig = Field(default_factory=DetectorConfig, title="plate detector")
    model: ModelConfig = Field(default_factory=ModelConfig, title="embedding model")
    store: StoreConfig = Field(default_factory=StoreConfig, title="sighting store")
    http: HttpConfig = Field(default_factory=HttpConfig, title="HTTP server")
    tracking: TrackingConfig = Field(default_factory=TrackingConfig, title="tracking")
    pipeline: PipelineConfig = Field(default_factory=PipelineConfig, title="pipeline")

    @model_validator(mode="before")
    @classmethod
    def _merge_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        defaults = data.get("defaults") or {}
        cameras = data.get("cameras")
        if not isinstance(defaults, dict) or not isinstance(cameras, dict):
            return data
        merged = {
            name: _deep_merge(defaults, cam) if isinstance(cam, dict) else cam
            for name, cam in cameras.items()
        }
        return {**data, "cameras": merged}

    def section(self, name: str) -> BaseModel | None:
        """A plugged section (``alerts``, ``watchlist``, ``auth``) or None when absent."""
        value = getattr(self, name, None)
        return value if isinstance(value, BaseModel) else None

    def camera_from(self, raw: dict[str, Any]) -> CameraConfig:
        """A camera added at run time: ``raw`` merged over this file's defaults, validated.

        Raises ConfigError naming the bad key.
        """
        try:
            return CameraConfig.model_validate(_deep_merge(self.defaults.model_dump(), raw))
        except ValidationError as exc:
            raise ConfigError(format_errors(exc, CameraConfig)) from None


def _plugged_fields() -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key, (module_name, class_name) in PLUGGED_SECTIONS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                continue  # that package is not written yet
            raise
        model = getattr(module, class_name, None)
        if isinstance(model, type) and issubclass(model, BaseModel):
            doc = (model.__doc__ or key).strip().splitlines()[0]
            fields[key] = (model | None, Field(default=None, title=key, description=doc))
    return fields


def config_model() -> type[ServiceConfig]:
    """ServiceConfig plus the plugged sections whose packages are installed."""
    extra = _plugged_fields()
    if not extra:
        return ServiceConfig
    return create_model("ServiceConfig", __base__=ServiceConfig, **extra)


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The BaseModel inside an annotation (``X`` or ``X | None``), if any."""
    for candidate in (annotation, *getattr(annotation, "__args__", ())):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _fields_of(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Allowed keys at ``loc`` (a key path as pydantic reports it) of ``model``."""
    current: type[BaseModel] | None = model
    parts = list(loc)
    while parts and current is not None:
        part = str(parts.pop(0))
        field = current.model_fields.get(part)
        if field is None:
            return []
        if part == "cameras" and issubclass(current, ServiceConfig):
            current = CameraConfig if parts and parts.pop(0) is not None else None
        elif part == "source" and issubclass(current, CameraConfig):
            current = _SOURCES.get(str(parts.pop(0))) if parts else None
        else:
            current = _model_of(field.annotation)
    return list(current.model_fields) if current is not None else []


_SOURCES: dict[str, type[BaseModel]] = {
    "url": UrlSource,
    "whip": WhipSource,
    "folder": FolderSource,
    "synthetic": SyntheticSource,
}


def _path(loc: tuple[Any, ...]) -> str:
    """A key path as the user wrote it: pydantic's union tag after ``source`` left out."""
    parts = [str(p) for p in loc]
    keep = [p for i, p in enumerate(parts) if not (i and parts[i - 1] == "source")]
    return ".".join(keep) or "(top level)"


def format_errors(exc: ValidationError, model: type[BaseModel]) -> str:
    """One line per problem: ``key.path: what is wrong; what would be right``."""
    lines = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        path = _path(loc)
        kind = err["type"]
        if kind == "extra_forbidden":
            allowed = _fields_of(model, loc[:-1])
            hint = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            msg = "unknown key"
            if hint:
                msg += f"; did you mean {hint[0]!r}?"
            if allowed:
                msg += f" Allowed here: {', '.join(allowed)}"
        elif kind == "union_tag_invalid":
            tag = (err.get("ctx") or {}).get("tag", err["input"])
            msg = f"unknown type {tag!r}; choose one of {', '.join(_SOURCES)}"
        elif kind == "union_tag_not_found":
            msg = f"needs a 'type': one of {', '.join(_SOURCES)}"
        elif kind == "missing":
            msg = "required key is missing"
        else:
            msg = f"{err['msg']} (got {err['input']!r})"
        lines.append(f"{path}: {msg}")
    return "\n".join(lines)


def parse_config(data: Any) -> ServiceConfig:
    """Validate a config tree already read from a file (a dict). Raises ConfigError."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"the config must be a mapping of sections, got {type(data).__name__}")
    model = config_model()
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_errors(exc, model)) from None


def load_config(path: str | Path) -> ServiceConfig:
    """Read and validate a YAML or JSON config file. Raises ConfigError saying what is wrong."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file {file}: {exc.strerror or exc}") from None
    try:
        data = json.loads(text) if file.suffix == ".json" else yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        kind = "JSON" if file.suffix == ".json" else "YAML"
        raise ConfigError(f"{file} is not valid {kind}: {exc}") from None
    try:
        return parse_config(data)
    except ConfigError as exc:
        raise ConfigError(f"{file}:\n{exc}") from None
