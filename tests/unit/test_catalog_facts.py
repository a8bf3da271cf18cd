"""The shipped catalog against the upstream facts of its images (issue 14).

Each test plants the state a file was in before a fix into a copy of the shipped catalog
and shows that `homestack validate`'s lint (or the generated config) catches it, then that
the shipped file passes. The upstream fact each encodes, and where it comes from, is in the
test's docstring and in the service's `services/{id}/facts.yaml`.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
import yaml

from homestack import facts
from homestack.catalog import Site
from homestack.generate.extras import grafana, samba
from homestack.generate.prometheus import config as prometheus_config
from homestack.generate.view import CatalogView
from homestack.lint import Finding, lint_site
from testkit.sites import copy_catalog

REPO = Path(__file__).resolve().parents[2]
SHIPPED = Site.load(REPO)


def _lint(root: Path, rule: str) -> list[Finding]:
    return [f for f in lint_site(Site.load(root), host_ports=False) if f.rule == rule]


def _plant(tmp_path: Path, relative: str, old: str, new: str) -> Path:
    root = copy_catalog(tmp_path / "site")
    path = root / relative
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{relative} has no {old!r}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return root


@pytest.mark.parametrize("service", SHIPPED.services(), ids=lambda s: s.id)
def test_every_shipped_service_has_its_facts_at_its_pinned_tag(service: object) -> None:
    found = facts.load(service)  # type: ignore[arg-type]
    assert found is not None, f"{service.id} has no facts.yaml"  # type: ignore[attr-defined]
    image = str(service.compose["image"])  # type: ignore[attr-defined]
    assert facts.split_image(image) == (found.image, found.version)
    assert datetime.date.fromisoformat(found.checked_on)
    assert found.sources and found.found


def test_shipped_catalog_passes_every_facts_rule() -> None:
    findings = [f for f in lint_site(SHIPPED, host_ports=False) if f.rule.startswith("facts.")]
    assert findings == []


# ---- item 1: the default domain ------------------------------------------------------


def test_home_arpa_as_domain_is_refused_and_the_default_is_under_it(tmp_path: Path) -> None:
    """Authelia 4.39 (internal/configuration/validator/session.go, isCookieDomainAPublicSuffix
    with weppos/publicsuffix-go) refuses a session cookie domain on the Public Suffix List;
    home.arpa is on it. The shipped default is now lab.home.arpa."""
    assert _lint(REPO, "env.domain-cookie") == []
    example = (REPO / ".env.example").read_text(encoding="utf-8")
    assert "\nDOMAIN=lab.home.arpa\n" in example
    root = _plant(tmp_path, ".env.example", "\nDOMAIN=lab.home.arpa\n", "\nDOMAIN=home.arpa\n")
    (hit,) = _lint(root, "env.domain-cookie")
    assert "public suffix" in hit.message and hit.file == root / ".env.example"
    assert hit.line == example.splitlines().index("DOMAIN=lab.home.arpa") + 1


@pytest.mark.parametrize(
    ("domain", "problem"),
    [
        ("home.arpa", "public suffix"),
        ("lan", "no dot"),
        ("co.uk", "public suffix"),
        ("github.io", "public suffix"),
        ("lab.home.arpa", None),
        ("home.lan", None),
        ("example.co.uk", None),
        ("192.168.1.10", None),
    ],
)
def test_cookie_domain_check_follows_authelias(domain: str, problem: str | None) -> None:
    """session.go: no period → 'must have at least a single period or be an ip address';
    a public suffix (ICANN or private section, as publicsuffix-go's default list) → refused."""
    from homestack.lint.rules_domain import cookie_domain_problem

    result = cookie_domain_problem(domain)
    assert (result is None) if problem is None else (problem in (result or ""))


# ---- item 3: LibreTranslate ------------------------------------------------------------

LT = "ai-stack/services/libretranslate.docker-compose.yaml"
LT_DB = "      - ${DATA_ROOT:?DATA_ROOT is set by homestack}/config/libretranslate:/app/db\n"


def test_libretranslate_as_puid_has_a_writable_app_db(tmp_path: Path) -> None:
    """LibreTranslate v1.6.2/v1.9.6 docker/Dockerfile: /app belongs to uid 1032 (root in
    cuda.Dockerfile); at start it writes db/ under /app (v1.6.2 app.py SESSION_FILE_DIR
    db/sessions; v1.9.6 entrypoint.sh mkdir db/prometheus, api_keys.py db/api_keys.db).
    Run as PUID without a mount there it restart-looped (upstream issues #378, #669)."""
    root = _plant(tmp_path, LT, LT_DB, "")
    (hit,) = _lint(root, "facts.writes")
    assert "/app/db" in hit.message and hit.service == "libretranslate"
    assert _lint(REPO, "facts.writes") == []


# ---- item 4: cAdvisor ----------------------------------------------------------------


def test_cadvisor_reads_the_layer_mount_ids_read_only() -> None:
    """google/cadvisor v0.60.5 container/docker/handler.go, getRwLayerID: setting up a Docker
    container reads {docker root}/image/{driver}/layerdb/mounts/{id}/mount-id; without it
    no per-container metrics (google/cadvisor#3677, #3408)."""
    volumes = SHIPPED.service("cadvisor").compose["volumes"]
    image = [v for v in volumes if "/image:" in v]
    assert image == [
        "${DOCKER_ROOT:-/var/lib/docker}/image:${DOCKER_ROOT:-/var/lib/docker}/image:ro"
    ]
    assert not any(v.startswith(("/:", "/var/run", "/var/lib/docker:")) for v in volumes)
    lint_config = yaml.safe_load((REPO / ".compose-lint.yml").read_text(encoding="utf-8"))
    assert (
        "/var/lib/docker/image" in lint_config["rules"]["CL-0013"]["exclude_services"]["cadvisor"]
    )


# ---- items 5 and 8: Homepage's Host check ----------------------------------------------

HP = "essentials-stack/services/homepage.docker-compose.yaml"
HP_DEFAULT = (
    "${HOMEPAGE_ALLOWED_HOSTS:-start.${DOMAIN:-lab.home.arpa},"
    "start.${DOMAIN:-lab.home.arpa}:${CADDY_HTTPS_PORT:-443},homepage:3000}"
)


def test_homepage_allows_the_probes_host(tmp_path: Path) -> None:
    """gethomepage/homepage v1.8.0 src/middleware.js: /api/* answers 400 unless the Host is
    localhost:PORT, 127.0.0.1:PORT, [::1]:PORT or in HOMEPAGE_ALLOWED_HOSTS; the probe
    Prometheus sends (http://homepage:3000/api/healthcheck) carries Host homepage:3000."""
    old = "${HOMEPAGE_ALLOWED_HOSTS:-start.${DOMAIN:-lab.home.arpa},localhost:3000,127.0.0.1:3000}"
    root = _plant(tmp_path, HP, HP_DEFAULT, old)
    (hit,) = _lint(root, "facts.host-allowlist")
    assert "homepage:3000" in hit.message
    assert _lint(REPO, "facts.host-allowlist") == []


def test_homepage_allows_the_browsers_host_on_another_https_port(tmp_path: Path) -> None:
    """The same middleware compares the whole Host header, which carries the port when the
    proxy's HTTPS port is not 443 (CADDY_HTTPS_PORT)."""
    old = "${HOMEPAGE_ALLOWED_HOSTS:-start.${DOMAIN:-lab.home.arpa},homepage:3000}"
    root = _plant(tmp_path, HP, HP_DEFAULT, old)
    caddy_env = root / "essentials-stack/services/caddy/.env"
    caddy_env.write_text("CADDY_HTTPS_PORT=8443\n", encoding="utf-8")
    (hit,) = _lint(root, "facts.host-allowlist")
    assert "start.lab.home.arpa:8443" in hit.message
    root = _plant(tmp_path / "fixed", HP, HP_DEFAULT, HP_DEFAULT)
    (root / "essentials-stack/services/caddy/.env").write_text("CADDY_HTTPS_PORT=8443\n")
    assert _lint(root, "facts.host-allowlist") == []


# ---- item 6: MediaMTX's probe --------------------------------------------------------


def test_mediamtx_probe_asks_a_path_that_answers(tmp_path: Path) -> None:
    """bluenviron/mediamtx v1.12.0 internal/servers/hls/http_server.go: an empty path falls
    through to the router's 404; {path}/hls.min.js answers 200 before any path lookup."""
    f = "media-stack/services/mediamtx.docker-compose.yaml"
    root = _plant(tmp_path, f, "        health_path: /homestack/hls.min.js\n", "")
    (hit,) = _lint(root, "facts.probe")
    assert "http://mediamtx:8888/," in hit.message
    view = CatalogView.of(SHIPPED)
    (route,) = [r for r in view.routes() if r.service == "mediamtx"]
    assert route.health_url == "http://mediamtx:8888/homestack/hls.min.js"


# ---- item 7: AnythingLLM's .env --------------------------------------------------------


def test_anythingllm_keeps_its_env_file(tmp_path: Path) -> None:
    """Mintplex-Labs/anything-llm v1.9.1 server/utils/helpers/updateENV.js: dumpENV writes
    SIG_KEY, SIG_SALT and the UI's settings to /app/server/.env (writeFileSync, in place);
    upstream's docker run mounts it. Without a mount, a recreate loses the key."""
    f = "ai-stack/services/anythingllm.docker-compose.yaml"
    mount = (
        "      - ${DATA_ROOT:?DATA_ROOT is set by homestack}/anythingllm/.env:/app/server/.env\n"
    )
    text = (REPO / f).read_text(encoding="utf-8")
    assert mount in text
    root = _plant(tmp_path, f, mount, "")
    (hit,) = _lint(root, "facts.writes")
    assert "/app/server/.env" in hit.message and "recreated" in hit.message
    assert _lint(REPO, "facts.writes") == []
    from homestack.generate.extras import anythingllm

    (seed,) = anythingllm(CatalogView.of(SHIPPED))
    assert seed.once and seed.mode == 0o600
    assert seed.path == SHIPPED.data_root / "anythingllm" / ".env"
    # the seed lies in the data folder, which the backup saves
    meta = SHIPPED.service("anythingllm").meta
    assert meta is not None and meta.backup is not None and "data" in meta.backup.paths


# ---- item 8: Samba, Grafana, Blocky ------------------------------------------------------


def test_samba_min_protocol_is_in_the_generated_global_section(tmp_path: Path) -> None:
    """crazy-max/docker-samba 4.23.8-r0 rootfs/etc/cont-init.d/01-config.sh reads no
    SAMBA_SERVER_MIN_PROTOCOL (only CONFIG_FILE, TZ and its SAMBA_* list) and appends each
    `global:` line of config.yml to [global]."""
    (generated,) = samba(CatalogView.of(SHIPPED), 1000, 1000)
    data = yaml.safe_load(generated.content)
    assert "server min protocol = SMB3" in data["global"]
    f = "essentials-stack/services/samba.docker-compose.yaml"
    anchor = "      SAMBA_SERVER_STRING: ${SAMBA_SERVER_STRING:-homestack}\n"
    root = _plant(tmp_path, f, anchor, anchor + "      SAMBA_SERVER_MIN_PROTOCOL: SMB3\n")
    (hit,) = _lint(root, "facts.env")
    assert "SAMBA_SERVER_MIN_PROTOCOL" in hit.message
    assert _lint(REPO, "facts.env") == []


def test_grafana_provisioning_mount_keeps_every_folder() -> None:
    """Grafana reads /etc/grafana/provisioning/{datasources,dashboards,alerting,plugins} and
    logs an error for each it cannot read; DATA/config/grafana is mounted over the whole
    folder, so each gets a valid, empty provisioning file."""
    files = grafana(CatalogView.of(SHIPPED))
    folders = {f.path.parent.name for f in files}
    assert folders == {"datasources", "dashboards", "alerting", "plugins"}
    for generated in files:
        assert yaml.safe_load(generated.content)["apiVersion"] == 1


def test_blocky_metrics_are_scraped(tmp_path: Path) -> None:
    """Blocky v0.26.2 serves /metrics on its HTTP port (4000) with prometheus.enable, which
    its generated config sets; nothing scraped it."""
    from homestack.stackfile import toggle

    root = copy_catalog(tmp_path / "site")
    toggle(Site.load(root), ["blocky"], enable=True)
    jobs = prometheus_config(CatalogView.of(Site.load(root)))["scrape_configs"]
    targets = {j["job_name"]: j.get("static_configs") for j in jobs}
    assert targets["blocky"] == [{"targets": ["blocky:4000"]}]
    assert "blocky" not in {
        j["job_name"] for j in prometheus_config(CatalogView.of(SHIPPED))["scrape_configs"]
    }


# ---- item 9: clean stops ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "relative"),
    [
        ("faster-whisper", "ai-stack/services/faster-whisper.docker-compose.yaml"),
        ("tdarr", "media-stack/services/tdarr.docker-compose.yaml"),
    ],
)
def test_root_supervisor_may_signal_its_puid_children(
    service: str, relative: str, tmp_path: Path
) -> None:
    """linuxserver/docker-faster-whisper v3.6.0 svc-whisper/run runs the server with
    `s6-setuidgid abc` (PUID); Tdarr's s6 init runs server and node as PUID. Root signalling
    another uid needs CAP_KILL once every capability is dropped (kill(2), capabilities(7)):
    without it a stop waits for the timeout and ends in SIGKILL."""
    root = _plant(tmp_path, relative, "      - SETUID\n      - KILL\n", "      - SETUID\n")
    (hit,) = _lint(root, "facts.capabilities")
    assert hit.service == service and "KILL" in hit.message
    assert _lint(REPO, "facts.capabilities") == []


