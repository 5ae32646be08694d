"""What a verifier sees and returns: the joined text, a candidate, the spans it confirms."""

from __future__ import annotations

from dataclasses import dataclass

from lynkr_cli.guard.collect import Texts


@dataclass(frozen=True, slots=True)
class Span:
    """A finding at ``joined[start:end]`` (the part to replace when redacting)."""

    kind: str
    start: int
    end: int


@dataclass(slots=True)
class Context:
    """One scan: the joined text, its ASCII twin (one byte per character) and the parts."""

    texts: Texts
    joined: str
    data: bytes
    kinds: frozenset[str]
    cost: int = 0  # candidates checked so far, weighted (a phone number costs more)

    def limit(self, offset: int) -> int:
        """The end of the run of glued texts holding ``offset``: no finding crosses it."""
        return self.texts.group_end(self.texts.part_at(offset))

    def start_of(self, offset: int) -> int:
        """The start of the run of glued texts holding ``offset``."""
        index = self.texts.part_at(offset)
        while index in self.texts.glued:
            index -= 1
        return self.texts.starts()[index]


# A verifier takes (context, candidate start, candidate end) and returns the spans it
# confirms plus where the search resumes (past a long run it has judged whole, say).
Verdict = tuple[list[Span], int]


def nothing(resume: int) -> Verdict:
    return [], resume
