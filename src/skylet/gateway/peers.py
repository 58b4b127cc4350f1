"""Who is at the other end of a loopback connection: the uid that owns the client's socket, as
the kernel lists it in ``/proc/net/tcp`` (or ``tcp6``). When skylet runs as root each function
runs as a uid of its own (skylet.pool.sandbox), so the uid names the function even when the
request is unsigned or signed with the local pair, which every function could do in local
mode. Linux only; elsewhere, or for a connection the table does not list, None.

The table's addresses are hexadecimal: each 32-bit word of the address in the host's byte
order, then the port (``127.0.0.1:8080`` is ``0100007F:1F90`` on a little-endian machine)::

    sl  local_address rem_address   st tx_queue:rx_queue tr:tm->when retrnsmt   uid ...
     0: 0100007F:C350 0100007F:1F90 01 00000000:00000000 00:00000000 00000000 10000000 ...
"""

from __future__ import annotations

import contextlib
import socket
import sys

#: The column of the owner's uid in a row of the table.
_UID = 7


def encode(host: str, port: int) -> tuple[str, str] | None:
    """(table, address as the table writes it) for ``host:port``; None if ``host`` is no
    IP address."""
    for family, table in ((socket.AF_INET, "tcp"), (socket.AF_INET6, "tcp6")):
        try:
            packed = socket.inet_pton(family, host)
        except OSError:
            continue
        words = (packed[i : i + 4] for i in range(0, len(packed), 4))
        address = "".join(f"{int.from_bytes(w, sys.byteorder):08X}" for w in words)
        return table, f"{address}:{port:04X}"
    return None


def uid_in(table: str, local: str, remote: str) -> int | None:
    """The uid owning the socket from ``local`` to ``remote`` in the text of a table."""
    for line in table.splitlines()[1:]:
        fields = line.split()
        if len(fields) > _UID and fields[1] == local and fields[2] == remote:
            return int(fields[_UID])
    return None


def peer_uid(client: tuple[str, int] | None, server: tuple[str, int] | None) -> int | None:
    """The uid of the process that connected from ``client`` to ``server`` (ASGI's
    ``scope["client"]``, ``scope["server"]``), if this machine says."""
    if client is None or server is None:
        return None
    local, remote = encode(*client), encode(*server)
    if local is None or remote is None or local[0] != remote[0]:
        return None
    with contextlib.suppress(OSError), open(f"/proc/net/{local[0]}") as f:
        return uid_in(f.read(), local[1], remote[1])
    return None
