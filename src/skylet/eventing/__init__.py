"""Knative Eventing: brokers, triggers and their deliveries, Knative sources (docs/eventing.md)."""
