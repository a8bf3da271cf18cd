"""The message of a failed pull: compose's progress noise left out, every image named."""

from __future__ import annotations

from homestack.deploy.projects import pull_error, pull_failure, registry_error

REFUSED = 'Get "http://127.0.0.1:5999/v2/": dial tcp 127.0.0.1:5999: connect: connection refused'


def test_the_reason_drops_compose_progress_and_the_service_prefix() -> None:
    stderr = (
        " open-webui Skipped - Image is already being pulled by web \n"
        " web Pulling \n"
        f" web Error {REFUSED}\n"
        " open-webui  Interrupted\n"
    )
    assert pull_failure(stderr) == REFUSED


def test_images_with_one_reason_share_one_line() -> None:
    error = pull_error([("a:1 (ai: a)", REFUSED), ("b:2 (media: b)", REFUSED)], standin_hint=False)
    assert (
        error.message
        == f"cannot pull a:1 (ai: a), b:2 (media: b): no image registry is reachable ({REFUSED})"
    )
    assert "--stand-in" not in (error.hint or "")


def test_images_with_their_own_reasons_get_a_line_each() -> None:
    denied = "pull access denied for b, repository does not exist"
    error = pull_error([("a:1", REFUSED), ("b:2", denied)], standin_hint=True)
    assert error.message.splitlines() == [
        "cannot pull 2 images:",
        f"  a:1: no image registry is reachable ({REFUSED})",
        f"  b:2: {denied}",
    ]
    assert "--stand-in" in (error.hint or "")


def test_registry_error_keeps_its_one_reason_form() -> None:
    error = registry_error(["x:1 (service x)"], f"x Error {REFUSED}\n", standin_hint=True)
    assert (
        error.message == f"cannot pull x:1 (service x): no image registry is reachable ({REFUSED})"
    )


def test_the_stand_in_hint_names_the_command_the_user_ran() -> None:
    """The command line comes from the Context (Context.command), not a process global."""

    def hint(command: list[str] | None) -> str:
        return registry_error(["x:1"], REFUSED, standin_hint=True, command=command).hint or ""

    installer = hint(["install", "all", "--stack", "media"])  # ./install-stack.sh runs this
    assert "`./install-stack.sh --stand-in`" in installer
    assert "homestack up --stand-in" not in installer
    assert "`homestack up --stand-in`" in hint(["up", "media"])
    assert "install-stack" not in hint(["up", "media"])
    # outside the CLI (a library call): both forms
    assert "homestack up --stand-in" in hint(None) and "./install-stack.sh --stand-in" in hint(None)
