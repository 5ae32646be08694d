"""The team gateway: issued keys, limits and budgets, usage accounting and the audit log.

:mod:`lynkr_cli.team.api` is what the gateway calls (``Team``); ``command*.py`` are the
``lynkr keys``, ``lynkr usage`` and ``lynkr audit`` commands. Nothing here imports aiohttp.
"""
