"""Benchmark: lynkr's gateway against a minimal aiohttp relay, in one run.

    .venv/bin/python tests/bench/bench_gateway.py [--seconds 2.5]

Separate processes share the machine: a fast local upstream, the ~40-line relay
baseline (uvloop), lynkr passthrough (provider anthropic, cache off), lynkr with
OpenAI translation (provider openai, cache off), lynkr on cache hits (cache on,
the same request repeated) — and this process as the load generator. Each target
runs at concurrency 1 and 32, for JSON and SSE answers. The table shows requests/s,
p50/p99 latency added over calling the upstream directly, the ratio of throughput
to the relay, and each server's peak RSS. Always exits 0: it reports, it does not judge.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
MODEL = "claude-bench"
REQUEST = {
    "model": MODEL,
    "max_tokens": 256,
    "system": [{"type": "text", "text": "You are terse."}],
    "messages": [{"role": "user", "content": "Say hello in five words." * 4}],
}

# --------------------------------------------------------------------------- upstream


def _sse(event: dict[str, Any]) -> bytes:
    return f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()


def _answers() -> dict[str, bytes]:
    text = "Hello there, five words here."
    usage = {"input_tokens": 25, "output_tokens": 9}
    message = {
        "id": "msg_bench",
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": usage,
    }
    start = {**message, "content": [], "stop_reason": None}
    words = text.split(" ")
    events = [
        {"type": "message_start", "message": start},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    ]
    for i, word in enumerate(words):
        piece = word if i == 0 else " " + word
        events.append(
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": piece},
            }
        )
    events += [
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": usage,
        },
        {"type": "message_stop"},
    ]
    oai_usage = {"prompt_tokens": 25, "completion_tokens": 9, "total_tokens": 34}
    completion = {
        "id": "c1",
        "object": "chat.completion",
        "model": "gpt-bench",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
        ],
        "usage": oai_usage,
    }

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        doc = {
            "id": "c1",
            "object": "chat.completion.chunk",
            "model": "gpt-bench",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        return b"data: " + json.dumps(doc).encode() + b"\n\n"

    chunks = chunk({"role": "assistant", "content": ""})
    for i, word in enumerate(words):
        chunks += chunk({"content": word if i == 0 else " " + word})
    chunks += chunk({}, "stop")
    tail = {"id": "c1", "object": "chat.completion.chunk", "choices": [], "usage": oai_usage}
    chunks += b"data: " + json.dumps(tail).encode() + b"\n\ndata: [DONE]\n\n"
    return {
        "json": json.dumps(message).encode(),
        "sse": b"".join(_sse(e) for e in events),
        "oai_json": json.dumps(completion).encode(),
        "oai_sse": chunks,
    }


def run_upstream(port: int) -> None:
    import uvloop
    from aiohttp import web

    answers = _answers()

    async def messages(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        streaming = b'"stream":true' in body.replace(b" ", b"")
        kind = ("oai_" if request.path.endswith("/chat/completions") else "") + (
            "sse" if streaming else "json"
        )
        if streaming:
            resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
            await resp.prepare(request)
            await resp.write(answers[kind])
            await resp.write_eof()
            return resp
        return web.Response(body=answers[kind], content_type="application/json")

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_post("/v1/messages", messages)
    app.router.add_post("/v1/chat/completions", messages)
    uvloop.install()
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


# --------------------------------------------------------------------------- relay baseline

RELAY = """
import sys
import aiohttp
import uvloop
from aiohttp import web

UPSTREAM, PORT = sys.argv[1], int(sys.argv[2])


async def relay(request):
    body = await request.read()
    session = request.app["session"]
    headers = {"content-type": "application/json", "x-api-key": "up-key"}
    async with session.post(UPSTREAM, data=body, headers=headers) as upstream:
        ctype = upstream.headers.get("content-type", "")
        if ctype.startswith("text/event-stream"):
            resp = web.StreamResponse(status=upstream.status, headers={"content-type": ctype})
            await resp.prepare(request)
            async for chunk in upstream.content.iter_any():
                await resp.write(chunk)
            await resp.write_eof()
            return resp
        data = await upstream.read()
        return web.Response(body=data, status=upstream.status, content_type="application/json")


