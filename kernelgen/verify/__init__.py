"""Check hand-derived kernel derivatives against kernelgen's symbolic truth.

* :func:`sklearn_kernel` checks a scikit-learn kernel's ``K``, ``diag`` and ``eval_gradient``.
* :func:`input_derivative` checks a callable claimed to return ``d^dx/dx d^dy/dy k(X, Y)``.
* :func:`hyperparameter_derivative` checks a callable claimed to return ``dk/dlog(theta)``
  (``log=True``, scikit-learn's convention) or ``dk/dtheta`` (``log=False``).

Each returns a :class:`Report`: per checked quantity the maximal absolute and relative error, the
point pair where the largest error occurs, pass/fail at the stated tolerance and, on failure,
which other convention the implementation matches ("matches dk/dtheta, not theta*dk/dtheta").

Error measure: an entry's error is ``|claimed - truth|``; a quantity passes when its largest
error is at most ``tol * scale`` with ``scale`` the largest ``|truth|`` of that quantity (or of
the kernel values when the truth is identically zero). Hyperparameters are drawn log-uniformly
away from 1 (in ``[0.25, 0.7]`` or ``[1.4, 4]``) because at ``theta = 1`` the log-space and
linear-space derivatives coincide and a missing chain-rule factor is invisible.

``kernelgen verify`` (built in :mod:`kernelgen.cli`) runs these from the command line. Modules:
``checks`` (the three checks above), ``report`` (:class:`Report`, :class:`Check`, comparison).
"""

from __future__ import annotations

from .checks import hyperparameter_derivative, input_derivative, sklearn_kernel, sklearn_kernels
from .report import DEFAULT_TOL, LOG_CONVENTION, Check, Report, compare, summary

__all__ = [
    "DEFAULT_TOL",
    "LOG_CONVENTION",
    "Check",
    "Report",
    "compare",
    "hyperparameter_derivative",
    "input_derivative",
    "sklearn_kernel",
    "sklearn_kernels",
    "summary",
]
