"""Evaluation reports: an HTML page with per-topic metrics and the confusion matrix as a picture."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, never a window

import matplotlib.pyplot as plt  # noqa: E402
from jinja2 import Environment, PackageLoader  # noqa: E402
from matplotlib import font_manager  # noqa: E402

from model.taxonomy import Taxonomy  # noqa: E402

logger = logging.getLogger(__name__)

# CJK fonts matplotlib may find on the machine; without one, axes use the topic ids.
_CJK_FONTS = ("WenQuanYi Zen Hei", "Noto Sans CJK SC", "Source Han Sans SC", "SimHei")


def templates() -> Environment:
    """The Jinja environment of training/templates, escaping every value (all templates are HTML)."""
    env = Environment(loader=PackageLoader("training", "templates"), autoescape=True, trim_blocks=True)
    env.filters["fmt"] = format  # {{ x|fmt(".3f") }}: Python's format specs, as the text reports use
    return env


def _cjk_font() -> font_manager.FontProperties | None:
    """Properties naming an installed CJK font at a weight it has, or None without one."""
    entries = {f.name: f for f in font_manager.fontManager.ttflist}
    name = next((name for name in _CJK_FONTS if name in entries), None)
    if name is None:
        return None
    # Ask for the weight the font has: WenQuanYi Zen Hei exists only as Medium (500), and asking it
    # for the default "normal" (400) makes matplotlib log "Failed to find font weight" on each lookup.
    return font_manager.FontProperties(family=name, weight=entries[name].weight, size=8)


def confusion_png(metrics: dict, taxonomy: Taxonomy, path: Path) -> None:
    """Draw the confusion matrix (rows: true topic, columns: predicted) to a PNG file."""
    ids = metrics["labels"]
    font = _cjk_font()
    labels = [f"{taxonomy.name(t)}\n{t}" if font else t for t in ids]
    # Only the tick labels need the CJK font; every other text keeps matplotlib's default font.
    tick_font = {"fontproperties": font} if font else {"fontsize": 8}
    matrix = metrics["confusion"]
    fig, ax = plt.subplots(figsize=(9, 8), dpi=100)
    image = ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(ids)), labels, rotation=60, ha="right", **tick_font)
    ax.set_yticks(range(len(ids)), labels, **tick_font)
    ax.set_xlabel("predicted topic")
    ax.set_ylabel("true topic")
    peak = max((max(row) for row in matrix), default=0) or 1
    for i, row in enumerate(matrix):
        for j, value in enumerate(row):
            if value:
                colour = "white" if value > peak / 2 else "black"
                ax.text(j, i, str(value), ha="center", va="center", fontsize=8, color=colour)
    fig.colorbar(image, ax=ax, shrink=0.7)
    if metrics["n"]:
        ax.set_title(f"accuracy {metrics['accuracy']:.3f}, macro-F1 {metrics['macro_f1']:.3f}")
    else:
        ax.set_title("no texts with a topic")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def review_png(metrics: dict, path: Path) -> None:
    """Draw accept-accuracy of the unflagged texts against the share flagged for review."""
    points = metrics["review_curve"]
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    ax.plot([100 * p["review_rate"] for p in points], [p["accept_accuracy"] for p in points], marker=".")
    if metrics.get("unflagged_accept_accuracy") is not None:
        flagged = 100 * (1 - metrics["coverage"])
        ax.plot(
            [flagged], [metrics["unflagged_accept_accuracy"]], "o", color="#c62828", label="the model's review flag"
        )
        ax.legend(loc="lower right")
    ax.set_xlabel("texts flagged for review (%), least confident first")
    ax.set_ylabel("accept-accuracy of the texts not flagged")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write_report(metrics: dict, taxonomy: Taxonomy, out_dir: Path, title: str) -> Path:
    """Write report.html, confusion.png, review.png and metrics.json into ``out_dir``; return the HTML path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    confusion_png(metrics, taxonomy, out_dir / "confusion.png")
    if metrics.get("review_curve"):
        review_png(metrics, out_dir / "review.png")
    (out_dir / "metrics.json").write_text(json.dumps(metrics, ensure_ascii=False, indent=2), encoding="utf-8")
    page = templates().get_template("report.html.j2").render(metrics=metrics, taxonomy=taxonomy, title=title)
    path = out_dir / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
