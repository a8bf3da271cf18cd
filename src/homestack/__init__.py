"""homestack: one tool to install, validate, deploy, watch and back up a home server."""

__version__ = "0.1.0"
