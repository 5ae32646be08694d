"""OpenAI chat ``messages`` -> Anthropic ``system`` blocks and ``messages`` turns.

The rules (docs/openai-clients.md has the table):

* ``system`` and ``developer`` messages before the first user or assistant message become
  the top-level ``system`` text blocks, in order; later ones stay where they are as
  ``role: "system"`` messages, which the Messages API accepts mid-conversation (one that
  falls between tool calls and their results waits until the results are in);
* consecutive turns of one role are merged, so tool results and the user text after them
  form one user turn whose ``tool_result`` blocks come first, as the Messages API requires;
* every assistant ``tool_calls`` entry must be answered by a ``role: "tool"`` message before
  the next user or assistant message, and every tool message must answer such a call:
  OpenAI rejects both mistakes too, and Anthropic would;
* tool-call ids are normalised the way upstream ids are (``tool_use_id``), identically for
  the call and its result.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any

from .common import ChatRequestError, json_kind, tool_use_id
from .maps import IMAGE_TYPES, image_url_to_source, parse_data_url

Block = dict[str, Any]
SYSTEM_ROLES = ("system", "developer")


def convert_messages(messages: Any) -> tuple[list[Block], list[dict[str, Any]]]:
    """(system text blocks, Anthropic messages) for OpenAI's ``messages``."""
    if not isinstance(messages, list):
        raise ChatRequestError("messages", f"expected an array, got {json_kind(messages)}")
    if not messages:
        raise ChatRequestError("messages", "must contain at least one message")
    system: list[Block] = []
    turns = _Turns()
    for i, message in enumerate(messages):
        at = f"messages[{i}]"
        if not isinstance(message, dict):
            raise ChatRequestError(at, f"expected an object, got {json_kind(message)}")
        role = message.get("role")
        if role in SYSTEM_ROLES:
            blocks = _text_blocks(message.get("content"), f"{at}.content")
            if turns.turns:
                turns.add_system(blocks)
            else:
                system.extend(blocks)
        elif role == "user":
            turns.check_answered(at)
            turns.add("user", _user_blocks(message.get("content"), f"{at}.content"))
        elif role == "assistant":
            turns.check_answered(at)
            blocks, calls = _assistant_blocks(message, at)
            turns.add_assistant(blocks, calls, at)
        elif role == "tool":
            turns.add_result(_tool_result(message, at, turns))
        elif role == "function":
            raise ChatRequestError(
                f"{at}.role", "'function' messages are deprecated; use tools and 'tool' messages"
            )
        else:
            raise ChatRequestError(
                f"{at}.role",
                f"expected system, developer, user, assistant or tool, got {role!r}",
            )
    turns.check_answered(None)
    if not turns.turns:
        raise ChatRequestError("messages", "needs at least one user or assistant message")
    return system, turns.finished()


class _Turns:
    """Anthropic turns being built, and the tool calls still waiting for their results."""

    def __init__(self) -> None:
        self.turns: list[dict[str, Any]] = []
        self.pending: dict[str, str] = {}  # client's call id -> tool_use id
        self.called_at = ""
        self.held: list[Block] = []  # system text that arrived among tool results

    def add(self, role: str, blocks: list[Block]) -> None:
        if not blocks:
            return
        if self.turns and self.turns[-1]["role"] == role:
            self.turns[-1]["content"].extend(blocks)
        else:
            self.turns.append({"role": role, "content": blocks})

    def add_assistant(self, blocks: list[Block], calls: dict[str, str], at: str) -> None:
        self.add("assistant", blocks)
        self.pending, self.called_at = calls, at

    def add_result(self, block: Block) -> None:
        self.add("user", [block])
        if not self.pending and self.held:
            self.add("system", self.held)
            self.held = []

    def add_system(self, blocks: list[Block]) -> None:
        if self.pending:
            self.held.extend(blocks)
        else:
            self.add("system", blocks)

    def check_answered(self, at: str | None) -> None:
        if not self.pending:
            return
        ids = ", ".join(repr(i) for i in self.pending)
        raise ChatRequestError(
            at or "messages",
            f"the tool calls of {self.called_at} ({ids}) have no results: each tool call "
            "needs a 'tool' message answering it right after that assistant message",
        )

    def finished(self) -> list[dict[str, Any]]:
        last = self.turns[-1]
        if last["role"] == "assistant":
            # A final assistant turn is a prefill, which must not end in whitespace.
            blocks = last["content"]
            if blocks[-1]["type"] == "text":
                blocks[-1]["text"] = blocks[-1]["text"].rstrip()
                if not blocks[-1]["text"]:
                    blocks.pop()
            if not blocks:
                self.turns.pop()
        return self.turns


