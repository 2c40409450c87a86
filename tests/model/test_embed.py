from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from alphabet.text import PlateTextError
from model.embed import ModelNotFoundError, TFEmbedder, load_embedder
from model.preprocess import ImageError
from model.reader import Reader
from tests.model.conftest import synthetic_crop


def test_shapes_and_unit_norm(embedder: TFEmbedder) -> None:
    crops = [synthetic_crop("AA5149EK", seed=i) for i in range(5)]
    crops.append(np.full((20, 90), 128, np.uint8))  # gray input
    emb = embedder.embed_crops(crops)
    assert emb.vectors.shape == (6, embedder.dim) and emb.vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(emb.vectors, axis=1), 1.0, atol=1e-5)
    assert len(emb.readings) == 6 and emb.confidences.shape == (6,)
    assert ((emb.confidences >= 0) & (emb.confidences <= 1)).all()
    assert embedder.version.startswith("default-")


def test_empty_batch(embedder: TFEmbedder) -> None:
    assert embedder.embed_crops([]).vectors.shape == (0, embedder.dim)


def test_deterministic_and_batch_independent(embedder: TFEmbedder) -> None:
    crops = [synthetic_crop(t, seed=1) for t in ("AB1234CD", "XY9876", "1234BCD")]
    a = embedder.embed_crops(crops).vectors
    b = embedder.embed_crops(crops).vectors
    single = np.concatenate([embedder.embed_crops([c]).vectors for c in crops])
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(a, single, atol=1e-5)


@pytest.mark.parametrize(
    ("typed", "plate_text"),
    [
        ("АА 5149-ЕК", "AA5149EK"),  # Cyrillic look-alike letters and separators
        ("aa5149ek", "AA5149EK"),  # lower case
        ("ab·12.34", "AB1234"),  # dots
        ("12?4 BCD", "12?4BCD"),  # a hidden character is allowed in a query
    ],
)
def test_text_normalisation(embedder: TFEmbedder, typed: str, plate_text: str) -> None:
    emb = embedder.embed_texts([typed, plate_text])
    assert emb.readings == [plate_text, plate_text]
    np.testing.assert_allclose(emb.vectors[0], emb.vectors[1], atol=1e-6)


@pytest.mark.parametrize("text", ["AB#123", "AB*12", "", "---", "Ж1234"])
def test_unsupported_text(embedder: TFEmbedder, text: str) -> None:
    with pytest.raises(PlateTextError):
        embedder.embed_texts([text])


@pytest.mark.parametrize(
    "image",
    [np.zeros((0, 40, 3), np.uint8), np.zeros((20, 80, 3), np.float64), None],
)
def test_bad_images(embedder: TFEmbedder, image: object) -> None:
    with pytest.raises(ImageError):
        embedder.embed_crops([synthetic_crop("AB123"), image])  # type: ignore[list-item]


def test_unknown_model() -> None:
    with pytest.raises(ModelNotFoundError, match="shipped"):
        load_embedder("no-such-model")


def test_crop_lands_nearest_its_own_text(embedder: TFEmbedder) -> None:
    # Ten plates, some one character apart; each fairly clean crop must rank its own
    # text's render first among the ten.
    texts = ["AA5149EK", "AA5148EK", "AA5149EX", "BC1234AX", "BC1284AX",
             "ABC1234", "ABC1243", "1234BCD", "7ABC123", "KA0001PP"]  # fmt: skip
    crops = [synthetic_crop(t, seed=11, difficulty=0.2) for t in texts]
    sims = embedder.embed_crops(crops).vectors @ embedder.embed_texts(texts).vectors.T
    assert (sims.argmax(axis=1) == np.arange(len(texts))).mean() >= 0.9


class CountingReader:
    """Wraps the embedder's real reader and records which crops it was asked to read."""

    def __init__(self, real: Reader) -> None:
        self.real = real
        self.name, self.key = real.name, real.key
        self.crops_read: list[np.ndarray] = []

    def read(self, crops: Sequence[np.ndarray]) -> tuple[list[str], np.ndarray]:
        self.crops_read += list(crops)
        return self.real.read(crops)


@pytest.fixture
def counting(embedder: TFEmbedder, monkeypatch: pytest.MonkeyPatch) -> CountingReader:
    if embedder.reader is None:
        pytest.skip("the default model's reader (rapidocr-onnxruntime) is not installed")
    wrapped = CountingReader(embedder.reader)
    monkeypatch.setattr(embedder, "reader", wrapped)
    return wrapped


def test_crops_already_read_are_not_read_again(
    embedder: TFEmbedder, counting: CountingReader
) -> None:
    crops = [synthetic_crop(t, seed=2, difficulty=0.2) for t in ("AB1234CD", "XY9876", "1234BCD")]
    plain = embedder.embed_crops(crops)
    assert len(counting.crops_read) == 3
    counting.crops_read.clear()
    # the detector read the first and last plates; the middle one it did not read
    given = embedder.embed_crops(crops, ["AB1234CD", "", "1234BXD"], np.array([0.9, 0, 0.4]))
    assert len(counting.crops_read) == 1 and counting.crops_read[0] is crops[1]
    np.testing.assert_array_equal(given.vectors, plain.vectors)
    assert given.readings[0] == "AB1234CD" and given.readings[2] == "1234BXD"
    np.testing.assert_allclose(given.confidences[[0, 2]], [0.9, 0.4])
    # the middle crop is read alone now (the reader pads a batch to its widest crop)
    alone, alone_conf = counting.real.read([crops[1]])
    assert given.readings[1] == alone[0] == plain.readings[1]
    assert given.confidences[1] == alone_conf[0]


def test_every_crop_read_means_no_reader_call(
    embedder: TFEmbedder, counting: CountingReader
) -> None:
    crops = [synthetic_crop("AB1234CD", seed=i) for i in range(2)]
    emb = embedder.embed_crops(crops, ["AB1234CD", "AB1234CD"], np.full(2, 0.8, np.float32))
    assert counting.crops_read == [] and emb.readings == ["AB1234CD", "AB1234CD"]


@pytest.mark.parametrize(
    ("readings", "confidences"),
    [
        (["AB123"], None),  # readings without confidences
        (["AB123", "CD456"], np.ones(2, np.float32)),  # two readings for one crop
        (["AB123"], np.ones(2, np.float32)),  # two confidences for one crop
    ],
)
def test_readings_that_do_not_fit_the_crops(
    embedder: TFEmbedder, readings: list[str], confidences: np.ndarray | None
) -> None:
    with pytest.raises(ValueError, match="readings"):
        embedder.embed_crops([synthetic_crop("AB123")], readings, confidences)


def test_bad_images_are_refused_with_readings_given(embedder: TFEmbedder) -> None:
    with pytest.raises(ImageError):
        embedder.embed_crops(
            [synthetic_crop("AB123"), np.zeros((0, 40, 3), np.uint8)],
            ["AB123", "CD456"],
            np.ones(2, np.float32),
        )
