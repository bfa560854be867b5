"""Comparing two model versions: per-topic F1 side by side and the texts whose label changed."""

from __future__ import annotations

import html
from pathlib import Path

from model.artifact import LoadedModel
from model.taxonomy import Taxonomy
from training.corpus import Record
from training.metrics import score


def compare_models(old: LoadedModel, new: LoadedModel, sets: dict[str, list[Record]], taxonomy: Taxonomy) -> dict:
    """Both models scored on every named set of records, and the records whose best topic changed."""
    result = {"old": old.version, "new": new.version, "sets": {}, "changed": []}
    for name, records in sets.items():
        texts = [r.text for r in records]
        old_predictions = old.model.predict(texts, explain=False)
        new_predictions = new.model.predict(texts, explain=False)
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
    parts = [
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>",
        f"<title>newstag: {html.escape(result['old'])} vs {html.escape(result['new'])}</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1.5em}"
        "td,th{border:1px solid #ccc;padding:3px 8px}.up{color:#2e7d32}.down{color:#c62828}</style></head><body>",
        f"<h1>{html.escape(result['old'])} → {html.escape(result['new'])}</h1>",
    ]
    for name, data in result["sets"].items():
        macro = data["macro_f1"]
        parts.append(
            f"<h2>{html.escape(name)} ({data['n']} texts): macro-F1 {macro['old']:.3f} → {macro['new']:.3f}</h2>"
        )
        parts.append("<table><tr><th>topic</th><th>old F1</th><th>new F1</th><th>change</th></tr>")
        for topic, f1 in data["per_topic"].items():
            delta = f1["new"] - f1["old"]
            css = "up" if delta > 0 else "down" if delta < 0 else ""
            parts.append(
                f"<tr><td>{html.escape(topic)}</td><td>{f1['old']:.3f}</td><td>{f1['new']:.3f}</td>"
                f"<td class='{css}'>{delta:+.3f}</td></tr>"
            )
        parts.append("</table>")
    parts.append(
        f"<h2>Texts whose label changed ({len(result['changed'])})</h2><table>"
        "<tr><th>set</th><th>id</th><th>labelled</th><th>old</th><th>new</th><th>text</th></tr>"
    )
    for change in result["changed"]:
        parts.append(
            "<tr>"
            + "".join(f"<td>{html.escape(str(change[k]))}</td>" for k in ("set", "id", "topic", "old", "new", "text"))
            + "</tr>"
        )
    parts.append("</table></body></html>")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
