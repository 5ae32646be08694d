"""``--llm``: a model's prose on top of the deterministic facts, via the configured provider.

The facts and the diff go through the same provider code as ``lynkr serve``,
in process. Secrets found by the review are redacted from the diff before it
leaves lynkr. Without a configured provider this raises ConfigError, and the
callers still print the deterministic report.
"""

from __future__ import annotations

import json
import re
from typing import Any

from lynkr_cli.errors import ConfigError
from lynkr_cli.git import secrets
from lynkr_cli.git.notes import ReleaseNotes
from lynkr_cli.git.review import Review

MAX_DIFF_CHARS = 60_000
_COMMENT = re.compile(
    r"^(?:[-*]\s+|\d+\.\s+)?`?(?P<path>[^\s:`]+):(?P<line>\d+)`?:?\s+(?P<text>.+)$"
)
REVIEW_SYSTEM = (
    "You review code changes. You are given deterministic facts about a diff (risk score, "
    "reasons, secrets by location) and the diff itself. Reply with a short prose summary, then "
    "a list of concrete review comments, each starting with 'path:line:'. Never repeat secrets."
)
NOTES_SYSTEM = (
    "You polish release notes. Keep every entry, its PR number, commit and author; improve only "
    "the wording, and keep the Markdown structure and section order. Reply with Markdown only."
)


def redact_patch(patch: str) -> str:
    """The patch as the gateway's tools show it (secret files withheld, secrets masked),
    cut to a size a model accepts."""
    text = secrets.redact_patch(patch)
    if len(text) > MAX_DIFF_CHARS:
        text = text[:MAX_DIFF_CHARS] + "\n[diff truncated]"
    return text


def review_prompt(review: Review, patch: str) -> str:
    facts = review.to_dict()
    facts.pop("llm", None)
    return f"Facts:\n{json.dumps(facts, indent=2)}\n\nDiff:\n{redact_patch(patch)}"


def llm_review(review: Review, patch: str) -> dict[str, Any]:
    """The model's review: ``{"provider", "model", "text", "comments": [{path, line, text}]}``."""
    answer = complete(REVIEW_SYSTEM, review_prompt(review, patch))
    answer["comments"] = review_comments(answer["text"])
    return answer


def review_comments(text: str) -> list[dict[str, Any]]:
    """The ``path:line: comment`` lines of a model's answer, as records."""
    comments = []
    for line in text.splitlines():
        match = _COMMENT.match(line.strip())
        if match:
            comments.append(
                {"path": match["path"], "line": int(match["line"]), "text": match["text"]}
            )
    return comments


def llm_notes(notes: ReleaseNotes) -> dict[str, Any]:
    """The model's polished Markdown for release notes."""
    return complete(NOTES_SYSTEM, notes.markdown())


def complete(system: str, prompt: str, max_tokens: int = 2048) -> dict[str, Any]:
    """One non-streaming completion through the configured provider, in process."""
    from lynkr_cli.settings import get_settings

    settings = get_settings()
    if not settings.provider.name:
        raise ConfigError(
            "--llm needs a model provider, and none is configured",
            hint="Set LYNKR_PROVIDER (or MODEL_PROVIDER) and its credentials, as for `serve`.",
        )
    from lynkr_cli.serve.api import complete_text

    text, model = complete_text(settings, system, prompt, max_tokens)
    return {"provider": settings.provider.name, "model": model, "text": text}