# -- content --------------------------------------------------------------------------------


def _text_blocks(content: Any, at: str) -> list[Block]:
    """A system, developer or tool message's content: a string or text parts."""
    return _blocks(content, at, _text_only)


def _user_blocks(content: Any, at: str) -> list[Block]:
    return _blocks(content, at, _user_part)


def _blocks(content: Any, at: str, convert: Callable[[Any, str], Block | None]) -> list[Block]:
    """A string, or parts each converted to a block (None: nothing to keep)."""
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    if not isinstance(content, list):
        raise ChatRequestError(
            at, f"expected a string or an array of parts, got {json_kind(content)}"
        )
    blocks: list[Block] = []
    for j, part in enumerate(content):
        block = convert(part, f"{at}[{j}]")
        if block is not None:
            blocks.append(block)
    return blocks


def _text_only(part: Any, at: str) -> Block | None:
    text = _text_part(part, at, ("text",))
    return {"type": "text", "text": text} if text else None


def _text_part(part: Any, at: str, kinds: tuple[str, ...]) -> str:
    if not isinstance(part, dict):
        raise ChatRequestError(at, f"expected a content part object, got {json_kind(part)}")
    kind = part.get("type")
    if kind not in kinds:
        allowed = " or ".join(repr(k) for k in kinds)
        raise ChatRequestError(f"{at}.type", f"expected {allowed} here, got {kind!r}")
    key = "refusal" if kind == "refusal" else "text"
    text = part.get(key)
    if not isinstance(text, str):
        raise ChatRequestError(f"{at}.{key}", f"expected a string, got {json_kind(text)}")
    return text


def _user_part(part: Any, at: str) -> Block | None:
    if not isinstance(part, dict):
        raise ChatRequestError(at, f"expected a content part object, got {json_kind(part)}")
    kind = part.get("type")
    if kind == "text":
        return _text_only(part, at)
    if kind == "image_url":
        return _image(part.get("image_url"), f"{at}.image_url")
    if kind == "file":
        return _file(part.get("file"), f"{at}.file")
    if kind == "input_audio":
        raise ChatRequestError(f"{at}.type", "audio input is not supported by this gateway")
    raise ChatRequestError(f"{at}.type", f"expected 'text', 'image_url' or 'file', got {kind!r}")


def _image(image: Any, at: str) -> Block:
    url = image.get("url") if isinstance(image, dict) else None
    if not isinstance(url, str):
        raise ChatRequestError(f"{at}.url", f"expected a string, got {json_kind(url)}")
    try:
        source = image_url_to_source(url)
    except ValueError as exc:
        raise ChatRequestError(f"{at}.url", str(exc)) from None
    return {"type": "image", "source": source}


def _file(file: Any, at: str) -> Block:
    if not isinstance(file, dict):
        raise ChatRequestError(at, f"expected an object, got {json_kind(file)}")
    if file.get("file_id") is not None:
        raise ChatRequestError(
            f"{at}.file_id", "uploaded files are not supported; send the file inline as file_data"
        )
    data = file.get("file_data")
    if not isinstance(data, str) or not data:
        raise ChatRequestError(f"{at}.file_data", f"expected a string, got {json_kind(data)}")
    media, payload = parse_data_url(data) or ("application/pdf", data)
    title = file.get("filename")
    block: Block
    if media == "application/pdf":
        block = {"type": "document", "source": _base64(media, payload)}
    elif media == "text/plain":
        block = {"type": "document", "source": _plain_text(payload, f"{at}.file_data")}
    elif media in IMAGE_TYPES:
        return {"type": "image", "source": _base64(media, payload)}
    else:
        raise ChatRequestError(
            f"{at}.file_data", f"file type {media!r} is not supported; send a PDF or plain text"
        )
    if isinstance(title, str) and title:
        block["title"] = title
    return block


def _base64(media: str, data: str) -> dict[str, str]:
    return {"type": "base64", "media_type": media, "data": data}


