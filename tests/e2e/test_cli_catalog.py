"""The catalog commands through the real entry point: ls, plan, validate, enable, disable,
config, schema; exit codes, --json, errors without tracebacks, help for every command."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer

from homestack.cli import app
from homestack.cli.app import run
from homestack.errors import BadInput
from homestack.models import json_schema
from testkit.engine import REPO
from testkit.sites import make_site, write_tree

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CONSOLE_SCRIPT = Path(sys.executable).parent / "homestack"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("HOMESTACK_SITE", "HOMESTACK_PREFIX", "HOMESTACK_DEBUG", "BIND_ADDRESS"):
        monkeypatch.delenv(key, raising=False)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return make_site(tmp_path / "site")


@pytest.fixture(scope="session")
def compose_cli() -> None:
    """The Compose v2 CLI (no engine needed for `config`): skip locally without it."""
    docker = shutil.which("docker")
    ok = bool(docker) and (
        subprocess.run(
            [docker or "docker", "compose", "version"], capture_output=True, check=False
        ).returncode
        == 0
    )
    if not ok:
        if IN_CI:
            pytest.fail("docker compose is missing (CI=true: these tests must run)")
        pytest.skip("docker compose is not installed")


class Result:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def json(self) -> dict[str, object]:
        data = json.loads(self.out)
        assert isinstance(data, dict)
        return data


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> Result:
    capsys.readouterr()
    code = run(list(argv))
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


def hs(capsys: pytest.CaptureFixture[str], site: Path, *argv: str) -> Result:
    return cli(capsys, "--site", str(site), *argv)


def assert_one_screen_error(result: Result, *needles: str) -> None:
    assert result.code == 2, result.err
    assert "Traceback" not in result.err + result.out
    assert result.err.startswith("error:")
    assert "fix:" in result.err
    assert len(result.err.splitlines()) <= 20
    for needle in needles:
        assert needle in result.err


# ---- ls / plan / validate --offline / schema ---------------------------------------------


def test_ls_text_and_json(capsys: pytest.CaptureFixture[str], site: Path) -> None:
    text = hs(capsys, site, "ls")
    assert text.code == 0
    assert "ollama" in text.out
    assert "whisper" in text.out
    assert "127.0.0.1:8443->443/tcp" in text.out
    assert "3 of 4 services enabled" in text.out
    data = hs(capsys, site, "ls", "--json").json()
    services = data["services"]
    assert isinstance(services, list)
    assert {(s["service"], s["enabled"]) for s in services} == {
        ("ollama", True),
        ("webui", True),
        ("whisper", False),
        ("proxy", True),
    }
    only = hs(capsys, site, "ls", "--json", "essentials").json()["services"]
    assert [s["service"] for s in only] == ["proxy"]  # type: ignore[union-attr,index]


def test_plan_text_and_json(capsys: pytest.CaptureFixture[str], site: Path) -> None:
    text = hs(capsys, site, "plan")
    assert text.code == 0
    assert "1. essentials" in text.out
    assert "2. ai" in text.out
    assert "network" in text.out
    data = hs(capsys, site, "plan", "--json").json()
    assert data["service_waves"] == [["proxy"], ["ollama"], ["webui"]]
    assert data["stack_waves"] == [["essentials"], ["ai"]]
    assert not (site / "DATA").exists()
    assert not (site / "secrets").exists()


def test_validate_offline_text_and_json(capsys: pytest.CaptureFixture[str], site: Path) -> None:
    text = hs(capsys, site, "validate", "--offline")
    data = hs(capsys, site, "validate", "--offline", "--json").json()
    assert data["offline"] is True
    assert data["compose"] == {}
    assert text.code == (1 if data["errors"] else 0)
    assert "compose check skipped (--offline)" in text.out
    assert data["errors"] == 0, data["findings"]


def test_validate_reports_a_planted_defect_with_file_and_line(
    capsys: pytest.CaptureFixture[str], site: Path
) -> None:
    broken = site / "ai-stack/services/webui.docker-compose.yaml"
    broken.write_text("services:\n  webui:\n    image: [x\n", encoding="utf-8")
    result = hs(capsys, site, "validate", "--offline", "--json")
    assert result.code == 1
    findings = result.json()["findings"]
    assert isinstance(findings, list)
    syntax = [f for f in findings if f["rule"] == "yaml.syntax"]
    assert syntax, findings
    assert syntax[0]["file"] == str(broken)
    assert syntax[0]["line"] == 4
    assert syntax[0]["hint"]
    text = hs(capsys, site, "validate", "--offline")
    assert text.code == 1
    assert "ai-stack/services/webui.docker-compose.yaml:4" in text.out
    assert "yaml.syntax" in text.out
    assert "Traceback" not in text.out + text.err


def test_schema_prints_the_models_schema(capsys: pytest.CaptureFixture[str]) -> None:
    result = cli(capsys, "schema")
    assert result.code == 0
    assert json.loads(result.out) == json_schema()


# ---- enable / disable ----------------------------------------------------------------------


def test_enable_disable_round_trip_through_the_cli(
    capsys: pytest.CaptureFixture[str], site: Path
) -> None:
    stack_file = site / "ai-stack/stack.yaml"
    before = stack_file.read_bytes()
    disabled = hs(capsys, site, "disable", "ollama", "webui")
    assert disabled.code == 0
    assert "disabled ollama" in disabled.out
    again = hs(capsys, site, "disable", "ollama", "--json").json()
    assert again == {
        "changed": [],
        "unchanged": ["ollama"],
        "files": [],
        "needed_by": [],
        "needs_disabled": [],
    }
    enabled = hs(capsys, site, "enable", "--json", "ollama", "webui").json()
    assert enabled["changed"] == ["ollama", "webui"]
    assert enabled["files"] == [str(stack_file.resolve())]
    assert stack_file.read_bytes() == before


def test_unknown_service_is_exit_2_with_did_you_mean(
    capsys: pytest.CaptureFixture[str], site: Path
) -> None:
    before = (site / "ai-stack/stack.yaml").read_bytes()
    result = hs(capsys, site, "enable", "wisper")
    assert_one_screen_error(result, "wisper", "Did you mean whisper?")
    assert (site / "ai-stack/stack.yaml").read_bytes() == before
    assert_one_screen_error(hs(capsys, site, "ls", "nope"), "nope")
    assert_one_screen_error(hs(capsys, site, "plan", "olama"), "Did you mean ollama?")


def test_broken_yaml_is_exit_2_naming_the_file(
    capsys: pytest.CaptureFixture[str], site: Path
) -> None:
    (site / "ai-stack/stack.yaml").write_text("services:\n  - ollama\n bad: [\n", "utf-8")
    for command in (["plan"], ["enable", "whisper"], ["config"]):
        result = hs(capsys, site, *command)
        assert_one_screen_error(result, "stack.yaml")


def test_a_broken_file_blocks_only_the_stacks_that_involve_it(
    capsys: pytest.CaptureFixture[str], site: Path, compose_cli: None
) -> None:
    """Editing one service into bad YAML must not lock the owner out of the other stacks."""
    from homestack.catalog import Site
    from homestack.deploy.down import plan_down

    write_tree(
        site,
        {
            "media-stack/stack.yaml": "description: media\nservices:\n  - tv\n",
            "media-stack/services/tv.docker-compose.yaml": "services:\n  tv: [\n",
        },
    )
    ok = hs(capsys, site, "plan", "ai", "--json")
    assert ok.code == 0, ok.err
    assert "tv" not in ok.out
    config = hs(capsys, site, "config", "ai")
    assert config.code == 0, config.err
    for command in (["plan", "media"], ["plan", "tv"], ["plan"], ["plan", "ai", "tv"]):
        assert_one_screen_error(hs(capsys, site, *command), "tv.docker-compose.yaml")
    loaded = Site.load(site)
    assert plan_down(loaded, ["ai"]).targets == ["ollama", "webui"]
    with pytest.raises(BadInput, match=r"tv\.docker-compose\.yaml"):
        plan_down(loaded, ["media"])
    # what a named stack needs counts: ai depends on essentials
    (site / "essentials-stack/services/proxy.docker-compose.yaml").write_text("x: [\n")
    assert_one_screen_error(hs(capsys, site, "plan", "ai"), "proxy.docker-compose.yaml")


def test_debug_shows_the_traceback(capsys: pytest.CaptureFixture[str], site: Path) -> None:
    (site / "ai-stack/stack.yaml").write_text("services:\n  - olama\n", "utf-8")
    quiet = hs(capsys, site, "plan")
    assert quiet.code == 2
    assert "Traceback" not in quiet.err
    loud = cli(capsys, "--debug", "--site", str(site), "plan")
    assert loud.code == 2
    assert "Traceback (most recent call last)" in loud.err
    assert "error: stack.yaml lists 'olama'" in loud.err


def test_global_options_work_after_the_command(
    capsys: pytest.CaptureFixture[str], site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no site here: only --site can find it
    after = cli(capsys, "ls", "--json", "--site", str(site))
    assert after.code == 0, after.err
    assert {s["service"] for s in after.json()["services"]} >= {"ollama", "webui", "whisper"}
    assert cli(capsys, "ls", f"--site={site}").code == 0
    (site / "ai-stack/stack.yaml").write_text("services:\n  - olama\n", "utf-8")
    loud = cli(capsys, "plan", "--site", str(site), "--debug")
    assert loud.code == 2 and "Traceback (most recent call last)" in loud.err


def test_no_site_here_is_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert_one_screen_error(cli(capsys, "ls"), "base.docker-compose.yaml")


def test_usage_errors_are_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(capsys, "no-such-command").code == 2
    assert cli(capsys, "ls", "--no-such-option").code == 2
    assert cli(capsys, "enable").code == 2  # a service name is required


# ---- config / validate with Compose --------------------------------------------------------


def test_validate_with_compose(
    capsys: pytest.CaptureFixture[str], site: Path, compose_cli: None
) -> None:
    data = hs(capsys, site, "validate", "--json").json()
    assert data["compose"] == {"ai": "ok", "essentials": "ok"}
    assert data["errors"] == 0, data["findings"]
    text = hs(capsys, site, "validate", "ai")
    assert text.code == 0
    assert "compose config ai: ok" in text.out


def test_validate_reports_what_compose_rejects(
    capsys: pytest.CaptureFixture[str], site: Path, compose_cli: None
) -> None:
    # valid YAML that only Compose itself refuses: a duration it cannot read
    path = site / "essentials-stack/services/proxy.docker-compose.yaml"
    path.write_text(path.read_text("utf-8").replace("interval: 30s", "interval: soon"), "utf-8")
    data = hs(capsys, site, "validate", "--json").json()
    assert data["compose"]["ai"] == "ok"  # type: ignore[index]
    assert "invalid duration" in data["compose"]["essentials"]  # type: ignore[index]
    assert hs(capsys, site, "validate").code == 1


def test_validate_says_which_stacks_compose_did_not_check(
    capsys: pytest.CaptureFixture[str], site: Path, compose_cli: None
) -> None:
    path = site / "ai-stack/services/webui.docker-compose.yaml"
    path.write_text(path.read_text("utf-8").replace("    restart:", "\trestart:", 1), "utf-8")
    text = hs(capsys, site, "validate")  # ai was left out of the compose lines without a word
    assert text.code == 1
    assert "compose config ai: skipped (fix the YAML errors above first)" in text.out
    assert "compose config essentials: ok" in text.out
    data = hs(capsys, site, "validate", "--json").json()
    assert data["compose"] == {"essentials": "ok"}
    assert data["compose_skipped"] == ["ai"]


def test_config_is_the_merged_model(
    capsys: pytest.CaptureFixture[str], site: Path, compose_cli: None
) -> None:
    write_tree(
        site,
        {
            ".env": "HOMESTACK_PREFIX=e2e_\nBIND_ADDRESS=127.0.0.1\nDATA_ROOT=./DATA\n",
            "ai-stack/.env": "OLLAMA_PORT=12345\n",  # the stack layer beats the root one
        },
    )
    data = hs(capsys, site, "config", "--json").json()
    assert set(data) == {"ai", "essentials"}
    ai = data["ai"]
    assert isinstance(ai, dict)
    assert ai["name"] == "e2e_ai"
    assert set(ai["services"]) == {"ollama", "webui"}
    ports = ai["services"]["ollama"]["ports"]
    assert ports[0]["published"] == "12345"
    assert ports[0]["host_ip"] == "127.0.0.1"
    assert ai["volumes"]["ai_ollama_data"]["name"] == "e2e_ai_ollama_data"
    assert ai["networks"]["ai-services"]["name"] == "e2e_ai-services"
    text = hs(capsys, site, "config", "essentials")
    assert text.code == 0
    assert "# stack essentials" in text.out
    assert "proxy:" in text.out


def test_config_of_a_stack_with_nothing_enabled_says_so(
    capsys: pytest.CaptureFixture[str], site: Path, compose_cli: None
) -> None:
    (site / "ai-stack/stack.yaml").write_text("services:\n  # - ollama\n", "utf-8")
    text = hs(capsys, site, "config", "ai")  # printed nothing at all
    assert text.code == 0
    assert "# stack ai: no service enabled" in text.out
    assert hs(capsys, site, "config", "ai", "--json").json() == {}


def test_config_with_a_required_variable_unset_is_bad_input(
    capsys: pytest.CaptureFixture[str], site: Path, compose_cli: None
) -> None:
    path = site / "ai-stack/services/ollama.docker-compose.yaml"
    text = path.read_text("utf-8").replace(
        "    restart:",
        "    environment:\n      KEY: ${OLLAMA_KEY:?set it in .env}\n    restart:",
        1,
    )
    path.write_text(text, "utf-8")
    result = hs(capsys, site, "config", "ai")  # was compose's words and exit 1
    assert_one_screen_error(result, "OLLAMA_KEY", "set it in .env", "ai-stack/services/ollama/.env")
    path.write_text(text.replace(":?set it in .env}", ":?}"), "utf-8")  # no message
    assert_one_screen_error(hs(capsys, site, "config", "ai"), "OLLAMA_KEY is not set")


# ---- without Docker ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def path_without_docker(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A PATH with every tool this machine has, except docker."""
    folder = tmp_path_factory.mktemp("bin-without-docker")
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        if not directory or not Path(directory).is_dir():
            continue
        for tool in Path(directory).iterdir():
            target = folder / tool.name
            if tool.name.startswith("docker") or target.exists():
                continue
            target.symlink_to(tool)
    return str(folder)


