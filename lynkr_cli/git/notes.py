"""Release notes from commit history, grouped by conventional-commit type.

The default range runs from the last tag to HEAD. A merged pull request
appears once, as its merge commit titled from the PR, rather than as every
commit on its branch; other merges add no entry of their own, while the
commits they brought in are listed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from lynkr_cli.errors import ExitCode, GitError
from lynkr_cli.git.models import Commit, Record

if TYPE_CHECKING:
    from lynkr_cli.git.repo import Worktree

SECTIONS = {
    "breaking": "Breaking changes",
    "features": "Features",
    "fixes": "Fixes",
    "performance": "Performance",
    "other": "Other changes",
}
_TYPE_SECTION = {"feat": "features", "feature": "features", "fix": "fixes", "perf": "performance"}
_CONVENTIONAL = re.compile(
    r"^(?P<type>[A-Za-z]+)(?:\((?P<scope>[^)]*)\))?(?P<bang>!)?:\s*(?P<desc>.+)$"
)
_MERGE_PR = re.compile(r"^Merge pull request #(?P<pr>\d+) from \S+")
_TRAILING_PR = re.compile(r"\s*\(#(?P<pr>\d+)\)\s*$")
_BREAKING = re.compile(r"^BREAKING[ -]CHANGE:\s*(?P<note>.+)$", re.MULTILINE)


@dataclass(frozen=True)
class NoteEntry(Record):
    section: str
    type: str | None  # the conventional type, None for free-form subjects
    scope: str | None
    description: str
    breaking: bool
    breaking_note: str | None
    pr: int | None
    sha: str
    short: str
    author: str


@dataclass
class ReleaseNotes(Record):
    range: str
    base: str | None  # the tag (or revision) the notes start after; None for all history
    tip: str
    sections: dict[str, list[NoteEntry]]
    authors: list[str]
    llm: dict[str, Any] | None = field(default=None)

    @property
    def count(self) -> int:
        return sum(len(entries) for entries in self.sections.values())

    def to_dict(self) -> dict[str, Any]:
        doc = super().to_dict()
        doc["count"] = self.count
        return doc

    def markdown(self) -> str:
        title = self.range if self.base is not None else f"{self.range} (all history)"
        lines = [f"# Release notes: {title}", ""]
        for key, title in SECTIONS.items():
            entries = self.sections.get(key, [])
            if not entries:
                continue
            lines += [f"## {title}", ""]
            lines += [_entry_line(entry) for entry in entries]
            lines.append("")
        lines += ["## Contributors", "", ", ".join(self.authors), ""]
        return "\n".join(lines)


def _entry_line(entry: NoteEntry) -> str:
    scope = f"**{entry.scope}:** " if entry.scope else ""
    if entry.section == "other" and entry.type:
        # Other changes mix kinds (docs, refactor, chore): keep the kind visible.
        scope = f"{entry.type}: {scope}"
    pr = f" (#{entry.pr})" if entry.pr is not None else ""
    line = f"- {scope}{entry.description}{pr} `{entry.short}` by {entry.author}"
    if entry.breaking_note:
        line += f"\n  BREAKING CHANGE: {entry.breaking_note}"
    return line


def classify(commit: Commit) -> NoteEntry | None:
    """The note for one commit; None for merges that are not pull requests."""
    subject, pr = commit.subject, None
    merge = _MERGE_PR.match(subject)
    if merge:
        pr = int(merge["pr"])
        subject = commit.body.splitlines()[0].strip() if commit.body.strip() else subject
    elif len(commit.parents) > 1:
        return None  # "Merge branch 'x'": no news of its own
    trailing = _TRAILING_PR.search(subject)
    if trailing:
        pr = pr or int(trailing["pr"])
        subject = subject[: trailing.start()]
    footer = _BREAKING.search(commit.body)
    match = _CONVENTIONAL.match(subject)
    kind = match["type"].lower() if match else None
    breaking = bool(footer) or bool(match and match["bang"])
    section = "breaking" if breaking else _TYPE_SECTION.get(kind or "", "other")
    return NoteEntry(
        section=section,
        type=kind,
        scope=(match["scope"] or None) if match else None,
        description=match["desc"].strip() if match else subject.strip(),
        breaking=breaking,
        breaking_note=footer["note"].strip() if footer else None,
        pr=pr,
        sha=commit.sha,
        short=commit.short,
        author=commit.author,
    )


def build_notes(commits: list[Commit], label: str, base: str | None, tip: str) -> ReleaseNotes:
    sections: dict[str, list[NoteEntry]] = {key: [] for key in SECTIONS}
    authors: list[str] = []
    for commit in commits:
        entry = classify(commit)
        if entry is None:
            continue
        sections[entry.section].append(entry)
        if entry.author not in authors:
            authors.append(entry.author)
    return ReleaseNotes(label, base, tip, sections, sorted(authors, key=str.lower))


def last_tag(repo: Worktree, rev: str = "HEAD") -> str | None:
    """The newest tag reachable from ``rev``, or None."""
    result = repo._git("describe", "--tags", "--abbrev=0", "--end-of-options", rev, check=False)
    return result.stdout.strip() or None if result.ok else None


def default_range(repo: Worktree, head: str) -> str:
    """Last tag..HEAD; when HEAD itself is tagged (just released), the tag before..that tag."""
    tag = last_tag(repo)
    if tag is None:
        return "HEAD"
    if repo.range(tag).tip != head:
        return f"{tag}..HEAD"
    parent = repo._git("rev-parse", "--verify", "--quiet", "HEAD^", check=False).stdout.strip()
    previous = last_tag(repo, parent) if parent else None
    return f"{previous}..{tag}" if previous else tag


def _without_pr_internals(repo: Worktree, commits: list[Commit]) -> list[Commit]:
    """Drop the commits a merged pull request brought in: the PR's merge stands for them.

    The merge is credited to the author of the PR's last commit, not to whoever merged it.
    """
    by_sha = {c.sha: c for c in commits}
    hidden: set[str] = set()
    kept: list[Commit] = []
    for commit in commits:
        if _MERGE_PR.match(commit.subject) and len(commit.parents) >= 2:
            first, second = commit.parents[0], commit.parents[1]
            hidden.update(repo._git("rev-list", f"{first}..{second}", "--").stdout.split())
            tip = by_sha.get(second)
            author = tip.author if tip else repo._git("log", "-1", "--format=%an", second).stdout
            commit = replace(commit, author=author.strip() or commit.author)
        kept.append(commit)
    return [c for c in kept if c.sha not in hidden]


def release_notes(repo: Worktree, rev_range: str | None = None) -> ReleaseNotes:
    """Notes for ``rev_range`` (``FROM..TO``, or ``FROM`` meaning ``FROM..HEAD``)."""
    head = repo.head()
    if head is None:
        raise GitError(
            "this repository has no commits yet",
            hint="Commit something first.",
            exit_code=ExitCode.GIT_EMPTY_RANGE,
        )
    if rev_range is None:
        rev_range = default_range(repo, head)
    elif ".." not in rev_range:
        rev_range = f"{rev_range}..HEAD"
    rng = repo.range(rev_range)
    commits = _without_pr_internals(repo, repo.commits(rng.log_args()))
    if not commits:
        raise GitError(
            f"the range {rev_range!r} contains no commits",
            hint="Nothing happened since the last tag; name another range, e.g. v1.0..v1.1.",
            exit_code=ExitCode.GIT_EMPTY_RANGE,
        )
    base = rev_range.split("..")[0] if ".." in rev_range else None
    return build_notes(commits, rev_range, base, rng.tip)
