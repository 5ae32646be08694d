"""A small real HTTP proxy for tests, on 127.0.0.1: CONNECT tunnels and absolute-form
forwarding, recording what it was sent; it can demand credentials (407)."""

from __future__ import annotations

import asyncio
import base64
from typing import Any
from urllib.parse import urlsplit

import pytest

UPSTREAM = "upstream.test"  # resolved by the proxy only: reaching it proves the proxy was used
PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


class Proxy:
    """An HTTP proxy: CONNECT tunnels and absolute-form forwarding, piping bytes both ways.

    ``heads`` holds every request head it was sent, ``targets`` where it connected.
    With ``credentials`` ("user:password") it answers 407 to any other Proxy-Authorization.
    """

    def __init__(self, credentials: str | None = None) -> None:
        self.credentials = credentials
        self.resolve = {UPSTREAM: "127.0.0.1"}
        self.heads: list[bytes] = []
        self.targets: list[tuple[str, int]] = []
        self.server: asyncio.Server | None = None
        self.writers: list[asyncio.StreamWriter] = []
        self.tasks: set[asyncio.Task[None]] = set()
        self.url = ""
        self.port = 0

    async def start(self) -> Proxy:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        return self

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in self.writers:
            writer.close()
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.append(writer)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (ConnectionError, asyncio.IncompleteReadError):
            writer.close()
            return
        self.heads.append(head)
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name:
                headers[name.lower()] = value.strip()
        if self.credentials is not None:
            want = "Basic " + base64.b64encode(self.credentials.encode()).decode()
            if headers.get("proxy-authorization") != want:
                writer.write(
                    b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                    b'Proxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n'
                )
                await writer.drain()
                writer.close()
                return
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
            first = b""
        else:  # absolute form: forward as origin form, without the proxy's header
            parts = urlsplit(target)
            host, port = parts.hostname or "", str(parts.port or 80)
            kept = [f"{method} {parts.path or '/'} HTTP/1.1"]
            kept += [line for line in lines[1:] if line and "proxy-" not in line.lower()]
            first = ("\r\n".join(kept) + "\r\n\r\n").encode("latin-1")
        self.targets.append((host, int(port)))
        try:
            up_reader, up_writer = await asyncio.open_connection(
                self.resolve.get(host, host), int(port)
            )
        except OSError:
            writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            writer.close()
            return
        self.writers.append(up_writer)
        if method == "CONNECT":
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        else:
            up_writer.write(first)
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(_pipe(src, dst))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)


async def _pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
    try:
        while data := await src.read(65536):
            dst.write(data)
            await dst.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        dst.close()


def cert_for_upstream(tmp_path: Any) -> tuple[str, str]:
    import shutil
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", f"/CN={UPSTREAM}", "-addext", f"subjectAltName=DNS:{UPSTREAM},IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return str(cert), str(key)


def clean_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No proxy variables from the machine running the tests."""
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.delenv("REQUEST_METHOD", raising=False)
