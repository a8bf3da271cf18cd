"""Run `up` from Python and print its events as they come: what a dashboard or a script does.

    python docs/examples/up_events.py SITE [SERVICE_OR_STACK ...]
"""

import sys
from pathlib import Path

from homestack.api import Context, up
from homestack.catalog import Site
from homestack.events import Event, LockWaiting, ServiceChanged


def show(event: Event) -> None:
    """The event sink: called for each event, from up's worker threads too."""
    if isinstance(event, ServiceChanged):
        run = event.run
        print(f"{run.stack}/{run.service}: {run.state} {run.detail}".rstrip(), flush=True)
    elif isinstance(event, LockWaiting):
        print(event.line(), flush=True)


def main(argv: list[str]) -> int:
    site = Site.load(Path(argv[0]))
    ctx = Context.for_site(site, sink=show)  # the real lock, clock and engine
    result = up(ctx, argv[1:] or None)  # takes the site lock itself
    print(result.summary())
    for run in result.failed:
        print(f"failed: {run.service}: {run.detail}")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
