"""No false positives on code: this repository's history, lock files and captured requests.

Also: no redactor in lynkr (the log redactor, the tools' redactor, the guard) mangles a
git SHA, a UUID or a package hash.
"""

from __future__ import annotations

import re

import pytest

from lynkr_cli.git.secrets import redact_secrets
from lynkr_cli.guard.api import scan
from lynkr_cli.guard.collect import collect
from lynkr_cli.guard.engine import find_spans
from lynkr_cli.guard.kinds import resolve_kinds
from lynkr_cli.logs import redact_text
from tests.conftest import require
from tests.guard import corpus

ALL = resolve_kinds(["all"])
# Findings per MB of this repository's history. Measured: 6.3/MB, every one a value the
# security tests plant on purpose (passwords in proxy URLs, key assignments) or a
# private address (opt-in kind). A detector that starts firing on code breaks this.
HISTORY_CEILING_PER_MB = 15.0
SHA = re.compile(r"\b[0-9a-f]{40}\b|\b[0-9a-f]{64}\b")
UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
RECORD_HASH = re.compile(r"sha256=[A-Za-z0-9_\-]{43}")


@pytest.fixture(scope="module")
def history() -> str:
    log = corpus.git_history()
    require(log is not None, "this checkout has no git history (a shallow clone?)")
    assert log is not None
    return log


def spans_of(text: str) -> list[tuple[str, str]]:
    texts = collect(corpus.as_body(text))
    joined = texts.joined()
    spans, complete = find_spans(texts, ALL)
    assert complete
    return [(s.kind, joined[s.start : s.end]) for s in spans]


def test_history_stays_under_the_ceiling(history: str) -> None:
    found = spans_of(history)
    per_mb = len(found) / (len(history) / 1e6)
    kinds = sorted({k for k, _ in found})
    size = len(history) / 1e6
    print(f"\nhistory: {size:.2f} MB, {len(found)} findings, {per_mb:.1f}/MB, {kinds}")
    assert per_mb <= HISTORY_CEILING_PER_MB, found
    assert not [v for _, v in found if SHA.search(v) or UUID.search(v)]


def test_package_hashes_and_lock_files_have_no_findings() -> None:
    texts = {"RECORD": corpus.record_text(), **corpus.lock_files(), "npm": corpus.npm_locks()}
    assert len(texts["RECORD"]) > 100_000, "too few installed packages to be a corpus"
    for name, text in texts.items():
        assert spans_of(text) == [], name


def test_captured_requests_have_no_findings() -> None:
    assert spans_of(corpus.fixtures()) == []


@pytest.mark.parametrize("redactor", ["logs", "tools", "guard"])
def test_no_redactor_mangles_a_sha_or_hash(history: str, redactor: str) -> None:
    text = history + corpus.record_text() + "".join(corpus.lock_files().values())
    if redactor == "logs":
        out = redact_text(text)
    elif redactor == "tools":
        out = redact_secrets(text)
    else:
        body = scan({"messages": [{"role": "user", "content": text}]}, mode="redact").body
        out = body["messages"][0]["content"]
    for pattern in (SHA, RECORD_HASH):
        assert set(pattern.findall(text)) <= set(pattern.findall(out)), pattern.pattern
    if redactor != "tools":  # the tools' redactor masks a session_id's value, UUID or not
        assert set(UUID.findall(text)) <= set(UUID.findall(out))
