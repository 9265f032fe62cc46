"""Helpers shared by the tests: independent references, closed forms, derivative cases."""
