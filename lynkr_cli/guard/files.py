"""Reading a saved request for ``lynkr guard scan``: a Messages body, or a capture of one."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from lynkr_cli.errors import NotFoundError, UsageError

MAX_BYTES = 64 * 1024 * 1024  # twice the gateway's default body limit


def read_request(source: str) -> dict[str, Any]:
    """The Messages body in ``source`` (a path, or ``-`` for stdin).

    Accepts the body itself (``{"model", "messages", ...}``) or a captured request
    holding it under ``body`` (``{"method", "path", "headers", "body"}``, as in
    ``tests/fixtures/claude-code/``).
    """
    raw = _read(source)
    import orjson

    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise UsageError(
            f"{_name(source)} is not JSON: {exc}",
            hint="Give a saved Messages request body (the JSON a client POSTs to /v1/messages).",
        ) from None
    body = doc.get("body") if isinstance(doc, dict) and isinstance(doc.get("body"), dict) else doc
    if not isinstance(body, dict) or not ("messages" in body or "system" in body):
        raise UsageError(
            f"{_name(source)} holds no Messages request: no 'messages' or 'system' field",
            hint="Give the JSON body of a POST /v1/messages, or a capture with it under 'body'.",
        )
    return body


def _read(source: str) -> bytes:
    if source == "-":
        data = sys.stdin.buffer.read(MAX_BYTES + 1)
    else:
        path = Path(source)
        if not path.is_file():
            raise NotFoundError(f"no file {source}", hint="Check the path of the saved request.")
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise UsageError(f"{_name(source)} is over {MAX_BYTES // (1024 * 1024)} MB")
    return data


def _name(source: str) -> str:
    return "stdin" if source == "-" else source


def write_body(body: Any, target: str) -> None:
    """``body`` as JSON to ``target`` (``-``: stdout), written whole or not at all."""
    import orjson

    data = orjson.dumps(body, option=orjson.OPT_INDENT_2) + b"\n"
    if target == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    path = Path(target)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UsageError(f"cannot write {target}: {exc.strerror}") from None
