"""Shared pytest configuration (helpers are the package ``tests.support``; see pyproject's ``pythonpath``)."""
