"""The plain results of the git API: dataclasses that become JSON with ``to_dict()``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


class Record:
    """A dataclass that serialises to plain JSON types."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload, no-any-return]


@dataclass(frozen=True)
class FileChange(Record):
    """One path in ``status``: a one-letter change kind, and the old path for renames."""

    path: str
    kind: str  # M modified, A added, D deleted, R renamed, C copied, T type change, U unmerged
    orig_path: str | None = None


@dataclass(frozen=True)
class Status(Record):
    root: str
    branch: str | None  # None when HEAD is detached
    head: str | None  # None before the first commit
    upstream: str | None
    ahead: int
    behind: int
    staged: list[FileChange] = field(default_factory=list)
    unstaged: list[FileChange] = field(default_factory=list)
    untracked: list[str] = field(default_factory=list)
    conflicted: list[str] = field(default_factory=list)
    operation: str | None = None  # "merge", "rebase", "cherry-pick", "revert" in progress

    @property
    def detached(self) -> bool:
        return self.branch is None and self.head is not None

    @property
    def clean(self) -> bool:
        return not (self.staged or self.unstaged or self.untracked or self.conflicted)

    def to_dict(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["detached"] = self.detached
        doc["clean"] = self.clean
        return doc


@dataclass(frozen=True)
class FileStat(Record):
    """Lines added and deleted in one file; ``binary`` files have no line counts."""

    path: str
    added: int
    deleted: int
    binary: bool = False
    orig_path: str | None = None


@dataclass(frozen=True)
class Diff(Record):
    staged: bool
    base: str | None  # the revision range, when the diff is between commits
    files: list[FileStat]
    patch: str

    @property
    def added(self) -> int:
        return sum(f.added for f in self.files)

    @property
    def deleted(self) -> int:
        return sum(f.deleted for f in self.files)

    def to_dict(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["added"] = self.added
        doc["deleted"] = self.deleted
        return doc


@dataclass(frozen=True)
class Commit(Record):
    sha: str
    short: str
    author: str
    email: str
    date: str  # ISO 8601, author date
    subject: str
    body: str
    parents: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Branch(Record):
    name: str
    commit: str
    current: bool
    remote: bool
    upstream: str | None
    ahead: int
    behind: int
    subject: str


@dataclass(frozen=True)
class TestRun(Record):
    """The outcome of the policy's test command before a commit."""

    __test__ = False  # not a pytest test class

    command: list[str]
    source: str  # "POLICY_GIT_TEST_COMMAND" or "lynkr index"
    returncode: int | None  # None when it timed out or could not start
    passed: bool
    timed_out: bool
    output_tail: str


@dataclass(frozen=True)
class CommitResult(Record):
    sha: str
    short: str
    branch: str | None
    subject: str
    amend: bool
    files: list[FileStat]
    tests: TestRun | None = None


@dataclass(frozen=True)
class PushResult(Record):
    remote: str
    branch: str
    target: str
    force: bool
    set_upstream: bool
    old: str | None  # the remote commit before, None when the branch is new
    new: str
    up_to_date: bool


@dataclass(frozen=True)
class PullResult(Record):
    remote: str | None
    upstream: str
    rebase: bool
    old: str | None
    new: str | None
    up_to_date: bool
    files: list[FileStat] = field(default_factory=list)
