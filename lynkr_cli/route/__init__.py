"""``lynkr route``: scenario routing seen from the command line (``route explain``)."""
