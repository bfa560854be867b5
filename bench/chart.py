"""results.png: batch throughput, quality beside the competitors, and trust per source."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def chart(results: dict, path: Path) -> None:
    """Draw the chart of a run into ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (speed, quality, trust) = plt.subplots(1, 3, figsize=(18, 4.8))
    speeds = results["speed"]["batch_per_s"]
    speed.barh(list(speeds), list(speeds.values()), color=["#1f5fbf", "#d9822b", "#9e9e9e", "#bdbdbd"])
    speed.set_xlabel("paragraphs per second (one process)")
    speed.set_title("Batch throughput")

    names = [r["model"] for r in results["cv"]]
    width = 0.35
    x = np.arange(len(names))
    quality.bar(x - width / 2, [r["macro_f1"] for r in results["cv"]], width, label="bundled corpus, 5-fold")
    if results.get("thucnews"):
        quality.bar(x + width / 2, [r["macro_f1"] for r in results["thucnews"]], width, label="THUCNews titles")
    quality.set_xticks(x, names, rotation=15)
    quality.set_ylim(0.5, 1.0)
    quality.set_ylabel("macro-F1")
    quality.legend(loc="lower right")
    quality.set_title("Quality")

    # Sources with topic texts (the foreign titles have none), not the gate split's parts.
    rows = [r for r in results["trust"] if r["n"] and not r.get("part")]
    x = np.arange(len(rows))
    width = 0.27
    figures = (
        ("accept_accuracy", "accept-accuracy"),
        ("unflagged_accept_accuracy", "unflagged: acceptable"),
        ("coverage", "unflagged share"),
    )
    for offset, (key, label) in zip((-width, 0.0, width), figures, strict=True):
        trust.bar(x + offset, [r[key] or 0.0 for r in rows], width, label=label)
    sources = [r["source"].removesuffix(".jsonl").replace(" (bundled corpus)", "") for r in rows]
    trust.set_xticks(x, sources, rotation=15)
    trust.set_ylim(0.5, 1.1)  # headroom for the legend above the bars
    trust.set_yticks(np.arange(0.5, 1.01, 0.1))
    trust.legend(loc="upper center", ncol=3, fontsize="small")
    trust.set_title("Trust (the trained model, review flag on)")

    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
