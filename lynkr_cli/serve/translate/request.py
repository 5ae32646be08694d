"""Anthropic Messages request -> OpenAI chat-completions request.

Only real chat-completions parameters are emitted (real OpenAI rejects unknown fields):
``cache_control``, ``signature``, ``top_k``, ``context_management`` and similar never leave.
Thinking blocks are stripped from history: a non-Claude upstream cannot use them and a
signature must never be re-sent or invented. See docs/translation.md for every rule.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from lynkr_cli.serve.billing import strip_billing
from lynkr_cli.serve.providers.quirks import OPENAI, Quirks

from .common import openai_call_id, require_type, shorten_tool_name
from .content import system_text, tool_result_message, user_parts
from .maps import EFFORT_BUDGETS, budget_to_effort, tool_choice_to_openai

_REASONING_MODEL = re.compile(r"^(o\d|gpt-5)", re.IGNORECASE)


def to_openai_request(
    body: dict[str, Any], *, model: str, stream: bool, quirks: Quirks = OPENAI
) -> dict[str, Any]:
    """Translate a validated-as-we-go Anthropic body; TypeError/ValueError name the bad field.

    ``quirks`` says how the upstream departs from OpenAI's API (the provider's own)."""
    require_type(body, dict, "body")
    kind = quirks
    if "max_tokens" not in body:
        raise ValueError("max_tokens: field required")
    out: dict[str, Any] = {"model": model, "messages": _messages(body, kind)}
    out[_max_tokens_field(model, kind)] = require_type(body["max_tokens"], int, "max_tokens")
    reasoning = _is_reasoning_model(model, kind)
    _copy_sampling(body, out, reasoning)
    _copy_stop_and_user(body, out, kind, reasoning)
    _copy_tools(body, out)
    _copy_thinking(body, out, kind, model)
    _copy_response_format(body, out)
    if stream:
        out["stream"] = True
        out["stream_options"] = {"include_usage": True}
    return out


def _is_reasoning_model(model: str, quirks: Quirks) -> bool:
    """OpenAI's o-series and gpt-5 family, which reject several classic parameters."""
    return quirks.reasoning_models and _REASONING_MODEL.match(model) is not None


def _max_tokens_field(model: str, quirks: Quirks) -> str:
    # OpenAI's reasoning models reject max_tokens; every other server knows max_tokens.
    return "max_completion_tokens" if _is_reasoning_model(model, quirks) else "max_tokens"


def _messages(body: dict[str, Any], quirks: Quirks) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if body.get("system") is not None:
        text = system_text(strip_billing(body["system"]), "system")
        if text:
            out.append({"role": "system", "content": text})
    messages = require_type(body.get("messages"), list, "messages")
    for i, message in enumerate(messages):
        out.extend(_message(message, f"messages.{i}", quirks))
    return _tool_messages_first(out)


