"""Bearer tokens from a command (``provider.token_command``), like Claude Code's ``apiKeyHelper``.

For upstreams that disable API keys (Azure AI Foundry with Entra ID, Databricks
OAuth), lynkr runs a command that prints a token: ``az account get-access-token
--resource https://ai.azure.com --query accessToken -o tsv`` or ``databricks auth
token --host https://…``. The command line is split with :func:`shlex.split` and
run without a shell (``sh -c '…'`` for shell syntax).

- stdout, stripped, is the token; a JSON object gives ``access_token`` /
  ``accessToken`` / ``token`` and maybe an expiry (``expires_in`` seconds,
  ``expires_on`` / ``expiresOn`` / ``expiry`` as epoch or ISO time).
- The token is kept in memory only, never logged or written anywhere. It is fresh
  for ``provider.token_ttl_seconds``, or until a minute before the expiry the
  command gave. :meth:`TokenCommand.current` is the hot path: a clock read and a
  compare, no subprocess, no await.
- One run at a time: concurrent requests wait for the same run (single flight).
  A run is bounded by :data:`RUN_TIMEOUT`. A failure (exit status ≠ 0, timeout,
  no token in the output) becomes an :class:`ApiError` saying the gateway's token
  command failed, with the first stderr line minus anything token-shaped; it is
  remembered for :attr:`TokenCommand.failure_hold` seconds so a burst of
  requests does not run a broken command in a loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shlex
import signal
import time
from datetime import datetime
from typing import Any

import orjson

from lynkr_cli.serve.errors import ApiError

RUN_TIMEOUT = 30.0
REFRESH_MARGIN = 60.0  # refresh this long before an expiry the command gave
SETTING = "provider.token_command (LYNKR_TOKEN_COMMAND)"
TOKEN_KEYS = ("access_token", "accessToken", "token")
_TOKEN_SHAPED = re.compile(r"(?i)bearer\s+\S+|[A-Za-z0-9_\-+=.~]{20,}")


class TokenCommandError(ApiError):
    """The command failed; ``why`` is the short reason (no token in it), for doctor too."""

    def __init__(self, why: str) -> None:
        super().__init__(
            502,
            f"lynkr's upstream token command failed: {why}. This is the gateway's own "
            f"credential helper, not your request or client key: fix {SETTING} "
            "(run it in a shell to see what it prints) and try again.",
            retry=False,
        )
        self.why = why


class TokenCommand:
    """Runs the configured command for a bearer token; caches it; one run at a time."""

    def __init__(self, command: str, ttl: float, timeout: float = RUN_TIMEOUT) -> None:
        self.ttl = ttl
        self.timeout = timeout
        self.failure_hold = 5.0
        self.runs = 0
        try:
            self.argv = shlex.split(command)
            self.parse_error = "" if self.argv else "it is empty"
        except ValueError as exc:
            self.argv, self.parse_error = [], f"it cannot be split into words ({exc})"
        self._token = ""
        self._fresh_until = 0.0  # time.monotonic()
        self._running: asyncio.Future[str] | None = None
        self._failure: tuple[float, ApiError] | None = None

    @property
    def program(self) -> str:
        return os.path.basename(self.argv[0]) if self.argv else "(none)"

    def current(self) -> str | None:
        """The cached token while it is fresh, else None (the cheap path)."""
        if self._token and time.monotonic() < self._fresh_until:
            return self._token
        return None

    def invalidate(self, token: str) -> None:
        """Forget ``token`` (the upstream rejected it); a newer token is kept."""
        if token == self._token:
            self._token = ""
            self._fresh_until = 0.0

    async def get(self) -> str:
        """A fresh token: the cached one, or the result of one (shared) run."""
        token = self.current()
        if token is not None:
            return token
        if self._failure is not None:
            until, error = self._failure
            if time.monotonic() < until:
                raise error
            self._failure = None
        if self._running is None:
            task = asyncio.ensure_future(self._refresh())
            task.add_done_callback(self._finished)
            self._running = task
        return await asyncio.shield(self._running)

    def _finished(self, task: asyncio.Future[str]) -> None:
        self._running = None
        if not task.cancelled() and task.exception() is not None:
            error = task.exception()
            if isinstance(error, ApiError):
                self._failure = (time.monotonic() + self.failure_hold, error)

    async def _refresh(self) -> str:
        token, lifetime = await self.run()
        self._token = token
        self._fresh_until = time.monotonic() + lifetime
        return token

    async def run(self) -> tuple[str, float]:
        """Run the command once: ``(token, seconds it stays fresh)`` or an ApiError."""
        if self.parse_error:
            raise self.error(f"{SETTING} is not a usable command: {self.parse_error}")
        self.runs += 1
        try:
            proc = await asyncio.create_subprocess_exec(
                *self.argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,  # a timeout kills the command and its children
            )
        except OSError as exc:
            raise self.error(f"cannot start {self.argv[0]!r}: {exc.strerror or exc}") from None
        try:
            out, err = await asyncio.wait_for(proc.communicate(), self.timeout)
        except TimeoutError:
            _kill(proc)
            raise self.error(f"{self.program} did not finish within {self.timeout:g}s") from None
        except BaseException:
            _kill(proc)
            raise
        if proc.returncode != 0:
            line = first_line(err)
            why = f"{self.program} exited with status {proc.returncode}"
            raise self.error(why + (f": {line}" if line else " (nothing on stderr)"))
        try:
            token, expires_in = parse_output(out.decode("utf-8", "replace"))
        except ValueError as exc:
            raise self.error(f"{self.program} {exc}") from None
        return token, fresh_for(expires_in, self.ttl)

    def error(self, why: str) -> TokenCommandError:
        return TokenCommandError(why)


def _kill(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
        if hasattr(os, "killpg"):
            os.killpg(proc.pid, signal.SIGKILL)
        else:  # pragma: no cover - Windows
            proc.kill()


def redact(text: str) -> str:
    """``text`` with anything token-shaped (long base64/hex runs, ``Bearer …``) replaced."""
    return _TOKEN_SHAPED.sub("[redacted]", text)


def first_line(stderr: bytes) -> str:
    for line in stderr.decode("utf-8", "replace").splitlines():
        if line.strip():
            return redact(line.strip())[:300]
    return ""


def parse_output(text: str) -> tuple[str, float | None]:
    """``(token, seconds until it expires or None)`` from the command's stdout."""
    text = text.strip()
    expires_in: float | None = None
    if text.startswith("{"):
        try:
            doc: Any = orjson.loads(text)
        except orjson.JSONDecodeError:
            raise ValueError("printed something that looks like JSON but is not") from None
        if not isinstance(doc, dict):
            raise ValueError("printed JSON that is not an object")
        found = next((doc[k] for k in TOKEN_KEYS if isinstance(doc.get(k), str)), "")
        if not found:
            raise ValueError("printed a JSON object without access_token, accessToken or token")
        text = found.strip()
        expires_in = expiry_seconds(doc)
    if text[:7].lower() == "bearer ":
        text = text[7:].strip()
    if not text:
        raise ValueError("printed no token (empty output)")
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in text):
        raise ValueError("printed more than one word; print the token alone, or a JSON object")
    return text, expires_in


def expiry_seconds(doc: dict[str, Any]) -> float | None:
    """Seconds until the token expires, from the fields token tools print; None if absent."""
    value = doc.get("expires_in")
    if value is not None:
        with contextlib.suppress(TypeError, ValueError):
            return float(value)
    for key in ("expires_on", "expiresOn", "expiry"):
        value = doc.get(key)
        if value is None or isinstance(value, bool):
            continue
        at = _epoch(value)
        if at is not None:
            return at - time.time()
    return None


def _epoch(value: Any) -> float | None:
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = float(value)
    if isinstance(value, int | float):
        return float(value) / 1000 if value > 1e11 else float(value)  # ms epochs exist too
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            # az prints local time without a zone ("2026-01-01 12:00:00.000000"): naive is local
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    return None


def fresh_for(expires_in: float | None, ttl: float) -> float:
    """How long to use a token: the TTL, or up to a minute before the expiry it came with."""
    if expires_in is None:
        return ttl
    if expires_in > 2 * REFRESH_MARGIN:
        return expires_in - REFRESH_MARGIN
    return max(0.0, expires_in / 2)
