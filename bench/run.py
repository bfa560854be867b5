"""newstag benchmarks, side by side with fastText and ComplementNB, in one run on this machine.

    python bench/run.py            # the full run (about 15 minutes on 2 cores)
    python bench/run.py --quick    # every section on smaller inputs (under 2 minutes)

Writes bench/RESULTS.md (tables, machine, versions) and bench/results.png (chart). Reads
../shared/bench/thucnews and ../shared/data when present and says so when absent. Competitors
run on the same texts in the same run, interleaved, and speed figures are medians of repeats.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.metrics import accuracy_score, f1_score  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402
from sklearn.naive_bayes import ComplementNB  # noqa: E402

from model.normalize import normalize  # noqa: E402
from model.pipeline import PipelineSettings, build_pipeline  # noqa: E402
from model.taxonomy import load_taxonomy  # noqa: E402
from model.tokenizer import Tokenizer  # noqa: E402
from training.corpus import load_bundled  # noqa: E402
from training.split import split_gate  # noqa: E402

SHARED = REPO.parent / "shared"
OUT = REPO / "bench"
TOKENIZER = Tokenizer()
JIEBA = Tokenizer(backend="jieba")  # fastText gets the tokens of record from jieba itself


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# -- competitors -----------------------------------------------------------------------------


class Newstag:
    name = "newstag"

    def fit(self, texts, labels):
        self.pipeline = build_pipeline(PipelineSettings(), TOKENIZER).fit(texts, labels)
        return self

    def predict(self, texts):
        return list(self.pipeline.predict(texts))


class FastText:
    """fastText supervised on the same jieba tokens (of the same normalised text)."""

    def __init__(self, tuned: bool):
        self.tuned = tuned
        self.name = "fastText tuned" if tuned else "fastText default"

    @staticmethod
    def tokens(text: str) -> str:
        return " ".join(JIEBA.words(normalize(text)))

    def fit(self, texts, labels):
        import fasttext

        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as handle:
            for text, label in zip(texts, labels, strict=True):
                handle.write(f"__label__{label} {self.tokens(text)}\n")
        options = dict(epoch=25, lr=0.5, wordNgrams=2, minCount=1, dim=100) if self.tuned else {}
        self.model = fasttext.train_supervised(handle.name, verbose=0, thread=2, seed=0, **options)
        os.unlink(handle.name)
        return self

    def predict(self, texts):
        labels, _ = self.model.predict([self.tokens(t) for t in texts], k=1)
        return [label[0].removeprefix("__label__") for label in labels]


class NaiveBayes:
    name = "ComplementNB (word tf-idf)"

    def fit(self, texts, labels):
        self.vectorizer = TfidfVectorizer(analyzer=lambda t: TOKENIZER.words(normalize(t)), sublinear_tf=True)
        self.model = ComplementNB(alpha=0.3).fit(self.vectorizer.fit_transform(texts), labels)
        return self

    def predict(self, texts):
        return list(self.model.predict(self.vectorizer.transform(texts)))


def competitors():
    return [Newstag(), FastText(tuned=False), FastText(tuned=True), NaiveBayes()]


# -- quality ---------------------------------------------------------------------------------


def cross_validation(quick: bool) -> list[dict]:
    records = [r for r in load_bundled(load_taxonomy()) if r.topic]
    texts = np.array([r.text for r in records], dtype=object)
    labels = np.array([r.topic for r in records])
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    rows = {c.name: {"pred": np.empty(len(records), dtype=object), "seconds": 0.0} for c in competitors()}
    for number, (train, test) in enumerate(folds.split(texts, labels), 1):
        if quick and number > 2:
            break
        for competitor in competitors():  # interleaved: every competitor on each fold in turn
            started = time.perf_counter()
            competitor.fit(list(texts[train]), list(labels[train]))
            rows[competitor.name]["seconds"] += time.perf_counter() - started
            rows[competitor.name]["pred"][test] = competitor.predict(list(texts[test]))
    done = np.array([p is not None for p in rows["newstag"]["pred"]])
    return [
        {
            "model": name,
            "accuracy": accuracy_score(labels[done], r["pred"][done]),
            "macro_f1": f1_score(labels[done], list(r["pred"][done]), average="macro"),
            "train_s": r["seconds"],
        }
        for name, r in rows.items()
    ]


def thucnews(quick: bool) -> list[dict] | None:
    base = SHARED / "bench" / "thucnews"
    if not base.exists():
        log(f"{base} is absent: THUCNews comparison skipped")
        return None
    train = [json.loads(line) for line in (base / "train.jsonl").open(encoding="utf-8")]
    test = [json.loads(line) for line in (base / "test.jsonl").open(encoding="utf-8")]
    if quick:
        train, test = random.Random(0).sample(train, 6000), random.Random(1).sample(test, 2000)
    rows = []
    for competitor in competitors():
        started = time.perf_counter()
        competitor.fit([r["text"] for r in train], [r["label"] for r in train])
        seconds = time.perf_counter() - started
        predicted = competitor.predict([r["text"] for r in test])
        truth = [r["label"] for r in test]
        rows.append(
            {
                "model": competitor.name,
                "accuracy": accuracy_score(truth, predicted),
                "macro_f1": f1_score(truth, predicted, average="macro"),
                "train_s": seconds,
            }
        )
    return rows


def real_data() -> list[dict] | None:
    if not (SHARED / "data").exists():
        log(f"{SHARED / 'data'} is absent: real-data comparison skipped")
        return None
    train, _ = split_gate(load_bundled(load_taxonomy()))
    train = [r for r in train if r.topic]
    fitted = [c.fit([r.text for r in train], [r.topic for r in train]) for c in competitors()]
    rows = []
    for path in sorted((SHARED / "data").glob("*.jsonl")):
        items = [json.loads(line) for line in path.open(encoding="utf-8")]
        for competitor in fitted:
            predicted = competitor.predict([r["text"] for r in items])
            rows.append(
                {
                    "file": path.name,
                    "model": competitor.name,
                    "n": len(items),
                    "accept_accuracy": sum(p in r["accept"] for p, r in zip(predicted, items, strict=True))
                    / len(items),
                    "macro_f1": f1_score([r["topic"] for r in items], predicted, average="macro"),
                }
            )
    return rows


# -- speed in process ------------------------------------------------------------------------


def unique_paragraphs(limit: int) -> list[str]:
    """Distinct paragraphs: corpus paragraphs and item bodies, plus THUCNews titles joined in pairs."""
    seen, out = set(), []
    for record in load_bundled(load_taxonomy()):
        for part in record.text.split("\n"):
            if len(part) >= 40 and part not in seen:
                seen.add(part)
                out.append(part)
    titles = SHARED / "bench" / "thucnews" / "test.jsonl"
    if titles.exists():
        rows = [json.loads(line)["text"] for line in titles.open(encoding="utf-8")]
        for a, b in zip(rows[::2], rows[1::2], strict=False):
            text = f"{a}。{b}。"
            if text not in seen:
                seen.add(text)
                out.append(text)
    random.Random(0).shuffle(out)
    return out[:limit]


def around_150(texts: list[str], n: int) -> list[str]:
    picked = [t for t in texts if 120 <= len(t) <= 180]
    return (picked * (n // max(len(picked), 1) + 1))[:n] if len(picked) < n else picked[:n]


def timed(function, repeats: int) -> float:
    """Median seconds of ``repeats`` runs."""
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def speed(model, texts: list[str], quick: bool) -> dict:
    repeats = 3 if quick else 5
    ft = FastText(tuned=True).fit(
        [r.text for r in load_bundled(load_taxonomy()) if r.topic],
        [r.topic for r in load_bundled(load_taxonomy()) if r.topic],
    )
    jieba_only, fast = Tokenizer(backend="jieba"), Tokenizer(backend="rjieba")
    normalised = [normalize(t) for t in texts]
    results = {}
    # Interleave the competitors within each repeat.
    samples: dict[str, list[float]] = {k: [] for k in ("newstag", "fastText+jieba", "jieba alone", "rjieba alone")}
    for _ in range(repeats):
        for key, run in (
            ("newstag", lambda: model.predict(texts, explain=False)),
            ("fastText+jieba", lambda: ft.predict(texts)),
            ("jieba alone", lambda: [jieba_only.cut(t) for t in normalised]),
            ("rjieba alone", lambda: [fast.cut(t) for t in normalised]),
        ):
            started = time.perf_counter()
            run()
            samples[key].append(time.perf_counter() - started)
    for key, values in samples.items():
        results[key] = len(texts) / statistics.median(values)
    single = around_150(texts, 300 if quick else 1000)
    latencies = {"newstag": [], "newstag explain": [], "fastText+jieba": []}
    for text in single:
        for key, run in (
            ("newstag", lambda t=text: model.predict([t], explain=False)),
            ("newstag explain", lambda t=text: model.predict([t], explain=True)),
            ("fastText+jieba", lambda t=text: ft.predict([t])),
        ):
            started = time.perf_counter()
            run()
            latencies[key].append((time.perf_counter() - started) * 1000)
    return {
        "batch_per_s": results,
        "single_ms": {
            k: {"p50": float(np.percentile(v, 50)), "p99": float(np.percentile(v, 99))} for k, v in latencies.items()
        },
        "n_batch": len(texts),
        "n_single": len(single),
        "single_mean_chars": statistics.mean(len(t) for t in single),
    }


# -- the server ------------------------------------------------------------------------------

WRK_SCRIPT = """
local bodies = {}
local n = 0
init = function(args)
  for line in io.lines(args[1]) do n = n + 1; bodies[n] = line end
