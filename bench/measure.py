"""Shared by the benchmark scripts: run a command as a child process and
measure its wall time and its own peak resident memory (run_measured), or
run one `fastdml estimate` and read its JSON without failing the study
(run_estimate)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time


REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def portable_path(path) -> str:
    """A path for result files that are committed: relative to the repository
    when inside it (build/fastdml), else only the file name, so that no
    machine's absolute paths end up in the tree."""
    full = os.path.abspath(str(path))
    if full.startswith(REPO + os.sep):
        return os.path.relpath(full, REPO)
    return os.path.basename(full)


def run_measured(cmd, env=None):
    """Runs cmd; returns (wall seconds, peak RSS MiB of the child, stdout)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    # wait4 gives this child's own rusage (RUSAGE_CHILDREN would be a running max).
    out_chunks, err_chunks = [], []
    def pump(stream, sink):
        for line in stream:
            sink.append(line)

    threads = [threading.Thread(target=pump, args=(proc.stdout, out_chunks)),
               threading.Thread(target=pump, args=(proc.stderr, err_chunks))]
    for t in threads:
        t.start()
    _, status, rusage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    for t in threads:
        t.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.stderr.write("".join(err_chunks)[-4000:])
        raise SystemExit(f"command failed with exit {proc.returncode}: {' '.join(map(str, cmd))}")
    rss_mib = rusage.ru_maxrss / 1024.0  # Linux: KiB
    return wall, rss_mib, "".join(out_chunks)


# CLI11's messages for a flag this build does not know, or a value it cannot
# parse (e.g. `--rounds auto` before early stopping existed).
_UNKNOWN_FLAG_MARKERS = ("was not expected", "were not expected", "Could not convert",
                         "is not in {", "not in set", "INI was not able to parse")


def run_estimate(cli, args, json_path, timeout=3600):
    """Runs `cli estimate ARGS --json json_path`; never raises for a failed run.

    Returns a dict: ok, wall (s), result (the parsed JSON or None), error (the
    stderr tail), flag_unknown (the failure is this build not knowing a flag
    or a value, so the caller can say "n/a (flag unknown)" and go on)."""
    cmd = [str(cli), "estimate", *map(str, args), "--json", str(json_path)]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return dict(ok=False, wall=time.perf_counter() - t0, result=None,
                    error=f"timed out after {timeout}s", flag_unknown=False)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        err = proc.stderr.strip()[-2000:]
        return dict(ok=False, wall=wall, result=None, error=err or f"exit {proc.returncode}",
                    flag_unknown=any(m in err for m in _UNKNOWN_FLAG_MARKERS))
    with open(json_path) as f:
        return dict(ok=True, wall=wall, result=json.load(f), error="", flag_unknown=False)


def warning_codes(result):
    """The W-... codes of a result JSON's diagnostics.warnings (text before ':')."""
    warnings = ((result or {}).get("diagnostics") or {}).get("warnings") or []
    return [w.split(":", 1)[0] for w in warnings]
