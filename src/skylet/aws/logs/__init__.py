"""Amazon CloudWatch Logs over the function logs skylet keeps (docs/logs.md)."""
