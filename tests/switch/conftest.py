"""A temporary HOME and project directory holding real Claude Code files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

# A user settings file as people really have it: lynkr must leave all of this alone.
USER_SETTINGS = {
    "$schema": "https://json.schemastore.org/claude-code-settings.json",
    "statusLine": {"type": "command", "command": "~/.claude/statusline.sh", "padding": 0},
    "permissions": {
        "allow": ["Bash(npm run test:*)", "Read(~/.zshrc)"],
        "deny": ["Read(./.env)", "Read(./secrets/**)"],
        "defaultMode": "acceptEdits",
    },
    "env": {
        "DISABLE_TELEMETRY": "1",
        "ANTHROPIC_AUTH_TOKEN": "sk-old-token-0000000000",
        "ANTHROPIC_SMALL_FAST_MODEL": "claude-3-5-haiku",
        "ANTHROPIC_BASE_URL": "https://old.example.com",
        "BASH_DEFAULT_TIMEOUT_MS": "60000",
    },
    "enabledPlugins": {"formatter@acme-tools": True, "security-guidance@claude-code": False},
    "model": "opus",
    "hooks": {"PostToolUse": [{"matcher": "Edit", "hooks": [{"type": "command", "command": "x"}]}]},
}


@pytest.fixture
def user_settings(home: Path) -> Path:
    path = home / ".claude" / "settings.json"
    path.write_text(json.dumps(USER_SETTINGS, indent=2) + "\n")
    return path
