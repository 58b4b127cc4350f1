"""The ``skylet`` command line: parses options and environment once, then calls the core."""
