"""Prometheus: scrape jobs, blackbox probes for every enabled service, alert rules.

The blackbox exporter gets a file with the two modules the probes use and nothing else:
its built-in defaults also POST (`http_post_2xx`) and speak other protocols, and since it
joins every network, any container that reaches it could have it do so anywhere.
"""

from __future__ import annotations

from typing import Any

from . import backup_rules, household
from .files import GeneratedFile
from .view import CatalogView, container_ports, dump_yaml

BLACKBOX = "blackbox-exporter:9115"
#: services whose own /metrics Prometheus scrapes: service → port
METRICS = {"cadvisor": 8080, "dcgm-exporter": 9400, "blackbox-exporter": 9115, "loki": 3100}
#: Blocky serves /metrics on its HTTP port once its config says `prometheus: {enable: true}`
#: (generate/extras.py writes that); Prometheus reaches it on essential-services
METRICS["blocky"] = 4000


#: the only modules the blackbox exporter runs: a plain GET (no redirect followed, no body)
#: and a TCP connect
BLACKBOX_MODULES: dict[str, Any] = {
    "http_2xx": {
        "prober": "http",
        "timeout": "5s",
        "http": {"method": "GET", "follow_redirects": False, "preferred_ip_protocol": "ip4"},
    },
    "tcp_connect": {"prober": "tcp", "timeout": "5s", "tcp": {"preferred_ip_protocol": "ip4"}},
}


def blackbox(view: CatalogView) -> list[GeneratedFile]:
    path = view.config_dir("blackbox-exporter") / "blackbox.yml"
    content = dump_yaml({"modules": BLACKBOX_MODULES}, "blackbox exporter modules")
    return [GeneratedFile("blackbox-exporter", path, content)]


def _probe_job(name: str, module: str) -> dict[str, Any]:
    return {
        "job_name": name,
        "metrics_path": "/probe",
        "params": {"module": [module]},
        # Prometheus rereads these files when they change: no reload after `up`
        "file_sd_configs": [{"files": [f"targets/{name}.yml"]}],
        "relabel_configs": [
            {"source_labels": ["__address__"], "target_label": "__param_target"},
            {"source_labels": ["__param_target"], "target_label": "instance"},
            {"target_label": "__address__", "replacement": BLACKBOX},
        ],
    }


def http_targets(view: CatalogView) -> list[dict[str, Any]]:
    return [
        {"targets": [route.health_url], "labels": {"service": route.service, "stack": route.stack}}
        for route in view.routes()
    ]


def tcp_targets(view: CatalogView) -> list[dict[str, Any]]:
    """Services without a web UI that listen on TCP (Wyoming, RTSP, SMB): can it connect?"""
    with_web = {route.service for route in view.routes()}
    out = []
    for service in view.enabled:
        if service.id in with_web:
            continue
        tcp = [port for port, protocol in container_ports(service) if protocol == "tcp"]
        if tcp:
            out.append(
                {
                    "targets": [f"{service.id}:{tcp[0]}"],
                    "labels": {"service": service.id, "stack": service.stack},
                }
            )
    return out


def config(view: CatalogView) -> dict[str, Any]:
    jobs: list[dict[str, Any]] = [
        {"job_name": "prometheus", "static_configs": [{"targets": ["localhost:9090"]}]}
    ]
    for name, port in METRICS.items():
        if view.is_on(name):
            jobs.append({"job_name": name, "static_configs": [{"targets": [f"{name}:{port}"]}]})
    if view.is_on("blackbox-exporter"):
        jobs.append(_probe_job("health-http", "http_2xx"))
        jobs.append(_probe_job("health-tcp", "tcp_connect"))
    out: dict[str, Any] = {
        "global": {"scrape_interval": "30s", "evaluation_interval": "30s"},
        "rule_files": ["alerts.yml"],
        "scrape_configs": jobs,
    }
    out["rule_files"].append(backup_rules.FILE)  # when each service was last backed up
    if view.is_on("alertmanager"):  # alerts reach a person (alerting.py routes them)
        out["alerting"] = household.alerting()
    return out


def alerts(view: CatalogView | None = None) -> dict[str, Any]:
    extra = household.groups(view) if view is not None else []
    return {
        "groups": [
            {
                "name": "homestack",
                "rules": [
                    {
                        "alert": "ServiceDown",
                        "expr": "probe_success == 0",
                        "for": "5m",
                        "labels": {"severity": "critical"},
                        "annotations": {
                            "summary": "{{ $labels.service }} ({{ $labels.stack }}) is down",
                            "description": "The health probe of {{ $labels.instance }} has "
                            "failed for 5 minutes.",
                        },
                    },
                    {
                        "alert": "ScrapeTargetDown",
                        "expr": "up == 0",
                        "for": "5m",
                        "labels": {"severity": "warning"},
                        "annotations": {
                            "summary": "{{ $labels.job }} does not answer Prometheus",
                        },
                    },
                ],
            },
            *extra,
        ]
    }


def generate(view: CatalogView) -> list[GeneratedFile]:
    files = {
        "prometheus.yml": (config(view), "scrape jobs and health probes"),
        "alerts.yml": (alerts(view), "alert rules"),
        "targets/health-http.yml": (http_targets(view), "web UIs the blackbox exporter probes"),
        "targets/health-tcp.yml": (tcp_targets(view), "TCP services the blackbox exporter probes"),
    }
    return [view.yaml_file("prometheus", name, *content) for name, content in files.items()]
