"""The fused text-search score (model.fusion): distances, look-alikes, ``?``/``*``,
confidence, and the settings a spec carries."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alphabet.text import edit_distance
from model.embed import resolve_model
from model.fusion import Fusion
from model.reading import encode_keys
from model.spec import ModelSpec, SpecError, load_spec

texts = st.text(alphabet="AB0OI18?SZ5", max_size=9)


@settings(max_examples=60, deadline=None)
@given(query=texts.filter(bool), others=st.lists(texts, min_size=1, max_size=20))
def test_unit_costs_give_the_plain_edit_distance(query: str, others: list[str]) -> None:
    got = Fusion(0.5, lookalike=1.0, skip_unknown=1.0, unknown_read=0.0).distances(
        query, encode_keys(others)
    )
    assert got.tolist() == [edit_distance(query, o) for o in others]


def test_confusable_characters_cost_less() -> None:
    f = Fusion(0.5, lookalike=0.3, skip_unknown=1.0)
    # B/8 are confusable, B/X are not; O/0 are one symbol.
    got = f.distances("AB1234", encode_keys(["A81234", "AX1234", "AB1234", "AB12340"]))
    np.testing.assert_allclose(got, [0.3, 1.0, 0.0, 1.0])
    assert f.distances("CO5", encode_keys(["C0S"])).tolist() == pytest.approx([0.3])


def test_unknown_characters_in_query_and_reading() -> None:
    f = Fusion(0.5, lookalike=0.5, skip_unknown=0.2, unknown_read=0.5)
    enc = encode_keys(["ABX234", "AB234", "A?1234", "AB1234Z", "A??234"])
    # '?' in the query matches any character; a reading lacking it pays skip_unknown; a
    # '?' read on the crop pays unknown_read against a query character, nothing against a
    # query '?'; an extra character read costs 1.
    np.testing.assert_allclose(f.distances("AB?234", enc), [0.0, 0.2, 0.5, 1.0, 0.5])


def test_a_reading_of_unknowns_does_not_fit_every_query() -> None:
    f = Fusion(0.6, unknown_read=0.5)
    terms = f.reading_terms("AB1234", ["??????", "AB1234", "?????"])
    assert terms[1] == 1.0 and terms[0] == pytest.approx(0.5) and terms[2] < 0.5


def test_terms_confidence_and_empty_readings() -> None:
    plain = Fusion(0.5, confidence=0.0)
    assert plain.reading_terms("AB1234", ["AB1234", "", "ZZZZZZZZZZZZ"]).tolist() == [1, 0, 0]
    sure = Fusion(0.5, confidence=0.5)
    terms = sure.reading_terms("AB1234", ["AB1234", "AB1234"], [1.0, 0.0])
    np.testing.assert_allclose(terms, [1.0, 0.5])


def test_wildcard_query_term_is_whether_the_reading_fits() -> None:
    f = Fusion(0.5)
    assert f.reading_terms("AB*34", ["AB1234", "AB34", "XB1234", ""]).tolist() == [1, 1, 0, 0]


def test_scores_prefer_the_crop_whose_reading_matches() -> None:
    cos = np.array([0.80, 0.79], np.float32)  # a look-alike plate scores a hair higher
    f = Fusion(0.3)
    fused = f.scores(cos, "AB1234", ["AB1284", "AB1234"], [0.9, 0.9])
    assert fused.argmax() == 1
    np.testing.assert_allclose(fused[1], 0.7 * 0.79 + 0.3)
    np.testing.assert_array_equal(Fusion(0.0).scores(cos, "AB1234", ["AB1234", ""]), cos)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"weight": 1.5}, "weight"),
        ({"lookalike": -0.1}, "lookalike"),
        ({"confidence": 2}, "confidence"),
    ],
)
def test_bad_settings(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Fusion(**kwargs)


def test_spec_carries_reader_and_fusion() -> None:
    spec = load_spec(resolve_model("default"))
    assert spec.reader in ("own", "ppocr")
    assert 0 < spec.fusion.weight <= 1
    assert spec.fusion.options() == {k: spec.fusion_options.get(k, v)
                                     for k, v in Fusion().options().items()}  # fmt: skip
    with pytest.raises(SpecError, match="reader"):
        spec.replace(reader="tesseract")
    with pytest.raises(SpecError, match="unknown fusion options"):
        spec.replace(fusion_options={"shape": 1})
    with pytest.raises(SpecError, match="fusion"):
        ModelSpec.from_dict(spec.to_dict() | {"fusion_weight": -1.0})
