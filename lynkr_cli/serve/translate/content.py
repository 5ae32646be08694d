"""Content blocks (text, images, documents, tool results) -> OpenAI message content."""

from __future__ import annotations

from typing import Any

from lynkr_cli.serve.providers.quirks import Quirks

from .common import openai_call_id, require_type
from .maps import data_url, image_source_to_url


def system_text(system: Any, field: str) -> str:
    """A system prompt (string or text blocks) as one string; blocks joined by blank lines."""
    if isinstance(system, str):
        return system
    require_type(system, list, field)
    texts: list[str] = []
    for i, block in enumerate(system):
        require_type(block, dict, f"{field}.{i}")
        if block.get("type", "text") != "text":
            raise ValueError(f"{field}.{i}.type: system blocks must be text blocks")
        text = require_type(block.get("text"), str, f"{field}.{i}.text")
        if text:
            texts.append(text)
    return "\n\n".join(texts)


def user_parts(
    blocks: list[tuple[int, dict[str, Any]]], where: str, quirks: Quirks
) -> list[dict[str, Any]]:
    """OpenAI content parts for a user turn's non-tool-result blocks, in order."""
    parts: list[dict[str, Any]] = []
    for j, block in blocks:
        parts.extend(_part(block, f"{where}.{j}", quirks))
    return parts


def _part(block: dict[str, Any], at: str, quirks: Quirks) -> list[dict[str, Any]]:
    kind = block.get("type")
    if kind == "text":
        text = require_type(block.get("text"), str, f"{at}.text")
        return [{"type": "text", "text": text}] if text else []
    if kind == "image":
        return [image_part(block, at, quirks)]
    if kind == "document":
        return _document(block, at, quirks)
    if kind == "search_result":
        return [{"type": "text", "text": _search_result_text(block)}]
    if kind == "tool_reference" and isinstance(block.get("tool_name"), str):
        # ToolSearch answers name deferred tools; their definitions are already sent.
        return [{"type": "text", "text": f"Tool available: {block['tool_name']}"}]
    # thinking and server-tool blocks have no meaning for an OpenAI upstream.
    return []


def image_part(block: dict[str, Any], at: str, quirks: Quirks) -> dict[str, Any]:
    source = require_type(block.get("source"), dict, f"{at}.source")
    kind = source.get("type")
    if kind == "base64":
        require_type(source.get("media_type"), str, f"{at}.source.media_type")
        require_type(source.get("data"), str, f"{at}.source.data")
    elif kind == "url":
        require_type(source.get("url"), str, f"{at}.source.url")
        if not quirks.image_urls:
            # Databricks' Claude endpoints and Ollama refuse remote image URLs.
            raise ValueError(
                f"{at}.source: the {quirks.label} upstream does not accept image URLs; "
                "send the image as base64 data instead"
            )
    else:
        raise ValueError(f"{at}.source.type: expected 'base64' or 'url', got {kind!r}")
    return {"type": "image_url", "image_url": {"url": image_source_to_url(source)}}


def _document(block: dict[str, Any], at: str, quirks: Quirks) -> list[dict[str, Any]]:
    source = require_type(block.get("source"), dict, f"{at}.source")
    kind = source.get("type")
    title = block.get("title")
    heading = f"{title}\n\n" if isinstance(title, str) and title else ""
    if kind == "text":
        data = require_type(source.get("data"), str, f"{at}.source.data")
        return [{"type": "text", "text": heading + data}]
    if kind == "content":
        inner = source.get("content")
        text = inner if isinstance(inner, str) else _texts(inner)
        return [{"type": "text", "text": heading + text}]
    if kind == "base64" and quirks.file_parts:
        media = require_type(source.get("media_type"), str, f"{at}.source.media_type")
        data = require_type(source.get("data"), str, f"{at}.source.data")
        name = title if isinstance(title, str) and title else "document.pdf"
        return [{"type": "file", "file": {"file_data": data_url(media, data), "filename": name}}]
    raise ValueError(
        f"{at}.source: a {kind!r} document cannot be sent to the {quirks.label} upstream; "
        "send its text as a text block instead"
    )


def _texts(blocks: Any) -> str:
    if not isinstance(blocks, list):
        return ""
    return "\n".join(
        b["text"] for b in blocks if isinstance(b, dict) and isinstance(b.get("text"), str)
    )


def _search_result_text(block: dict[str, Any]) -> str:
    head = [str(block[k]) for k in ("title", "source") if isinstance(block.get(k), str)]
    return "\n".join([*head, _texts(block.get("content"))])


def tool_result_message(
    tool_id: str, blocks: list[dict[str, Any]], where: str, quirks: Quirks
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One ``role: tool`` message for every result of ``tool_id``, plus images it returned.

    OpenAI tool messages carry text only, so images travel in the user message that
    follows, introduced by a line naming the tool call they came from.
    """
    texts: list[str] = []
    images: list[dict[str, Any]] = []
    for block in blocks:
        text, found = _result_content(block, where, quirks)
        if block.get("is_error") is True:
            # OpenAI has no is_error; the model still has to know the call failed.
            text = f"Error: {text}" if text else "Error"
        texts.append(text)
        images.extend(found)
    message = {"role": "tool", "tool_call_id": openai_call_id(tool_id), "content": "\n".join(texts)}
    if images:
        images.insert(0, {"type": "text", "text": f"[images returned by tool call {tool_id}]"})
    return message, images


def _result_content(
    block: dict[str, Any], where: str, quirks: Quirks
) -> tuple[str, list[dict[str, Any]]]:
    content = block.get("content", "")
    if content is None:
        return "", []
    if isinstance(content, str):
        return content, []
    require_type(content, list, f"{where}.tool_result.content")
    texts: list[str] = []
    images: list[dict[str, Any]] = []
    for k, inner in enumerate(content):
        at = f"{where}.tool_result.content.{k}"
        require_type(inner, dict, at)
        if inner.get("type") == "image":
            images.append(image_part(inner, at, quirks))
            continue
        for part in _part(inner, at, quirks):
            if part["type"] == "text":
                texts.append(part["text"])
    return "\n".join(texts), images
