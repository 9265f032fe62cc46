"""Thread counts around jitted calls: numba's for small calls, BLAS's inside small likelihood loops."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numba
from threadpoolctl import ThreadpoolController

__all__ = ["SERIAL_PAIRS", "SMALL_PROBLEM", "blas_threads_for", "numba_threads_for"]

#: Calls evaluating fewer pairs than this run on one numba thread: waking the others costs more
#: than it saves, and on a busy machine a parallel region waits for a descheduled thread.
SERIAL_PAIRS = 250_000

#: Below this many training points the marginal likelihood runs LAPACK single-threaded.
SMALL_PROBLEM = 2048
_blas_controller: ThreadpoolController | None = None


@contextmanager
def blas_threads_for(n: int) -> Iterator[None]:
    """Single-threaded BLAS while a size-``n`` problem alternates BLAS calls with numba fills.

    numba's OpenMP threads and OpenBLAS's threads both spin after a parallel region; when the two
    alternate every few milliseconds (an optimizer loop on a few hundred points) they steal each
    other's cores and a 200-point fit becomes ten times slower on two cores. Large factorizations
    keep every BLAS thread.
    """
    global _blas_controller
    if n >= SMALL_PROBLEM:
        yield
        return
    if _blas_controller is None:
        import scipy.linalg  # noqa: F401  (load SciPy's BLAS so the controller sees it)

        _blas_controller = ThreadpoolController()
    with _blas_controller.limit(limits=1, user_api="blas"):
        yield


@contextmanager
def numba_threads_for(pairs: int) -> Iterator[None]:
    """One numba thread for calls that evaluate fewer than :data:`SERIAL_PAIRS` pairs."""
    if pairs >= SERIAL_PAIRS:
        yield
        return
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(previous)
