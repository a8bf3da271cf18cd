"""Deploying a site: networks, secrets, DATA folders (then `up`/`down` in waves)."""

from .data import DataReport, ensure_data
from .networks import NetworksReport, ensure_networks
from .secrets import SecretsListing, SecretsReport, ensure_secrets, list_secrets

__all__ = [
    "DataReport",
    "NetworksReport",
    "SecretsListing",
    "SecretsReport",
    "ensure_data",
    "ensure_networks",
    "ensure_secrets",
    "list_secrets",
]
