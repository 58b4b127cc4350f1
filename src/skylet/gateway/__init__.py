"""The one ASGI application: function routes and the AWS-compatible APIs (the hot path)."""
