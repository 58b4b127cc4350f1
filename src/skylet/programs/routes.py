"""Which Knative Service a request names, without side effects (docs/knative.md):

- the Host header ``NAME.NAMESPACE.example.com`` (Knative's default domain, ``default``
  being the namespace), ``NAME.NAMESPACE.svc.cluster.local``, or ``NAME.localhost``
  (any port): the request goes to the program as it is;
- the path ``/_skylet/services/NAME/…``: the prefix is taken off (``/_skylet/services/NAME``
  alone is ``/``).
"""

from __future__ import annotations

from collections.abc import Container

from skylet.asgi import Scope

PREFIX = "/_skylet/services/"
STATUS_PATH = "/_skylet/services"
_DOMAINS = (".example.com", ".svc.cluster.local")


def host_of(scope: Scope) -> str:
    for key, value in scope["headers"]:
        if key == b"host":
            return str(value.decode("latin-1").rsplit(":", 1)[0].lower())
    return ""


def by_host(host: str, names: Container[str]) -> str | None:
    """The service ``host`` names, or None."""
    if host.endswith(".localhost"):
        name = host.removesuffix(".localhost")
        return name if name in names else None
    for domain in _DOMAINS:
        if host.endswith(domain):
            parts = host.removesuffix(domain).split(".")
            if len(parts) == 2 and parts[0] in names:
                return parts[0]
    return None


def by_path(path: str, names: Container[str]) -> tuple[str, str] | None:
    """(service, the path the program sees) for a path under ``PREFIX``, or None."""
    if not path.startswith(PREFIX):
        return None
    name, _, rest = path.removeprefix(PREFIX).partition("/")
    return (name, "/" + rest) if name in names else None


def find(scope: Scope, names: Container[str]) -> tuple[str, str] | None:
    """(service, path for the program) for a request, or None when it names none."""
    path: str = scope["path"]
    found = by_path(path, names)
    if found is not None:
        return found
    name = by_host(host_of(scope), names)
    return None if name is None else (name, path)
