"""What a one-off restic task on the data node gets bind-mounted (swarm mode)."""

from __future__ import annotations

from homestack.swarm.data import Bind, _binds


def test_a_backup_binds_its_repository_folder_writable_and_its_paths_read_only() -> None:
    args = [
        "--json",
        "backup",
        "--host",
        "homestack",
        "--tag",
        "service=ollama",
        "--exclude",
        "/srv/DATA/ollama/models/blobs",
        "/srv/DATA/ollama",
        "/srv/DATA/config/ollama",
    ]
    assert _binds(args, "/srv/DATA/backups/ollama") == [
        Bind("/srv/DATA/backups/ollama", True),
        Bind("/srv/DATA/ollama", False),
        Bind("/srv/DATA/config/ollama", False),
    ]


def test_a_restore_binds_only_its_staging_folder_writable_besides_the_repository() -> None:
    args = ["restore", "0123abcd", "--target", "/srv/DATA/.homestack/restore-x", "--verify"]
    assert _binds(args, "/srv/DATA/backups/x") == [
        Bind("/srv/DATA/backups/x", True),
        Bind("/srv/DATA/.homestack/restore-x", True),
    ]


def test_a_path_inside_a_bound_folder_is_not_bound_again() -> None:
    args = ["backup", "/b/repo/x", "/b/data", "/b/data/sub"]
    assert _binds(args, "/b/repo") == [Bind("/b/repo", True), Bind("/b/data", False)]
