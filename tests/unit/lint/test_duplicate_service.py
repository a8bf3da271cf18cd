"""service.duplicate: a service name in two stacks is reported in both files, each naming
the other (as ports.conflict and web.subdomain do), not only in the one loaded second."""

from __future__ import annotations

from pathlib import Path

from lintkit import Case, lint, service, stack_yaml

AI = "ai-stack/services/web.docker-compose.yaml"
MEDIA = "media-stack/services/web.docker-compose.yaml"


def test_both_files_get_a_finding_naming_the_other(tmp_path: Path) -> None:
    root = Case(
        "service.duplicate",
        {
            "media-stack/stack.yaml": stack_yaml(["web"]),
            MEDIA: service("web", "media", 18081).replace("ai-services", "media-services"),
        },
    ).write(tmp_path)
    found = {f.file: f for f in lint(root) if f.rule == "service.duplicate"}
    assert sorted(found) == sorted([root / AI, root / MEDIA])
    assert "media (media-stack/services/web.docker-compose.yaml)" in found[root / AI].message
    assert "ai (ai-stack/services/web.docker-compose.yaml)" in found[root / MEDIA].message
    assert all(f.service == "web" and f.hint for f in found.values())
