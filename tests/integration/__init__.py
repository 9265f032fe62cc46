"""Tests that generate and compile numba modules."""
