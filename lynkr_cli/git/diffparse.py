"""A unified-diff parser: per file, its paths, kind, and the numbered added lines."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@")
_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


@dataclass
class FilePatch:
    path: str
    orig_path: str | None = None
    kind: str = "modified"  # added, deleted, renamed, modified
    binary: bool = False
    added: list[tuple[int, str]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def unquote(path: str) -> str:
    """Undo git's C-style quoting of unusual paths (``"a\\tb"``)."""
    if not (path.startswith('"') and path.endswith('"')):
        return path
    body, out, i = path[1:-1], bytearray(), 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt in "01234567" and i + 3 < len(body) + 1:
                out.append(int(body[i + 1 : i + 4], 8))
                i += 4
                continue
            out.extend(_ESCAPES.get(nxt, nxt).encode())
            i += 2
            continue
        out.extend(ch.encode())
        i += 1
    return out.decode("utf-8", errors="replace")


def _strip_prefix(path: str) -> str:
    path = unquote(path)
    return path[2:] if path[:2] in ("a/", "b/") else path


def _header_path(rest: str) -> str:
    """The (new) path of ``diff --git a/P b/P``; either side may be C-quoted."""
    if rest.endswith('"'):
        start = rest.rfind(' "', 0, len(rest) - 1)
        return _strip_prefix(rest[start + 1 :]) if start >= 0 else _strip_prefix(rest)
    half = (len(rest) - 1) // 2
    if rest[half : half + 1] == " " and rest[2:half] == rest[half + 3 :]:
        return rest[2:half]
    return _strip_prefix(rest.rsplit(" ", maxsplit=1)[-1])


def parse_patch(patch: str) -> list[FilePatch]:
    files: list[FilePatch] = []
    current: FilePatch | None = None
    new_line = 0
    in_hunk = False
    for line in patch.splitlines():
        if line.startswith("diff --git "):
            current = FilePatch(_header_path(line[len("diff --git ") :]))
            files.append(current)
            in_hunk = False
            continue
        if current is None:
            continue
        if in_hunk and line[:1] in ("+", "-", " ", "\\"):
            new_line = _hunk_line(current, line, new_line)
            continue
        in_hunk = _header_line(current, line)
        if in_hunk:
            match = _HUNK.match(line)
            new_line = int(match.group(1)) if match else 0
    return files


def _hunk_line(current: FilePatch, line: str, new_line: int) -> int:
    if line.startswith("+"):
        current.added.append((new_line, line[1:]))
        return new_line + 1
    if line.startswith("-"):
        current.removed.append(line[1:])
        return new_line
    if line.startswith(" "):
        return new_line + 1
    return new_line  # "\ No newline at end of file"


def _header_line(current: FilePatch, line: str) -> bool:
    """Apply one extended header line; True when it opens a hunk."""
    if line.startswith("@@"):
        return True
    if line.startswith("new file mode"):
        current.kind = "added"
    elif line.startswith("deleted file mode"):
        current.kind = "deleted"
    elif line.startswith("rename from "):
        current.orig_path = unquote(line[len("rename from ") :])
        current.kind = "renamed"
    elif line.startswith("rename to "):
        current.path = unquote(line[len("rename to ") :])
    elif line.startswith("Binary files ") or line == "GIT binary patch":
        current.binary = True
    elif line.startswith("+++ ") and line[4:] != "/dev/null":
        # git ends the name with a TAB when it contains a space (as GNU diff does).
        current.path = _strip_prefix(line[4:].removesuffix("\t"))
    return False
