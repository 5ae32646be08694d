"""The audit log: modes, redaction of bodies, the hash chain and its verification, pruning."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable
from typing import Any

import pytest

from lynkr_cli import paths
from lynkr_cli.team import admin
from lynkr_cli.team.api import Team
from lynkr_cli.team.audit import GENESIS, canonical, seal, verify
from lynkr_cli.team.sqlite import SqliteStore
from lynkr_cli.team.store import AuditEntry, AuditFilter
from tests.team.conftest import issue, usage_record

AWS_KEY = "AKIAZ7QX3MPLE4KEYQ2A"
ANTHROPIC_KEY = "sk-ant-api03-" + "Xy7_q" * 12 + "-AbCdEfAA"
SECRETS = (AWS_KEY, ANTHROPIC_KEY)
PEM_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj"
PEM = (
    f"key:\n-----BEGIN PRIVATE KEY-----\n{PEM_BODY}\n{PEM_BODY[::-1]}\n"
    "-----END PRIVATE KEY-----\nok"
)


def _db_text() -> str:
    """Every byte lynkr.db and its WAL hold, as text (what an attacker with the file sees)."""
    main = paths.app_db_path()
    data = b"".join(
        p.read_bytes() for p in (main, main.with_name(main.name + "-wal")) if p.exists()
    )
    return data.decode("latin-1")


def _rows() -> list[dict[str, Any]]:
    conn = sqlite3.connect(paths.app_db_path())
    conn.row_factory = sqlite3.Row
    with conn:
        return [dict(r) for r in conn.execute("SELECT * FROM team_audit ORDER BY seq")]


def _raw(sql: str, *params: Any) -> None:
    conn = sqlite3.connect(paths.app_db_path())
    with conn:
        conn.execute(sql, params)
    conn.close()


def _verdict(store: SqliteStore) -> Any:
    return verify(store.audit_chain(), store.audit_anchor())


async def _record(team: Team, n: int, **kwargs: Any) -> None:
    await team.start()
    for i in range(n):
        team.record_usage(usage_record(i, **kwargs))
    await team.stop()


async def test_metadata_mode_records_who_when_model_tokens_status_and_request_id(
    open_team: Callable[..., Team],
) -> None:
    await _record(open_team(), 3, key_id="k-1", key_name="alice", status=200)
    rows = _rows()
    assert [r["request_id"] for r in rows] == [
        "req_test_000000",
        "req_test_000001",
        "req_test_000002",
    ]
    row = rows[1]
    assert (row["event"], row["key_name"], row["client_model"], row["status"]) == (
        "request",
        "alice",
        "claude-sonnet-4-5",
        200,
    )
    assert row["input_tokens"] == 101 and row["ts"].endswith("Z") and row["detail"] == ""


async def test_off_mode_keeps_usage_but_no_audit(open_team: Callable[..., Team]) -> None:
    team = open_team(audit="off")
    await _record(team, 3)
    team.record_auth_failure("req_x", "unknown")
    assert _rows() == []


async def test_full_mode_redacts_secrets_before_anything_is_stored(
    open_team: Callable[..., Team],
) -> None:
    team = open_team(audit="full")
    await team.start()
    request = {
        "model": "claude-sonnet-4-5",
        "system": f"deploy with aws_access_key_id={AWS_KEY}",
        "messages": [
            {"role": "user", "content": f"my key is {ANTHROPIC_KEY}\nand {AWS_KEY} too"},
            {"role": "user", "content": [{"type": "tool_result", "content": f"x {AWS_KEY}"}]},
        ],
        "metadata": {"api_key": "plain-but-named-secret", "token": "abc"},
        "tools": [{"name": "x", "description": PEM}],
        "max_tokens": 64,
    }
    response = {
        "content": [{"type": "text", "text": f"you sent {ANTHROPIC_KEY}"}],
        "usage": {"input_tokens": 5, "output_tokens": 7},
    }
    team.record_usage(usage_record(1), request=request, response=response)
    await team.stop()
    row = _rows()[0]
    detail = json.loads(row["detail"])
    assert (
        detail["request"]["max_tokens"] == 64 and detail["response"]["usage"]["input_tokens"] == 5
    )
    assert detail["request"]["metadata"] == {"api_key": "****", "token": "****"}
    assert "my key is" in detail["request"]["messages"][0]["content"]
    text = _db_text()
    pem = detail["request"]["tools"][0]["description"].split("\n")
    assert pem[0] == "key:" and pem[-1] == "ok" and len(pem) == 6
    for secret in (*SECRETS, "plain-but-named-secret", PEM_BODY, PEM_BODY[::-1]):
        assert secret not in row["detail"] and secret not in text


async def test_full_mode_cuts_long_strings(open_team: Callable[..., Team]) -> None:
    team = open_team(audit="full", audit_max_body_kb=1)
    await team.start()
    team.record_usage(usage_record(1), request={"messages": [{"content": "x" * 5000}]})
    await team.stop()
    content = json.loads(_rows()[0]["detail"])["request"]["messages"][0]["content"]
    assert content.startswith("x" * 1024) and "truncated by lynkr: 3976 more" in content


async def test_metadata_mode_drops_bodies(open_team: Callable[..., Team]) -> None:
    team = open_team(audit="metadata")
    await team.start()
    team.record_usage(
        usage_record(1, error=f"upstream said {ANTHROPIC_KEY}"),
        request={"messages": [{"content": AWS_KEY}]},
    )
    await team.stop()
    detail = json.loads(_rows()[0]["detail"])
    assert set(detail) == {"error"} and ANTHROPIC_KEY not in detail["error"]
    text = _db_text()  # the usage table's error column too
    assert AWS_KEY not in text and ANTHROPIC_KEY not in text


async def test_auth_failures_are_audited_without_the_key(open_team: Callable[..., Team]) -> None:
    team = open_team()
    await team.start()
    team.record_auth_failure("req_1", "revoked", route="messages")
    await team.stop()
    row = _rows()[0]
    assert (row["event"], row["status"], json.loads(row["detail"])) == (
        "auth.fail",
        401,
        {"reason": "revoked", "route": "messages"},
    )


def test_the_canonical_form_and_hash_are_stable() -> None:
    """The bytes a PostgreSQL store must reproduce, pinned."""
    entry = AuditEntry(
        "2026-01-02T03:04:05.000006Z",
        "request",
        request_id="req_1",
        key_id="k-1",
        key_name="zoë",
        status=200,
        input_tokens=3,
        detail='{"a":"é"}',
    )
    row = seal(entry, 1, GENESIS)
    body = {k: v for k, v in row.items() if k != "hash"}
    expected = (
        '{"cache_creation_tokens":0,"cache_read_tokens":0,"client_model":"","cost_nano":0,'
        '"detail":"{\\"a\\":\\"é\\"}","event":"request","input_tokens":3,"key_id":"k-1",'
        '"key_name":"zoë","output_tokens":0,"prev_hash":"' + GENESIS + '","provider":"",'
        '"request_id":"req_1","seq":1,"status":200,"ts":"2026-01-02T03:04:05.000006Z",'
        '"upstream_model":""}'
    )
    assert canonical(body).decode() == expected
    by_hand = hashlib.sha256((GENESIS + "\n" + expected).encode()).hexdigest()
    assert (
        row["hash"]
        == by_hand
        == ("09cdaba8ea5b4244074765a2adbfdc117450d4c3f72c0635f3b517a97029fa5a")
    )


async def test_the_chain_verifies_and_an_edited_row_is_found(
    open_team: Callable[..., Team], store: SqliteStore
) -> None:
    await _record(open_team(), 5)
    assert _verdict(store).ok and _verdict(store).rows == 5
    _raw("UPDATE team_audit SET status = 200, input_tokens = 1 WHERE seq = 3")
    verdict = _verdict(store)
    assert not verdict.ok and verdict.broken_seq == 3 and "changed" in verdict.problem


async def test_an_edit_with_a_recomputed_hash_breaks_the_next_link(
    open_team: Callable[..., Team], store: SqliteStore
) -> None:
    await _record(open_team(), 5)
    row = _rows()[1]
    row["status"] = 200 if row["status"] != 200 else 201
    forged = seal(
        AuditEntry(**{k: row[k] for k in AuditEntry.__dataclass_fields__}),
        row["seq"],
        row["prev_hash"],
    )
    _raw("UPDATE team_audit SET status = ?, hash = ? WHERE seq = 2", row["status"], forged["hash"])
    verdict = _verdict(store)
    assert verdict.broken_seq == 3 and "prev_hash" in verdict.problem


async def test_a_deleted_row_is_found(open_team: Callable[..., Team], store: SqliteStore) -> None:
    await _record(open_team(), 5)
    _raw("DELETE FROM team_audit WHERE seq = 2")
    verdict = _verdict(store)
    assert not verdict.ok and verdict.broken_seq == 3 and "row 2 is missing" in verdict.problem
    _raw("DELETE FROM team_audit WHERE seq = 1")
    assert "rows 1 to 2 are missing" in _verdict(store).problem


async def test_pruning_keeps_the_chain_verifiable(
    open_team: Callable[..., Team], store: SqliteStore, clock: Any
) -> None:
    old = clock.now - 40 * 86400
    await _record(open_team(), 4, ts=old)
    team = open_team(audit_retention_days=30)
    await _record(team, 3)
    assert team.prune_audit() == 4
    rows = _rows()
    assert [r["event"] for r in rows] == ["request"] * 3 + ["audit.prune"]
    assert json.loads(rows[-1]["detail"])["deleted"] == 4
    assert store.audit_anchor()[0] == 4 and _verdict(store).ok
    _raw("DELETE FROM team_audit WHERE seq = 5")  # the oldest remaining row
    assert "row 5 is missing" in _verdict(store).problem


async def test_key_changes_are_in_the_chain(store: SqliteStore) -> None:
    issue(store, "alice")
    admin.update(store, "alice", rpm=10)
    admin.rotate(store, "alice")
    admin.revoke(store, "alice")
    rows = _rows()
    assert [r["event"] for r in rows] == ["key.create", "key.update", "key.rotate", "key.revoke"]
    assert json.loads(rows[1]["detail"])["limits"]["to"]["rpm"] == 10
    assert _verdict(store).ok


async def test_filters(open_team: Callable[..., Team], store: SqliteStore, clock: Any) -> None:
    team = open_team()
    await team.start()
    team.record_usage(usage_record(1, key_id="k-a", key_name="alice", ts=clock.now - 7200))
    team.record_usage(
        usage_record(
            2,
            key_id="k-b",
            key_name="bob",
            status=429,
            client_model="claude-haiku-4-5",
            upstream_model="h",
        )
    )
    team.record_usage(usage_record(3, key_id="k-a", key_name="alice", status=429))
    await team.stop()

    def ids(**kw: Any) -> list[str]:
        return [r["request_id"][-1] for r in store.audit_rows(AuditFilter(**kw))]

    assert ids(key="alice") == ["1", "3"] and ids(key="k-b") == ["2"]
    assert ids(status=429) == ["2", "3"] and ids(model="claude-haiku-*") == ["2"]
    from lynkr_cli.team.times import rfc3339_micro

    assert ids(since=rfc3339_micro(clock.now - 3600)) == ["2", "3"]
    assert ids(until=rfc3339_micro(clock.now - 3600)) == ["1"]
    last = [r["request_id"][-1] for r in store.audit_rows(AuditFilter(), last=2)]
    assert last == ["2", "3"]


@pytest.mark.parametrize("mode", ["metadata", "full"])
async def test_every_record_gets_exactly_one_audit_row(
    open_team: Callable[..., Team], mode: str
) -> None:
    await _record(open_team(audit=mode, usage_batch_size=3), 10)
    assert len(_rows()) == 10


def test_canonical_is_json_dumps_sorted_and_compact_for_every_tricky_string() -> None:
    tricky = "".join(chr(c) for c in range(0x80)) + 'é\u2028\u2029\ufeff😀\\"/'
    row = {"z": tricky, "a": 2**62, "m": None, "é": "x"}
    plain = json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert canonical(row) == plain.encode()


def test_audit_times_match_datetime_to_the_microsecond() -> None:
    import random
    from datetime import UTC, datetime

    from lynkr_cli.team.times import rfc3339_micro

    rng = random.Random(7)
    for ts in [0.0, 1.0000005, 59.9999995, *(rng.uniform(0, 4e9) for _ in range(20_000))]:
        expected = datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        assert rfc3339_micro(ts) == expected, ts


PLANTED = {
    "private key": f"-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}\n-----END RSA PRIVATE KEY-----",
    "AWS access key id": AWS_KEY,
    "AWS secret access key": "aws_secret_access_key = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKY'",
    "GCP API key": "AIza" + "SyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW",
    "GCP service account key": '"private_key_id": "' + "0123456789abcdef" * 2 + '01234567"',
    "Azure storage account key": "AccountKey=" + "A1b2C3d4" * 10 + "A1b2C3==",
    "Azure AD client secret": "abc8Q~" + "Xy7_q.Xy7_q~Xy7_q.Xy7_q~Xy7_q.Xy7_",
    "GitHub token": "ghp_" + "a1B2" * 10,
    "Slack token": "xoxb-1234567890-abcdefghij",
    "Slack webhook": "https://hooks.slack.com/services/T0123ABC/B0123ABC/" + "a1B2c3D4" * 3,
    "Anthropic API key": ANTHROPIC_KEY,
    "OpenAI API key": "sk-proj-" + "Q7x_" * 12,
    "Databricks token": "dapi" + "0123456789abcdef" * 2,
}


def test_redaction_catches_every_git_review_detector_and_leaves_other_lines_alone() -> None:
    from lynkr_cli.git.secrets import DETECTORS, scan_line
    from lynkr_cli.team.redact import redact_text

    assert {kind for kind, _ in DETECTORS} == set(PLANTED), "a detector changed: update both"
    prose = "def refactor(x):\n    key = compute(x)  # plain code\n" * 50
    assert redact_text(prose, 10**6) == prose
    for kind, secret in PLANTED.items():
        assert scan_line(secret) == kind or kind == "OpenAI API key", kind
        out = redact_text(f"line one\nfound: {secret} end\nline three", 10**6)
        assert out.startswith("line one\n") and out.endswith("\nline three"), kind
        assert secret not in out, kind
    extra = {"lynkr": "lk-" + "Z" * 43, "bearer": "Bearer abcdefgh12345678",
             "assignment": 'client_secret = "q8ZrT4mWx2Lp9sVb"'}  # fmt: skip
    for kind, secret in extra.items():
        out = redact_text(f"a\n{secret}\nb", 10**6)
        value = secret.split('"')[1] if kind == "assignment" else secret.split()[-1]
        assert value not in out, kind


def test_the_redactor_remembers_long_strings_within_its_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from lynkr_cli.team import redact

    calls: list[int] = []
    real = redact.redact_text

    def counting(text: str, max_chars: int, known: Any = None) -> str:
        calls.append(len(text))
        return real(text, max_chars, known)

    monkeypatch.setattr(redact, "redact_text", counting)
    r = redact.Redactor(10**6, memo_chars=5000)
    turn = f"api_key = '{AWS_KEY}'\n" + "x" * 2000
    body = {"messages": [{"content": turn}, {"content": "short"}]}
    first, second = r.body(body), r.body(body)
    assert first == second and AWS_KEY not in json.dumps(first)
    assert len([n for n in calls if n > 1000]) == 1  # the long string was redacted once
    for n in range(10):  # more than the bound: the oldest entries go
        r.text(f"{n}" * 1000)
    assert sum(len(v) for v in r._memo.values()) <= 5000


async def test_the_gateways_own_configured_secrets_are_masked_in_bodies(clock: Any) -> None:
    from pydantic import SecretStr

    from lynkr_cli.settings import ProviderSettings, Settings, TeamSettings

    upstream = "plain-upstream-credential-0123"  # no recognisable shape: only known values
    settings = Settings(
        provider=ProviderSettings(databricks_api_key=SecretStr(upstream)),
        team=TeamSettings(audit="full"),
    )
    team = Team.open(settings, clock=clock)
    await team.start()
    team.record_usage(usage_record(1, error=f"upstream echoed {upstream}"),
                      request={"messages": [{"content": f"is it {upstream}?"}]})  # fmt: skip
    await team.stop()
    assert upstream not in _db_text()
    assert "is it [REDACTED]?" in _rows()[0]["detail"]
