"""Shared by the benchmark scripts: run a command as a child process and
measure its wall time and its own peak resident memory."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time


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