def test_tdarr_backup_keeps_tdarrs_own_database_backups() -> None:
    """The backup must not depend on a clean stop: Tdarr's own zipped database copies
    (Tdarr/Backups, written while it runs) are no longer excluded."""
    meta = SHIPPED.service("tdarr").meta
    assert meta is not None and meta.backup is not None
    assert not any("Backups" in pattern for pattern in meta.backup.exclude)
    assert SHIPPED.service("tdarr").compose["stop_grace_period"] == "30s"


# ---- item 10: the pins -----------------------------------------------------------------

#: the newest stable tag confirmed upstream (repository tags read with `fetch`), per service
BUMPED = {
    "ollama": "ollama/ollama:0.32.15",
    "libretranslate": "libretranslate/libretranslate:v1.9.6",
    "faster-whisper": "lscr.io/linuxserver/faster-whisper:3.6.0",
    "piper": "rhasspy/wyoming-piper:2.3.1",
    "dozzle": "amir20/dozzle:v10.7.3",
    "samba": "crazymax/samba:4.23.8",
    "cadvisor": "ghcr.io/google/cadvisor:v0.60.5",
    "jellyfin": "jellyfin/jellyfin:10.11.11",
    "caddy": "caddy:2.11.4-alpine",
}


@pytest.mark.parametrize(("service", "image"), sorted(BUMPED.items()))
def test_pins_are_the_confirmed_releases(service: str, image: str) -> None:
    assert SHIPPED.service(service).compose["image"] == image


