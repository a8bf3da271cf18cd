"""Operate a running site: status, top, logs and doctor.

Each operation returns a plain result object with `to_data()`; the CLI renders it.
"""
