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


@pytest.fixture
def xdg(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Claude Desktop's config directory, inside the temporary HOME."""
    config = home / ".config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    return config


def realistic_claude_json(projects: int = 40, history: int = 60) -> str:
    """~/.claude.json as Claude Code leaves it after months: projects, history, counters.

    Written the way Claude Code writes it (JSON.stringify, two spaces), plus a few
    spellings a hand edit or another tool leaves (escapes, exponents, a compact object).
    """
    doc = {
        "numStartups": 187,
        "installMethod": "npm",
        "autoUpdates": False,
        "tipsHistory": {f"tip-{i}": i * 3 for i in range(30)},
        "userID": "9f" * 32,
        "firstStartTime": "2025-03-01T10:00:00.000Z",
        "oauthAccount": {"accountUuid": "00000000-0000-4000-8000-000000000000"},
        "projects": {
            f"/home/dev/src/project-{i}": {
                "allowedTools": ["Bash(npm test:*)"],
                "history": [
                    {
                        "display": f"fix the failing test in module {j} — café ☃",
                        "pastedContents": {},
                    }
                    for j in range(history)
                ],
                "mcpContextUris": [],
                "mcpServers": {},
                "enabledMcpjsonServers": [],
                "hasTrustDialogAccepted": True,
                "lastCost": 0.5 + i,
                "lastTotalInputTokens": 120000 + i,
            }
            for i in range(projects)
        },
        "mcpServers": {
            "theirs": {"type": "stdio", "command": "npx", "args": ["-y", "x"], "env": {}}
        },
    }
    text = json.dumps(doc, indent=2, ensure_ascii=False)
    # What a strict serializer would rewrite: lynkr must not.
    return (
        text.replace('"numStartups": 187', '"numStartups": 1.87e2', 1).replace(
            '"installMethod": "npm"',
            '"installMethod": "n\\u0070m", "homepage": "https:\\/\\/x.io"',
            1,
        )
        + "\n"
    )
