"""The symbolic layer: kernel expressions, hyperparameters, requests, preparation for differentiation.

Imports nothing from the other layers (checked by import-linter).
"""
