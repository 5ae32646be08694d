"""The gateway: an Anthropic Messages API server in front of any upstream."""
