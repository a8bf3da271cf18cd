"""Finish or undo what a killed backup or restore left behind (run holding the lock)."""

from __future__ import annotations

from pathlib import Path

from ..backup_record import state_dir
from ..catalog import Service, Site
from ..engine import backup_ops
from . import config
from .journal import Journal, remove_path
from .restic import end_orphan


def recover(site: Site, service: Service) -> list[str]:
    """Undo an interrupted operation on `service`; returns what was done, for the user."""
    folder = state_dir(site)
    journal = Journal.load(folder, service.id)
    if journal is None:
        return []
    done: list[str] = []
    # a restic the killed run left going still reads (or writes) the data: end it before
    # anything is put back or the service started on that data
    if end_orphan(journal.restic_pid, config.repository(site, service.id)):
        done.append(
            f"ended restic (pid {journal.restic_pid}), left running by an interrupted {journal.op}"
        )
    if journal.op == "restore":
        if journal.phase == "cleanup":
            if not journal.keep_previous:
                for swap in journal.swaps:
                    remove_path(Path(swap.previous))
            done.append("finished an interrupted restore (it had come back healthy)")
        elif journal.swaps:
            # the container may already run on the restored data: stop it before the renames
            if backup_ops.state(site, service).running:
                backup_ops.stop(site, service)
            for swap in reversed(journal.swaps):
                swap.undo()
            done.append(
                f"undid an interrupted restore (phase {journal.phase}): previous data put back"
            )
        else:
            done.append(f"cleaned up an interrupted restore (phase {journal.phase})")
    if journal.staging:
        remove_path(Path(journal.staging))
    if journal.dump_temp:
        remove_path(Path(journal.dump_temp))
    if journal.was_running or journal.was_paused:
        current = backup_ops.state(site, service)
        if current.paused and not journal.was_paused:
            backup_ops.unpause(site, service)
            backup_ops.wait_fresh_health(site, service)  # not the frozen probes' verdict
            done.append(f"unpaused {service.id}, left paused by an interrupted {journal.op}")
        elif current.exists and not current.running and not current.paused:
            backup_ops.start(site, service)
            done.append(f"started {service.id}, left stopped by an interrupted {journal.op}")
            if journal.was_paused:  # a stop backup of a paused service: paused it was
                backup_ops.pause(site, service)
                done.append(f"paused {service.id} again, as it was before the {journal.op}")
    if journal.op == "backup" and not done:
        done.append(f"cleaned up an interrupted backup (phase {journal.phase})")
    Journal.clear(folder, service.id)
    return done
