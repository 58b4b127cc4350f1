"""A handler that every spare process imports once, from its own directory, and forgets again:
the rehearsal that takes the import machinery's page faults before a real cold start does."""


def handler(event, context):  # type: ignore[no-untyped-def]
    return event
