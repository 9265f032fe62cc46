"""The differential fuzz test: random kernels against SymPy ``diff`` of the original expression.

See :mod:`tests.fuzz` (the package docstring) for what is generated, compared and sampled.
"""

from __future__ import annotations

import collections

import pytest

from .conftest import fuzz_count
from .grammar import invalid_case, valid_case
from .harness import SUMMARY, Settings, check_invalid, check_valid, report_failures

#: The CI sample: this many valid and invalid expressions (seeds 0..N-1 of each stream).
CI_VALID = 200
CI_INVALID = 40

N = fuzz_count()
N_VALID = N or CI_VALID
N_INVALID = max(N // 5, 10) if N else CI_INVALID
PROFILE = "wide" if N else "ci"
SETTINGS = Settings.full() if N else Settings()


@pytest.mark.parametrize("index", range(N_VALID), ids=lambda i: f"valid{i}")
def test_valid_kernel_matches_reference(index: int) -> None:
    outcome = check_valid(valid_case(index, profile=PROFILE), SETTINGS)
    SUMMARY.add(outcome)
    if outcome.findings:
        pytest.fail(report_failures(outcome, SETTINGS), pytrace=False)


@pytest.mark.parametrize("index", range(N_INVALID), ids=lambda i: f"invalid{i}")
def test_invalid_kernel_is_refused(index: int) -> None:
    outcome = check_invalid(invalid_case(index), SETTINGS)
    SUMMARY.add(outcome)
    if outcome.findings:
        pytest.fail(report_failures(outcome, SETTINGS), pytrace=False)


#: Productions the CI sample must contain: together they cover every case of issue 7.
REQUIRED_TAGS = {
    "library:dot_product", "kernel-power:non-integer", "non-integer-power-of-factor", "separable:sqrt",
    "abs-of-distance", "abs-power:1.5", "abs-power:0.5", "abs-power:1.99", "sqrt-of-quadratic-form",
    "kernel-sum", "kernel-product", "scalar-multiple", "product-of-1d", "hyperparameter-exponent",
    "factor:dot", "exp-of-polynomial", "log-of-polynomial", "trig-of-polynomial", "sympy-objects", "nfkc-clash",
    "quadratic-form-cross-terms", "warp:sinh", "warp:cube", "shared-hyperparameter",
}
REQUIRED_INVALID = {
    "invalid:input-name:x", "invalid:input-name:x_", "invalid:input-name:X", "invalid:antisymmetric",
    "invalid:one-argument:gauss", "invalid:issue", "invalid:tiny", "invalid:singular:inverse-square",
    "invalid:singular:log-abs",
}


def test_ci_sample_covers_the_grammar() -> None:
    """The seeded CI sample reaches every production the issue's cases need (and all three dims)."""
    tags: collections.Counter[str] = collections.Counter()
    dims = set()
    for i in range(CI_VALID):
        case = valid_case(i)
        tags.update(case.tags)
        dims.add(case.dim)
    invalid = collections.Counter(t for i in range(CI_INVALID) for t in invalid_case(i).tags)
    assert dims == {1, 2, 3}
    assert REQUIRED_TAGS <= set(tags), sorted(REQUIRED_TAGS - set(tags))
    assert REQUIRED_INVALID <= set(invalid), sorted(REQUIRED_INVALID - set(invalid))


def test_generator_is_deterministic() -> None:
    assert [valid_case(i).code() for i in range(20)] == [valid_case(i).code() for i in range(20)]
    assert [invalid_case(i).code() for i in range(10)] == [invalid_case(i).code() for i in range(10)]