end
local i = 0
request = function()
  i = i % n + 1
  return wrk.format("POST", "/v1/classify", {["Content-Type"] = "application/json"}, bodies[i])
end
"""


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(root: Path, workers: int = 2):
    port = free_port()
    env = {**os.environ, "NEWSTAG_MODEL_ROOT": str(root)}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "newstag", "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import requests

    while True:
        try:
            if requests.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                break
        except requests.RequestException:
            time.sleep(0.02)
    return process, port, time.perf_counter() - started


def worker_pids(port: int, workers: int) -> set[int]:
    import requests

    pids = set()
    for _ in range(200):
        answer = requests.get(f"http://127.0.0.1:{port}/readyz", headers={"Connection": "close"}, timeout=5)
        pids.add(answer.json()["worker"])
        if len(pids) == workers:
            break
    return pids


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024


def pss_mb(pid: int) -> float:
    """Proportional set size: pages shared with the master and the other worker count by share."""
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        return next(int(line.split()[1]) for line in rollup if line.startswith("Pss:")) / 1024


def wrk(port: int, bodies: list[str], seconds: int, connections: int = 16, lua: str = WRK_SCRIPT) -> dict:
    """Run wrk with a Lua script that reads ``bodies`` (one a line); parse its figures."""
    with tempfile.TemporaryDirectory() as tmp:
        script, data = Path(tmp) / "post.lua", Path(tmp) / "bodies.txt"
        script.write_text(lua)
        data.write_text("\n".join(bodies) + "\n", encoding="utf-8")
        result = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{connections}",
                f"-d{seconds}s",
                "--latency",
                "-s",
                str(script),
                f"http://127.0.0.1:{port}",
                "--",
                str(data),
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
        )
    out = result.stdout
    figures = {"raw": out}
    for line in out.splitlines():
        parts = line.split()
        if line.startswith("Requests/sec:"):
            figures["rps"] = float(parts[1])
        elif parts[:1] in (["50%"], ["99%"]):
            figures["p" + parts[0].rstrip("%")] = _ms(parts[1])
        elif "Non-2xx or 3xx responses" in line:
            figures["non_2xx"] = int(parts[-1])
        elif line.strip().startswith("Socket errors"):
            figures["socket_errors"] = sum(int(p.strip(",")) for p in parts if p.strip(",").isdigit())
        elif "requests in" in line:
            figures["requests"] = int(parts[0])
    figures.setdefault("non_2xx", 0)
    figures.setdefault("socket_errors", 0)
    return figures


def _ms(value: str) -> float:
    for suffix, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if value.endswith(suffix):
            return float(value[: -len(suffix)]) * factor
    return float(value)


def http(root: Path, texts: list[str], quick: bool) -> dict:
    seconds = 8 if quick else 30
    process, port, cold = start_server(root)
    try:
        pids = worker_pids(port, 2)
        single = [json.dumps({"text": t, "explain": False}, ensure_ascii=False) for t in texts]
        batches = [
            json.dumps({"texts": texts[i : i + 64], "explain": False}, ensure_ascii=False)
            for i in range(0, len(texts) - 63, 64)
        ]
        single_run = wrk(port, single, seconds)
        batch_run = wrk(port, batches, seconds)
        rss = {pid: rss_mb(pid) for pid in pids}
        pss = {pid: pss_mb(pid) for pid in pids}
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)
    return {"cold_start_s": cold, "single": single_run, "batch64": batch_run, "rss_mb": rss, "pss_mb": pss}


def worker_cold_start(root: Path, repeats: int) -> float:
    """Seconds from a fresh Python process to a warm app (what each gunicorn worker does)."""
    code = (
        "import time, sys; t = time.perf_counter(); from service import create_app; "
        "create_app({'MODEL_ROOT': sys.argv[1]}); print(time.perf_counter() - t)"
    )
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code, str(root)], check=True, capture_output=True, cwd=REPO)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


# -- report ----------------------------------------------------------------------------------


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    versions = {}
    for name in ("scikit-learn", "numpy", "scipy", "jieba", "rjieba", "fasttext-wheel", "flask", "gunicorn", "gevent"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n")[0]
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "versions": versions,
        "wrk": wrk_version,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def table(headers: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def write_results(results: dict, quick: bool) -> None:
    m = results["machine"]
    parts = [
        "# newstag benchmarks",
        "",
        f"Run `python bench/run.py{' --quick' if quick else ''}` on {m['date']}: {m['cpu']}, {m['cores']} cores, "
        f"Python {m['python']}; " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()) + f"; {m['wrk']}.",
        "" if not quick else "\n**Quick mode**: smaller inputs and shorter load runs; not the figures of record.",
        "",
        "## Quality",
        "",
        "5-fold cross-validation on the bundled corpus (topic records, every competitor on the same folds):",
        "",
        table(
            ["model", "accuracy", "macro-F1", "training s (all folds)"],
            [
                [r["model"], f"{r['accuracy']:.3f}", f"{r['macro_f1']:.3f}", f"{r['train_s']:.1f}"]
                for r in results["cv"]
            ],
        ),
    ]
    if results.get("thucnews"):
        parts += [
            "",
            "THUCNews titles, train on `train.jsonl`, test on `test.jsonl` (10 classes):",
            "",
            table(
                ["model", "accuracy", "macro-F1", "training s"],
                [
                    [r["model"], f"{r['accuracy']:.3f}", f"{r['macro_f1']:.3f}", f"{r['train_s']:.1f}"]
                    for r in results["thucnews"]
                ],
            ),
        ]
    if results.get("real"):
        parts += [
            "",
            "Real news in `../shared/data` (trained on the bundled corpus less its gate split; "
            "accept-accuracy counts any label an editor would accept):",
            "",
            table(
                ["file", "model", "texts", "accept-accuracy", "macro-F1"],
                [
                    [r["file"], r["model"], r["n"], f"{r['accept_accuracy']:.3f}", f"{r['macro_f1']:.3f}"]
                    for r in results["real"]
                ],
            ),
        ]
    s = results["speed"]
    parts += [
        "",
        "## Speed in one process",
        "",
        f"Batch: {s['n_batch']} distinct paragraphs end to end (normalise, tokenize, features, classify), "
        "median of repeats, competitors interleaved:",
        "",
        table(["path", "paragraphs/s"], [[k, f"{v:,.0f}"] for k, v in s["batch_per_s"].items()]),
        "",
        f"Single text: {s['n_single']} distinct paragraphs of about {s['single_mean_chars']:.0f} characters, "
        "one call each:",
        "",
        table(
            ["path", "p50 ms", "p99 ms"], [[k, f"{v['p50']:.3f}", f"{v['p99']:.3f}"] for k, v in s["single_ms"].items()]
        ),
    ]
    h = results["http"]
    parts += [
        "",
        "## HTTP",
        "",
        "`newstag serve --workers 2` (gunicorn, gevent workers) and wrk (`-t2 -c16 --timeout 10s`) on the same 2 "
        "cores: the load "
        "generator takes CPU from the server, so these are floors. Bodies rotate over distinct paragraphs; "
        "`explain` is off.",
        "",
        table(
            ["workload", "requests/s", "paragraphs/s", "p50 ms", "p99 ms", "errors"],
            [
                [
                    "single paragraph",
                    f"{h['single'].get('rps', 0):,.0f}",
                    f"{h['single'].get('rps', 0):,.0f}",
                    h["single"].get("p50"),
                    h["single"].get("p99"),
                    h["single"]["non_2xx"] + h["single"]["socket_errors"],
                ],
                [
                    "batch of 64",
                    f"{h['batch64'].get('rps', 0):,.0f}",
                    f"{h['batch64'].get('rps', 0) * 64:,.0f}",
                    h["batch64"].get("p50"),
                    h["batch64"].get("p99"),
                    h["batch64"]["non_2xx"] + h["batch64"]["socket_errors"],
                ],
            ],
        ),
        "",
        "## Start, memory, size, training",
        "",
        table(
            ["figure", "value"],
            [
                ["`newstag serve` start to ready (2 workers)", f"{h['cold_start_s']:.2f} s"],
                ["worker cold start (fresh process to warm app)", f"{results['worker_cold_s']:.2f} s"],
                ["resident memory (RSS) per worker after load", ", ".join(f"{v:.0f} MB" for v in h["rss_mb"].values())],
                [
                    "proportional memory (PSS) per worker after load",
                    ", ".join(f"{v:.0f} MB" for v in h["pss_mb"].values()),
                ],
                ["artifact (model.joblib, compressed)", f"{results['artifact_mb']:.1f} MB"],
                ["artifact uncompressed", f"{results['artifact_raw_mb']:.1f} MB"],
                ["training (5-fold CV + final fit + gate)", f"{results['training_s']:.1f} s"],
            ],
        ),
    ]
    (OUT / ("RESULTS-quick.md" if quick else "RESULTS.md")).write_text("\n".join(parts) + "\n", encoding="utf-8")


def chart(results: dict, quick: bool) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    speeds = results["speed"]["batch_per_s"]
    left.barh(list(speeds), list(speeds.values()), color=["#1f5fbf", "#d9822b", "#9e9e9e", "#bdbdbd"])
    left.set_xlabel("paragraphs per second (one process)")
    left.set_title("Batch throughput")
    names = [r["model"] for r in results["cv"]]
    width = 0.35
    x = np.arange(len(names))
    right.bar(x - width / 2, [r["macro_f1"] for r in results["cv"]], width, label="bundled corpus, 5-fold")
    if results.get("thucnews"):
        right.bar(x + width / 2, [r["macro_f1"] for r in results["thucnews"]], width, label="THUCNews titles")
    right.set_xticks(x, names, rotation=15)
    right.set_ylim(0.5, 1.0)
    right.set_ylabel("macro-F1")
    right.legend(loc="lower right")
    right.set_title("Quality")
    fig.tight_layout()
    fig.savefig(OUT / ("results-quick.png" if quick else "results.png"), dpi=100)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller inputs, under 2 minutes")
    args = parser.parse_args(argv)
    from model.artifact import load_model
    from training.train import TrainingOptions, train_version

    results = {"machine": machine()}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "models"
        log("training the bundled model")
        started = time.perf_counter()
        train_version(root, load_taxonomy(), options=TrainingOptions(folds=5))
        results["training_s"] = time.perf_counter() - started
        loaded = load_model(root)
        joblib_file = loaded.path / "model.joblib"
        results["artifact_mb"] = joblib_file.stat().st_size / 2**20
        import joblib

        raw = Path(tmp) / "raw.joblib"
        joblib.dump(loaded.model, raw)
        results["artifact_raw_mb"] = raw.stat().st_size / 2**20
        log("quality: cross-validation")
        results["cv"] = cross_validation(args.quick)
        log("quality: THUCNews")
        results["thucnews"] = thucnews(args.quick)
        log("quality: real data")
        results["real"] = real_data() if not args.quick else None
        texts = unique_paragraphs(2000 if args.quick else 8000)
        log(f"speed in process on {len(texts)} paragraphs")
        results["speed"] = speed(loaded.model, texts, args.quick)
        log("HTTP")
        results["http"] = http(root, texts, args.quick)
        results["worker_cold_s"] = worker_cold_start(root, 2 if args.quick else 5)
        shutil.rmtree(root, ignore_errors=True)
    write_results(results, args.quick)
    chart(results, args.quick)
    (OUT / ("results-quick.json" if args.quick else "results.json")).write_text(
        json.dumps({k: v for k, v in results.items()}, indent=2, default=str), encoding="utf-8"
    )
    log("done: see bench/RESULTS.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
