"""Fast tests: nothing is compiled by numba (parser, printer, preparation, requests, references)."""
