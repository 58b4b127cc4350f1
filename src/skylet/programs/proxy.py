"""The Knative Services' door: an ASGI app that finds the service a request names
(``routes.find``), takes an instance from its revision's activator and forwards the request
to the program, streaming both ways. ``deploy`` starts, replaces and removes revisions.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable, Mapping

import httpx

from skylet.asgi import Receive, Scope, Send, respond
from skylet.manifest.knative_serving import KnativeService
from skylet.programs import limits, routes
from skylet.programs.revision import Overloaded, Revision
from skylet.wire.sandbox import TemplateSpec

#: Hop-by-hop headers, which a proxy does not forward (RFC 9110 §7.6.1).
_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)
_JSON = [(b"content-type", b"application/json")]
#: Answers up to this size are read whole and sent in one piece; larger ones stream.
WHOLE_BYTES = 256 * 1024


class KnativeServices:
    """Every Knative Service of the project, by name."""

    def __init__(
        self,
        base_environment: Mapping[str, str],
        *,
        log: Callable[[str], None] = lambda _: None,
        sandbox: Callable[[KnativeService], TemplateSpec | None] = lambda _: None,
    ) -> None:
        self.base_environment = base_environment
        #: What each service's program enters (SandboxPolicy.program_spec), at deploy.
        self.sandbox = sandbox
        self.log = log
        self.revisions: dict[str, Revision] = {}
        self.client: httpx.AsyncClient | None = None
        self.quotas: limits.CpuQuotas | None = None
        self.cpu_off = limits.cpu_unavailable()

    def find(self, scope: Scope) -> tuple[str, str] | None:
        if not self.revisions:
            return None
        return routes.find(scope, self.revisions)

    def messages(self, services: Iterable[KnativeService]) -> list[str]:
        """What the banner says: where each service answers, and a CPU limit not enforced."""
        lines = []
        for svc in services:
            lines.append(
                f"service {svc.name}: http://{svc.name}.{svc.namespace}.example.com "
                f"or {routes.PREFIX}{svc.name}/ → {' '.join(svc.command)}"
            )
            if svc.cpu_millis and self.cpu_off:
                lines.append(
                    f"warning: service {svc.name}: limits.cpu ({svc.cpu_millis}m) is not "
                    f"enforced: {self.cpu_off}"
                )
        return lines

    async def deploy(self, services: Iterable[KnativeService]) -> None:
        """Run these services: a new or changed one gets a new revision (the old one's
        instances drain), a removed one stops."""
        if self.client is None:
            self.client = httpx.AsyncClient(
                limits=httpx.Limits(max_connections=None, max_keepalive_connections=1000),
                timeout=None,
            )
        wanted = {svc.name: svc for svc in services}
        stale = [
            rev
            for name, rev in self.revisions.items()
            if name not in wanted or rev.service != wanted[name]
        ]
        for name, svc in wanted.items():
            current = self.revisions.get(name)
            if current is not None and current.service == svc:
                continue
            cgroup = None
            if svc.cpu_millis and self.cpu_off is None:
                self.quotas = self.quotas or limits.CpuQuotas()
                cgroup = self.quotas.create(svc.name, svc.cpu_millis)
            revision = Revision(
                svc,
                self.base_environment,
                self.client,
                cgroup=cgroup,
                sandbox=self.sandbox(svc),
                log=self.log,
            )
            self.revisions[name] = revision
            revision.start()
        for name in [n for n in self.revisions if n not in wanted]:
            del self.revisions[name]
        await asyncio.gather(*(rev.aclose() for rev in stale))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] == routes.STATUS_PATH:
            body = {"services": [rev.status() for rev in self.revisions.values()]}
            await respond(send, 200, json.dumps(body).encode(), _JSON)
            return
        found = self.find(scope)
        if found is None:
            await respond(send, 404, b'{"message":"no such service"}', _JSON)
            return
        name, path = found
        revision = self.revisions[name]
        try:
            instance = await revision.acquire()
        except Overloaded as error:
            text = json.dumps({"message": f"service {name} is overloaded: {error}"})
            await respond(send, 503, text.encode(), _JSON)
            return
        try:
            await self._forward(scope, receive, send, instance.port, path, revision)
        finally:
            revision.release(instance)

    async def _forward(
        self, scope: Scope, receive: Receive, send: Send, port: int, path: str, rev: Revision
    ) -> None:
        assert self.client is not None
        query = scope.get("query_string", b"")
        url = f"http://127.0.0.1:{port}{path}" + (f"?{query.decode('latin-1')}" if query else "")
        headers = [
            (k, v) for k, v in scope["headers"] if k.lower() not in _HOP and k != b"content-length"
        ]
        client = scope.get("client")
        if client:
            headers.append((b"x-forwarded-for", str(client[0]).encode()))
        request = self.client.build_request(
            scope["method"],
            url,
            headers=headers,
            # Read whole (the HTTP server bounds it): many small servers take no chunked body.
            content=await _body(receive),
            timeout=rev.service.timeout_s,
        )
        try:
            answer = await self.client.send(request, stream=True)
        except httpx.HTTPError as error:
            text = json.dumps({"message": f"service {rev.service.name}: {error!r}"})
            await respond(send, 502, text.encode(), _JSON)
            return
        try:
            out = [(k.lower(), v) for k, v in answer.headers.raw if k.lower() not in _HOP]
            await send(
                {"type": "http.response.start", "status": answer.status_code, "headers": out}
            )
            async for chunk in answer.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            await answer.aclose()

    async def aclose(self) -> None:
        await asyncio.gather(*(rev.aclose() for rev in self.revisions.values()))
        self.revisions.clear()
        if self.client is not None:
            await self.client.aclose()
        if self.quotas is not None:
            self.quotas.remove_all()


async def _body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)
