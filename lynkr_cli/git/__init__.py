"""``lynkr git``: the git workflow under policy guards, diff review and release notes.

Use :mod:`lynkr_cli.git.api` from other packages; ``command.py`` is the CLI.
"""
