"""Published ports in Compose's short and long syntax."""

# ruff: noqa: S104  (these are port specs to parse, nothing binds)

from __future__ import annotations

import pytest

from homestack.ports import PortBinding, parse_ports


@pytest.mark.parametrize(
    ("entry", "ip", "published", "target", "proto"),
    [
        ("80", "", (), "80", "tcp"),
        ("8080:80", "", (8080,), "80", "tcp"),
        ("127.0.0.1:8080:80", "127.0.0.1", (8080,), "80", "tcp"),
        ("127.0.0.1::80", "127.0.0.1", (), "80", "tcp"),
        ("0.0.0.0:53:53/udp", "0.0.0.0", (53,), "53", "udp"),
        ("[::1]:8080:80", "::1", (8080,), "80", "tcp"),
        ("8000-8002:8000-8002", "", (8000, 8001, 8002), "8000-8002", "tcp"),
        ("9000:9000/tcp", "", (9000,), "9000", "tcp"),
        (8080, "", (), "8080", "tcp"),
    ],
)
def test_short_syntax(
    entry: object, ip: str, published: tuple[int, ...], target: str, proto: str
) -> None:
    bindings, bad = parse_ports([entry])
    assert bad == []
    (binding,) = bindings
    assert (binding.host_ip, binding.published, binding.target, binding.protocol) == (
        ip,
        published,
        target,
        proto,
    )


def test_long_syntax() -> None:
    bindings, bad = parse_ports(
        [
            {"target": 80, "published": "8080", "host_ip": "127.0.0.1", "protocol": "tcp"},
            {"target": 53, "published": 5353, "protocol": "udp"},
            {"target": 9000},
        ]
    )
    assert bad == []
    assert [(b.host_ip, b.published, b.target, b.protocol) for b in bindings] == [
        ("127.0.0.1", (8080,), "80", "tcp"),
        ("", (5353,), "53", "udp"),
        ("", (), "9000", "tcp"),
    ]


def test_unreadable_entries_are_reported_with_their_index() -> None:
    bindings, bad = parse_ports(["8080:80", "not a port", "a:b:c:d", {"published": "x-y"}])
    assert [b.index for b in bindings] == [0]
    assert [index for index, _ in bad] == [1, 2, 3]


def test_not_a_list_means_no_ports() -> None:
    assert parse_ports(None) == ([], [])
    assert parse_ports("8080:80") == ([], [])


@pytest.mark.parametrize(
    ("ip", "everywhere"),
    [("", True), ("0.0.0.0", True), ("::", True), ("127.0.0.1", False), ("::1", False)],
)
def test_all_interfaces(ip: str, everywhere: bool) -> None:
    assert PortBinding(ip, (80,), "80", "tcp", 0).all_interfaces is everywhere


def test_label() -> None:
    assert PortBinding("127.0.0.1", (8080,), "80", "tcp", 0).label() == "127.0.0.1:8080->80/tcp"
    assert PortBinding("", (), "53", "udp", 0).label() == "auto->53/udp"
    assert PortBinding("", (1, 2), "1-2", "tcp", 0).label() == "1,2->1-2/tcp"
