"""Who is at the other end of a loopback connection: the table's encoding (pure), and a real
connection's owner as this machine's kernel lists it."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import pytest

from skylet.gateway.peers import encode, peer_uid, uid_in

TABLE = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1
   1: 0100007F:C350 0100007F:1F90 01 00000000:00000000 00:00000000 00000000 10000003     0 2 1
   2: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 3 1
"""


@pytest.mark.skipif(sys.byteorder != "little", reason="the table's example is little-endian")
def test_an_address_is_written_as_the_table_writes_it() -> None:
    assert encode("127.0.0.1", 8080) == ("tcp", "0100007F:1F90")
    assert encode("::1", 80) == ("tcp6", "00000000000000000000000001000000:0050")
    assert encode("localhost", 80) is None


def test_the_client_s_row_names_its_owner_and_no_other_row_does() -> None:
    assert uid_in(TABLE, "0100007F:C350", "0100007F:1F90") == 10000003
    assert uid_in(TABLE, "0100007F:1F90", "0100007F:C350") == 0
    assert uid_in(TABLE, "0100007F:C351", "0100007F:1F90") is None


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="no /proc/net/tcp (not Linux)")
def test_a_real_connection_s_owner_is_this_process_s_uid() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        client = socket.create_connection(server.getsockname())
        accepted, peer = server.accept()
        with client, accepted:
            assert peer_uid(peer, accepted.getsockname()) == os.geteuid()
            assert peer_uid((peer[0], peer[1] ^ 1), accepted.getsockname()) is None
    assert peer_uid(None, ("127.0.0.1", 1)) is None
