"""doctor's port_holder names the process on a host port from the live /proc: a listening TCP
socket and a bound UDP one (a client's connected UDP socket holds its port too)."""

from __future__ import annotations

import os
import socket

from homestack.observe.doctor_net import port_holder
from homestack.ports import listening_sockets


def test_a_listening_tcp_port_names_this_process() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        port = sock.getsockname()[1]
        assert port_holder("tcp", port) == f"{_comm()} (pid {os.getpid()})"
    assert port_holder("tcp", port) is None  # closed: nobody holds it


def test_a_connected_udp_socket_holds_its_port_but_is_no_server() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.connect(("127.0.0.1", 9))
        port = sock.getsockname()[1]
        assert port_holder("udp", port) == f"{_comm()} (pid {os.getpid()})"
        assert ("udp", port) not in listening_sockets()


def _comm() -> str:
    with open(f"/proc/{os.getpid()}/comm", encoding="utf-8") as comm:
        return comm.read().strip()
