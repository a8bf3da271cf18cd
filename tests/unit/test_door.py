"""LAN_ADDRESS: auto, an address, empty; the Caddyfile's door; who may open which UI."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from homestack import door
from homestack.catalog import Site
from homestack.domain import DEFAULT_DOMAIN as D
from homestack.errors import BadInput
from homestack.generate import authelia, caddy
from homestack.generate.view import CatalogView
from testkit.sites import copy_catalog

ROUTES = """\
Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0
wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0
eth0\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0
eth1\t00000000\t0101A8C0\t0002\t0\t0\t1\t00000000\t0\t0\t0
"""


def test_the_default_route_with_the_lowest_metric_that_is_up_names_the_interface(
    tmp_path: Path,
) -> None:
    table = tmp_path / "route"
    table.write_text(ROUTES, encoding="ascii")
    assert door.default_interface(table) == "eth0"  # eth1 is not up (flags 0002)
    table.write_text(ROUTES.splitlines()[0] + "\n", encoding="ascii")
    assert door.default_interface(table) is None
    assert door.default_interface(tmp_path / "missing") is None


def test_the_kernel_gives_an_interface_address() -> None:
    assert door.interface_address("lo") == "127.0.0.1"
    assert door.interface_address("hs17-none") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [("", "127.0.0.1"), ("192.168.1.10", "192.168.1.10"), ("[fd00::2]", "fd00::2")],
)
def test_lan_address_values(value: str, expected: str) -> None:
    assert door.lan_address({"LAN_ADDRESS": value}) == expected


def test_auto_is_the_default_routes_address_or_loopback() -> None:
    assert door.lan_address({"LAN_ADDRESS": "auto"}) == (door.detect() or "127.0.0.1")


def test_a_lan_address_that_is_no_address_is_bad_input_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LAN_ADDRESS", raising=False)
    root = copy_catalog(tmp_path / "site")
    (root / ".env").write_text("LAN_ADDRESS=my-server\n", encoding="utf-8")
    with pytest.raises(BadInput) as caught:
        CatalogView.of(Site.load(root))
    assert caught.value.file == str(root / ".env")
    assert "LAN_ADDRESS='my-server'" in caught.value.message
    # Compose gets it as written (generate and up refuse it first)
    assert Site.load(root).compose_environ()["LAN_ADDRESS"] == "my-server"


def _view(make_site: Callable[..., Site], **env: str) -> CatalogView:
    return CatalogView.of(make_site(**env))


@pytest.fixture
def make_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Site]:
    for key in ("DATA_ROOT", "SECRETS_DIR", "DOMAIN", "LAN_ADDRESS", "CADDY_HTTPS_PORT"):
        monkeypatch.delenv(key, raising=False)
    root = copy_catalog(tmp_path / "site")

    def make(**env: str) -> Site:
        text = "".join(f"{key}={value}\n" for key, value in env.items())
        (root / ".env").write_text(text, encoding="utf-8")
        return Site.load(root)

    return make


def test_compose_publishes_caddy_on_the_resolved_lan_address(
    make_site: Callable[..., Site],
) -> None:
    site = make_site(LAN_ADDRESS="10.78.0.1")
    assert site.compose_environ()["LAN_ADDRESS"] == "10.78.0.1"
    caddy_file = (site.root / "essentials-stack/services/caddy.docker-compose.yaml").read_text()
    assert '"${LAN_ADDRESS:-127.0.0.1}:${CADDY_HTTPS_PORT:-443}:443"' in caddy_file
    assert make_site().compose_environ()["LAN_ADDRESS"] == "127.0.0.1"  # unset: loopback


def test_the_door_serves_the_ca_over_http_and_a_page_by_address(
    make_site: Callable[..., Site],
) -> None:
    files = caddy.generate(_view(make_site, LAN_ADDRESS="10.78.0.1"))
    text = files[0].content
    assert "default_sni 10.78.0.1" in text
    assert "auto_https disable_redirects" in text
    http_site = text.split("http:// {", 1)[1].split("\n}\n", 1)[0]
    assert "handle /ca.crt {" in http_site
    assert "root * /data/caddy/pki/authorities/local" in http_site
    assert "redir https://{host}{uri} 308" in http_site
    assert "https://10.78.0.1 {" in text
    page = files[1]
    assert page.path.name == "index.html" and page.path.parent.name == "door"
    assert f"10.78.0.1 start.{D}" in page.content
    assert 'href="http://10.78.0.1/ca.crt"' in page.content


def test_no_door_on_loopback_or_for_a_public_domain(make_site: Callable[..., Site]) -> None:
    for env in ({}, {"LAN_ADDRESS": "10.78.0.1", "DOMAIN": "example.org"}):
        files = caddy.generate(_view(make_site, **env))
        assert len(files) == 1
        assert "http:// {" not in files[0].content
        assert "auto_https disable_redirects" not in files[0].content


def _add_ui(site: Site, name: str, web: str) -> Site:
    path = site.root / "management-stack/services" / f"{name}.docker-compose.yaml"
    path.write_text(
        f"services:\n  {name}:\n    x-homestack:\n      title: {name.title()}\n"
        f"      description: A test UI.\n      web:\n{web}"
        f"    image: busybox:1.36\n",
        encoding="utf-8",
    )
    stack = site.root / "management-stack/stack.yaml"
    stack.write_text(
        stack.read_text(encoding="utf-8").replace("services:\n", f"services:\n  - {name}\n", 1),
        encoding="utf-8",
    )
    return Site.load(site.root)


def test_a_new_ui_follows_the_rules_by_its_access_alone(make_site: Callable[..., Site]) -> None:
    """What issue 18's dashboard (home, admins) or 20's ntfy need: a service file only."""
    site = _add_ui(make_site(), "board", "        port: 8000\n        access: admin\n")
    view = CatalogView.of(site)
    rules = authelia.configuration(view)["access_control"]["rules"]
    admins = next(r for r in rules if r["policy"] == "two_factor")
    assert f"board.{D}" in admins["domain"]
    assert admins["subject"] == ["group:admins"]
    block = caddy.generate(view)[0].content.split(f"board.{D} {{", 1)[1].split("}", 1)[0]
    assert "import sign_on" in block


def test_a_public_ui_has_no_sign_on_and_no_rule(make_site: Callable[..., Site]) -> None:
    site = _add_ui(make_site(), "board", "        port: 8000\n        access: public\n")
    view = CatalogView.of(site)
    text = yaml.safe_dump(authelia.configuration(view))
    assert f"board.{D}" not in text
    block = caddy.generate(view)[0].content.split(f"board.{D} {{", 1)[1].split("}", 1)[0]
    assert "import sign_on" not in block


def test_auth_false_with_a_signed_on_access_is_bad_input(make_site: Callable[..., Site]) -> None:
    site = _add_ui(
        make_site(), "board", "        port: 8000\n        auth: false\n        access: user\n"
    )
    with pytest.raises(BadInput, match="contradict") as caught:
        CatalogView.of(site).routes()
    assert caught.value.service == "board"


def test_unset_access_is_admin_when_signed_on(make_site: Callable[..., Site]) -> None:
    site = _add_ui(make_site(), "board", "        port: 8000\n")
    route = next(r for r in CatalogView.of(site).routes() if r.service == "board")
    assert route.access == "admin"


def test_blocky_answers_every_name_with_the_door_and_listens_there(
    make_site: Callable[..., Site],
) -> None:
    from homestack.generate import extras
    from homestack.stackfile import toggle

    site = make_site(LAN_ADDRESS="10.78.0.1")
    toggle(site, ["blocky"], enable=True)
    site = Site.load(site.root)
    config = yaml.safe_load(extras.blocky(CatalogView.of(site))[0].content)
    assert config["customDNS"]["mapping"] == {D: "10.78.0.1"}
    service = (site.root / "essentials-stack/services/blocky.docker-compose.yaml").read_text()
    assert '"${LAN_ADDRESS:-127.0.0.1}:${BLOCKY_DNS_PORT:-53}:53/udp"' in service
    # on loopback there is nothing to point the names at
    loopback = Site.load(make_site().root)
    assert "customDNS" not in yaml.safe_load(extras.blocky(CatalogView.of(loopback))[0].content)


def test_a_public_ui_with_its_wizard_open_is_for_admins_until_it_is_done(
    make_site: Callable[..., Site],
) -> None:
    site = make_site()

    def ruled() -> list[str]:
        rules = authelia.configuration(CatalogView.of(site))["access_control"]["rules"]
        return [host for rule in rules if rule["policy"] == "two_factor" for host in rule["domain"]]

    assert f"media.{D}" in ruled()  # sign-on in front (issue 13): Authelia must let admins in
    config = site.data_root / "jellyfin" / "config"
    config.mkdir(parents=True)
    (config / "system.xml").write_text(
        "<ServerConfiguration><IsStartupWizardCompleted>true</IsStartupWizardCompleted>",
        encoding="utf-8",
    )
    assert f"media.{D}" not in ruled()  # public: no sign-on, no rule
