"""A real aiohttp server on 127.0.0.1 in a background thread, for sync CLI tests."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@contextmanager
def serve(routes: dict[tuple[str, str], Handler]) -> Iterator[dict[str, Any]]:
    """Start an aiohttp app with ``routes`` on a free port; yields {"url", "port", "seen"}."""
    info: dict[str, Any] = {"seen": []}
    ready = threading.Event()
    loop = asyncio.new_event_loop()

    async def start() -> web.AppRunner:
        app = web.Application()

        def recording(handler: Handler) -> Handler:
            async def wrapped(request: web.Request) -> web.StreamResponse:
                body = await request.read()
                info["seen"].append(
                    {"path": request.path, "headers": dict(request.headers), "body": body}
                )
                return await handler(request)

            return wrapped

        for (method, path), handler in routes.items():
            app.router.add_route(method, path, recording(handler))
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        info.update(port=port, url=f"http://127.0.0.1:{port}")
        return runner

    def run() -> None:
        asyncio.set_event_loop(loop)
        info["runner"] = loop.run_until_complete(start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(10), "test server did not start"
    try:
        yield info
    finally:
        asyncio.run_coroutine_threadsafe(info["runner"].cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
