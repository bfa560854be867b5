import pytest

from model.errors import NewstagError
from model.taxonomy import MEDIATOPIC, Taxonomy, TaxonomyError, Topic


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


# -- IPTC Media Topics: the bundled mapping and the form checks on a user's file -------------


def test_every_bundled_topic_maps_to_iptc_media_topics_or_to_newstags_own_concept(taxonomy):
    for topic in taxonomy.topics:
        assert topic.iptc, topic.id
        for subject in topic.iptc:
            assert subject.name("en") and subject.name("zh-Hans"), (topic.id, subject.uri)
            if subject.code is None:
                assert subject.uri == f"urn:newstag:topic:{topic.id}"
            else:
                assert subject.uri == MEDIATOPIC + subject.code and len(subject.code) == 8
    assert [s.code for s in taxonomy.get("policing").iptc] == ["20000133"]
    assert [s.code for s in taxonomy.get("party").iptc] == [None]
    assert [s.code for s in taxonomy.get("grassroots").iptc] == [None]


def test_topics_still_build_from_id_name_and_description():
    topic = Topic("fire", "消防", "消防救援")
    assert topic.iptc == ()
    assert topic.to_dict() == {"id": "fire", "name": "消防", "description": "消防救援"}


def with_subjects(*subjects) -> dict:
    return {"version": "t", "topics": [{"id": "court", "name": "法院", "description": "审判", "iptc": list(subjects)}]}


def test_a_users_subjects_are_checked_for_form_not_against_the_vocabulary():
    taxonomy = Taxonomy.from_dict(
        with_subjects(
            {"code": "99999999"},
            {"uri": "https://cv.iptc.org/newscodes/mediatopic/20000107", "match": "closeMatch"},
            {"uri": "http://example.org/topics/court", "name": {"en": "courts"}},
        )
    )
    court = taxonomy.get("court").iptc
    assert [s.code for s in court] == ["99999999", "20000107", None]
    assert court[1].uri == "http://cv.iptc.org/newscodes/mediatopic/20000107"
    assert Taxonomy.from_dict(taxonomy.to_dict()) == taxonomy


@pytest.mark.parametrize(
    ("subject", "message"),
    [
        ({"code": "2000013"}, "string of 8 digits"),
        ({"code": 20000107}, "string of 8 digits"),
        ({"code": "2000010７"}, "string of 8 digits"),
        ({"code": "20000107", "uri": "http://cv.iptc.org/newscodes/mediatopic/20000133"}, "does not match code"),
        ({"uri": "court"}, "not an absolute URI"),
        ({"uri": "urn:newstag:topic:court of appeal"}, "not an absolute URI"),
        ({"uri": "http://cv.iptc.org/newscodes/mediatopic/court"}, "8-digit IPTC Media Topic code"),
        ({"name": {"en": "court"}}, 'give an IPTC "code"'),
        ({"code": "20000107", "name": "法院"}, "language tags to labels"),
        ({"code": "20000107", "match": "sameAs"}, "not one of exactMatch"),
        ({"code": "20000107", "rel": "about"}, "unknown field"),
        ("20000107", "expected an object"),
    ],
)
def test_a_malformed_subject_is_refused_naming_the_topic_and_the_fix(subject, message):
    with pytest.raises(TaxonomyError, match=message) as caught:
        Taxonomy.from_dict(with_subjects(subject))
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, NewstagError)
    assert "topic 'court': iptc[0]" in str(caught.value)


def test_the_same_subject_twice_is_refused():
    with pytest.raises(TaxonomyError, match="same subject twice"):
        Taxonomy.from_dict(
            with_subjects({"code": "20000107"}, {"uri": "http://cv.iptc.org/newscodes/mediatopic/20000107"})
        )


def test_iptc_must_be_a_list():
    data = with_subjects()
    data["topics"][0]["iptc"] = {"code": "20000107"}
    with pytest.raises(TaxonomyError, match="iptc must be a list"):
        Taxonomy.from_dict(data)
