"""Archive throughput: ``newstag tag-archive`` with 1 and 2 local workers against ``newstag predict``.

    python -m bench.archive                      # 50,000 records, the configured model root
    python -m bench.archive --records 200000 --model-root /srv/newstag/models

All three read the same JSONL file of distinct texts and run as the command a user types, so the
figures include process start, model loading and (for tag-archive) starting the local cluster:
``records_per_s`` is records over wall-clock seconds. ``job_records_per_s`` is tag-archive's own
figure from its manifest (cluster start to last part, without the Python start and input scan);
``per_worker_records_per_s`` is what one worker tags per second of task time, which is the figure
to set against ``predict`` when other processes share the cores.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Fragments of regional legal-news sentences; record i combines one of each, all combinations distinct.
_PARTS = (
    [
        "衢州市柯城区",
        "杭州市西湖区",
        "温州市鹿城区",
        "宁波市海曙区",
        "绍兴市越城区",
        "湖州市吴兴区",
        "嘉兴市南湖区",
        "金华市婺城区",
        "台州市椒江区",
        "丽水市莲都区",
        "舟山市定海区",
        "义乌市",
        "瑞安市",
        "余姚市",
        "诸暨市",
    ],
    [
        "公安分局城东派出所",
        "消防救援大队",
        "人民检察院",
        "人民法院",
        "禁毒办",
        "交警大队",
        "反诈中心",
        "司法局",
        "综治中心",
        "应急管理局",
        "市场监管局",
        "社区矫正中心",
    ],
    [
        "近日开展夜间巡逻",
        "组织高层建筑灭火演练",
        "对一起公益诉讼案件提起诉讼",
        "公开审理一起盗窃案",
        "走进校园开展禁毒宣传",
        "在国道路口开展酒驾夜查",
        "深入社区开展防范电信诈骗宣传",
        "为群众提供法律援助",
        "组织网格员排查矛盾纠纷",
        "开展防汛应急演练",
        "召开党风廉政建设会议",
        "联合多部门开展专项整治",
    ],
    [
        "，抓获违法嫌疑人三名",
        "，发放宣传资料五百余份",
        "，检查单位二十余家",
        "，当场整改隐患十一处",
        "，旁听群众六十余人",
        "，查处违法行为九起",
        "，帮助群众挽回损失十万元",
        "，化解纠纷四起",
    ],
    [
        "。",
        "，受到群众好评。",
        "，进一步提升了群众安全感。",
        "，切实筑牢安全防线。",
        "，有效维护了辖区稳定。",
        "，推动问题整改落实。",
        "，取得良好社会效果。",
        "，相关工作仍在推进中。",
    ],
)
_COMBINATIONS = 1
for _fragments in _PARTS:
    _COMBINATIONS *= len(_fragments)  # 138,240


def archive_text(i: int) -> str:
    """The i-th distinct text (i below 138,240), neighbours made to differ in every fragment."""
    j = (i * 7919) % _COMBINATIONS  # 7919 is prime, shares no factor with the count: a permutation
    words = []
    for fragments in _PARTS:
        j, k = divmod(j, len(fragments))
        words.append(fragments[k])
    return "".join(words)


def write_input(path: Path, records: int) -> None:
    if records > _COMBINATIONS:
        raise ValueError(f"at most {_COMBINATIONS} distinct records")
    with open(path, "w", encoding="utf-8") as f:
        for i in range(records):
            f.write(json.dumps({"id": i, "text": archive_text(i)}, ensure_ascii=False) + "\n")


def _newstag(args: list[str], model_root: Path) -> float:
    """Wall-clock seconds of one newstag command (its output discarded)."""
    env = {**os.environ, "NEWSTAG_MODEL_ROOT": str(model_root)}
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "newstag", *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"newstag {args[0]} failed ({result.returncode}): {result.stderr.decode()[-2000:]}")
    return seconds


def archive_bench(model_root: Path, records: int) -> dict:
    """records/s of ``tag-archive`` with 1 and 2 local workers and of ``predict`` in one process, same input."""
    model_root = Path(model_root)
    with tempfile.TemporaryDirectory(prefix="newstag-archive-bench-") as scratch:
        scratch = Path(scratch)
        source = scratch / "archive.jsonl"
        write_input(source, records)
        # Enough partitions for two workers to share evenly, none so small that scheduling shows.
        partition_size = max(1000, records // 16)
        predict_seconds = _newstag(
            ["predict", "--top-k", "3", "--no-explain", "--no-progress", str(source)], model_root
        )
        results = {
            "records": records,
            "partition_size": partition_size,
            "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
            "predict": {"seconds": round(predict_seconds, 2), "records_per_s": round(records / predict_seconds, 1)},
        }
        for workers in (1, 2):
            out = scratch / f"tagged-{workers}"
            seconds = _newstag(
                [
                    "tag-archive",
                    str(source),
                    "--out",
                    str(out),
                    "--workers",
                    str(workers),
                    "--partition-size",
                    str(partition_size),
                    "--no-progress",
                ],
                model_root,
            )
            manifest = json.loads((out / "_manifest.json").read_text(encoding="utf-8"))
            results[f"archive_{workers}_worker{'s' * (workers > 1)}"] = {
                "seconds": round(seconds, 2),
                "records_per_s": round(records / seconds, 1),
                "job_records_per_s": manifest["records_per_second"],
                # Inside the workers: records over the seconds their tasks took, summed over workers.
                "per_worker_records_per_s": round(records / sum(part["seconds"] for part in manifest["partitions"]), 1),
            }
        one, two = results["archive_1_worker"], results["archive_2_workers"]
        results["scaling_2_vs_1"] = round(two["records_per_s"] / one["records_per_s"], 2)
        results["job_scaling_2_vs_1"] = round(two["job_records_per_s"] / one["job_records_per_s"], 2)
        results["archive_1_worker_vs_predict"] = round(one["records_per_s"] / results["predict"]["records_per_s"], 2)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--model-root", type=Path, help="default: NEWSTAG_MODEL_ROOT or the user's data directory")
    args = parser.parse_args(argv)
    from newstag.cli.options import ensure_trained, settings

    root = args.model_root or settings().root
    ensure_trained(root)  # so no timed command pays for training
    results = archive_bench(root, args.records)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
