"""Search by typed plate text through the shipped model, and the store's commands:
synthetic plate crops (drawn by our generator) are stored, then found by their text."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest

from alphabet.synth import realistic_crop
from alphabet.text import PlateTextError
from model.embed import load_embedder
from platewatch.cli import main
from store import NewSighting, SearchFilters, open_store, search_image, search_text
from store import search as search_module

PLATES = ["AB1234CD", "XY9876ZT", "KA5500HH", "BC1234CD", "QW4321ER", "MN7777OP"]
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def embedder():
    return load_embedder("default")


@pytest.fixture(scope="module")
def crops() -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    return [realistic_crop(t, "ua", rng, difficulty=0.0) for t in PLATES]


@pytest.fixture
def filled(tmp_path: Path, embedder, crops):
    store = open_store(tmp_path, embedder.dim, embedder.version)
    emb = embedder.embed_crops(crops)
    store.add_sightings(
        [
            NewSighting(
                camera="north" if i % 2 else "south",
                first_seen=T0 + timedelta(minutes=i),
                embedding=emb.vectors[i],
                model_version=embedder.version,
                crop=crop,
                reading=text,  # the true text stands in for a perfect reading here
                reading_confidence=1.0,
            )
            for i, (crop, text) in enumerate(zip(crops, PLATES, strict=True))
        ]
    )
    yield store
    store.close()


def test_text_finds_its_plate_first(filled, embedder) -> None:
    for text in PLATES:
        best = search_text(filled, text, embedder, k=3)[0]
        assert best.sighting.reading == text


def test_query_forms_are_normalised(filled, embedder) -> None:
    # Cyrillic look-alikes, lower case and separators name the same plate.
    assert search_text(filled, "ка 5500-нн", embedder, k=1)[0].sighting.reading == "KA5500HH"


def test_unknown_character_query(filled, embedder) -> None:
    found = search_text(filled, "XY98??ZT", embedder, k=1)
    assert found[0].sighting.reading == "XY9876ZT"


def test_wildcard_query_matches_readings(filled, embedder) -> None:
    found = search_text(filled, "*1234CD", embedder, k=10)
    assert {m.sighting.reading for m in found} == {"AB1234CD", "BC1234CD"}


def test_filters_and_blend(filled, embedder) -> None:
    north = search_text(filled, "XY9876ZT", embedder, k=10, filters=SearchFilters(camera="north"))
    assert north and all(m.sighting.camera == "north" for m in north)
    blended = search_text(filled, "AB1234CD", embedder, k=3, blend_reading=0.5)
    assert blended[0].sighting.reading == "AB1234CD" and blended[0].reading_score == 1.0
    assert blended[0].score == pytest.approx(0.5 * blended[0].vector_score + 0.5)


def test_text_search_blends_by_default(filled, embedder) -> None:
    fusion = embedder.fusion
    assert fusion.weight > 0
    found = search_text(filled, "QW4321ER", embedder, k=3)
    assert found[0].sighting.reading == "QW4321ER" and found[0].reading_score == 1.0
    for m in found:
        expected = fusion.combine(m.vector_score, m.reading_score)
        assert m.score == pytest.approx(float(expected), abs=1e-6)
    plain = search_text(filled, "QW4321ER", embedder, k=3, blend_reading=0.0)
    assert all(m.reading_score is None and m.score == m.vector_score for m in plain)


def test_reading_finds_a_plate_its_vector_ranks_low(filled, embedder, monkeypatch) -> None:
    # A sighting whose vector says nothing about its plate (a random direction) but whose
    # reading is exact: the fused search still brings it up, through the readings.
    rng = np.random.default_rng(1)
    vector = rng.normal(size=embedder.dim).astype(np.float32)
    filled.add_sightings([NewSighting(camera="east", first_seen=T0, embedding=vector /
                                      np.linalg.norm(vector), model_version=embedder.version,
                                      reading="HX4417TP", reading_confidence=0.95)])  # fmt: skip
    monkeypatch.setattr(search_module, "FUSION_POOL", 2)
    by_vector = search_text(filled, "HX4417TP", embedder, k=1, blend_reading=0.0)
    assert by_vector[0].sighting.reading != "HX4417TP"
    found = search_text(filled, "HX4417TP", embedder, k=1)
    assert found[0].sighting.reading == "HX4417TP"


def test_image_query(filled, embedder, crops) -> None:
    assert search_image(filled, crops[3], embedder, k=1)[0].sighting.reading == PLATES[3]


def test_image_query_fuses_the_crops_own_reading(filled, embedder, crops) -> None:
    fusion = embedder.fusion
    found = search_image(filled, crops[4], embedder, k=3)
    assert found[0].sighting.reading == PLATES[4]
    for m in found:
        assert m.reading_score is not None
        assert m.score == pytest.approx(float(fusion.combine(m.vector_score, m.reading_score)),
                                        abs=1e-6)  # fmt: skip
    plain = search_image(filled, crops[4], embedder, k=3, blend_reading=0.0)
    assert all(m.reading_score is None and m.score == m.vector_score for m in plain)


def test_image_query_finds_by_reading_a_plate_its_vector_ranks_low(
    filled, embedder, crops, monkeypatch
) -> None:
    # As for text: a sighting whose vector is a random direction but whose reading is the
    # plate the example photo shows is still found, through the photo's own reading.
    query = crops[2]
    reading = embedder.embed_crops([query]).readings[0]
    assert reading  # the reader reads the clean synthetic crop
    rng = np.random.default_rng(2)
    vector = rng.normal(size=embedder.dim).astype(np.float32)
    filled.add_sightings([NewSighting(camera="east", first_seen=T0, embedding=vector /
                                      np.linalg.norm(vector), model_version=embedder.version,
                                      reading=reading, reading_confidence=0.95)])  # fmt: skip
    monkeypatch.setattr(search_module, "FUSION_POOL", 2)
    found = search_image(filled, query, embedder, k=2)
    assert "east" in {m.sighting.camera for m in found}
    by_vector = search_image(filled, query, embedder, k=2, blend_reading=0.0)
    assert "east" not in {m.sighting.camera for m in by_vector}


def test_image_query_that_reads_nothing_ranks_by_cosine(filled, embedder, crops) -> None:
    # The real embedder with its readings blanked: an example photo nothing could be read
    # from is searched by its vector alone.
    class Unread:
        dim, version, fusion = embedder.dim, embedder.version, embedder.fusion

        def embed_crops(self, images):
            seen = embedder.embed_crops(images)
            return type(seen)(seen.vectors, [""] * len(images), seen.confidences * 0)

    found = search_image(filled, crops[5], Unread(), k=2)
    assert found[0].sighting.reading == PLATES[5]
    assert all(m.reading_score is None and m.score == m.vector_score for m in found)


@pytest.mark.parametrize(
    ("query", "message"),
    [("", "empty"), ("AB12Ä4", "unsupported character"), ("A" * 40, "at most")],
)
def test_bad_queries(filled, embedder, query: str, message: str) -> None:
    with pytest.raises(PlateTextError, match=message):
        search_text(filled, query, embedder)


def test_index_and_search_commands(tmp_path: Path, crops, capsys) -> None:
    folder = tmp_path / "gate"
    folder.mkdir()
    for text, crop in zip(PLATES, crops, strict=True):
        cv2.imwrite(str(folder / f"{text}.png"), crop)
    (folder / "notes.jpg").write_bytes(b"not an image")
    data = tmp_path / "data"
    assert main(["index", str(folder), "--data", str(data), "-q"]) == 0
    out = capsys.readouterr().out
    assert "indexed 6 sightings" in out and "1 files were not readable" in out
    assert main(["search", "QW4321ER", "--data", str(data), "--top", "2", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 2
    assert {"score", "reading", "camera", "time", "crop_path", "file"} <= set(rows[0])
    assert rows[0]["file"].endswith("QW4321ER.png") and rows[0]["camera"] == "gate"
    assert Path(rows[0]["crop_path"]).is_file()
    assert main(["search", "QW4321€R", "--data", str(data)]) == 2
    assert "unsupported character" in capsys.readouterr().err
