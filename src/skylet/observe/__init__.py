"""Logs, metrics and traces of the platform."""
