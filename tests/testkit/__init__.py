"""The shared test-support package: every test folder (and the benchmarks) imports it by
name, never by adding another test folder to sys.path.

- testkit.engine: the repository, per-run prefixes and the clean-up by prefix (the leak check),
  `docker`, container names and state, test networks, `start`, polling, free ports;
- testkit.sites: the one site builder (`write_site`, `compose_service`) and its presets
  (`make_site`, `tiny_site`, `running_site`, `up_site`, `copy_catalog`);
- testkit.backupsites: the backup tests' site and its `backup_site` fixture;
- testkit.dashboard: the dashboard tests' site, a private network namespace, `serve`;
- testkit.registry: a real local registry with stand-in images pushed under several tags;
- testkit.receiver: a loopback HTTP receiver for notifications;
- testkit.cli: the CLI in this process (`cli_output`) or on a closed pipe (`closed_early`);
- testkit.jsonsnap: the `--json` contract's snapshots and their normalisation.

conftest.py holds the fixtures; tests/swarmkit.py the swarm lab (issue 21).
"""
