from collections import Counter

from training.corpus import load_bundled
from training.split import in_gate, split_gate


def test_gate_membership_depends_only_on_the_id():
    assert in_gate("court-0001") == in_gate("court-0001")
    assert sum(in_gate(f"x-{i}") for i in range(10000)) in range(1400, 1600)


def test_gate_is_about_fifteen_percent_of_every_topic(taxonomy):
    records = load_bundled(taxonomy)
    train, gate = split_gate(records)
    assert len(train) + len(gate) == len(records)
    assert not {r.id for r in train} & {r.id for r in gate}
    totals = Counter(r.topic for r in records)
    in_gate_counts = Counter(r.topic for r in gate)
    for topic in taxonomy.ids:
        share = in_gate_counts[topic] / totals[topic]
        assert 0.08 <= share <= 0.22, (topic, share)
