"""``lynkr mcp``: server discovery (manifests), the SDK client, the gateway pool, the sandbox."""
