"""kernelgen test-suite: unit (no numba compilation), integration (compiles), support (helpers)."""
