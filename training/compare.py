"""Comparing two model versions: per-topic F1 side by side and the texts whose label changed."""

from __future__ import annotations

import sys
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING

from jinja2 import Environment, PackageLoader

from model.artifact import LoadedModel
from model.taxonomy import Taxonomy
from training.corpus import Record
from training.metrics import score

if TYPE_CHECKING:  # tqdm is imported only when comparing
    from tqdm import tqdm

BATCH = 256  # texts predicted at a time, so a progress bar moves


def _batches(n: int, size: int) -> list[slice]:
    """Slices of ``size`` over ``n`` items; a last slice of one item joins the one before it.

    One text takes the fast path's dense branch, which may round differently from the sparse one;
    batches of two or more give the very numbers the whole set at once would.
    """
    bounds = list(range(0, n, size)) + [n]
    if len(bounds) > 2 and bounds[-1] - bounds[-2] == 1:
        del bounds[-2]
    return [slice(a, b) for a, b in pairwise(bounds)]


def _predict_both(old: LoadedModel, new: LoadedModel, texts: list[str], bar: tqdm) -> tuple[list, list]:
    """Both models' predictions of ``texts``, batch by batch, moving ``bar`` along."""
    old_predictions, new_predictions = [], []
    for batch in _batches(len(texts), BATCH):
        old_predictions += old.model.predict(texts[batch], explain=False)
        new_predictions += new.model.predict(texts[batch], explain=False)
        bar.update(batch.stop - batch.start)
    return old_predictions, new_predictions


def compare_models(
    old: LoadedModel,
    new: LoadedModel,
    sets: dict[str, list[Record]],
    taxonomy: Taxonomy,
    progress: bool = False,
) -> dict:
    """Both models scored on every named set of records, and the records whose best topic changed.

    ``progress`` shows a bar on stderr over the records as they are predicted.
    """
    from tqdm import tqdm

    result = {"old": old.version, "new": new.version, "sets": {}, "changed": []}
    total = sum(map(len, sets.values()))
    with tqdm(total=total, desc="comparing", unit="text", file=sys.stderr, leave=False, disable=not progress) as bar:
        for name, records in sets.items():
            old_predictions, new_predictions = _predict_both(old, new, [r.text for r in records], bar)
            old_metrics = score(records, old_predictions, taxonomy)
            new_metrics = score(records, new_predictions, taxonomy)
            result["sets"][name] = {
                "n": old_metrics["n"],
                "macro_f1": {"old": old_metrics["macro_f1"], "new": new_metrics["macro_f1"]},
                "accuracy": {"old": old_metrics["accuracy"], "new": new_metrics["accuracy"]},
                "per_topic": {
                    topic: {"old": old_metrics["per_topic"][topic]["f1"], "new": new_metrics["per_topic"][topic]["f1"]}
                    for topic in taxonomy.ids
                },
            }
            for record, before, after in zip(records, old_predictions, new_predictions, strict=True):
                if before.topic != after.topic:
                    result["changed"].append(
                        {
                            "set": name,
                            "id": record.id,
                            "text": record.text,
                            "topic": record.topic,
                            "old": before.topic,
                            "new": after.topic,
                        }
                    )
    return result


def format_comparison(result: dict) -> str:
    """The comparison as plain-text tables."""
    lines = [f"old {result['old']}  vs  new {result['new']}"]
    for name, data in result["sets"].items():
        macro = data["macro_f1"]
        if not data["n"]:
            lines.append(f"\n{name}: no texts with a topic, so no F1 to compare")
            continue
        lines.append(
            f"\n{name}: {data['n']} texts, macro-F1 {macro['old']:.3f} -> {macro['new']:.3f} "
            f"({macro['new'] - macro['old']:+.3f})"
        )
        lines.append(f"{'topic':<15}{'old F1':>9}{'new F1':>9}{'change':>9}")
        for topic, f1 in data["per_topic"].items():
            lines.append(f"{topic:<15}{f1['old']:>9.3f}{f1['new']:>9.3f}{f1['new'] - f1['old']:>+9.3f}")
    lines.append(f"\n{len(result['changed'])} text(s) changed label:")
    for change in result["changed"]:
        snippet = change["text"].replace("\n", " ")[:60]
        lines.append(
            f"  [{change['set']}] {change['id']}: {change['old']} -> {change['new']} "
            f"(labelled {change['topic']}) {snippet}"
        )
    return "\n".join(lines)


def write_comparison_html(result: dict, path: Path) -> Path:
    """The comparison as an HTML page."""
    # Every value is escaped: record texts and ids come from operators' corpus files.
    env = Environment(loader=PackageLoader("training", "templates"), autoescape=True, trim_blocks=True)
    env.filters["fmt"] = format
    page = env.get_template("compare.html.j2").render(result=result)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
