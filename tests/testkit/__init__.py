"""The shared test-support package: site builders and engine helpers every test folder
imports by name (never by adding another test folder to sys.path).

- testkit.upsites: generated multi-stack sites for up/down/plan (was integration/up_sitegen)
- testkit.observesites: running sites for status/logs/doctor/top (was integration/observe_site)
- sitekit, deploykit, enginekit (top level in tests/): small sites on disk, the deploy tests'
  tiny site, and the engine clean-up / per-run prefixes; conftest.py holds the fixtures.
"""