async def start(app):
    app["session"] = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))


async def stop(app):
    await app["session"].close()


app = web.Application(client_max_size=64 * 1024 * 1024)
app.router.add_post("/v1/messages", relay)
app.router.add_post("/v1/chat/completions", relay)
app.on_startup.append(start)
app.on_cleanup.append(stop)
uvloop.install()
web.run_app(app, host="127.0.0.1", port=PORT, access_log=None, print=None)
"""

# --------------------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_upstream() -> tuple[subprocess.Popen[bytes], str]:
    """This file's fast fake upstream in a process of its own, and its base URL."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, __file__, "--role", "upstream", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_port(port, proc)
    return proc, f"http://127.0.0.1:{port}"


def wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on port {port}")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_servers(home: Path) -> tuple[dict[str, int], dict[str, subprocess.Popen[bytes]]]:
    py = sys.executable
    ports = {
        name: free_port() for name in ("direct", "relay", "passthrough", "translation", "cache")
    }
    procs: dict[str, subprocess.Popen[bytes]] = {}
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    up = f"http://127.0.0.1:{ports['direct']}"
    procs["direct"] = subprocess.Popen(
        [py, __file__, "--role", "upstream", "--port", str(ports["direct"])], **quiet
    )  # type: ignore[call-overload]
    relay_file = home / "relay.py"
    relay_file.write_text(RELAY)
    procs["relay"] = subprocess.Popen(
        [py, str(relay_file), up + "/v1/messages", str(ports["relay"])], **quiet
    )  # type: ignore[call-overload]
    ports["relay_chat"] = free_port()
    procs["relay_chat"] = subprocess.Popen(
        [py, str(relay_file), up + "/v1/chat/completions", str(ports["relay_chat"])], **quiet
    )  # type: ignore[call-overload]
    base_env = {
        **os.environ,
        "LYNKR_HOME": str(home / "lynkr"),
        "LYNKR_TOOLS_MODE": "never",
        "LYNKR_LOAD_PLUGINS": "",
        "LYNKR_ACCESS_LOG": "true",
    }
    configs = {
        "passthrough": {"LYNKR_PROVIDER": "anthropic", "LYNKR_CACHE": "false"},
        "translation": {"LYNKR_PROVIDER": "openai", "LYNKR_CACHE": "false"},
        "cache": {"LYNKR_PROVIDER": "anthropic", "LYNKR_CACHE": "true"},
    }
    for name, extra in configs.items():
        env = {
            **base_env,
            **extra,
            "ANTHROPIC_ENDPOINT": up + "/v1/messages",
            "ANTHROPIC_API_KEY": "up-key",
            "OPENAI_ENDPOINT": up + "/v1/chat/completions",
            "OPENAI_API_KEY": "up-key",
            "OPENAI_MODEL": "gpt-bench",
        }
        cmd = [py, "-m", "lynkr_cli", "serve", "--port", str(ports[name])]
        procs[name] = subprocess.Popen(cmd, env=env, cwd=str(home), **quiet)  # type: ignore[call-overload]
    for name, proc in procs.items():
        wait_port(ports[name], proc)
    return ports, procs


# --------------------------------------------------------------------------- load


CHAT_REQUEST = {
    "model": "gpt-bench",
    "max_tokens": 256,
    "messages": [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Say hello in five words." * 4},
    ],
}


