"""Knative Services run as server programs (docs/knative.md): ``instance`` (one process, its
probes and restarts), ``limits`` (memory and CPU), ``revision`` (the autoscaler's act side and
the activator's queue), ``proxy`` (forwarding a request), ``routes`` (which service a request
names).
"""
