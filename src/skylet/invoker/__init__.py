"""Concurrency admission, invocation and the books kept about each invocation."""
