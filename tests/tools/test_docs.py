"""Every built-in tool is documented, and every documented lynkr_* tool exists."""

from __future__ import annotations

import re
from pathlib import Path

from lynkr_cli.serve.tools.builtin import builtin_tools

DOC = Path(__file__).resolve().parents[2] / "docs" / "server-tools.md"


def test_builtin_tools_are_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    names = {t.name for t in builtin_tools()}
    for name in names:
        short = name.replace("lynkr_tasks_", "_")
        assert f"`{name}`" in text or f"`{short}`" in text, f"{name} is not in {DOC.name}"
    documented = set(re.findall(r"`(lynkr_[a-z_]+)`", text)) - {"lynkr_tasks_"}
    assert documented <= names | {"lynkr_git_"}, documented - names


def test_every_tool_has_an_object_schema_and_description() -> None:
    for tool in builtin_tools():
        assert tool.input_schema["type"] == "object", tool.name
        assert tool.description.endswith("."), tool.name
        assert set(tool.input_schema["required"]) <= set(tool.input_schema["properties"])
