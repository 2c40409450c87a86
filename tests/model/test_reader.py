"""Readers (model.reader): PP-OCR's recogniser composed into the embedder, and the
fallback to the network's own reading head where rapidocr-onnxruntime is missing."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from alphabet.synth import realistic_crop
from model import reader as reader_mod
from model.embed import TFEmbedder, resolve_model
from model.gallery import load_dataset
from model.reader import PpocrReader, create_reader, ppocr_available
from model.reading import encode_keys, same_plate_matrix

needs_ppocr = pytest.mark.skipif(
    not ppocr_available(), reason="rapidocr-onnxruntime (PP-OCR weights) is not installed"
)
PLATES = ["AB1234CD", "KA5500HH", "7XYZ123", "BRA2E19", "QW4321ER"]


@pytest.fixture(scope="module")
def clean_crops() -> list[np.ndarray]:
    rng = np.random.default_rng(3)
    return [realistic_crop(t, "eu", rng, difficulty=0.0) for t in PLATES]


@needs_ppocr
def test_reads_clean_plates_in_any_batch(clean_crops: list[np.ndarray]) -> None:
    texts, conf = PpocrReader(batch=4).read(clean_crops)
    assert len(texts) == len(PLATES) and conf.shape == (len(PLATES),) and conf.dtype == np.float32
    assert ((conf >= 0) & (conf <= 1)).all()
    assert sum(t == p for t, p in zip(texts, PLATES, strict=True)) >= 4, texts
    one_by_one = [PpocrReader(batch=1).read([c])[0][0] for c in clean_crops]
    assert one_by_one == texts


@needs_ppocr
def test_gray_and_empty_input() -> None:
    reader = PpocrReader()
    texts, conf = reader.read([])
    assert texts == [] and conf.shape == (0,)
    gray = np.full((30, 120), 200, np.uint8)
    texts, conf = reader.read([gray])
    assert len(texts) == 1 and conf.shape == (1,)


def test_unknown_reader_name() -> None:
    with pytest.raises(ValueError, match="unknown reader"):
        create_reader("tesseract")


def test_falls_back_to_own_head_without_rapidocr(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, clean_crops
) -> None:
    # The package cannot be uninstalled inside the test run: its absence is simulated.
    monkeypatch.setattr(reader_mod, "ppocr_available", lambda: False)
    with caplog.at_level(logging.WARNING):
        embedder = TFEmbedder(resolve_model("default"), reader="ppocr")
    assert embedder.reader is None and embedder.reader_name == "own"
    assert "rapidocr-onnxruntime" in caplog.text
    emb = embedder.embed_crops(clean_crops)
    assert len(emb.readings) == len(PLATES) and emb.confidences.shape == (len(PLATES),)


@needs_ppocr
def test_embedder_carries_the_readers_readings(clean_crops) -> None:
    own = TFEmbedder(resolve_model("default"), reader="own")
    ocr = TFEmbedder(resolve_model("default"), reader="ppocr")
    a, b = own.embed_crops(clean_crops), ocr.embed_crops(clean_crops)
    np.testing.assert_allclose(a.vectors, b.vectors, atol=1e-6)  # same vectors
    texts, _ = PpocrReader().read(clean_crops)
    assert b.readings == [t or o for t, o in zip(texts, a.readings, strict=True)]
    assert b.confidences.shape == (len(PLATES),)


@needs_ppocr
def test_reads_real_photos_better_than_the_head(shared_data: Path) -> None:
    ds = load_dataset(shared_data / "br_cc", limit=80)
    images = ds.images()
    keys = encode_keys(ds.texts, 16)

    def exact(readings: list[str]) -> float:
        return float(same_plate_matrix(encode_keys(readings, 16), keys).diagonal().mean())

    own = TFEmbedder(resolve_model("default"), reader="own").embed_crops(images)
    ocr = TFEmbedder(resolve_model("default"), reader="ppocr").embed_crops(images)
    assert exact(ocr.readings) >= 0.7
    assert exact(ocr.readings) > exact(own.readings) + 0.2
