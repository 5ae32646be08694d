"""The command lines ``entry.py`` runs before Typer loads. Generated: do not edit.

Written by ``scripts/gen_entry_table.py`` from ``cli.entry_table()``, which reads the
Typer app's own parameter declarations; ``tests/core/test_entry.py`` fails when they
and this table differ. An option maps to (its keyword, its kind): ``flag``, ``count``,
``str`` and ``path`` are read as Typer reads them; ``stop`` leaves the command line to
Typer (help, version, completion).
"""

from typing import Any

ROOT: dict[str, Any] = {
    "arguments": (),
    "defaults": {"config": None, "quiet": False, "verbose": 0},
    "options": {
        "--config": ("config", "path"),
        "--help": (None, "stop"),
        "--install-completion": (None, "stop"),
        "--quiet": ("quiet", "flag"),
        "--show-completion": (None, "stop"),
        "--verbose": ("verbose", "count"),
        "--version": (None, "stop"),
        "-h": (None, "stop"),
        "-q": ("quiet", "flag"),
        "-v": ("verbose", "count"),
    },
    "run": "lynkr_cli.entry:configure",
}
GROUPS: dict[str, Any] = {
    "index": {"commands": ("build", "defs", "map", "refs", "search", "stats"), "default": "build"}
}
COMMANDS: dict[str, Any] = {
    "index build": {
        "arguments": (("path", "str"),),
        "defaults": {
            "check": False,
            "full": False,
            "json_output": False,
            "no_claude_md": False,
            "path": ".",
            "root": None,
            "stdout": False,
        },
        "options": {
            "--check": ("check", "flag"),
            "--full": ("full", "flag"),
            "--help": (None, "stop"),
            "--json": ("json_output", "flag"),
            "--no-claude-md": ("no_claude_md", "flag"),
            "--root": ("root", "str"),
            "--stdout": ("stdout", "flag"),
            "-C": ("root", "str"),
            "-h": (None, "stop"),
        },
        "run": "lynkr_cli.index.service:build_command",
    }
}
