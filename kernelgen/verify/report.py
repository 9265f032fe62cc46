"""Reports of a verification: one :class:`Check` per quantity, and how a quantity is compared."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = ["DEFAULT_TOL", "LOG_CONVENTION", "Check", "Report", "compare", "summary"]

LOG_CONVENTION = (
    "scikit-learn convention: eval_gradient returns dK/dlog(theta) = theta * dK/dtheta for each free "
    "hyperparameter theta, in kernel.theta order (theta = log of the hyperparameter values)."
)

DEFAULT_TOL = 1e-6


@dataclass(frozen=True)
class Check:
    """Agreement of one quantity (``K``, one gradient column, one derivative)."""

    quantity: str
    max_abs_error: float
    max_rel_error: float
    scale: float
    tol: float
    where: tuple[int, int]
    x: np.ndarray
    y: np.ndarray
    diagnosis: str = ""

    @property
    def passed(self) -> bool:
        return bool(self.max_abs_error <= self.tol * self.scale)

    @property
    def relative_error(self) -> float:
        """The largest error over the quantity's scale (what the tolerance bounds)."""
        return self.max_abs_error / self.scale


@dataclass(frozen=True)
class Report:
    """Results of one verification; ``str(report)`` is a table."""

    subject: str
    convention: str
    tol: float
    checks: tuple[Check, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    def check(self, quantity: str) -> Check:
        for c in self.checks:
            if c.quantity == quantity:
                return c
        raise KeyError(f"no check {quantity!r}; have {[c.quantity for c in self.checks]}")

    def table(self) -> str:
        head = (f"{'quantity':<34} {'max abs err':>11} {'max rel err':>11} {'scale':>9}  "
                f"{'worst pair (x | y)':<36} result")
        lines = [f"{self.subject}", f"  convention: {self.convention}",
                 f"  tolerance: max abs err <= {self.tol:g} * scale", "  " + head]
        for c in self.checks:
            pair = (f"{np.array2string(c.x, precision=3, separator=',')} | "
                    f"{np.array2string(c.y, precision=3, separator=',')}")
            lines.append(f"  {c.quantity:<34} {c.max_abs_error:11.2e} {c.max_rel_error:11.2e} {c.scale:9.2e}  "
                         f"{pair:<36} {'ok' if c.passed else 'FAIL'}")
            if c.diagnosis:
                lines.append(f"      -> {c.diagnosis}")
        lines.extend(f"  note: {n}" for n in self.notes)
        lines.append(f"  => {'PASS' if self.passed else 'FAIL'}")
        return "\n".join(lines)

    __str__ = table


def compare(quantity: str, claimed: np.ndarray, truth: np.ndarray, X: np.ndarray, Y: np.ndarray, tol: float,
            fallback_scale: float, alternatives: Sequence[tuple[str, np.ndarray]] = ()) -> Check:
    """Compare ``claimed`` with ``truth``; on failure, diagnose which alternative it matches.

    ``alternatives`` are ``(description, values)`` pairs of the usual mistakes, the description a
    noun phrase such as ``"-dk/dl (the sign is wrong)"``; the diagnosis is one sentence built from it.
    """
    claimed = np.asarray(claimed, dtype=np.float64)
    if claimed.shape != truth.shape:
        raise ValueError(f"{quantity}: the implementation returned shape {claimed.shape}, expected {truth.shape}")
    err = np.abs(claimed - truth)
    if not np.all(np.isfinite(err)):
        err = np.where(np.isfinite(err), err, np.inf)
    scale = float(np.max(np.abs(truth))) if truth.size else 0.0
    if scale == 0.0:
        scale = fallback_scale if fallback_scale > 0 else 1.0
    flat = int(np.argmax(err)) if err.size else 0
    i, j = np.unravel_index(flat, err.shape) if err.size else (0, 0)
    big = np.abs(truth) > 1e-8 * scale
    rel = float(np.max(err[big] / np.abs(truth[big]))) if np.any(big) else 0.0
    check = Check(quantity, float(err.max()) if err.size else 0.0, rel, scale, tol, (int(i), int(j)),
                  np.asarray(X[i]), np.asarray(Y[j]))
    if check.passed:
        return check
    return Check(**{**check.__dict__, "diagnosis": _diagnose(check, claimed, truth, alternatives, tol, scale)})


def _diagnose(check: Check, claimed: np.ndarray, truth: np.ndarray, alternatives: Sequence[tuple[str, np.ndarray]],
              tol: float, scale: float) -> str:
    """One sentence: what the claimed values are, if not what they claim to be."""
    matches = []
    for label, alt in alternatives:
        alt_scale = max(float(np.max(np.abs(alt))), scale * 1e-12)
        if np.max(np.abs(claimed - alt)) <= max(tol, 1e-8) * alt_scale:
            matches.append(label)
    if matches:
        also = "".join(f", which here equals {m}" for m in matches[1:])
        return f"The values are {matches[0]}{also}, not {check.quantity}."
    denom = float(np.sum(truth * truth))
    if denom > 0:
        c = float(np.sum(claimed * truth) / denom)
        if c != 0 and np.max(np.abs(claimed - c * truth)) <= max(tol, 1e-8) * abs(c) * scale:
            return f"The values are {c:.6g} times {check.quantity} (off by a constant factor)."
    where = (f"x = {np.array2string(check.x, precision=3, separator=', ')}, "
             f"y = {np.array2string(check.y, precision=3, separator=', ')}")
    usual = "; ".join(label for label, _ in alternatives)
    tried = f" nor any usual mistake ({usual}, a constant factor)" if usual else " nor a constant multiple of it"
    return (f"The values match neither {check.quantity}{tried}: the largest error is {check.max_abs_error:.3g} "
            f"({check.relative_error:.3g} of the scale) at {where}.")


def summary(reports: Sequence[tuple[str, Report]], tol: float) -> str:
    """One line per report (its worst quantity), the convention, then the full table of each failure."""
    lines = [f"{'kernel':<46} {'worst quantity':<30} {'err/scale':>11}  result"]
    for label, rep in reports:
        c = max(rep.checks, key=lambda c: c.relative_error)
        lines.append(f"{label:<46} {c.quantity:<30} {c.relative_error:11.2e}  {'ok' if rep.passed else 'FAIL'}")
    lines.append(f"convention: {LOG_CONVENTION}")
    lines.append(f"tolerance: max abs err <= {tol:g} * max|truth| per quantity")
    for _, rep in reports:
        if not rep.passed:
            lines += ["", rep.table()]
    return "\n".join(lines)
