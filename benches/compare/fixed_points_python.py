"""reachlab's fixed-point finder called from Python (``reachlab.analysis.fixed_points``) on the network and
starts that ``examples/fixed_point_compare.rs`` writes, timed as ``fixed_points_torch.py`` times the
reference method on the same file, so the two print comparable JSON lines.

    cargo run --release --example fixed_point_compare -- --random-gru 2 /tmp/fp_rand.safetensors
    python benches/compare/fixed_points_python.py /tmp/fp_rand.safetensors [threads]
    python benches/compare/fixed_points_torch.py /tmp/fp_rand.safetensors [threads] --f64

The file holds a GRU in PyTorch's layout (``weight_ih_l0`` …) and ``starts`` (1024 × n); the input is zero.
"""

import json
import sys
import time

import numpy as np

import reachlab
import reachlab.analysis as ra


def main() -> None:
    path = sys.argv[1] if len(sys.argv) > 1 else "/tmp/fp_rand.safetensors"
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    t = reachlab.read_safetensors(path)
    starts = np.asarray(t.pop("starts"), np.float64)
    times, fps = [], None
    for _ in range(3):
        t0 = time.perf_counter()
        fps = ra.fixed_points(t, "gru", starts=starts, threads=threads)
        times.append(time.perf_counter() - t0)
    times.sort()
    fixed = int(fps.converged.sum())
    print(
        json.dumps(
            {
                "tool": "reachlab (Python API)",
                "starts": len(starts),
                "hidden": starts.shape[1],
                "threads": threads,
                "seconds_median_of_3": round(times[1], 3),
                "converged_starts": fps.n_converged,
                "slow_starts": fps.n_slow,
                "nothing_starts": fps.n_outliers + fps.n_failed,
                "fixed": fixed,
                "stable": int((fps.converged & fps.stable).sum()),
                "unique_points": len(fps),
            }
        )
    )


if __name__ == "__main__":
    main()
