"""How a symbolic kernel is evaluated on arrays: a hook that a higher layer fills in.

The symbolic layer knows expressions, not compiled code. :class:`Evaluable` gives
:class:`~kernelgen.Kernel` its ``k(X, Y, dx=..., dy=...)`` and ``k.diag(X)``: it validates the
request (the public edge) and hands it to the registered :class:`Evaluator`. ``kernelgen.runtime``
registers itself on import; the package ``__init__`` registers a loader that imports it on the
first evaluation, so the symbolic layer never imports upward.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from .request import Request

if TYPE_CHECKING:
    import numpy as np

    from .kernel import Kernel

__all__ = ["Evaluable", "Evaluator", "evaluator", "register_evaluator", "register_evaluator_loader"]


class Evaluator(Protocol):
    """What evaluates kernels numerically (``kernelgen.runtime`` provides one)."""

    def matrix(self, kernel: Kernel, X1: object, X2: object | None, request: Request,
               eval_gradient: bool) -> np.ndarray | tuple[np.ndarray, np.ndarray]: ...

    def diag(self, kernel: Kernel, X: object, request: Request) -> np.ndarray: ...


_evaluator: Evaluator | None = None
_loader: Callable[[], object] | None = None


def register_evaluator(value: Evaluator) -> None:
    global _evaluator
    _evaluator = value


def register_evaluator_loader(load: Callable[[], object]) -> None:
    """``load()`` is called once, on the first evaluation, and must register an evaluator."""
    global _loader
    _loader = load


def evaluator() -> Evaluator:
    if _evaluator is None and _loader is not None:
        _loader()
    if _evaluator is None:
        raise RuntimeError("no kernel evaluator is registered: import kernelgen.runtime first")
    return _evaluator


class Evaluable:
    """``__call__`` and ``diag`` for kernels; needs ``dim`` on the class that mixes it in."""

    dim: int

    def __call__(
        self,
        X1: np.ndarray,
        X2: np.ndarray | None = None,
        dx: Sequence[int] = (),
        dy: Sequence[int] = (),
        eval_gradient: bool = False,
    ) -> Any:
        """Evaluate the derivative ``d^dx/dx d^dy/dy k`` between the rows of ``X1`` and ``X2``.

        Parameters
        ----------
        X1 : ndarray of shape (n, d)
        X2 : ndarray of shape (m, d), optional
            Defaults to ``X1``.
        dx, dy : tuple of int
            SymPy ``diff`` convention: ``dx=(0, 0, 2)`` is d^3 / dx0^2 dx2 on the first input.
        eval_gradient : bool
            Also return the derivative with respect to the log of each free hyperparameter.

        Returns
        -------
        K : ndarray of shape (n, m)
        K_gradient : ndarray of shape (n, m, p)
            Only with ``eval_gradient=True``; ``p = len(hyperparameter_names)``.
        """
        request = Request.make(dx, dy, self.dim)
        return evaluator().matrix(self, X1, X2, request, bool(eval_gradient))  # type: ignore[arg-type]

    def diag(self, X: np.ndarray, dx: Sequence[int] = (), dy: Sequence[int] = ()) -> np.ndarray:
        """``k(x_i, x_i)`` (or its derivative) for each row, shape (n,)."""
        return evaluator().diag(self, X, Request.make(dx, dy, self.dim))  # type: ignore[arg-type]
