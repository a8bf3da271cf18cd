"""The rehearsal of the door: a phone on the LAN reaches sign-on, and nothing else answers.

Three network namespaces the test makes: a "lan" holding a bridge (hs17br…), a "server" on
it with the LAN address, and a "phone" on it with its own address (10.78.N.0/24, used
nowhere else). In the server namespace the real `caddy` binary (Debian's) runs the Caddyfile
homestack generates for the shipped catalog with LAN_ADDRESS set to the server's address,
in front of stand-ins (a web UI and a forward-auth endpoint that answers as Authelia does
without a session); Caddy's data folder is the site's DATA/caddy, laid out as the caddy
container's /data. From the phone: the root certificate over plain HTTP at the well-known
path, `https://start.{DOMAIN}` through the LAN address verified with that certificate
(→ the sign-on redirect), the door page at `https://LAN_ADDRESS/`, and a port scan of the
LAN address that finds only 80 and 443. Everything is removed afterwards, even on failure.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.cli.app import run
from homestack.generate import caddy, generate_all
from homestack.generate.view import CatalogView
from homestack.lan import ca_root, fingerprint, pem_to_der
from testkit.sites import copy_catalog

pytestmark = pytest.mark.integration

HELPER = Path(__file__).with_name("lan_netns.py")
UI_PORT, AUTH_PORT = 8080, 9091  # loopback of the server namespace


def _need(what: str, ok: bool) -> None:
    if ok:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} (CI=true: the LAN rehearsal must run)")
    pytest.skip(what)


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=20)


@dataclasses.dataclass
class Lan:
    server: str  # namespace names
    phone: str
    address: str  # the LAN address (server)
    site: Site
    tmp: Path

    def phone_run(self, *args: str, timeout: float = 60) -> object:
        done = subprocess.run(
            ["ip", "netns", "exec", self.phone, sys.executable, str(HELPER), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)


@pytest.fixture
def lan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Lan]:
    _need("the LAN rehearsal needs root (network namespaces)", os.geteuid() == 0)
    _need("iproute2 is not installed", shutil.which("ip") is not None)
    binary = shutil.which("caddy")
    _need("caddy is not installed (.ci/run installs it)", binary is not None)
    assert binary is not None
    tag = uuid.uuid4().hex[:4]
    net = random.randint(1, 254)
    lan_ns, server, phone = f"hs17lan{tag}", f"hs17srv{tag}", f"hs17ph{tag}"
    address, phone_address = f"10.78.{net}.1", f"10.78.{net}.2"
    for key in ("DATA_ROOT", "SECRETS_DIR", "DOMAIN", "CADDY_HTTPS_PORT", "HOMESTACK_SITE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("LAN_ADDRESS", address)
    root = copy_catalog(tmp_path / "site")
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for name in (lan_ns, server, phone):
            _ip("netns", "add", name)
        # the bridge lives in its own namespace: no host firewall (Docker's FORWARD policy)
        # sees the LAN's frames, and the host itself is not on this LAN
        _ip("-n", lan_ns, "link", "add", f"hs17br{tag}", "type", "bridge")
        _ip("-n", lan_ns, "link", "set", f"hs17br{tag}", "up")
        for ns, ip in ((server, address), (phone, phone_address)):
            _ip("-n", lan_ns, "link", "add", f"p{ns}", "type", "veth", "peer", "eth0",
                "netns", ns)  # fmt: skip
            _ip("-n", lan_ns, "link", "set", f"p{ns}", "master", f"hs17br{tag}", "up")
            _ip("-n", ns, "addr", "add", f"{ip}/24", "dev", "eth0")
            _ip("-n", ns, "link", "set", "eth0", "up")
            _ip("-n", ns, "link", "set", "lo", "up")

        site = Site.load(root)
        generate_all(site)  # the Caddyfile, the door page, Authelia's rules
        view = CatalogView.of(site)
        routes = [
            dataclasses.replace(route, upstream=f"127.0.0.1:{UI_PORT}") for route in view.routes()
        ]
        options = dataclasses.replace(
            caddy.options_for(view),
            auth_upstream=f"127.0.0.1:{AUTH_PORT}",
            ca_dir=str(ca_root(site.data_root).parent),
            door_dir=str(site.data_root / "config/caddy/door"),
        )
        assert options.lan_address == address
        caddyfile = tmp_path / "Caddyfile"
        caddyfile.write_text(caddy.caddyfile(routes, options), encoding="utf-8")

        standins = subprocess.Popen(
            ["ip", "netns", "exec", server, sys.executable, str(HELPER), "standins",
             str(UI_PORT), str(AUTH_PORT), view.domain],
            stdout=subprocess.PIPE,
        )  # fmt: skip
        processes.append(standins)
        assert standins.stdout is not None
        assert standins.stdout.readline().strip() == b"ready"
        (site.data_root / "caddy").mkdir(parents=True, exist_ok=True)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(tmp_path),
            # as in the caddy container: XDG_DATA_HOME=/data, its data volume DATA/caddy
            "XDG_DATA_HOME": str(site.data_root / "caddy"),
            "XDG_CONFIG_HOME": str(tmp_path / "caddy-config"),
        }
        log = tmp_path / "caddy.log"
        proxy = subprocess.Popen(
            ["ip", "netns", "exec", server, binary, "run", "--config", str(caddyfile),
             "--adapter", "caddyfile"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log.open("wb"),
        )  # fmt: skip
        processes.append(proxy)
        _wait_for_ca(site, proxy, log)
        yield Lan(server, phone, address, site, tmp_path)
    finally:
        for process in reversed(processes):
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        for name in (phone, server, lan_ns):  # their veths and the bridge go with them
            subprocess.run(["ip", "netns", "delete", name], capture_output=True, check=False)


def _wait_for_ca(site: Site, proxy: subprocess.Popen[bytes], log: Path) -> None:
    root = ca_root(site.data_root)
    deadline = time.monotonic() + 30
    while not root.exists():
        if proxy.poll() is not None or time.monotonic() > deadline:
            pytest.fail("caddy did not start: " + log.read_text(errors="replace")[-3000:])
        time.sleep(0.2)


def _until_served(lan: Lan, *args: str) -> dict[str, object]:
    """The phone's request, retried while Caddy is still issuing its certificates."""
    deadline = time.monotonic() + 30
    while True:
        try:
            answer = lan.phone_run(*args)
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
            continue
        assert isinstance(answer, dict)
        return answer


