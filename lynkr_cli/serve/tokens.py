"""Local estimate of an Anthropic request's input tokens, for upstreams without count_tokens.

Text is counted with a real BPE tokenizer shipped inside the ``bpe-openai`` wheel (OpenAI's
``cl100k_base``, embedded, so it works offline), scaled by ``TEXT_CORRECTION``, measured
against Anthropic's published Claude tokenizer (method and figures in docs/translation.md).
Images use Anthropic's formula ``width * height / 750`` after its resizing rules, read from
the image header; anything undecodable gets a fixed estimate. The estimate never raises.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import struct
import threading
import warnings
from typing import Any

ENCODING = "cl100k_base"
# Claude tokens per cl100k token, measured in docs/translation.md.
TEXT_CORRECTION = 1.08
MESSAGE_OVERHEAD = 4  # role and turn framing per message
BLOCK_OVERHEAD = 2  # per content block inside a message
TOOL_OVERHEAD = 8  # per tool definition, around its JSON
# The tool-use system prompt Anthropic adds when tools are present (Claude 4 pricing docs).
TOOLS_SYSTEM_PROMPT = 346
IMAGE_FALLBACK = 1600  # Anthropic's stated maximum for one image; used when undecodable
IMAGE_LONG_EDGE = 1568
IMAGE_MAX_PIXELS = 1092 * 1092  # Anthropic: 1092x1092 is the largest 1:1 size unscaled
PDF_PAGE_TOKENS = 2000  # Anthropic: 1,500-3,000 per page (text plus page image)
_HEADER_BYTES = 65536  # enough of an image to find its dimensions

_lock = threading.Lock()
_encoder: Any = None


def _encode(text: str) -> int:
    global _encoder
    if _encoder is None:
        with _lock:
            if _encoder is None:
                with warnings.catch_warnings():
                    # bpe-openai 0.1.4 reads its vocabulary with a deprecated importlib call.
                    warnings.simplefilter("ignore", DeprecationWarning)
                    import bpe_openai  # type: ignore[import-untyped]

                    encoder = bpe_openai.get_encoding(ENCODING)
                    encoder.encode_ordinary("load")  # the vocabulary loads on first use
                _encoder = encoder
    return len(_encoder.encode_ordinary(text))


def warm() -> None:
    """Load the vocabulary now (about 0.8 s) rather than on the first request."""
    _encode("warm")


_CACHE_LIMIT = 8192
_counts: dict[tuple[int, int], int] = {}


def count_text(text: str) -> int:
    """Raw BPE tokens in ``text`` (no correction); 0 for empty text."""
    if not text:
        return 0
    if len(text) <= 256:
        return _encode(text)
    # System prompts, tool schemas and old tool results repeat on every request of a
    # session. Keyed by (length, hash) so the cache never pins the texts themselves; a
    # collision would only skew one estimate.
    key = (len(text), hash(text))
    found = _counts.get(key)
    if found is None:
        if len(_counts) >= _CACHE_LIMIT:
            _counts.clear()
        found = _counts[key] = sum(_encode(piece) for piece in _pieces(text))
    return found


_PIECE = 64 * 1024  # characters per tokenizer call


def _pieces(text: str) -> list[str]:
    """``text`` in slices of about ``_PIECE`` characters, cut at whitespace.

    The tokenizer returns a list with one Python int per token: for a 30 MB text,
    millions of objects at once, whose memory the process kept long after. Slices keep
    that to thousands; cutting at whitespace, where tokens end anyway, keeps the count
    the same within a token per slice.
    """
    if len(text) <= _PIECE:
        return [text]
    pieces = []
    start = 0
    while start < len(text):
        end = min(start + _PIECE, len(text))
        if end < len(text):
            cut = max(text.rfind(" ", start, end), text.rfind("\n", start, end))
            end = cut + 1 if cut > start else end
        pieces.append(text[start:end])
        start = end
    return pieces


def count_request_tokens(body: dict[str, Any]) -> int:
    """Estimated input tokens for a Messages or count_tokens body; never raises."""
    try:
        counter = _Counter()
        counter.request(body)
        return counter.total()
    except Exception:
        return _rough(body)


def _rough(body: Any) -> int:
    try:
        return max(1, len(json.dumps(body, default=str)) // 4)
    except Exception:
        return 1


class _Counter:
    def __init__(self) -> None:
        self.texts: list[str] = []
        self.fixed = 0

    def total(self) -> int:
        text = sum(count_text(t) for t in self.texts)
        return max(1, math.ceil(text * TEXT_CORRECTION) + self.fixed)

    def request(self, body: Any) -> None:
        if not isinstance(body, dict):
            self.texts.append(json.dumps(body, default=str))
            return
        self.system(body.get("system"))
        messages = body.get("messages")
        if isinstance(messages, list):
            last = len(messages) - 1
            for i, message in enumerate(messages):
                self.message(message, is_last=i == last)
        self.tools(body.get("tools"))

    def system(self, system: Any) -> None:
        if isinstance(system, str):
            self.texts.append(system)
        elif isinstance(system, list):
            for block in system:
                self.block(block, keep_thinking=False)

    def message(self, message: Any, *, is_last: bool) -> None:
        self.fixed += MESSAGE_OVERHEAD
        if not isinstance(message, dict):
            self.texts.append(json.dumps(message, default=str))
            return
        content = message.get("content")
        if isinstance(content, str):
            self.texts.append(content)
        elif isinstance(content, list):
            # Anthropic ignores thinking from earlier assistant turns when counting.
            keep = is_last and message.get("role") == "assistant"
            for block in content:
                self.block(block, keep_thinking=keep)

    def block(self, block: Any, *, keep_thinking: bool) -> None:
        self.fixed += BLOCK_OVERHEAD
        if isinstance(block, str):
            self.texts.append(block)
            return
        if not isinstance(block, dict):
            self.texts.append(json.dumps(block, default=str))
            return
        kind = block.get("type")
        if kind == "text":
            self.texts.append(_str(block.get("text")))
        elif kind == "image":
            self.fixed += image_tokens(block.get("source"))
        elif kind == "document":
            self.document(block)
        elif kind == "tool_use":
            self.texts.append(_str(block.get("name")))
            self.texts.append(json.dumps(block.get("input"), ensure_ascii=False, default=str))
        elif kind == "tool_result":
            self.tool_result(block.get("content"))
        elif kind in ("thinking", "redacted_thinking"):
            if keep_thinking:
                self.texts.append(_str(block.get("thinking") or block.get("data")))
        else:
            self.texts.append(json.dumps(block, ensure_ascii=False, default=str))

    def tool_result(self, content: Any) -> None:
        if isinstance(content, str):
            self.texts.append(content)
        elif isinstance(content, list):
            for inner in content:
                self.block(inner, keep_thinking=False)

    def document(self, block: dict[str, Any]) -> None:
        source = block.get("source")
        source = source if isinstance(source, dict) else {}
        self.texts.append(_str(block.get("title")) + _str(block.get("context")))
        kind = source.get("type")
        if kind == "text":
            self.texts.append(_str(source.get("data")))
        elif kind == "content":
            self.tool_result(source.get("content"))
        elif kind == "base64":
            self.fixed += pdf_tokens(_str(source.get("data")))
        else:
            self.fixed += PDF_PAGE_TOKENS

    def tools(self, tools: Any) -> None:
        if not isinstance(tools, list) or not tools:
            return
        self.fixed += TOOLS_SYSTEM_PROMPT
        for tool in tools:
            self.fixed += TOOL_OVERHEAD
            if not isinstance(tool, dict):
                self.texts.append(json.dumps(tool, default=str))
                continue
            self.texts.append(_str(tool.get("name")))
            self.texts.append(_str(tool.get("description")))
            schema = tool.get("input_schema")
            if schema is not None:
                self.texts.append(json.dumps(schema, ensure_ascii=False, default=str))


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def image_tokens(source: Any) -> int:
    """Anthropic's image cost: width*height/750 after resizing; a fixed guess if unknown."""
    if not isinstance(source, dict) or source.get("type") != "base64":
        return IMAGE_FALLBACK
    size = image_size(_head(_str(source.get("data"))))
    if size is None:
        return IMAGE_FALLBACK
    width, height = _resized(*size)
    return max(1, math.ceil(width * height / 750))