def console(site: Path, path: str, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOMESTACK_")}
    env["PATH"] = path
    return subprocess.run(
        [str(CONSOLE_SCRIPT), "--site", str(site), *argv],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )


def test_without_docker_read_only_commands_work(site: Path, path_without_docker: str) -> None:
    for command in (["ls"], ["plan"], ["validate", "--offline"], ["ls", "--json"]):
        done = console(site, path_without_docker, *command)
        assert done.returncode == 0, (command, done.stderr)
        assert "Traceback" not in done.stderr


def test_without_docker_config_and_validate_say_so(site: Path, path_without_docker: str) -> None:
    for command in (["config"], ["validate"], ["validate", "--json"]):
        done = console(site, path_without_docker, *command)
        assert done.returncode == 1, (command, done.stdout, done.stderr)
        assert "docker command is not installed" in done.stderr
        assert "fix:" in done.stderr
        assert "Traceback" not in done.stderr


def test_without_compose_plugin_fake_docker(site: Path, tmp_path: Path) -> None:
    # the real docker CLI always finds the system-wide plugin, so a stand-in `docker` that
    # has no `compose` subcommand plays a host with Docker but without Compose v2
    fake = tmp_path / "fakebin"
    fake.mkdir()
    script = fake / "docker"
    script.write_text(
        "#!/bin/sh\necho \"docker: 'compose' is not a docker command.\" >&2\nexit 1\n"
    )
    script.chmod(0o755)
    path = f"{fake}{os.pathsep}{os.environ.get('PATH', '')}"
    done = console(site, path, "config")
    assert done.returncode == 1
    assert "Compose v2" in done.stderr
    assert "Traceback" not in done.stderr
    assert console(site, path, "ls").returncode == 0


def test_console_script_is_the_same_cli(site: Path) -> None:
    done = console(site, os.environ.get("PATH", ""), "ls", "--json")
    assert done.returncode == 0, done.stderr
    assert {s["service"] for s in json.loads(done.stdout)["services"]} == {
        "ollama",
        "webui",
        "whisper",
        "proxy",
    }
    bad = console(site, os.environ.get("PATH", ""), "disable", "olama")
    assert bad.returncode == 2
    assert "Did you mean ollama?" in bad.stderr
    assert "Traceback" not in bad.stderr


# ---- every command has help ------------------------------------------------------------------


def _commands(group: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command path under a click group (typer vendors click, so duck-typed)."""
    found = [path] if path else []
    for name, command in sorted(getattr(group, "commands", {}).items()):
        if not command.hidden:
            found += _commands(command, (*path, name))
    return found


def test_every_command_has_help_text(capsys: pytest.CaptureFixture[str]) -> None:
    root = typer.main.get_command(app)
    commands = _commands(root)
    names = {" ".join(path) for path in commands}
    assert {"ls", "enable", "disable", "config", "validate", "plan", "schema"} <= names
    missing = []
    for path in commands:
        command = root
        for part in path:
            command = command.commands[part]  # type: ignore[attr-defined]
        if not (command.help or command.short_help or "").strip():
            missing.append(" ".join(path))
        result = cli(capsys, *path, "--help")
        assert result.code == 0, (path, result.err)
        assert "Usage:" in result.out
    assert missing == [], f"commands without help text: {missing}"


def test_reporting_commands_have_json(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("ls", "plan", "validate", "config", "enable", "disable"):
        assert "--json" in cli(capsys, command, "--help").out, command


def test_shipped_catalog_validates_offline_without_errors(
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = cli(capsys, "--site", str(REPO), "validate", "--offline", "--json").json()
    errors = [f for f in data["findings"] if f["severity"] == "error"]  # type: ignore[union-attr,index]
    assert errors == []


def test_ctrl_c_says_interrupted_and_exits_130(
    capsys: pytest.CaptureFixture[str], site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C arrives as KeyboardInterrupt inside a command; Typer makes it exit 130."""
    import homestack.plan

    def interrupted(*_: object, **__: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(homestack.plan, "make_plan", interrupted)
    result = hs(capsys, site, "plan")
    assert (result.code, result.err.strip(), result.out) == (130, "interrupted", "")
