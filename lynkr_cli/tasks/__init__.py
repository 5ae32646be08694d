"""``lynkr tasks``: a per-workspace TODO list in the shared database (store.py)."""
