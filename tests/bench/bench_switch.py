"""What switching and doctoring cost, as ratios to baselines measured in the same run.

1. In process: one safe settings write (plan, backup, temp file + fsync + rename, 0600,
   activation recorded in SQLite) against a naive read-modify-``json.dump`` of the same
   file, the cost of safety. Then the same for MCP servers written into a ~300 KB
   ``~/.claude.json`` (Claude Code's lock, token-level edit, checked exchange).
2. In process: scanning a HOME with large shell rc files, ``.env`` and settings for
   competing ``ANTHROPIC_*`` sources, against just reading those files.
3. Whole processes: ``lynkr switch NAME``, ``lynkr switch --json`` and ``lynkr doctor
   --json`` against ``lynkr --version`` (the CLI's own start-up), run interleaved.

Runs in a temporary HOME and LYNKR_HOME; touches nothing of yours. ``BENCH_RUNS`` sets
the repetitions.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

RUNS = int(os.environ.get("BENCH_RUNS", "15"))
SETTINGS = {
    "statusLine": {"type": "command", "command": "~/.claude/statusline.sh"},
    "permissions": {"allow": [f"Bash(tool-{i}:*)" for i in range(200)], "deny": []},
    "enabledPlugins": {f"plugin-{i}@market": True for i in range(50)},
    "env": {"DISABLE_TELEMETRY": "1", "ANTHROPIC_AUTH_TOKEN": "sk-old-000000000000"},
}


def median_ms(fn: Callable[[], object], runs: int = RUNS) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def row(name: str, ms: float, base: float) -> str:
    return f"  {name:52} {ms:9.2f} ms  {ms / base:7.2f}x"


def bench_write(home: Path) -> list[str]:
    from pydantic import SecretStr

    from lynkr_cli.switch import activate, profiles

    path = home / ".claude" / "settings.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = profiles.connect()
    # Loopback URLs with nothing listening: doctor's reachability checks fail fast, offline.
    pair = [
        profiles.Profile("a", "http://127.0.0.1:1/a", SecretStr("sk-a-0000000000000")),
        profiles.Profile(
            "b",
            "http://127.0.0.1:1/b",
            SecretStr("tok-b-000000000000"),
            key_field="ANTHROPIC_AUTH_TOKEN",
        ),
    ]
    for p in pair:
        profiles.save(conn, p, replace_existing=True)
    path.write_text(json.dumps(SETTINGS, indent=2))
    flip = iter(range(10**6))

    def safe() -> None:
        activate.switch(conn, pair[next(flip) % 2], "user", cwd=home)

    def naive() -> None:
        data = json.loads(path.read_text())
        data["env"]["ANTHROPIC_BASE_URL"] = f"https://{next(flip)}.example.com"
        path.write_text(json.dumps(data, indent=2))

    base = median_ms(naive)
    dry = median_ms(lambda: activate.switch(conn, pair[0], "user", dry_run=True, cwd=home))
    return [
        "settings write (file with 200 permissions, 50 plugins)",
        row("naive read-modify-json.dump (baseline)", base, base),
        row("lynkr switch --dry-run (plan + diff inputs)", dry, base),
        row("lynkr switch (backup, fsync, rename, 0600, SQLite)", median_ms(safe), base),
    ]


def bench_claude_json(home: Path) -> list[str]:
    """A switch that also writes two MCP servers into a realistic ~/.claude.json."""
    try:
        from lynkr_cli.switch import activate, mcpstore, profiles
        from tests.switch.conftest import realistic_claude_json
    except ImportError:  # an older lynkr, or run from elsewhere: no such section
        return []
    path = home / ".claude.json"
    text = realistic_claude_json()
    path.write_text(text)
    conn = profiles.connect()
    for name in ("t1", "t2"):
        server = mcpstore.McpServer(name=name, command="mcp-server-time", args=[name])
        mcpstore.save(conn, server, replace_existing=True)
    mcpstore.set_enabled(conn, "t1", "a", True)
    mcpstore.set_enabled(conn, "t2", "b", True)
    pair = [profiles.get(conn, "a"), profiles.get(conn, "b")]
    flip = iter(range(10**6))

    def naive() -> None:
        data = json.loads(path.read_text())
        data.setdefault("mcpServers", {})[f"s{next(flip) % 2}"] = {"command": "x"}
        path.write_text(json.dumps(data, indent=2))

    base = median_ms(naive)
    safe = median_ms(lambda: activate.switch(conn, pair[next(flip) % 2], "user", cwd=home))
    dry = median_ms(lambda: activate.switch(conn, pair[0], "user", dry_run=True, cwd=home))
    path.unlink()
    return [
        f"MCP servers into ~/.claude.json ({len(text) // 1024} KB, 40 projects with history)",
        row("naive json.load + set mcpServers + json.dump (baseline)", base, base),
        row("lynkr switch --dry-run (settings + MCP plan, diffs)", dry, base),
        row("lynkr switch (lock, token edit, exchange, backups)", safe, base),
    ]


def bench_scan(home: Path) -> list[str]:
    from lynkr_cli.switch import conflicts

    lines = "".join(f"export VAR_{i}=value-{i}\nalias a{i}='ls'\n" for i in range(2000))
    for name in conflicts.RC_FILES:
        path = home / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(lines + "export ANTHROPIC_BASE_URL=https://x.example.com/v1\n")
    # .env is also read by lynkr's settings loader (python-dotenv, ~0.1 ms a line), so it
    # gets a realistic size and only assignments; the rc files carry the bulk.
    (home / ".env").write_text("".join(f"VAR_{i}=value-{i}\n" for i in range(40)))
    files = [home / n for n in conflicts.RC_FILES] + [home / ".env"]
    total_lines = sum(f.read_text().count("\n") for f in files)

    def read_only() -> None:
        for f in files:
            f.read_text()

    base = median_ms(read_only)
    scan = median_ms(lambda: conflicts.scan_all({"ANTHROPIC_MODEL": "x"}, home, home))
    return [
        f"conflict scan ({len(files)} files, {total_lines} lines)",
        row("read the files (baseline)", base, base),
        row("scan_all: rc files, .env, settings, ~/.claude.json", scan, base),
    ]


def bench_processes(env: dict[str, str], cwd: Path) -> list[str]:
    lynkr = [sys.executable, "-m", "lynkr_cli"]
    cases = {
        "lynkr --version (baseline)": [*lynkr, "--version"],
        "lynkr switch --json (list)": [*lynkr, "switch", "--json"],
        "lynkr switch a (write user settings)": [*lynkr, "switch", "a"],
        "lynkr doctor --json --only claude": [*lynkr, "doctor", "--json", "--only", "claude"],
        "lynkr doctor --json (every check)": [*lynkr, "doctor", "--json"],
    }
    runs = max(3, RUNS // 3)
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(runs):
        for name, argv in cases.items():
            start = time.perf_counter()
            subprocess.run(
                argv,
                env=env,
                cwd=cwd,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=120,
                check=False,
            )
            samples[name].append((time.perf_counter() - start) * 1000)
    base = statistics.median(samples["lynkr --version (baseline)"])
    out = [f"whole processes, median of {runs}"]
    out += [row(name, statistics.median(v), base) for name, v in samples.items()]
    return out


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-switch-") as tmp:
        root = Path(tmp)
        home = root / "home"
        home.mkdir()
        os.environ["HOME"] = str(home)
        os.environ["LYNKR_HOME"] = str(root / "lynkr")
        os.environ["LYNKR_PORT"] = "1"  # nothing listens there: the gateway check stays local
        report = [*bench_write(home), "", *bench_claude_json(home), ""]
        report += [*bench_scan(home), ""]
        report += bench_processes(dict(os.environ), home)
    print(f"lynkr switch / doctor benchmark (runs={RUNS})")
    print("\n".join(report))


if __name__ == "__main__":
    main()
