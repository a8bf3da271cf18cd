"""What a backup or restore killed -9 left (its service stopped or paused, a half swap),
put back by the next homestack command of any kind, not only the next backup or `up`.

Outside the backup package on purpose: every command imports this, and the package's
__init__ pulls in restic, restore and the timer (~75 ms), which only a journal found needs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .backup_record import state_dir
from .errors import HomestackError

if TYPE_CHECKING:
    from .catalog import Site

JOURNAL_SUFFIX = ".journal.json"


def recover_leftovers(site: Site) -> list[str]:
    """Recover every service whose journal outlived its process (a live backup holds its
    service lock and is left alone); returns what was done, for the user. Costs one folder
    listing when there is nothing to do."""
    folder = state_dir(site)
    try:
        journals = sorted(folder.glob(f"*{JOURNAL_SUFFIX}"))
    except OSError:
        return []
    if not journals:
        return []
    from .backup.lock import ServiceBusy, ServiceLock
    from .backup.recover import recover

    done: list[str] = []
    for path in journals:
        name = path.name.removesuffix(JOURNAL_SUFFIX)
        try:
            service = site.service(name)
            with ServiceLock(folder, name, "recover"):
                done += [f"{name}: {line}" for line in recover(site, service)]
        except ServiceBusy:
            continue  # its backup or restore is alive and puts things back itself
        except (HomestackError, OSError) as error:
            reason = error.message if isinstance(error, HomestackError) else str(error)
            done.append(f"{name}: could not finish an interrupted backup or restore: {reason}")
    return done
