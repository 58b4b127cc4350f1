"""Metering, pricing and power tuning (docs/cost.md)."""
