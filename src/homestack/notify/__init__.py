"""Alerts that reach a person: homestack's own events through Apprise (channel, events),
and Alertmanager's firing alerts and silences (alerts)."""