def _resized(width: int, height: int) -> tuple[float, float]:
    scale = min(1.0, IMAGE_LONG_EDGE / max(width, height))
    scale = min(scale, math.sqrt(IMAGE_MAX_PIXELS / (width * height)))
    return width * scale, height * scale


def _head(data: str) -> bytes:
    chunk = data[: (_HEADER_BYTES // 3) * 4]
    chunk = chunk[: len(chunk) - len(chunk) % 4]
    try:
        return base64.b64decode(chunk, validate=False)
    except (binascii.Error, ValueError):
        return b""


def image_size(head: bytes) -> tuple[int, int] | None:
    """(width, height) from the first bytes of a PNG, GIF, JPEG or WebP file."""
    size: tuple[int, int] | None = None
    if head.startswith(b"\x89PNG\r\n\x1a\n") and len(head) >= 24:
        size = struct.unpack(">II", head[16:24])
    elif head[:6] in (b"GIF87a", b"GIF89a") and len(head) >= 10:
        size = struct.unpack("<HH", head[6:10])
    elif head.startswith(b"\xff\xd8"):
        size = _jpeg_size(head)
    elif head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        size = _webp_size(head)
    if size is None or size[0] <= 0 or size[1] <= 0:
        return None
    return size


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        length = struct.unpack(">H", data[i + 2 : i + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return width, height
        i += 2 + length
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    kind = data[12:16]
    if kind == b"VP8 " and len(data) >= 30:
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if kind == b"VP8L" and len(data) >= 25:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if kind == b"VP8X" and len(data) >= 30:
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    return None


def pdf_tokens(data: str) -> int:
    """Pages in a base64 PDF times Anthropic's per-page estimate."""
    try:
        raw = base64.b64decode(data, validate=False)
    except (binascii.Error, ValueError):
        return PDF_PAGE_TOKENS
    pages = raw.count(b"/Type /Page") - raw.count(b"/Type /Pages")
    pages += raw.count(b"/Type/Page") - raw.count(b"/Type/Pages")
    return max(pages, 1) * PDF_PAGE_TOKENS
