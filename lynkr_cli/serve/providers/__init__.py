"""Upstream provider families; each module is registered by ``lynkr_cli.serve.plugin``."""
