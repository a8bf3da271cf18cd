"""A user or group id chown cannot take (above 2**32-2) is refused where it is read: an
x-homestack uid/gid (the service's or a secret's) is a meta.schema problem at its line, a
numeric compose `user:` (after interpolation: ${PUID}) is BadInput from container_user,
naming the file, the service and where the value comes from (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.errors import BadInput, ExitStatus
from homestack.models import MAX_ID
from testkit.sites import service_file, tiny_site

TOO_BIG = 2**32 - 1  # chown's "leave unchanged"; anything above overflowed chown


@pytest.mark.parametrize(
    ("meta", "key"),
    [
        (f"uid: {TOO_BIG}", "uid"),
        (f"uid: 1000\ngid: {2**40}", "gid"),
        (f"secrets:\n  - name: token\n    uid: {TOO_BIG}", "secrets.0.uid"),
    ],
)
def test_an_x_homestack_id_past_the_limit_is_a_schema_problem_at_its_line(
    tmp_path: Path, meta: str, key: str
) -> None:
    root = tiny_site(tmp_path / "site", {"app": service_file("app", meta=meta, volume=False)})
    site = Site.load(root)
    (problem,) = site.service("app").problems
    assert problem.rule == "meta.schema"
    assert problem.message.startswith(f"services.app.x-homestack.{key}:")
    text = (root / "ai-stack/services/app.docker-compose.yaml").read_text(encoding="utf-8")
    big = (str(TOO_BIG), str(2**40))
    line = next(n for n, t in enumerate(text.splitlines(), 1) if any(b in t for b in big))
    assert problem.line == line
    assert problem.hint is not None and str(MAX_ID) in problem.hint
    with pytest.raises(BadInput):
        site.require_valid()


def test_the_largest_id_chown_takes_is_accepted(tmp_path: Path) -> None:
    meta = f"uid: {MAX_ID}\ngid: {MAX_ID}"
    root = tiny_site(tmp_path / "site", {"app": service_file("app", meta=meta, volume=False)})
    site = Site.load(root)
    assert site.service("app").problems == []
    assert site.container_user(site.service("app")) == (MAX_ID, MAX_ID)


def test_a_compose_user_past_the_limit_names_the_file_service_and_variable(
    tmp_path: Path,
) -> None:
    root = tiny_site(
        tmp_path / "site",
        {"app": service_file("app", body='user: "${PUID:-1000}:${PGID:-1000}"', volume=False)},
        env=f"PUID={TOO_BIG}\nPGID=1000\n",
    )
    site = Site.load(root)
    site.require_valid()  # the files are fine; the value is what is wrong
    with pytest.raises(BadInput) as caught:
        site.container_user(site.service("app"))
    error = caught.value
    assert error.exit_status == ExitStatus.USAGE
    assert error.service == "app"
    assert error.file == str(root / "ai-stack/services/app.docker-compose.yaml")
    assert f"app runs as {TOO_BIG}:1000, which is not a user id (0 to {MAX_ID})" in error.message
    assert "PUID" in (error.hint or "")


def test_a_literal_compose_user_past_the_limit_is_refused(tmp_path: Path) -> None:
    root = tiny_site(
        tmp_path / "site",
        {"app": service_file("app", body=f'user: "{2**40}"', volume=False)},
    )
    site = Site.load(root)
    with pytest.raises(BadInput, match="not a user id"):
        site.container_user(site.service("app"))
