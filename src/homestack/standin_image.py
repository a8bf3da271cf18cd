"""The stand-in image: a tiny image built offline from the host's static busybox.

`homestack up --stand-in IMAGE` runs it in place of every service image, so a topology can
be rehearsed (networks, secrets, volumes, order, health) without pulling gigabytes, and the
tests can deploy every shipped stack with no registry. It has `sh`, `httpd`, `nc`, `wget`.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from .engine.images import build_image, image_exists
from .errors import OperationFailed

DEFAULT_TAG = "homestack/standin:local"
BUSYBOX_CANDIDATES = ("/bin/busybox", "/usr/bin/busybox", "/usr/lib/busybox/busybox")
DOCKERFILE = """FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
LABEL org.homestack.standin="1"
CMD ["sh"]
"""


def static_busybox(where: Callable[[str], Path] = Path) -> str | None:
    """The first statically linked busybox among BUSYBOX_CANDIDATES, as its host path.

    `where` maps a host path to the file to read (HostProbe.path, for a recorded host's root).
    A dynamically linked busybox names its loader in its first bytes; the stand-in image has no
    loader, so that one would not run there.
    """
    for candidate in BUSYBOX_CANDIDATES:
        path = where(candidate)
        try:
            with path.open("rb") as binary:
                head = binary.read(65536)
        except OSError:  # missing, a folder, unreadable
            continue
        if b"ld-linux" not in head and b"/lib64/ld" not in head:
            return candidate
    return None


def find_static_busybox() -> Path:
    found = static_busybox()
    if found is None:
        raise OperationFailed(
            "no static busybox found to build the stand-in image",
            "Install Debian's busybox-static package: `sudo apt-get install busybox-static` "
            "(or `sudo ./install-stack.sh`, whose `homestack install all` installs it with the "
            "rest of the host's tools).",
        )
    return Path(found)


def ensure_image(tag: str = DEFAULT_TAG) -> str:
    """Build the stand-in image unless it exists; returns its tag."""
    if image_exists(tag):
        return tag
    busybox = find_static_busybox()
    with tempfile.TemporaryDirectory(prefix="homestack-standin-") as folder:
        context = Path(folder)
        shutil.copy2(busybox, context / "busybox")
        (context / "Dockerfile").write_text(DOCKERFILE, encoding="utf-8")
        build_image(context, tag)
    return tag
