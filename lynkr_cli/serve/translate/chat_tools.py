"""OpenAI ``tools``, ``tool_choice`` and ``parallel_tool_calls`` -> Anthropic's.

Function tools only (OpenAI's ``custom`` tools have no Anthropic form); names follow
OpenAI's rule (1-64 of ``A-Za-z0-9_-``), which also fits Anthropic's, and must be unique.
``parallel_tool_calls: false`` becomes ``disable_parallel_tool_use`` on the tool choice.
"""

from __future__ import annotations

from typing import Any

from .common import ChatRequestError, json_kind
from .maps import tool_choice_to_anthropic


def convert_tools(body: dict[str, Any], out: dict[str, Any], *, strict: bool) -> None:
    """Set ``tools`` and ``tool_choice`` of the Anthropic request ``out`` from ``body``."""
    tools = body.get("tools")
    converted: list[dict[str, Any]] = []
    if tools is not None:
        if not isinstance(tools, list):
            raise ChatRequestError("tools", f"expected an array, got {json_kind(tools)}")
        names: set[str] = set()
        for i, tool in enumerate(tools):
            converted.append(_tool(tool, f"tools[{i}]", names, strict=strict))
    if converted:
        out["tools"] = converted
    choice = _tool_choice(body.get("tool_choice"), {t["name"] for t in converted})
    parallel = body.get("parallel_tool_calls")
    if parallel is not None and not isinstance(parallel, bool):
        raise ChatRequestError(
            "parallel_tool_calls", f"expected a boolean, got {json_kind(parallel)}"
        )
    if not converted:
        return
    if parallel is False and (choice is None or choice["type"] != "none"):
        choice = {**(choice or {"type": "auto"}), "disable_parallel_tool_use": True}
    if choice is not None:
        out["tool_choice"] = choice


def _tool(tool: Any, at: str, names: set[str], *, strict: bool) -> dict[str, Any]:
    if not isinstance(tool, dict):
        raise ChatRequestError(at, f"expected an object, got {json_kind(tool)}")
    if tool.get("type") != "function":
        raise ChatRequestError(f"{at}.type", f"expected 'function', got {tool.get('type')!r}")
    function = tool.get("function")
    if not isinstance(function, dict):
        raise ChatRequestError(f"{at}.function", f"expected an object, got {json_kind(function)}")
    name = function.get("name")
    if not isinstance(name, str) or not _valid_name(name):
        raise ChatRequestError(
            f"{at}.function.name",
            f"expected 1-64 letters, digits, '_' or '-', got {name!r}",
        )
    if name in names:
        raise ChatRequestError(f"{at}.function.name", f"duplicate tool name {name!r}")
    names.add(name)
    out: dict[str, Any] = {"name": name, "input_schema": _schema(function, at)}
    description = function.get("description")
    if isinstance(description, str) and description:
        out["description"] = description
    if strict and function.get("strict") is True:
        out["strict"] = True
    return out


def _valid_name(name: str) -> bool:
    return 0 < len(name) <= 64 and all(c.isascii() and (c.isalnum() or c in "_-") for c in name)


def _schema(function: dict[str, Any], at: str) -> dict[str, Any]:
    schema = function.get("parameters")
    if schema is None:
        return {"type": "object", "properties": {}}  # a function without parameters
    if not isinstance(schema, dict):
        raise ChatRequestError(
            f"{at}.function.parameters", f"expected a JSON schema object, got {json_kind(schema)}"
        )
    kind = schema.get("type", "object")
    if kind != "object":
        raise ChatRequestError(
            f"{at}.function.parameters.type", f"the schema must be of type 'object', got {kind!r}"
        )
    return schema if "type" in schema else {"type": "object", **schema}


def _tool_choice(choice: Any, names: set[str]) -> dict[str, Any] | None:
    if choice is None:
        return None
    mapped = tool_choice_to_anthropic(choice)
    if mapped is None:
        raise ChatRequestError(
            "tool_choice",
            "expected 'none', 'auto', 'required' or "
            '{"type": "function", "function": {"name": ...}}',
        )
    if not names:
        if mapped["type"] in ("auto", "none"):
            return None  # nothing to choose from: the same as no tools
        raise ChatRequestError("tool_choice", "only allowed when tools are specified")
    if mapped["type"] == "tool" and mapped["name"] not in names:
        raise ChatRequestError(
            "tool_choice.function.name", f"no tool named {mapped['name']!r} in tools"
        )
    return mapped
