from collections import Counter

from training.corpus import load_bundled
from training.split import in_gate, split_gate


def test_gate_membership_is_a_fixed_function_of_the_id():
    # Golden values: if the hash or the share changed, every version's gate metrics would stop comparing.
    assert [in_gate(i) for i in ("policing-0013", "policing-0025", "policing-0210")] == [True, True, True]
    assert [in_gate(i) for i in ("court-0001", "court-0002", "ood-0001", "fire-0042")] == [False] * 4


def test_gate_membership_ignores_everything_but_the_id(taxonomy):
    from training.corpus import Record

    same_id = [Record("policing-0013", text, topic) for text, topic in (("甲。", "fire"), ("乙。", None))]
    assert split_gate(same_id) == ([], same_id)


def test_about_fifteen_percent_of_ids_are_in_the_gate():
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
