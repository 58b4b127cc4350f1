"""skylet's SNS: topics, subscriptions, filter policies and durable fan-out (docs/sns.md).

``service.Sns`` is the service; the rest are its parts, one concept each: ``names`` (ARNs),
``catalog`` (durable state), ``filter_policy``, ``messages``, ``envelopes``, ``pubsub``,
``signing``, ``retries``, ``sinks``, ``delivery``, and the operations in ``topics``,
``subscriptions`` and ``publishing``.
"""
