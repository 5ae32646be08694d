"""The guard: secrets and personal data found, redacted or refused before a request leaves.

The facade is :mod:`lynkr_cli.guard.api`; ``lynkr guard scan`` is :mod:`.command`.
"""
