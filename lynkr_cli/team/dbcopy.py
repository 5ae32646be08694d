"""``lynkr db copy``: move a team's keys, usage and audit log into PostgreSQL.

For a team growing from one gateway (SQLite) to several (PostgreSQL). The target is
migrated first and must hold no team data yet: the audit rows keep their ``seq``,
``prev_hash`` and ``hash`` exactly, so the copied chain verifies as the original did,
and merging two chains would break both. Everything is written in one transaction on
the target (all or nothing), and then verified: the chain is walked on the target and
its head compared with the source's, and the counts compared.

Keys keep their ids and hashes (never the keys themselves, which no store holds), so
every issued key keeps working against the new database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lynkr_cli.dsn import shown_url
from lynkr_cli.errors import NotFoundError, UsageError
from lynkr_cli.team.audit import verify
from lynkr_cli.team.backends import store_kind
from lynkr_cli.team.pgconn import migrate
from lynkr_cli.team.postgres import PgStore
from lynkr_cli.team.postgres_schema import INSERT_AUDIT, KEY_COLUMNS
from lynkr_cli.team.rows import key_values, usage_values
from lynkr_cli.team.sqlite_schema import AUDIT_COLUMNS, USAGE_COLUMNS
from lynkr_cli.team.store import Store
from lynkr_cli.team.types import KeyRecord, UsageRecord

Progress = Callable[[str, int], None]  # (what, rows so far)


@dataclass
class CopyReport:
    source: str  # shown: no password
    target: str
    keys: int = 0
    usage: int = 0
    audit: int = 0
    source_chain: dict[str, Any] = field(default_factory=dict)
    target_chain: dict[str, Any] = field(default_factory=dict)

    @property
    def verified(self) -> bool:
        src, dst = self.source_chain, self.target_chain
        return src.get("head") == dst.get("head") and src.get("ok") == dst.get("ok")

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "copied": {"keys": self.keys, "usage": self.usage, "audit": self.audit},
            "source_chain": self.source_chain,
            "target_chain": self.target_chain,
            "verified": self.verified,
        }


def open_source(url: str) -> tuple[Store, str]:
    """The store to copy from (never created or migrated: it must exist)."""
    kind, where = store_kind(url)
    if kind == "sqlite":
        from lynkr_cli.team.sqlite import SqliteStore

        store = SqliteStore.inspect(Path(where))
        if store is None:
            raise NotFoundError(
                f"no team data in {where}",
                hint="Give the lynkr.db that holds the keys (`lynkr config path` shows "
                "this host's), as sqlite:////absolute/path/lynkr.db.",
            )
        return store, where
    return PgStore.connect(where), shown_url(where)


def copy(source_url: str, target_url: str, progress: Progress | None = None) -> CopyReport:
    """Copy everything from ``source_url`` into the (empty) PostgreSQL ``target_url``."""
    kind, where = store_kind(target_url)
    if kind != "postgresql":
        raise UsageError(
            "the target of `lynkr db copy` must be a postgresql:// URL",
            hint="e.g. --to postgresql://lynkr:PASSWORD@db-host:5432/lynkr",
        )
    source, shown_source = open_source(source_url)
    if store_kind(source_url) == (kind, where):
        raise UsageError("--from and --to are the same database", hint="Name two databases.")
    migrate(where)
    target = PgStore.connect(where)
    report = CopyReport(shown_source, target.shown)
    verdict = verify(source.audit_chain(), source.audit_anchor())
    report.source_chain = verdict.as_dict()
    note = progress or (lambda what, n: None)
    with target.transaction() as conn, conn.cursor() as cur:
        _require_empty(cur, target.shown)
        report.keys = _copy_keys(cur, source.list_keys())
        note("keys", report.keys)
        report.usage = _copy_usage(cur, source.export_usage(), note)
        report.audit = _copy_audit(cur, source.audit_chain(), source.audit_anchor(), note)
        cur.execute("UPDATE team_meta SET value = value + 1 WHERE name = 'keys_version'")
    report.target_chain = verify(target.audit_chain(), target.audit_anchor()).as_dict()
    source.close()
    target.close()
    return report


def _require_empty(cur: Any, where: str) -> None:
    cur.execute(
        "SELECT (SELECT count(*) FROM team_keys), (SELECT count(*) FROM team_usage), "
        "(SELECT count(*) FROM team_audit) + (SELECT count(*) FROM team_audit_anchor)"
    )
    keys, usage, audit = cur.fetchone()
    if keys or usage or audit:
        raise UsageError(
            f"the target {where} already holds team data ({keys} keys, {usage} usage "
            f"records, {audit} audit records): `lynkr db copy` only fills an empty database",
            hint="Copy into a new, empty database (or drop the team_* tables there first).",
        )


def _copy_keys(cur: Any, keys: Iterable[KeyRecord]) -> int:
    columns = (*KEY_COLUMNS, "last_used_at")
    rows = [(*key_values(k).values(), k.last_used_at) for k in keys]
    cur.executemany(
        f"INSERT INTO team_keys ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})",
        rows,
    )
    return len(rows)


def _copy_usage(cur: Any, records: Iterator[UsageRecord], note: Progress) -> int:
    count = 0
    with cur.copy(f"COPY team_usage ({', '.join(USAGE_COLUMNS)}) FROM STDIN") as out:
        for record in records:
            out.write_row(usage_values(record))
            count += 1
            if count % 50_000 == 0:
                note("usage", count)
    note("usage", count)
    return count


def _copy_audit(
    cur: Any, rows: Iterable[dict[str, Any]], anchor: tuple[int, str], note: Progress
) -> int:
    if anchor[0]:
        cur.execute(
            "INSERT INTO team_audit_anchor (id, seq, hash) VALUES (1, %s, %s)",
            (anchor[0], anchor[1]),
        )
    batch: list[tuple[Any, ...]] = []
    count = 0
    for row in rows:
        batch.append(tuple(row[c] for c in AUDIT_COLUMNS))
        if len(batch) == 5000:
            cur.executemany(INSERT_AUDIT, batch)
            count += len(batch)
            batch = []
            note("audit", count)
    if batch:
        cur.executemany(INSERT_AUDIT, batch)
        count += len(batch)
    note("audit", count)
    return count
