"""What one connection, and a listener's connections together, may take and hold: the sizes, the
timeouts, the cap on connections, and the rules for a request answered before its body was read.
Pure, apart from :func:`descriptor_limit`, which asks the kernel.

Timeouts, each on the connection's one timer (skylet.gateway.http1.deadline):

- idle: between requests (and before a new connection's first byte), ``keep_alive_s``; then the
  connection closes without an answer.
- head: from the first byte of a request's head, ``header_timeout_s`` for the whole head; bytes
  that trickle in do not extend it (slowloris). Past it: ``408`` and close.
- body: while the server is ready for a body that has not all arrived, ``body_timeout_s``
  between two reads (nginx's ``client_body_timeout``); time the server itself is not reading
  (paused for flow control, or owing the client its ``100 Continue``) does not count. Past it:
  ``408`` when nothing of the answer was sent yet, and close.
- linger: a connection closed while the client may still be sending (an answer before its body,
  a refusal) is half-closed and read (and dropped) for up to ``linger_s``, so that the client,
  still writing, reads the answer instead of a reset.
"""

from __future__ import annotations

import resource
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    """What one connection may take and hold, and how many connections a listener keeps. Sizes in
    bytes, times in seconds (the answer past each: the module's doc and docs/http.md)."""

    keep_alive_s: float = 5.0
    #: From a request head's first byte to its end (nginx's client_header_timeout: 60 s).
    header_timeout_s: float = 60.0
    #: Between two reads of a body being received (nginx's client_body_timeout: 60 s).
    body_timeout_s: float = 60.0
    #: A connection closing while its client may still send: read and dropped this long at most.
    linger_s: float = 5.0
    max_url_bytes: int = 16 * 1024
    #: The request line and headers together.
    max_head_bytes: int = 64 * 1024
    #: Body bytes held for a request its application has not read yet; reading pauses past it.
    read_high_water: int = 64 * 1024
    #: The rest of a body an answer came before, read and dropped to keep the connection.
    max_discard_bytes: int = 1 << 20
    #: Open connections at most; None: derived from the descriptor limit (max_connections_for).
    max_connections: int | None = None

    def connection_cap(self) -> int:
        """The cap in force: ``max_connections``, else derived from this process's limit."""
        if self.max_connections is not None:
            return self.max_connections
        return max_connections_for(descriptor_limit())


#: Descriptors kept for everything but connections, whatever the limit: the zygote's socket, the
#: store's files, logs, the watcher, the loop's own.
BASE_RESERVE = 64
#: Connections never fewer than this, however low the limit (below it the platform cannot run).
MIN_CONNECTIONS = 16


def max_connections_for(descriptors: int) -> int:
    """The default cap on connections for a process allowed ``descriptors`` open files: a quarter
    of them and 64 more are kept for the rest of the platform, above all its instances (three
    pipes each). 1,024 (a common default) gives 704 connections, 200 gives 86, 65,536 gives
    49,088."""
    return max(MIN_CONNECTIONS, descriptors - BASE_RESERVE - descriptors // 4)


def descriptor_limit() -> int:
    """This process's soft limit on open files (RLIMIT_NOFILE); 1,024 when unlimited."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return 1024 if soft == resource.RLIM_INFINITY else int(soft)


def keeps_alive_after_early_answer(
    uninvited: bool, length: int | None, received: int, limits: Limits
) -> bool:
    """Whether a connection goes on after an answer that came before its request's whole body.

    ``uninvited``: the client sent ``Expect: 100-continue`` and was not sent ``100 Continue``,
    so it does not send its body: what it sends next would be read as that body, so the
    connection closes. Otherwise the rest of the body (``length`` declared, ``received`` so far;
    ``length`` None for a chunked body) is read and dropped when it is at most
    ``max_discard_bytes``; a chunked body is dropped as it comes, and the connection closes if
    it passes that bound."""
    if uninvited:
        return False
    if length is None:
        return True
    return length - received <= limits.max_discard_bytes
