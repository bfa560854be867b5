"""Evaluation reports: an HTML page with per-topic metrics and the confusion matrix as a picture."""

from __future__ import annotations

import html
import json
import logging
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, never a window

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402

from model.taxonomy import Taxonomy  # noqa: E402

logger = logging.getLogger(__name__)

# CJK fonts matplotlib may find on the machine; without one, axes use the topic ids.
_CJK_FONTS = ("WenQuanYi Zen Hei", "Noto Sans CJK SC", "Source Han Sans SC", "SimHei")


def _cjk_font() -> str | None:
    available = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in _CJK_FONTS if name in available), None)


def confusion_png(metrics: dict, taxonomy: Taxonomy, path: Path) -> None:
    """Draw the confusion matrix (rows: true topic, columns: predicted) to a PNG file."""
    ids = metrics["labels"]
    font = _cjk_font()
    labels = [f"{taxonomy.name(t)}\n{t}" if font else t for t in ids]
    matrix = metrics["confusion"]
    with plt.rc_context({"font.family": [font, "DejaVu Sans"] if font else ["DejaVu Sans"]}):
        fig, ax = plt.subplots(figsize=(9, 8), dpi=100)
        image = ax.imshow(matrix, cmap="Blues")
        ax.set_xticks(range(len(ids)), labels, rotation=60, ha="right", fontsize=8)
        ax.set_yticks(range(len(ids)), labels, fontsize=8)
        ax.set_xlabel("predicted topic")
        ax.set_ylabel("true topic")
        peak = max((max(row) for row in matrix), default=0) or 1
        for i, row in enumerate(matrix):
            for j, value in enumerate(row):
                if value:
                    colour = "white" if value > peak / 2 else "black"
                    ax.text(j, i, str(value), ha="center", va="center", fontsize=8, color=colour)
        fig.colorbar(image, ax=ax, shrink=0.7)
        ax.set_title(f"accuracy {metrics['accuracy']:.3f}, macro-F1 {metrics['macro_f1']:.3f}")
        fig.tight_layout()
        fig.savefig(path)
        plt.close(fig)


def write_report(metrics: dict, taxonomy: Taxonomy, out_dir: Path, title: str) -> Path:
    """Write report.html, confusion.png and metrics.json into ``out_dir``; return the HTML path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    confusion_png(metrics, taxonomy, out_dir / "confusion.png")
    (out_dir / "metrics.json").write_text(json.dumps(metrics, ensure_ascii=False, indent=2), encoding="utf-8")
    rows = "\n".join(
        f"<tr><td>{html.escape(t)}</td><td>{html.escape(taxonomy.name(t))}</td>"
        f"<td>{m['precision']:.3f}</td><td>{m['recall']:.3f}</td><td>{m['f1']:.3f}</td><td>{m['support']}</td></tr>"
        for t, m in metrics["per_topic"].items()
    )
    ood = ""
    if metrics.get("out_of_domain"):
        ood = (
            f"<p>Texts of no topic: {metrics['out_of_domain']}, flagged for review "
            f"{metrics['out_of_domain_review_rate']:.1%}.</p>"
        )
    page = f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 10px;text-align:right}}
td:first-child,td:nth-child(2){{text-align:left}}</style>
</head><body>
<h1>{html.escape(title)}</h1>
<p>{metrics["n"]} texts. Accuracy {metrics["accuracy"]:.3f}; accept-accuracy {metrics["accept_accuracy"]:.3f};
macro-F1 {metrics["macro_f1"]:.3f}; flagged for review {metrics["review_rate"]:.1%}.</p>
{ood}
<table><thead><tr><th>topic</th><th>名称</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr></thead>
<tbody>
{rows}
</tbody></table>
<h2>Confusion matrix</h2>
<p>Rows are the true topic, columns the predicted one.</p>
<img src="confusion.png" alt="confusion matrix">
</body></html>
"""
    path = out_dir / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
