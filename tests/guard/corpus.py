"""The false-positive corpus, built at run time from this checkout (shared with the bench).

- ``git log -p -n 500`` of this repository: code, tests, docs and 40-hex commit ids (less
  the guard's own tests and docs, which hold secret and PII samples on purpose);
- every ``RECORD`` of the installed packages (``path,sha256=<base64url>,size`` lines);
- lock files in the formats of pip (``--hash=sha256:``), poetry, uv, Cargo, npm
  (``integrity: sha512-…``) and yarn, written from those packages' names, versions and the
  digests of their RECORD files (no lock file of those tools can be generated offline);
- npm's real ``package-lock.json`` files under ``.tools`` when present;
- the captured Claude Code requests in ``tests/fixtures``.
"""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


# The guard's own tests and docs hold true positives on purpose: they are not the corpus.
OWN_SAMPLES = (":(exclude)tests/guard", ":(exclude)tests/security/test_guard_*",
               ":(exclude)docs/guard.md")  # fmt: skip


def git_history(commits: int = 500) -> str | None:
    """``git log -p`` of this checkout, or None without git history (a shallow clone)."""
    try:
        shallow = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--is-shallow-repository"],
            capture_output=True, text=True, timeout=30, check=True,
        ).stdout.strip()  # fmt: skip
        log = subprocess.run(
            ["git", "-C", str(ROOT), "log", "-p", "--no-color", "-n", str(commits), "--", ".",
             *OWN_SAMPLES],
            capture_output=True, timeout=120, check=True,
        ).stdout.decode("utf-8", "replace")  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return log if shallow == "false" and log.count("\ncommit ") >= 10 else None


def records() -> list[Path]:
    site = Path(sysconfig.get_paths()["purelib"])
    return sorted(site.glob("*.dist-info/RECORD"))


def record_text() -> str:
    return "".join(p.read_text(errors="replace") for p in records())


def lock_files() -> dict[str, str]:
    """Lock files in six formats, one entry per installed package."""
    rows = []
    for path in records():
        name, _, version = path.parent.name.removesuffix(".dist-info").partition("-")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        sri = base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()
        rows.append((name.lower().replace("_", "-"), version, digest, sri))
    wheel = "{n}-{v}-py3-none-any.whl"
    return {
        "requirements.txt": "".join(f"{n}=={v} \\\n    --hash=sha256:{d}\n" for n, v, d, _ in rows),
        "poetry.lock": "".join(
            f'[[package]]\nname = "{n}"\nversion = "{v}"\nfiles = [\n'
            f'    {{file = "{wheel.format(n=n, v=v)}", hash = "sha256:{d}"}},\n]\n\n'
            for n, v, d, _ in rows
        ),
        "uv.lock": "".join(
            f'[[package]]\nname = "{n}"\nversion = "{v}"\nwheels = [\n    {{ url = '
            f'"https://files.example/{wheel.format(n=n, v=v)}", hash = "sha256:{d}", '
            f"size = {len(d) * 1000} }},\n]\n\n"
            for n, v, d, _ in rows
        ),
        "Cargo.lock": "".join(
            f'[[package]]\nname = "{n}"\nversion = "{v}"\nsource = '
            f'"registry+https://github.com/rust-lang/crates.io-index"\nchecksum = "{d}"\n\n'
            for n, v, d, _ in rows
        ),
        "package-lock.json": "".join(
            f'    "node_modules/{n}": {{\n      "version": "{v}",\n      "resolved": '
            f'"https://registry.npmjs.org/{n}/-/{n}-{v}.tgz",\n      "integrity": "sha512-{s}"\n'
            f"    }},\n"
            for n, v, _, s in rows
        ),
        "yarn.lock": "".join(
            f'"{n}@^{v}":\n  version "{v}"\n  resolved "https://registry.yarnpkg.com/{n}/-/'
            f'{n}-{v}.tgz#{d[:40]}"\n  integrity sha512-{s}\n\n'
            for n, v, d, s in rows
        ),
    }


def npm_locks() -> str:
    paths = [ROOT / ".tools" / "package-lock.json", ROOT / ".tools/node_modules/.package-lock.json"]
    return "".join(p.read_text(errors="replace") for p in paths if p.is_file())


def fixtures() -> str:
    paths = sorted((ROOT / "tests" / "fixtures").rglob("*.json"))
    return "".join(p.read_text(errors="replace") for p in paths)


def as_body(text: str, chunk: int = 64 * 1024) -> dict[str, object]:
    """``text`` as tool results of ~64 KB each (how a tool's output reaches a model)."""
    parts, size, current = [], 0, []
    for line in text.split("\n"):
        current.append(line)
        size += len(line) + 1
        if size >= chunk:
            parts.append("\n".join(current))
            current, size = [], 0
    parts.append("\n".join(current))
    content = [{"type": "tool_result", "tool_use_id": f"t{i}", "content": p}
               for i, p in enumerate(parts)]  # fmt: skip
    return {"messages": [{"role": "user", "content": content}]}
