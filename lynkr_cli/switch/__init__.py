"""``lynkr switch``: environment profiles for Claude Code.

- :mod:`.profiles`: profiles in the shared ``lynkr.db`` (one transaction per change).
- :mod:`.presets`: the shipped presets (``presets.json``) and first-use resolution.
- :mod:`.targets`: the Claude Code settings files it edits (only managed ``env`` keys).
- :mod:`.links`: ``lynkr://`` and ``ccswitch://`` links, and cc-switch's database.
- :mod:`.conflicts`: risky extra variables and competing ``ANTHROPIC_*`` sources.
- :mod:`.shell`: export lines for bash, zsh, fish and PowerShell.
- :mod:`.probe`: reachability, time to first byte, and a 1-token probe.
"""
