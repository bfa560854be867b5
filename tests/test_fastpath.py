"""The compiled fast path gives the scikit-learn pipeline's probabilities on every corpus record."""

import numpy as np
import pytest

from training.corpus import load_bundled


@pytest.mark.slow
def test_the_data_only_file_gives_the_pipelines_probabilities_on_every_record_and_paragraph(
    served, topic_model, taxonomy
):
    records = load_bundled(taxonomy)
    texts = [r.text for r in records]
    texts += [line for r in records if r.kind == "item" for line in r.text.split("\n")]
    fast = served.model.probabilities(texts)
    reference = topic_model.reference_probabilities(texts)
    assert fast.shape == reference.shape == (len(texts), len(taxonomy))
    assert np.abs(fast - reference).max() < 1e-9
    assert (fast.argmax(axis=1) == reference.argmax(axis=1)).all()


def test_the_data_only_file_equals_the_pipeline_on_a_sample_of_every_kind(served, topic_model, taxonomy):
    """The fast lane's check: every 20th record, items, paragraphs, out-of-scope texts and leads alike."""
    records = load_bundled(taxonomy)[::20]
    texts = [r.text for r in records] + [r.text.split("\n")[-1] for r in records if r.kind == "item"]
    fast, reference = served.model.probabilities(texts), topic_model.reference_probabilities(texts)
    assert np.abs(fast - reference).max() < 1e-9


def test_fast_path_on_texts_with_no_known_feature(served, topic_model):
    texts = ["", "@@@@", "\x00", "ﾟ∀ﾟ"]
    assert np.abs(served.model.probabilities(texts) - topic_model.reference_probabilities(texts)).max() < 1e-9
