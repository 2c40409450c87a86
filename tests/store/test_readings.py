"""The in-memory reading index answers exactly as a full scan of every stored reading
would, and keeps in step with rows added, updated (dedup) and deleted (retention)."""

from __future__ import annotations

import random
import string
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from model.fusion import Fusion
from store import open_store
from store.readings import ReadingIndex
from tests.store.conftest import DIM, MODEL, sighting, unit_vectors

FUSION = Fusion(weight=0.6, lookalike=0.7, unknown_read=0.5)
START = datetime(2026, 11, 1, tzinfo=UTC)


def _readings(n: int, seed: int = 1) -> list[str]:
    """Plate-like readings with many near-duplicates of a few plates."""
    rng = random.Random(seed)
    alphabet = string.ascii_uppercase + string.digits
    bases = ["AB123CD", "AB128CD", "8B123CD", "XY987ZT", "QQ555"]
    out = []
    for _ in range(n):
        text = (
            list(rng.choice(bases))
            if rng.random() < 0.5
            else [rng.choice(alphabet) for _ in range(rng.randint(4, 9))]
        )
        if rng.random() < 0.3:
            text[rng.randrange(len(text))] = rng.choice(alphabet + "?")
        out.append("".join(text))
    return out


def _exact(query: str, rows: list[tuple[int, str, str, datetime]], need: int, camera=None,
           since=None) -> dict[int, float]:  # fmt: skip
    kept = [(i, r) for i, r, cam, t in rows
            if (camera is None or cam == camera) and (since is None or t + timedelta(seconds=2)
                                                      >= since)]  # fmt: skip
    terms = FUSION.reading_terms(query, [r for _, r in kept])
    order = np.argsort(-terms, kind="stable")[:need]
    return {kept[i][0]: float(terms[i]) for i in order if terms[i] > 0}


def _same(found: dict[int, float], exact: dict[int, float]) -> None:
    # Equal terms may be cut at the boundary in another order: compare the scores.
    assert sorted(found.values(), reverse=True) == pytest.approx(
        sorted(exact.values(), reverse=True), abs=1e-6
    )
    for i, term in found.items():
        if i in exact:
            assert term == pytest.approx(exact[i], abs=1e-6)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_target(request: pytest.FixtureRequest, tmp_path: Path):
    if request.param == "sqlite":
        yield str(tmp_path / "data")
        return
    from tests.store.conftest import drop_tables

    url = request.getfixturevalue("pg_url")
    yield url
    drop_tables(url)


def test_index_equals_a_full_scan_and_follows_changes(store_target, tmp_path: Path) -> None:
    store = open_store(store_target, DIM, MODEL, data_dir=tmp_path / "index")
    texts = _readings(3000)
    cams = ["gate" if i % 3 else "yard" for i in range(len(texts))]
    times = [START + timedelta(minutes=i) for i in range(len(texts))]
    vecs = unit_vectors(len(texts))
    stored = store.add_sightings(
        [
            sighting(v, camera=c, when=t, reading=r)
            for v, c, t, r in zip(vecs, cams, times, texts, strict=True)
        ]
    )
    rows = [(s.id, r, c, t) for s, r, c, t in zip(stored, texts, cams, times, strict=True)]
    index = ReadingIndex()
    index.sync(store)
    assert len(index) == len(texts)
    for query in ("AB123CD", "AB?23CD", "8B12", "ZZZZZZ", "QQ555"):
        for need in (5, 50):
            _same(index.best(query, FUSION, need), _exact(query, rows, need))
    since = START + timedelta(minutes=2000)
    _same(index.best("AB123CD", FUSION, 20, camera="yard", since=since),
          _exact("AB123CD", rows, 20, camera="yard", since=since))  # fmt: skip
    assert index.best("AB123CD", FUSION, 20, camera="nowhere") == {}

    # A new row, an updated reading (as dedup does) and a deleted row are seen next time.
    new = store.add_sightings([sighting(vecs[0], reading="NEW1234", when=START)])[0]
    best_id = max(index.best("AB123CD", FUSION, 1))
    store.update_sighting(best_id, last_seen=START, frame_count_add=1,
                          better=sighting(vecs[1], reading="ZZ000ZZ"))  # fmt: skip
    gone = next(i for i, r, _, _ in rows if r == "QQ555")
    store.delete_sightings([gone])
    index.sync(store)
    assert max(index.best("NEW1234", FUSION, 1)) == new.id
    assert best_id not in index.best("AB123CD", FUSION, 3000)
    assert best_id in index.best("ZZ000ZZ", FUSION, 1)
    assert gone not in index.best("QQ555", FUSION, 3000)
    store.close()


def test_text_search_finds_by_reading_in_a_large_gallery(tmp_path: Path) -> None:
    """Through store.search: a plate whose vector is far from the query is still found by
    its reading among thousands of others (the in-memory index is what search uses)."""
    from store import search

    class Embedder:  # a stand-in network: vectors unrelated to the text (the reading wins)
        fusion = FUSION

        def embed_texts(self, texts):
            from model.types import Embeddings

            v = unit_vectors(len(texts), seed=99)
            return Embeddings(v, list(texts), np.ones(len(texts), np.float32))

    store = open_store(tmp_path / "data", DIM, MODEL)
    texts = _readings(2000, seed=3)
    store.add_sightings([sighting(v, reading=r) for v, r in zip(unit_vectors(2000), texts,
                                                                 strict=True)])  # fmt: skip
    # Cosine 0 to the query: about half the gallery is closer, far outside the vector pool.
    q = unit_vectors(1, seed=99)[0]
    v = unit_vectors(1, seed=5)[0]
    v = (v - (v @ q) * q) / np.linalg.norm(v - (v @ q) * q)
    target = store.add_sightings([sighting(v.astype(np.float32), reading="KX4411M")])[0]
    found = search.search_text(store, "KX4411M", Embedder(), k=3)  # type: ignore[arg-type]
    assert found[0].sighting.id == target.id
    assert found[0].vector_score == pytest.approx(0.0, abs=1e-5)
    assert found[0].reading_score == pytest.approx(1.0)
    store.close()
