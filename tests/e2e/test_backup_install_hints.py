"""The fixes for a missing restic or static busybox name commands that install them:
`sudo apt-get install …`, or `sudo ./install-stack.sh` (its `homestack install all` has a
`tools` part). The hint said `homestack install`, a group that only prints its help."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from test_backup_preflight import _backup, _no_password, site

pytestmark = pytest.mark.e2e
__all__ = ["site"]


def test_restic_missing_names_a_command_that_installs_it(site: Path) -> None:
    # docker lives in /usr/local/bin here, restic in /usr/bin: a PATH without restic
    path = os.pathsep.join([str(Path(sys.executable).parent), "/usr/local/bin"])
    code, output, written = _backup(site, "ollama", PATH=path)
    assert code == 1, output
    assert "restic is not installed" in output
    assert "`sudo apt-get install restic`" in output
    assert "`sudo ./install-stack.sh`" in output
    assert "(or `homestack install`)" not in output  # a group that only prints its help
    _no_password(site, output)
    assert written == [], written


def test_the_named_install_commands_exist() -> None:
    """The hints name `homestack install all` (the tools part installs restic and a static
    busybox): it must be a real subcommand, and install-stack.sh must run it."""
    from homestack.backup.restic import INSTALL_HINT
    from homestack.cli.app import run

    assert "homestack install all" in INSTALL_HINT
    assert run(["install", "all", "--help"]) == 0
    script = (Path(__file__).resolve().parents[2] / "install-stack.sh").read_text()
    assert "install all" in script
    tools = (
        Path(__file__).resolve().parents[2] / "src/homestack/host/tools_install.py"
    ).read_text()
    assert '"restic"' in tools and '"busybox-static"' in tools


def test_busybox_missing_hint_names_a_command_that_installs_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from homestack import standin_image
    from homestack.errors import OperationFailed

    monkeypatch.setattr(standin_image, "BUSYBOX_CANDIDATES", ("/nonexistent/busybox",))
    with pytest.raises(OperationFailed) as caught:
        standin_image.find_static_busybox()
    assert "`sudo apt-get install busybox-static`" in (caught.value.hint or "")
    assert "`sudo ./install-stack.sh`" in (caught.value.hint or "")
