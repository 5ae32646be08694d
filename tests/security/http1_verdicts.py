"""Our response parser's verdict and h11's on the same bytes, in one comparable shape."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

import h11

from lynkr_cli.serve.http1_parse import MAX_HEAD, UNTIL_CLOSE, BadResponse, Parser


@dataclass(frozen=True)
class Verdict:
    accepted: bool
    why: str = ""  # the refusal's message
    status: int = 0
    reason: str = ""
    version: str = ""  # the reference's HTTP version ("1.1"); ours leaves it empty
    interim: tuple[str, ...] = ()  # the reference's 1xx answers and trailer: versions, texts
    fields: tuple[tuple[str, str], ...] = ()  # lower-cased names, framing fields left out
    framing: tuple[tuple[str, str], ...] = ()  # Content-Length and Transfer-Encoding, as sent
    body: bytes = b""
    reusable: bool = False

    def same_answer(self, other: Verdict) -> bool:
        return (self.status, self.reason, self.fields, self.body, self.reusable) == (
            other.status,
            other.reason,
            other.fields,
            other.body,
            other.reusable,
        )


FRAMING = ("content-length", "transfer-encoding")


def _accepted(
    status: int, reason: str, pairs: Iterable[tuple[str, str]], body: bytes, reusable: bool
) -> Verdict:
    # h11 folds duplicate Content-Length values into one and lower-cases the
    # Transfer-Encoding value: framing fields are compared through the body they frame.
    pairs = [(name.lower(), value) for name, value in pairs]
    fields = tuple(p for p in pairs if p[0] not in FRAMING)
    framing = tuple(p for p in pairs if p[0] in FRAMING)
    return Verdict(
        True, status=status, reason=reason, fields=fields, framing=framing, body=body,
        reusable=reusable,
    )  # fmt: skip


class _Collect(Parser):
    def __init__(self, method: str) -> None:
        super().__init__()
        self.no_body = method == "HEAD"
        self.head: tuple[int, str, list[tuple[str, str]]] | None = None
        self.body: list[bytes] = []
        self.ended = False

    def on_head(self, status: int, reason: str, headers: object) -> None:
        self.head = (status, reason, list(headers.items()))  # type: ignore[attr-defined]

    def on_body(self, data: bytes) -> None:
        self.body.append(data)

    def on_end(self) -> None:
        self.ended = True


def ours(pieces: Iterable[bytes], method: str = "POST") -> Verdict:
    """Our parser's verdict on the answer arriving in ``pieces``, then the end of input."""
    p = _Collect(method)
    try:
        for piece in pieces:
            if p.ended:
                break  # what follows a complete answer is not this answer's
            p.buf = p.buf + piece if p.buf else piece  # as data_received() does
            p.parse()
    except BadResponse as exc:
        return Verdict(False, exc.detail)
    if not p.ended and not (p.head is not None and p.state == UNTIL_CLOSE):
        return Verdict(False, "incomplete at the end of input")
    assert p.head is not None
    status, reason, pairs = p.head
    return _accepted(status, reason, pairs, b"".join(p.body), p.keep_alive and p.ended)


def reference(data: bytes, method: str = "POST") -> Verdict:
    """h11's verdict, as a client that sent ``method`` and then read ``data`` and EOF."""
    conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEAD)
    conn.send(
        h11.Request(method=method, target="/", headers=[("Host", "u"), ("Content-Length", "0")])
    )
    conn.send(h11.EndOfMessage())
    conn.receive_data(data)
    conn.receive_data(b"")
    head: h11.Response | None = None
    body: list[bytes] = []
    interim: list[str] = []
    try:
        while True:
            event = conn.next_event()
            if isinstance(event, h11.Response):
                head = event
            elif isinstance(event, h11.Data):
                body.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                interim += [value.decode("latin-1") for _, value in event.headers.raw_items()]
                break
            elif isinstance(event, h11.InformationalResponse):
                interim += [event.http_version.decode(), event.reason.decode("latin-1")]
                interim += [value.decode("latin-1") for _, value in event.headers.raw_items()]
            else:  # ConnectionClosed, NEED_DATA: the answer is incomplete
                return Verdict(False, f"incomplete ({event!r})")
    except h11.RemoteProtocolError as exc:
        return Verdict(False, str(exc))
    assert head is not None
    pairs = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in head.headers.raw_items()]
    framed = method == "HEAD" or head.status_code in (204, 304)
    framed = framed or any(name.lower() in FRAMING for name, _ in pairs)
    # h11 ends a close-delimited body in DONE too, but that connection is closed
    reusable = conn.their_state is h11.DONE and framed
    verdict = _accepted(
        head.status_code, head.reason.decode("latin-1"), pairs, b"".join(body), reusable
    )
    return replace(verdict, version=head.http_version.decode(), interim=tuple(interim))


def agree(a: Verdict, b: Verdict) -> bool:
    if a.accepted != b.accepted:
        return False
    return not a.accepted or a.same_answer(b)


def ours_whole(data: bytes, method: str = "POST") -> Verdict:
    return ours([data], method)
