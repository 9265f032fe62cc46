"""scikit-learn's estimator checks for GaussianProcess.

All checks apply and pass (``check_array_api_input`` and ``check_regressor_data_not_an_array`` are
skipped by scikit-learn itself when SCIPY_ARRAY_API / pandas are absent). The default instance
(optimizer on) passes as well but spends ~3 min fitting the checks' random data, so it is marked
slow; the CI instance keeps the hyperparameters fixed.
"""

from __future__ import annotations

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from kernelgen import GaussianProcess


@parametrize_with_checks([GaussianProcess(optimizer=None)])
def test_sklearn_compatible(estimator, check):  # noqa: ANN001, ANN201
    check(estimator)


@pytest.mark.slow
@parametrize_with_checks([GaussianProcess()])
def test_sklearn_compatible_with_optimizer(estimator, check):  # noqa: ANN001, ANN201
    check(estimator)
