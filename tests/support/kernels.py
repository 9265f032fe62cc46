"""Kernels shared by tests that run in subprocesses as well as in pytest."""

from __future__ import annotations

from kernelgen import Kernel


def concurrency_kernel() -> Kernel:
    """A non-stationary Matern-like kernel in 2-D that no committed module covers (forces generation)."""
    r = "sqrt((x0-y0)**2 + (x1-y1)**2)/l"
    return Kernel.from_string(f"c*(1 + {r})*exp(-{r}) + x0*y1 + x1*y0", dim=2, name="concurrency")
