"""Commands of the store: ``platewatch index | search | reindex | retention``."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp"}


def _when(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a time; use ISO 8601, e.g. 2026-11-24 or 2026-11-24T08:30"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _data_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", default=None, help="data folder (else $PLATEWATCH_DATA, else default)")
    p.add_argument("--db", default=None, help="database URL instead of the data folder's SQLite")


def _open(args: argparse.Namespace, embedder: Any) -> Any:
    from store import open_store, resolve_data_dir

    data = resolve_data_dir(args.data)
    return open_store(args.db or data, embedder.dim, embedder.version, data_dir=data)


def _images_of(folder: Path) -> tuple[list[Path], bool]:
    """The images to index and whether they are whole scenes (labels.csv with boxes)."""
    labels = folder / "labels.csv"
    if labels.exists():
        with labels.open(newline="") as f:
            reader = csv.DictReader(f)
            rows = list(reader)
            scenes = {"x", "y", "w", "h"} <= set(reader.fieldnames or [])
        return sorted({folder / r["file"] for r in rows}), scenes
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES), False


def _index(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from model.embed import load_embedder
    from model.preprocess import ImageError, read_image
    from model.types import Frame
    from platewatch.cli import CommandError
    from store import DedupSettings, NewSighting, add_deduplicated

    folder = Path(args.dir)
    if not folder.is_dir():
        raise CommandError(f"{folder} is not a folder")
    files, scenes = _images_of(folder)
    scenes = scenes or args.scenes
    if args.limit:
        files = files[: args.limit]
    if not files:
        raise CommandError(f"no images (.jpg, .png, .bmp) in {folder}")
    embedder = load_embedder(args.model)
    store = _open(args, embedder)
    detector = None
    if scenes:
        from model.detect import create_detector
        from model.detect.crops import cut_crops

        detector = create_detector(args.detector)
    camera = args.camera or folder.name
    unreadable = 0
    before = store.count(camera)
    try:
        for start in tqdm(range(0, len(files), 64), unit="batch", disable=args.quiet):
            batch = files[start : start + 64]
            crops: list[Any] = []
            metas: list[Any] = []
            for path in batch:
                try:
                    image = read_image(path)
                except ImageError:
                    unreadable += 1
                    continue
                when = datetime.fromtimestamp(path.stat().st_mtime, UTC)
                if detector is None:
                    crops.append(image)
                    metas.append(
                        (path, when, (0.0, 0.0, image.shape[1], image.shape[0]), 1.0, None)
                    )
                    continue
                frame = Frame(camera, when, image)
                found = cut_crops(frame, detector.detect(frame))
                for crop, box, score in zip(found.images, found.boxes, found.scores, strict=True):
                    crops.append(crop)
                    metas.append((path, when, tuple(map(float, box)), float(score), image))
            if not crops:
                continue
            emb = embedder.embed_crops(crops)
            new = [
                NewSighting(
                    camera=camera,
                    first_seen=when,
                    embedding=vec,
                    model_version=embedder.version,
                    box=box,
                    crop=crop,
                    frame=frame_image,
                    reading=reading,
                    reading_confidence=float(conf),
                    detector_score=score,
                    source_file=str(path.resolve()),
                )
                for (path, when, box, score, frame_image), crop, vec, reading, conf in zip(
                    metas, crops, emb.vectors, emb.readings, emb.confidences, strict=True
                )
            ]
            if args.dedup_window > 0:
                settings = DedupSettings(window_s=args.dedup_window, min_cosine=args.dedup_cosine)
                add_deduplicated(store, new, settings)
            else:
                store.add_sightings(new)
        stored = store.count(camera) - before
    finally:
        store.close()
    print(
        f"indexed {stored} sightings from {len(files)} images of {folder} as camera {camera!r}"
        + (f"; {unreadable} files were not readable images" if unreadable else "")
    )
    return 0


def _search(args: argparse.Namespace) -> int:
    from alphabet.text import normalize

    normalize(args.text, allow_patterns=True)  # a clear error before anything loads
    if args.url:
        from stream.api.client import remote_search

        found = remote_search(
            args.url,
            args.token,
            args.text,
            camera=args.camera,
            since=args.since,
            until=args.until,
            limit=args.top,
        )
        rows = [{**r, "score": r.get("score")} for r in found]
    else:
        from model.embed import load_embedder
        from store import SearchFilters, search_text

        embedder = load_embedder(args.model)
        store = _open(args, embedder)
        try:
            matches = search_text(
                store,
                args.text,
                embedder,
                k=args.top,
                filters=SearchFilters(args.camera, args.since, args.until, args.min_score),
                blend_reading=args.blend,
            )
        finally:
            store.engine.dispose()
        rows = [
            {
                "id": m.sighting.id,
                "score": round(m.score, 4),
                "vector_score": round(m.vector_score, 4),
                "reading": m.sighting.reading,
                "camera": m.sighting.camera,
                "time": m.sighting.last_seen.isoformat(),
                "first_seen": m.sighting.first_seen.isoformat(),
                "crop_path": str(store.data_dir / m.sighting.crop_path)
                if m.sighting.crop_path
                else None,
                "file": m.sighting.source_file,
            }
            for m in matches
        ]
    if args.json:
        json.dump(rows, sys.stdout, indent=1)
        print()
        return 0
    if not rows:
        print("no sightings found")
    for r in rows:
        print(
            f"{r.get('score') or 0:6.3f}  {r.get('reading') or '-':10s}  {r.get('camera')}  "
            f"{r.get('time') or r.get('seen_at')}  {r.get('crop_path') or r.get('crop_url')}"
        )
    return 0


def _reindex(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from model.embed import load_embedder
    from store.reindex import reindex

    embedder = load_embedder(args.model)
    store = _open(args, embedder)
    try:
        with tqdm(total=store.count(), unit="sighting", disable=args.quiet) as bar:
            done, skipped = reindex(store, embedder, progress=bar.update)
    finally:
        store.close()
    print(f"re-embedded {done} sightings with {embedder.version}; {skipped} skipped")
    return 0


def _retention(args: argparse.Namespace) -> int:
    from model.embed import load_embedder

    store = _open(args, load_embedder(args.model))
    try:
        n = store.delete_older_than(args.days, camera=args.camera)
    finally:
        store.close()
    print(f"deleted {n} sightings older than {args.days} days")
    return 0


def add_commands(sub: Any) -> None:
    p = sub.add_parser("index", help="store the plates of a folder of crops or scenes")
    p.add_argument("dir", help="folder of images (labels.csv with x,y,w,h: whole scenes)")
    p.add_argument("--camera", help="camera name to record (default: the folder's name)")
    p.add_argument("--scenes", action="store_true", help="detect plates in the images first")
    p.add_argument("--detector", default="ppocr", help="detector for scenes (default ppocr)")
    p.add_argument("--model", default="default", help="embedding model")
    p.add_argument("--limit", type=int, default=0, help="index at most N images")
    p.add_argument(
        "--dedup-window",
        type=float,
        default=0.0,
        help="merge an image into a look-alike of the same camera stored up to this many "
        "seconds earlier (file times; default 0: keep every image)",
    )
    p.add_argument(
        "--dedup-cosine", type=float, default=0.9, help="how alike to merge (default 0.9)"
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    _data_arg(p)
    p.set_defaults(handler=_index)

    p = sub.add_parser("search", help="find sightings of a plate text ('?' one, '*' any run)")
    p.add_argument("text", help="plate text, e.g. AA5149EK, AA51??EK, AA*EK")
    p.add_argument("--top", type=int, default=10, help="how many results (default 10)")
    p.add_argument("--camera", help="only this camera")
    p.add_argument("--since", type=_when, help="seen at or after (ISO 8601)")
    p.add_argument("--until", type=_when, help="seen at or before (ISO 8601)")
    p.add_argument("--min-score", type=float, default=None, help="lowest score shown")
    p.add_argument(
        "--blend",
        type=float,
        default=None,
        help="weight of the stored reading in the score, 0-1 (default: the model's "
        "fusion_weight; 0: vector only)",
    )
    p.add_argument("--model", default="default", help="embedding model")
    p.add_argument("--json", action="store_true", help="print a JSON list")
    p.add_argument("--url", help="search a running service instead of a local data folder")
    p.add_argument("--token", help="API token for --url")
    _data_arg(p)
    p.set_defaults(handler=_search)

    p = sub.add_parser("reindex", help="re-embed stored crops with a new model")
    p.add_argument("--model", default="default", help="the new model")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    _data_arg(p)
    p.set_defaults(handler=_reindex)

    p = sub.add_parser("retention", help="delete sightings older than N days")
    p.add_argument("--days", type=float, required=True, help="keep this many days")
    p.add_argument("--camera", help="only this camera")
    p.add_argument("--model", default="default", help="embedding model of the index")
    _data_arg(p)
    p.set_defaults(handler=_retention)
