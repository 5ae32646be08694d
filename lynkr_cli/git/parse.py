"""Parsers for git's machine-readable output (porcelain v2, ``-z`` numstat, log records)."""

from __future__ import annotations

import re

from lynkr_cli.git.models import Branch, Commit, FileChange, FileStat, Status

# Separators chosen because they cannot appear in git's text fields.
FIELD = "\x1f"
RECORD = "\x1e"
LOG_FORMAT = FIELD.join(["%H", "%h", "%an", "%ae", "%aI", "%P", "%s", "%b"]) + RECORD
BRANCH_FORMAT = FIELD.join(
    [
        "%(refname)",
        "%(refname:short)",
        "%(objectname)",
        "%(HEAD)",
        "%(upstream:short)",
        "%(upstream:track,nobracket)",
        "%(contents:subject)",
    ]
)
_TRACK = re.compile(r"(ahead|behind) (\d+)")


def parse_status(root: str, text: str) -> Status:
    """Parse ``git status --porcelain=v2 --branch -z``."""
    head: dict[str, str] = {}
    staged: list[FileChange] = []
    unstaged: list[FileChange] = []
    untracked: list[str] = []
    conflicted: list[str] = []
    entries = text.split("\x00")
    i = 0
    while i < len(entries):
        entry = entries[i]
        i += 1
        if not entry:
            continue
        kind = entry[0]
        if kind == "#":
            key, _, value = entry[2:].partition(" ")
            head[key] = value
        elif kind == "?":
            untracked.append(entry[2:])
        elif kind == "u":
            conflicted.append(entry.split(" ", 10)[10])
        elif kind in "12":
            orig = None
            if kind == "1":
                parts = entry.split(" ", 8)
            else:
                parts = entry.split(" ", 9)
                orig = entries[i]
                i += 1
            _add_change(parts[1], parts[-1], orig, staged, unstaged)
    ahead, behind = _ab(head.get("branch.ab", ""))
    branch = head.get("branch.head")
    oid = head.get("branch.oid")
    return Status(
        root=root,
        branch=None if branch in (None, "(detached)") else branch,
        head=None if oid in (None, "(initial)") else oid,
        upstream=head.get("branch.upstream"),
        ahead=ahead,
        behind=behind,
        staged=staged,
        unstaged=unstaged,
        untracked=untracked,
        conflicted=conflicted,
    )


def _add_change(
    xy: str, path: str, orig: str | None, staged: list[FileChange], unstaged: list[FileChange]
) -> None:
    if xy[0] != ".":
        staged.append(FileChange(path, xy[0], orig))
    if xy[1] != ".":
        unstaged.append(FileChange(path, xy[1], None))


def _ab(value: str) -> tuple[int, int]:
    parts = value.split()
    if len(parts) != 2:
        return 0, 0
    return int(parts[0].lstrip("+")), abs(int(parts[1]))


def parse_numstat(text: str) -> list[FileStat]:
    """Parse ``git diff --numstat -z`` (renames come as ``\\0old\\0new``)."""
    stats: list[FileStat] = []
    entries = text.split("\x00")
    i = 0
    while i < len(entries):
        entry = entries[i]
        i += 1
        if not entry.strip():
            continue
        added, deleted, path = entry.split("\t", 2)
        orig = None
        if not path:
            orig, path = entries[i], entries[i + 1]
            i += 2
        binary = added == "-"
        stats.append(
            FileStat(
                path=path,
                added=0 if binary else int(added),
                deleted=0 if binary else int(deleted),
                binary=binary,
                orig_path=orig,
            )
        )
    return stats


def parse_log(text: str) -> list[Commit]:
    commits = []
    for record in text.split(RECORD):
        record = record.lstrip("\n")
        if not record:
            continue
        sha, short, author, email, date, parents, subject, body = record.split(FIELD, 7)
        commits.append(
            Commit(
                sha=sha,
                short=short,
                author=author,
                email=email,
                date=date,
                subject=subject,
                body=body.strip(),
                parents=parents.split(),
            )
        )
    return commits


def parse_branches(text: str) -> list[Branch]:
    branches = []
    for line in text.splitlines():
        if not line:
            continue
        ref, short, oid, head, upstream, track, subject = line.split(FIELD, 6)
        if ref.startswith("refs/remotes/") and ref.endswith("/HEAD"):
            continue  # origin/HEAD is an alias, not a branch
        counts = dict(_TRACK.findall(track))
        branches.append(
            Branch(
                name=short,
                commit=oid,
                current=head == "*",
                remote=ref.startswith("refs/remotes/"),
                upstream=upstream or None,
                ahead=int(counts.get("ahead", 0)),
                behind=int(counts.get("behind", 0)),
                subject=subject,
            )
        )
    return branches
