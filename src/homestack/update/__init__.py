"""Safe updates: what is outdated (Registry HTTP API v2), update with a pre-update snapshot and
the health gate of `up`, a digest lockfile, history and rollback of image and data."""