def test_a_phone_on_the_lan_reaches_sign_on_with_the_ca_from_the_door(
    lan: Lan, capsys: pytest.CaptureFixture[str]
) -> None:
    ca_file = str(lan.tmp / "phone-ca.crt")
    # first contact: plain HTTP, the well-known path, on the LAN address
    fetched = _until_served(lan, "get", f"http://{lan.address}/ca.crt", "--out", ca_file)
    assert fetched["status"] == 200, fetched
    assert fetched["content_type"] == "application/x-x509-ca-cert"
    pem = Path(ca_file).read_text(encoding="ascii")
    # the certificate the phone got is the one `homestack ca` shows the admin
    out_dir = lan.tmp / "ca-out"
    assert run(["--site", str(lan.site.root), "ca", "--out", str(out_dir), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["fingerprint_sha256"] == fingerprint(pem_to_der(pem))
    assert shown["url"] == f"http://{lan.address}/ca.crt"
    assert (out_dir / "homestack-root-ca.der").read_bytes() == pem_to_der(pem)

    domain = CatalogView.of(lan.site).domain
    start = _until_served(
        lan, "get", f"https://{lan.address}/", "--ca", ca_file, "--host", f"start.{domain}"
    )
    assert start["status"] == 302, start
    assert start["location"] == f"https://auth.{domain}/?rd=https://start.{domain}/"

    # the door by address, without DNS: its own certificate, verified with the same CA
    page = _until_served(lan, "get", f"https://{lan.address}/", "--ca", ca_file)
    assert page["status"] == 200
    assert f"homestack on {lan.address}" in str(page["body"])
    assert f"{lan.address} start.{domain}" in str(page["body"])  # the hosts lines

    # plain HTTP to a name goes to HTTPS
    redirect = lan.phone_run("get", f"http://{lan.address}/x", "--host", f"start.{domain}")
    assert redirect["status"] == 308  # type: ignore[index]
    assert redirect["location"] == f"https://start.{domain}/x"  # type: ignore[index]


def test_nothing_but_80_and_443_answers_on_the_lan_address(lan: Lan) -> None:
    # every TCP port: closed ones answer with a reset at once inside the namespaces
    open_ports = lan.phone_run("scan", lan.address, "1", "65535", timeout=240)
    assert open_ports == [80, 443]
