"""The gateway's server-side tools (builtin, files, devtools) and the tool loop (loop.py)."""
