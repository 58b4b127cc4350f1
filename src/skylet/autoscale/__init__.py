"""Knative's KPA for skylet, in Knative's pkg/autoscaler shape: ``spec`` (the knobs, validated
once), ``metrics`` (collect: windowed averages of concurrency or requests per second),
``kpa`` (decide: a pure function of the metrics, the state and ``now``), and the act side in
``skylet.serving.revision``, which starts and stops instances.
"""
