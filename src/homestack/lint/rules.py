"""The lint rules. Each yields Findings for one concern, identified by a stable id."""

from __future__ import annotations

from collections.abc import Iterator

from .core import Finding, LintContext, Severity, rule


@rule("image.unpinned", "images carry a release tag, never `latest` or none")
def image_unpinned(context: LintContext) -> Iterator[Finding]:
    for service in context.site.services():
        image = service.compose.get("image")
        if not isinstance(image, str) or not image:
            continue
        name = image.split("@", 1)[0]
        tag = name.rsplit(":", 1)[1] if ":" in name.rsplit("/", 1)[-1] else ""
        if "@sha256:" in image:
            continue
        if tag in ("", "latest", "main", "master", "stable", "edge", "nightly"):
            yield Finding(
                "image.unpinned",
                Severity.ERROR,
                f"image {image!r} is not pinned to a release",
                service.file,
                service.doc.line("services", service.id, "image") if service.doc else 1,
                service.id,
                "Pin a release tag (e.g. name:1.2.3) or a digest, so `up` is repeatable.",
            )
