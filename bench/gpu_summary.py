"""Markdown tables from bench/gpu_bench's JSON lines (scripts/gpu-bench).

Standard library only: the offline GPU machine has no registry.
usage: python3 bench/gpu_summary.py bench.jsonl > bench.md
"""
import json
import sys


def machine_line(m):
    if m.get("gpu"):
        return (f"GPU: {m['gpu']} ({m['gpu_memory_gib']:.0f} GiB, sm {m['compute_capability']}), "
                f"driver CUDA {m['cuda_driver']}, runtime {m['cuda_runtime']}; "
                f"CPU: {m['cpu']} ({m['hardware_threads']} threads)")
    return f"CPU: {m['cpu']} ({m['hardware_threads']} threads); no GPU: {m.get('gpu_unavailable')}"


def main(path):
    rows = [json.loads(line) for line in open(path) if line.strip()]
    if not rows:
        print("no benchmark results")
        return
    machines = {machine_line(r["machine"]) for r in rows}
    print("Machine: " + "; ".join(sorted(machines)) + "\n")
    boot = [r for r in rows if r["bench"] == "bootstrap"]
    if boot:
        print("| bootstrap | device | n | B | k | median s | runs s | (replicate, row) pairs/s |")
        print("|---|---|---|---|---|---|---|---|")
        for r in boot:
            runs = ", ".join(f"{x:.3f}" for x in r["runs_s"])
            print(f"| {r['method']} | {r['device']} | {r['n']:.0e} | {r['replicates']} | {r['k']} | "
                  f"{r['median_s']:.3f} | {runs} | {r['pairs_per_s']:.3g} |")
        print()
    fits = [r for r in rows if r["bench"] == "fit"]
    if fits:
        phases = ["upload", "setup_sketch", "gather", "fold_matrices", "training", "prediction",
                  "download", "scores", "gate", "bootstrap"]
        print("| fit | device | n | p | rounds | depth | total s | not XGBoost | "
              + " | ".join(phases) + " | ATE (se) |")
        print("|" + "---|" * (9 + len(phases)))
        for r in fits:
            run = sorted(r["runs"], key=lambda x: x["total_s"])[len(r["runs"]) // 2]
            ph = run["phases_s"]
            print(f"| IRM seller | {r['device']} | {r['n']:.0e} | {r['p']} | {r['rounds']} | {r['depth']} | "
                  f"{run['total_s']:.2f} | {100 * run['not_xgboost_share']:.1f}% | "
                  + " | ".join(f"{ph.get(k, 0):.3f}" for k in phases)
                  + f" | {run['ate']:.4f} ({run['ate_se']:.4f}) |")
        print()


if __name__ == "__main__":
    main(sys.argv[1])