async def load(
    port: int, *, stream: bool, concurrency: int, seconds: float, chat: bool = False
) -> list[float]:
    """Latencies (s) of complete answers from ``concurrency`` clients for ``seconds``;
    ``chat``: an OpenAI client on /v1/chat/completions."""
    import aiohttp

    if chat:
        doc: dict[str, Any] = {**CHAT_REQUEST, "stream": stream}
        if stream:
            doc["stream_options"] = {"include_usage": True}
        body = json.dumps(doc).encode()
        url = f"http://127.0.0.1:{port}/v1/chat/completions"
    else:
        body = json.dumps({**REQUEST, "stream": stream}).encode()
        url = f"http://127.0.0.1:{port}/v1/messages"
    headers = {
        "content-type": "application/json",
        "x-api-key": "client",
        "anthropic-version": "2023-06-01",
    }
    latencies: list[float] = []
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker(deadline: float, record: bool) -> None:
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                async with session.post(url, data=body, headers=headers) as resp:
                    data = await resp.read()
                    if resp.status != 200 or not data:
                        raise RuntimeError(f"port {port}: HTTP {resp.status} {data[:200]!r}")
                if record:
                    latencies.append(time.perf_counter() - t0)

        warm = time.perf_counter() + min(0.1, seconds / 4)
        await asyncio.gather(*(worker(warm, False) for _ in range(concurrency)))
        end = time.perf_counter() + seconds
        await asyncio.gather(*(worker(end, True) for _ in range(concurrency)))
    return latencies


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--role", default="bench")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--seconds", type=float, default=2.5)
    args = parser.parse_args()
    if args.role == "upstream":
        run_upstream(args.port)
        return 0
    import uvloop

    with tempfile.TemporaryDirectory(prefix="lynkr-bench-") as tmp:
        ports, procs = start_servers(Path(tmp))
        try:
            pids = {name: proc.pid for name, proc in procs.items()}
            results = run_cells(ports, args.seconds, pids)
            chat = run_chat_cells(ports, args.seconds, pids)
            rss = {name: peak_rss_mb(proc.pid) for name, proc in procs.items()}
        finally:
            for proc in procs.values():
                proc.terminate()
            for proc in procs.values():
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
    report(results, rss)
    report_chat(chat)
    del uvloop
    return 0


TARGETS = ("direct", "relay", "passthrough", "translation", "cache")


ROUNDS = 8


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process and its live child processes have used (clock
    ticks from /proc): the team gateway's usage writer process counts as the gateway."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # ended meanwhile
        return 0.0
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(cpu_seconds(child) for child in _children(pid))


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


CPU: dict[tuple[str, str, int], float] = {}  # CPU seconds each server spent per cell


def run_cells(
    ports: dict[str, int], seconds: float, pids: dict[str, int] | None = None
) -> dict[tuple[str, str, int], list[float]]:
    """Each cell interleaves the targets in short rounds, so load from anything else
    running on the machine falls on every target alike instead of on whichever ran then.
    The CPU time each server spends is recorded too: per request, it is what a busy
    machine distorts least."""
    import uvloop

    results: dict[tuple[str, str, int], list[float]] = {}
    for kind in ("json", "sse"):
        for conc in (1, 32):
            for _ in range(ROUNDS):
                for target in TARGETS:
                    pid = (pids or {}).get(target)
                    before = cpu_seconds(pid) if pid else 0.0
                    lat = uvloop.run(
                        load(
                            ports[target],
                            stream=kind == "sse",
                            concurrency=conc,
                            seconds=seconds / ROUNDS,
                        )
                    )
                    results.setdefault((target, kind, conc), []).extend(lat)
                    if pid:
                        key = (target, kind, conc)
                        CPU[key] = CPU.get(key, 0.0) + cpu_seconds(pid) - before
            line = ", ".join(
                f"{t} {len(results[(t, kind, conc)]) / seconds:.0f}/s" for t in TARGETS
            )
            print(f"  {kind} c={conc}: {line}", file=sys.stderr, flush=True)
    return results


# OpenAI clients on /v1/chat/completions: the relay of the same request, lynkr passing it
# through to an OpenAI-format upstream, and lynkr via its internal form to an Anthropic one.
CHAT_TARGETS = {
    "relay_chat": "relay_chat",
    "chat_passthrough": "translation",
    "chat_internal": "passthrough",
}


