"""Shared helpers for the benchmark scripts: machine description, timing, peak memory."""

from __future__ import annotations

import os
import platform
import resource
import time
from collections.abc import Callable

import numpy as np


def machine() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    import numba
    import scipy
    import sklearn
    import sympy

    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    return (
        f"{cpu}; {os.cpu_count()} cores; load average {load} at start; Python {platform.python_version()}; "
        f"numpy {np.__version__}; scipy {scipy.__version__}; numba {numba.__version__}; "
        f"scikit-learn {sklearn.__version__}; sympy {sympy.__version__}"
    )


def best_of(func: Callable[[], object], repeat: int = 5, min_time: float = 0.0) -> float:
    """Fastest wall time of ``repeat`` calls (after one warm-up call)."""
    func()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
        if sum(times) > 30 and len(times) >= 2:
            break
    return min(times)


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
