"""Reading listening sockets from /proc/net (recorded lines; the live file is tested too)."""

from __future__ import annotations

import socket
from pathlib import Path

from homestack.ports import listening_sockets

HEADER = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid\n"


def test_recorded_proc_net_lines_give_addresses_and_ports(tmp_path: Path) -> None:
    net = tmp_path / "net"
    net.mkdir()
    (net / "tcp").write_text(
        HEADER
        + "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  0 0 1\n"
        + "   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000  0 0 2\n"
        # an established connection is not a listener
        + "   2: 0100007F:2710 0100007F:C350 01 00000000:00000000 00:00000000 00000000  0 0 3\n"
    )
    (net / "tcp6").write_text(
        HEADER
        + "   0: 00000000000000000000000001000000:01BB 00000000000000000000000000000000:0000 0A"
        " 00000000:00000000 00:00000000 00000000  0 0 4\n"
        + "   1: 0000000000000000FFFF00000100007F:0050 00000000000000000000000000000000:0000 0A"
        " 00000000:00000000 00:00000000 00000000  0 0 5\n"
    )
    (net / "udp").write_text(
        HEADER
        + "   0: 0100007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000 0 0 6\n"
    )
    found = listening_sockets(tmp_path)
    assert found == {
        ("tcp", 8080): {"127.0.0.1"},
        ("tcp", 22): {"0.0.0.0"},  # noqa: S104 - an address read, not bound
        ("tcp", 443): {"::1"},
        ("tcp", 80): {"127.0.0.1"},
        ("udp", 53): {"127.0.0.1"},
    }


def test_live_proc_net_shows_a_socket_this_test_listens_on() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        port = sock.getsockname()[1]
        assert "127.0.0.1" in listening_sockets().get(("tcp", port), set())