def _plain_text(data: str, at: str) -> dict[str, str]:
    try:
        text = base64.b64decode(data, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise ChatRequestError(at, "expected base64-encoded UTF-8 text") from None
    return {"type": "text", "media_type": "text/plain", "data": text}


# -- assistant turns and tool results ------------------------------------------------------


def _assistant_blocks(message: dict[str, Any], at: str) -> tuple[list[Block], dict[str, str]]:
    """The turn's blocks, and its tool calls as client id -> tool_use id."""
    if message.get("function_call") is not None:
        raise ChatRequestError(
            f"{at}.function_call", "function_call is deprecated; send tool_calls instead"
        )
    blocks: list[Block] = []
    content = message.get("content")
    if isinstance(content, str):
        text = content
    elif isinstance(content, list):
        parts = content
        text = "".join(
            _text_part(p, f"{at}.content[{j}]", ("text", "refusal")) for j, p in enumerate(parts)
        )
    elif content is None:
        text = ""
    else:
        raise ChatRequestError(
            f"{at}.content",
            f"expected a string, an array of parts or null, got {json_kind(content)}",
        )
    if text:
        blocks.append({"type": "text", "text": text})
    calls = message.get("tool_calls")
    ids: dict[str, str] = {}
    if calls is not None:
        if not isinstance(calls, list):
            raise ChatRequestError(f"{at}.tool_calls", f"expected an array, got {json_kind(calls)}")
        for j, call in enumerate(calls):
            client_id, block = _tool_use(call, f"{at}.tool_calls[{j}]")
            if client_id in ids:
                raise ChatRequestError(
                    f"{at}.tool_calls[{j}].id", f"duplicate tool call id {client_id!r}"
                )
            ids[client_id] = block["id"]
            blocks.append(block)
    return blocks, ids


def _tool_use(call: Any, at: str) -> tuple[str, Block]:
    if not isinstance(call, dict):
        raise ChatRequestError(at, f"expected an object, got {json_kind(call)}")
    if call.get("type", "function") != "function":
        raise ChatRequestError(f"{at}.type", f"expected 'function', got {call.get('type')!r}")
    call_id = call.get("id")
    if not isinstance(call_id, str) or not call_id:
        raise ChatRequestError(f"{at}.id", f"expected a non-empty string, got {json_kind(call_id)}")
    function = call.get("function")
    if not isinstance(function, dict):
        raise ChatRequestError(f"{at}.function", f"expected an object, got {json_kind(function)}")
    name = function.get("name")
    if not isinstance(name, str) or not name:
        raise ChatRequestError(
            f"{at}.function.name", f"expected a non-empty string, got {json_kind(name)}"
        )
    block = {
        "type": "tool_use",
        "id": tool_use_id(call_id),
        "name": name,
        "input": _arguments(function.get("arguments"), f"{at}.function.arguments"),
    }
    return call_id, block


def _arguments(arguments: Any, at: str) -> dict[str, Any]:
    if not isinstance(arguments, str):
        raise ChatRequestError(at, f"expected a JSON string, got {json_kind(arguments)}")
    if not arguments.strip():
        return {}  # a call without arguments
    try:
        value = json.loads(arguments)
    except ValueError:
        raise ChatRequestError(at, "not valid JSON") from None
    if not isinstance(value, dict):
        raise ChatRequestError(at, f"expected a JSON object, got {json_kind(value)}")
    return value


def _tool_result(message: dict[str, Any], at: str, turns: _Turns) -> Block:
    call_id = message.get("tool_call_id")
    if not isinstance(call_id, str) or not call_id:
        raise ChatRequestError(
            f"{at}.tool_call_id", f"expected a non-empty string, got {json_kind(call_id)}"
        )
    tool_id = turns.pending.pop(call_id, None)
    if tool_id is None:
        raise ChatRequestError(
            f"{at}.tool_call_id",
            f"no tool call {call_id!r} is waiting for a result: a 'tool' message must answer "
            "a tool call of the assistant message before it, once",
        )
    content = message.get("content")
    blocks = _text_blocks(content, f"{at}.content")
    block: Block = {"type": "tool_result", "tool_use_id": tool_id}
    if isinstance(content, str):
        if content:
            block["content"] = content
    elif blocks:
        block["content"] = blocks
    return block