def test_caddy_has_the_header_copy_fix() -> None:
    """GHSA-7r4p-vjf4-gxv4 is fixed in Caddy 2.11.1."""
    tag = facts.split_image(SHIPPED.service("caddy").compose["image"])[1]
    version = tuple(int(p) for p in tag.split("-")[0].split("."))
    assert version >= (2, 11, 1)


# ---- item 11: a bump without re-checked facts ------------------------------------------


def test_a_bump_without_rechecking_the_facts_is_refused(tmp_path: Path) -> None:
    f = "management-stack/services/dozzle.docker-compose.yaml"
    root = _plant(tmp_path, f, "image: amir20/dozzle:v10.7.3", "image: amir20/dozzle:v10.8.0")
    (hit,) = _lint(root, "facts.version")
    assert "v10.7.3" in hit.message and hit.file == root / f


def test_an_overlay_left_on_the_old_release_is_refused(tmp_path: Path) -> None:
    """A bump must move the GPU build too: LibreTranslate's -cuda tag is the same release
    (docker/cuda.Dockerfile is built from the same tag)."""
    f = "ai-stack/services/libretranslate.nvidia.docker-compose.yaml"
    old = "libretranslate/libretranslate:v1.6.2-cuda"
    root = _plant(tmp_path, f, "libretranslate/libretranslate:v1.9.6-cuda", old)
    (hit,) = _lint(root, "facts.version")
    assert hit.file == root / f and "1.9.6" in hit.message and hit.line == 6
