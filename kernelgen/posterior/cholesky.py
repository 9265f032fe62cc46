"""The jittered Cholesky factorization of a training covariance, in place, and triangle helpers."""

from __future__ import annotations

import warnings

import numpy as np
from scipy.linalg import lapack

__all__ = ["JITTER_LEVELS", "JitterWarning", "jittered_cholesky", "mirror_lower_from_upper", "zero_upper"]

#: Relative jitter levels (times the mean of the diagonal) tried after a failed Cholesky.
JITTER_LEVELS = (1e-12, 1e-10, 1e-8, 1e-6)


class JitterWarning(RuntimeWarning):
    """The training covariance needed diagonal jitter to be factorized."""


def mirror_lower_from_upper(C: np.ndarray, block: int = 512) -> None:
    """In place: ``C[i, j] = C[j, i]`` for ``i > j`` (any memory order), by row blocks."""
    n = C.shape[0]
    for r0 in range(0, n, block):
        r1 = min(n, r0 + block)
        if r0:
            C[r0:r1, :r0] = C[:r0, r0:r1].T
        D = C[r0:r1, r0:r1]
        il = np.tril_indices(r1 - r0, -1)
        D[il] = D.T[il]


def zero_upper(C: np.ndarray, block: int = 512) -> None:
    n = C.shape[0]
    for r0 in range(0, n, block):
        r1 = min(n, r0 + block)
        C[r0:r1, r1:] = 0.0
        D = C[r0:r1, r0:r1]
        D[np.triu_indices(r1 - r0, 1)] = 0.0


def jittered_cholesky(C: np.ndarray, noise: float | np.ndarray, *, warn: bool = True) -> tuple[np.ndarray, float]:
    """Factor ``C + (noise + jitter) I`` in place; returns (F-ordered factor, jitter).

    ``noise`` is one variance for every row or an (n,) array of per-row variances.

    ``C`` is a C-contiguous symmetric (n, n) buffer that is overwritten. Only the lower triangle of
    the returned factor is meaningful. On failure jitter of ``JITTER_LEVELS`` times the mean
    diagonal is tried (with a :class:`JitterWarning` when ``warn``); if all fail,
    ``numpy.linalg.LinAlgError`` is raised.
    """
    n = C.shape[0]
    diag = C.diagonal().copy()
    if not np.all(np.isfinite(diag)):
        raise np.linalg.LinAlgError("the training covariance has non-finite entries")
    A = C.T  # F-contiguous view of the symmetric buffer: LAPACK works in place
    scale = float(np.mean(np.abs(diag))) or 1.0
    for attempt, level in enumerate((0.0, *JITTER_LEVELS)):
        jitter = level * scale
        if attempt:
            mirror_lower_from_upper(A)  # restore the lower triangle potrf overwrote
        A[np.diag_indices(n)] = diag + noise + jitter
        c, info = lapack.dpotrf(A, lower=1, overwrite_a=1, clean=0)
        if info == 0:
            if not np.shares_memory(c, A):  # pragma: no cover - LAPACK copied
                A = c
            if attempt and warn:
                warnings.warn(
                    f"K + noise was not positive definite; added jitter {jitter:.3g} "
                    f"({level:g} x mean diagonal) to factorize it", JitterWarning, stacklevel=4)
            return A, jitter
        if info < 0:  # pragma: no cover - argument error
            raise RuntimeError(f"dpotrf argument error {info}")
    shown = f"{float(noise):.3g}" if np.ndim(noise) == 0 else f"{float(np.min(noise)):.3g} (smallest per row)"
    raise np.linalg.LinAlgError(
        f"K + noise is not positive definite even with jitter {JITTER_LEVELS[-1]:g} x mean diagonal "
        f"(noise={shown}); increase the noise (duplicate inputs need noise > 0) or check the kernel")
