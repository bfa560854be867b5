import pytest

from model.taxonomy import Taxonomy


def test_bundled_taxonomy_has_the_eleven_v1_topics(taxonomy):
    assert taxonomy.ids == (
        "policing",
        "traffic",
        "fire",
        "anti_drug",
        "anti_fraud",
        "procuratorate",
        "court",
        "justice",
        "grassroots",
        "emergency",
        "party",
    )
    assert taxonomy.name("anti_fraud") == "反诈"
    assert all(t.description for t in taxonomy.topics)
    assert len(taxonomy.boundary_rules) >= 5


def test_taxonomy_round_trips_through_its_dict(taxonomy):
    assert Taxonomy.from_dict(taxonomy.to_dict()) == taxonomy


def test_duplicate_topic_ids_are_refused(taxonomy):
    data = taxonomy.to_dict()
    data["topics"].append(dict(data["topics"][0]))
    with pytest.raises(ValueError, match="duplicate"):
        Taxonomy.from_dict(data)
