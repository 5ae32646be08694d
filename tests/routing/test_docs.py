"""docs/routing.md's examples run as written: its lynkr.toml, its request file, and the
output it shows for ``lynkr route explain``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.conftest import ROOT

DOC = (ROOT / "docs" / "routing.md").read_text()


def blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", DOC, flags=re.S)


def test_the_explain_example_prints_what_the_doc_shows(invoke: Any, workdir: Path) -> None:
    (workdir / "lynkr.toml").write_text(blocks("toml")[0])
    example = next(b for b in blocks("sh") if "> title.json" in b)
    request = example.split("echo '", 1)[1].split("' > title.json", 1)[0]
    (workdir / "title.json").write_text(request)
    result = invoke("route", "explain", "title.json")
    assert result.exit_code == 0, result.stderr
    shown = DOC.split("lynkr route explain title.json\n```\n\n```text\n", 1)[1]
    shown = shown.split("```", 1)[0]
    assert result.stdout == shown


def test_the_claude_code_router_config_is_the_toml_at_the_top() -> None:
    import json
    import tomllib

    ccr = json.loads(blocks("json")[0])
    toml = tomllib.loads(blocks("toml")[0])
    assert ccr["Router"] == toml["routing"]


def test_every_error_message_in_the_table_exists_in_the_code() -> None:
    sources = "".join(
        p.read_text()
        for p in [
            *(ROOT / "lynkr_cli" / "route").glob("*.py"),
            ROOT / "lynkr_cli" / "serve" / "scenarios.py",
            ROOT / "lynkr_cli" / "settings.py",
        ]
    )
    for fragment in (
        "names an unknown provider",
        "expected provider/model (or provider,model as claude-code-router writes it)",
        "sets both",
        "no such file",
        "is a directory, not a request file",
        "cannot read",
        "is empty",
        "is not JSON",
        "is not a Messages request",
        "the gateway would answer 400",
    ):
        assert fragment in DOC and fragment in sources, fragment
