"""The host itself: OS release, Docker Engine, GPU drivers, and `install all`.

Every probe and every change goes through `probe.HostProbe`, so plans can be tested on
recorded hosts. Submodules are imported where needed; this package imports nothing heavy.
"""