def run_chat_cells(
    ports: dict[str, int], seconds: float, pids: dict[str, int]
) -> dict[tuple[str, str, int], tuple[int, float]]:
    """(answers, server CPU seconds) per (target, kind, concurrency), interleaved."""
    import uvloop

    out: dict[tuple[str, str, int], tuple[int, float]] = {}
    for kind in ("json", "sse"):
        for conc in (1, 32):
            for _ in range(ROUNDS):
                for target, server in CHAT_TARGETS.items():
                    before = cpu_seconds(pids[server])
                    lat = uvloop.run(
                        load(
                            ports[server],
                            stream=kind == "sse",
                            concurrency=conc,
                            seconds=seconds / ROUNDS,
                            chat=True,
                        )
                    )
                    n, cpu = out.get((target, kind, conc), (0, 0.0))
                    out[(target, kind, conc)] = (
                        n + len(lat),
                        cpu + cpu_seconds(pids[server]) - before,
                    )
    return out


def report_chat(chat: dict[tuple[str, str, int], tuple[int, float]]) -> None:
    print()
    print("OpenAI clients, POST /v1/chat/completions: req/s x relay_chat, CPU us/request")
    for kind in ("json", "sse"):
        for conc in (1, 32):
            relay_n = chat[("relay_chat", kind, conc)][0]
            cells = []
            for target in CHAT_TARGETS:
                n, cpu = chat[(target, kind, conc)]
                us = cpu / n * 1e6 if n else float("nan")
                cells.append(
                    f"{target} {n / relay_n if relay_n else float('nan'):.2f}x ({us:.0f} us)"
                )
            print(f"  {kind} c={conc}: " + ", ".join(cells))


def report(results: dict[tuple[str, str, int], list[float]], rss: dict[str, float]) -> None:
    seconds_of = {k: v for k, v in results.items()}
    print(
        f"{'target':12} {'kind':5} {'conc':>4} {'req/s':>8} {'x relay':>8} "
        f"{'p50 +ms':>8} {'p99 +ms':>8}"
    )
    for kind in ("json", "sse"):
        for conc in (1, 32):
            relay = len(seconds_of[("relay", kind, conc)])
            direct = results[("direct", kind, conc)]
            for target in TARGETS:
                lat = results[(target, kind, conc)]
                ratio = len(lat) / relay if relay else float("nan")
                add50 = (statistics.median(lat) - statistics.median(direct)) * 1000
                add99 = (pct(lat, 0.99) - pct(direct, 0.99)) * 1000
                rate = len(lat) / ARGS_SECONDS[0]
                print(
                    f"{target:12} {kind:5} {conc:>4} {rate:8.0f} {ratio:8.2f} "
                    f"{add50:8.3f} {add99:8.3f}"
                )
    if CPU:
        print()
        print("server CPU per request (us), and x relay (lower is better):")
        for kind in ("json", "sse"):
            for conc in (1, 32):
                per = {}
                for target in TARGETS:
                    n = len(results[(target, kind, conc)])
                    if (target, kind, conc) in CPU and n:
                        per[target] = CPU[(target, kind, conc)] / n * 1e6
                relay_us = per.get("relay") or float("nan")
                cells = ", ".join(f"{t} {v:.0f} ({v / relay_us:.2f}x)" for t, v in per.items())
                print(f"  {kind} c={conc}: {cells}")
    print()
    print("peak RSS (MB): " + ", ".join(f"{k} {v:.1f}" for k, v in rss.items()))
    print(
        "targets: passthrough >=0.9x relay (>=1.0x JSON), translation >=0.8x, "
        "cache >=2x, passthrough p50 +<=0.5 ms at c=1, RSS <=100 MB"
    )


ARGS_SECONDS = [2.5]

if __name__ == "__main__":
    if "--seconds" in sys.argv:
        ARGS_SECONDS[0] = float(sys.argv[sys.argv.index("--seconds") + 1])
    raise SystemExit(main())
