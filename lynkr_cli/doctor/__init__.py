"""``lynkr doctor``: every check registered through ``register_doctor_checks``, run and reported.

- :mod:`.runner`: the context checks receive, running them (in threads, each
  bounded), and the exit code (0 all ok, 1 any fail; warnings too with --strict).
- :mod:`.checks`: registers the built-in checks, implemented in
  :mod:`.checks_env` (Python, settings, credentials, Claude Code's environment),
  :mod:`.checks_net` (upstream, Claude Code's target, gateway) and
  :mod:`.checks_system` (git, index, grammars, MCP, cache, Docker).
"""