def _tool_messages_first(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Move each tool message right behind the assistant message that called it.

    OpenAI rejects anything between an assistant's ``tool_calls`` and their ``tool``
    answers; Claude Code can put a mid-conversation system message there.
    """
    out: list[dict[str, Any]] = []
    i = 0
    while i < len(messages):
        message = messages[i]
        out.append(message)
        i += 1
        if message["role"] != "assistant" or "tool_calls" not in message:
            continue
        end = i
        while end < len(messages) and messages[end]["role"] != "assistant":
            end += 1
        segment = messages[i:end]
        out.extend(m for m in segment if m["role"] == "tool")
        out.extend(m for m in segment if m["role"] != "tool")
        i = end
    return out


def _message(message: Any, where: str, quirks: Quirks) -> list[dict[str, Any]]:
    require_type(message, dict, where)
    role = message.get("role")
    if "content" not in message:
        raise ValueError(f"{where}.content: field required")
    content = require_type(message["content"], (str, list), f"{where}.content")
    if role == "user":
        return _user(content, where, quirks)
    if role == "assistant":
        return _assistant(content, where)
    if role == "system":
        return _mid_system(content, where, quirks)
    raise ValueError(f"{where}.role: expected 'user', 'assistant' or 'system', got {role!r}")


def _mid_system(content: str | list[Any], where: str, quirks: Quirks) -> list[dict[str, Any]]:
    text = system_text(strip_billing(content), f"{where}.content")
    if not text:
        return []
    if not quirks.system_mid_conversation:
        # Claude-backed chat endpoints accept a system prompt only at the start; Claude Code
        # itself frames such context as a system reminder inside a user turn.
        return [{"role": "user", "content": f"<system-reminder>\n{text}\n</system-reminder>"}]
    return [{"role": "system", "content": text}]


def _user(content: str | list[Any], where: str, quirks: Quirks) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"role": "user", "content": content}]
    out: list[dict[str, Any]] = []
    results: dict[str, list[dict[str, Any]]] = {}
    others: list[tuple[int, dict[str, Any]]] = []
    for j, block in enumerate(content):
        require_type(block, dict, f"{where}.content.{j}")
        if block.get("type") == "tool_result":
            tool_id = require_type(
                block.get("tool_use_id"), str, f"{where}.content.{j}.tool_use_id"
            )
            results.setdefault(tool_id, []).append(block)
        else:
            others.append((j, block))
    images: list[dict[str, Any]] = []
    # One tool message per tool_use_id, all before the user's own text of that turn.
    for tool_id, blocks in results.items():
        message, extra = tool_result_message(tool_id, blocks, f"{where}.content", quirks)
        out.append(message)
        images.extend(extra)
    parts = images + user_parts(others, f"{where}.content", quirks)
    if parts:
        out.append({"role": "user", "content": _collapse(parts, where, quirks)})
    return out


def _collapse(
    parts: list[dict[str, Any]], where: str, quirks: Quirks
) -> str | list[dict[str, Any]]:
    if len(parts) == 1 and parts[0]["type"] == "text":
        return str(parts[0]["text"])
    if quirks.list_content:
        return parts
    if any(part["type"] != "text" for part in parts):
        raise ValueError(
            f"{where}.content: the {quirks.label} upstream takes text only in a message; "
            "send the images or documents to a provider that accepts them"
        )
    return "\n\n".join(str(part["text"]) for part in parts)


def _assistant(content: str | list[Any], where: str) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"role": "assistant", "content": content}] if content else []
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    for j, block in enumerate(content):
        at = f"{where}.content.{j}"
        require_type(block, dict, at)
        kind = block.get("type")
        if kind == "text":
            texts.append(require_type(block.get("text"), str, f"{at}.text"))
        elif kind == "tool_use":
            calls.append(_tool_call(block, at))
        # thinking, redacted_thinking and server-tool blocks stay behind: see module doc.
    text = "\n\n".join(t for t in texts if t)
    if not text and not calls:
        return []
    message: dict[str, Any] = {"role": "assistant", "content": text or None}
    if calls:
        message["tool_calls"] = calls
    return [message]


def _tool_call(block: dict[str, Any], at: str) -> dict[str, Any]:
    call_id = require_type(block.get("id"), str, f"{at}.id")
    name = require_type(block.get("name"), str, f"{at}.name")
    arguments = block.get("input", {})
    require_type(arguments, dict, f"{at}.input")
    return {
        "id": openai_call_id(call_id),
        "type": "function",
        "function": {
            "name": shorten_tool_name(name),
            "arguments": json.dumps(arguments, ensure_ascii=False, separators=(",", ":")),
        },
    }


def _copy_sampling(body: dict[str, Any], out: dict[str, Any], reasoning: bool) -> None:
    for key in ("temperature", "top_p"):
        if body.get(key) is not None:
            value = require_type(body[key], (int, float), key)
            # OpenAI's reasoning models reject sampling parameters outright.
            if not reasoning:
                out[key] = value


def _copy_stop_and_user(
    body: dict[str, Any], out: dict[str, Any], quirks: Quirks, reasoning: bool
) -> None:
    stops = body.get("stop_sequences")
    if stops is not None:
        require_type(stops, list, "stop_sequences")
        for i, stop in enumerate(stops):
            require_type(stop, str, f"stop_sequences.{i}")
        # OpenAI takes at most four and none at all on its reasoning models.
        if stops and not reasoning:
            limit = quirks.max_stop_sequences
            out["stop"] = list(stops) if limit is None else list(stops[:limit])
    metadata = body.get("metadata")
    if metadata is not None:
        require_type(metadata, dict, "metadata")
        user = metadata.get("user_id")
        # Only OpenAI documents `user`; strict servers (Databricks) reject what they lack.
        if isinstance(user, str) and user and quirks.user_field:
            out["user"] = user if len(user) <= 64 else _digest(user)


def _digest(text: str) -> str:
    # A stable stand-in for Claude Code's long JSON user id, within OpenAI's limits.
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _copy_tools(body: dict[str, Any], out: dict[str, Any]) -> None:
    tools = body.get("tools")
    converted: list[dict[str, Any]] = []
    if tools is not None:
        require_type(tools, list, "tools")
        for i, tool in enumerate(tools):
            function = _function(tool, f"tools.{i}")
            if function is not None:
                converted.append(function)
    # A tool_choice with no tools left is an error upstream, so both go together.
    if not converted:
        return
    out["tools"] = converted
    choice = body.get("tool_choice")
    if choice is None:
        return
    require_type(choice, dict, "tool_choice")
    mapped = _tool_choice(choice)
    if mapped is not None:
        out["tool_choice"] = mapped
    if choice.get("disable_parallel_tool_use") is True and mapped != "none":
        out["parallel_tool_calls"] = False


def _function(tool: Any, at: str) -> dict[str, Any] | None:
    require_type(tool, dict, at)
    if tool.get("type") not in (None, "custom"):
        # Anthropic server tools (web_search_*, bash_*, ...) have no OpenAI equivalent.
        return None
    name = require_type(tool.get("name"), str, f"{at}.name")
    if not name:
        raise ValueError(f"{at}.name: must not be empty")
    schema = require_type(tool.get("input_schema"), dict, f"{at}.input_schema")
    function: dict[str, Any] = {"name": shorten_tool_name(name), "parameters": schema}
    if isinstance(tool.get("description"), str):
        function["description"] = tool["description"]
    if isinstance(tool.get("strict"), bool):
        function["strict"] = tool["strict"]
    return {"type": "function", "function": function}


def _tool_choice(choice: dict[str, Any]) -> Any:
    kind = choice.get("type")
    if kind == "tool":
        name = require_type(choice.get("name"), str, "tool_choice.name")
        return tool_choice_to_openai(kind, shorten_tool_name(name))
    return tool_choice_to_openai(kind)


def _copy_thinking(body: dict[str, Any], out: dict[str, Any], quirks: Quirks, model: str) -> None:
    thinking = body.get("thinking")
    if thinking is None:
        return
    require_type(thinking, dict, "thinking")
    kind = thinking.get("type")
    if kind not in ("enabled", "adaptive", "disabled"):
        raise ValueError(f"thinking.type: expected enabled, adaptive or disabled, got {kind!r}")
    if kind == "disabled":
        return
    if quirks.thinking == "anthropic":
        # Claude-backed Databricks chat endpoints take Anthropic's own `thinking` object and
        # reject reasoning_effort; other endpoints there know neither. Inside a tool loop
        # Claude demands the signed thinking block of the turn being continued, which the
        # chat format cannot carry back, so that request goes without thinking.
        if "claude" in model.lower() and not _continues_tool_turn(out["messages"]):
            out["thinking"] = _databricks_thinking(thinking)
        return
    if quirks.thinking == "reasoning_effort" and _is_reasoning_model(model, quirks):
        out["reasoning_effort"] = _effort(thinking, body.get("output_config"))


def _continues_tool_turn(messages: list[dict[str, Any]]) -> bool:
    for message in reversed(messages):
        if message["role"] == "assistant":
            return "tool_calls" in message
    return False


def _databricks_thinking(thinking: dict[str, Any]) -> dict[str, Any]:
    if thinking["type"] == "adaptive":
        return {"type": "adaptive"}
    budget = require_type(thinking.get("budget_tokens"), int, "thinking.budget_tokens")
    return {"type": "enabled", "budget_tokens": budget}


def _effort(thinking: dict[str, Any], output_config: Any) -> str:
    """Bucket a budget the way claude-code-router does; adaptive follows output_config.effort."""
    if thinking["type"] == "adaptive":
        effort = output_config.get("effort") if isinstance(output_config, dict) else None
        if effort in EFFORT_BUDGETS:
            return str(effort)
        return "high" if effort in ("max", "xhigh") else "medium"
    return budget_to_effort(thinking.get("budget_tokens"))


def _copy_response_format(body: dict[str, Any], out: dict[str, Any]) -> None:
    config = body.get("output_config")
    if not isinstance(config, dict):
        return
    fmt = config.get("format")
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        schema = require_type(fmt.get("schema"), dict, "output_config.format.schema")
        out["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "output", "schema": schema},
        }
