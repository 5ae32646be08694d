"""The token-level JSON editor: a `git diff` of every switched file shows only lynkr's keys."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from lynkr_cli.switch import jsonedit

KEY = "sk-ant-jsonedit-key-0001"
MANAGED = ("ANTHROPIC_",)

# Files as people (and other tools) write them. Claude Code's own files are strict JSON,
# written by JSON.stringify; these are what hand edits and other tools leave behind.
CORPUS = {
    "escapes": '{\n  "env": {\n    "NAME": "caf\\u00e9",\n    "P": "a\\/b",\n'
    '    "Q": "tab\\there \\"quoted\\" \\\\ back"\n  },\n  "n": 1e10\n}\n',
    "numbers": '{\n  "a": 1E+2,\n  "b": -0.0,\n  "c": 12345678901234567890,\n  "d": 0.1e-5,\n'
    '  "env": {"X": "1"}\n}\n',
    "compact-objects": '{\n  "permissions": {"allow": ["Bash(ls:*)"], "deny": []},\n'
    '  "statusLine": {"type":"command","command":"x"},\n  "env": {\n    "KEEP": "1"\n  }\n}\n',
    "crlf-tabs": '{\r\n\t"model": "opus",\r\n\t"env": {\r\n\t\t"A": "1"\r\n\t}\r\n}\r\n',
    "bom": '\ufeff{\n  "env": {\n    "A": "1"\n  }\n}\n',
    "no-final-newline": '{\n  "model": "opus",\n  "env": {\n    "A": "1"\n  }\n}',
    "minified": '{"model":"opus","env":{"A":"1","ANTHROPIC_BASE_URL":"http://old"}}',
    "empty-env": '{\n  "model": "opus",\n  "env": {}\n}\n',
    "no-env": '{\n  "model": "opus",\n  "hooks": {}\n}\n',
    "empty-object": "{}\n",
    "unicode": '{\n  "greeting": "h\u00e9llo \u2603 \U0001f600",\n  "pair": "\\ud83d\\ude00",\n'
    '  "env": {\n    "A": "\u00fc"\n  }\n}\n',
    "duplicate-elsewhere": '{\n  "a": 1,\n  "a": 2,\n  "env": {\n    "A": "1"\n  }\n}\n',
    "deep": '{\n  "deep": ' + "[" * 60 + "1" + "]" * 60 + ',\n  "env": {\n    "A": "1"\n  }\n}\n',
    "odd-spacing": '{ "env" :{ "A" : "1" ,"ANTHROPIC_MODEL" : "old" } , "z":[ 1 ,2 ] }\n',
    "managed-last": '{\n  "env": {\n    "A": "1",\n'
    '    "ANTHROPIC_AUTH_TOKEN": "tok-old-123456789"\n  }\n}\n',
    "same-value-escaped": '{\n  "env": {\n    "ANTHROPIC_MODEL": "\\u0063laude-x",\n'
    '    "ANTHROPIC_BASE_URL": "http:\\/\\/127.0.0.1:8080"\n  }\n}\n',
}


def _git_changed_lines(tmp: Path, before: str, after: str) -> list[str]:
    """The '-'/'+' lines of `git diff --no-index`, as a user would review them."""
    old, new = tmp / "before.json", tmp / "after.json"
    old.write_bytes(before.encode("utf-8"))
    new.write_bytes(after.encode("utf-8"))
    proc = subprocess.run(
        ["git", "diff", "--no-index", "--no-color", "-U0", str(old), str(new)],
        capture_output=True,
        check=False,
        timeout=30,
    )
    lines = proc.stdout.decode("utf-8").splitlines()
    body = [line for line in lines if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    return [line.rstrip("\r") for line in body]


def _only_managed(lines: list[str]) -> list[str]:
    """Changed lines that are neither a managed key, nor a neighbour's comma, nor braces."""
    minus = [line[1:].rstrip(",") for line in lines if line.startswith("-")]
    plus = [line[1:].rstrip(",") for line in lines if line.startswith("+")]
    stray = []
    for line in lines:
        body = line[1:]
        if any(f'"{prefix}' in body for prefix in MANAGED):
            continue
        if body.strip() in ("}", "},", "{", "{}") or body.strip().startswith('"env"'):
            continue  # the env object itself, opened up to hold the new keys
        other = plus if line.startswith("-") else minus
        if body.rstrip(",") in other:
            continue  # the same member, only its trailing comma moved
        if "ANTHROPIC_" in body:  # a compact line holding a managed key among others
            continue
        stray.append(line)
    return stray


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_switch_diff_shows_only_managed_keys(invoke, home: Path, tmp_path: Path, name: str) -> None:
    path = home / ".claude" / "settings.json"
    before = CORPUS[name]
    path.write_bytes(before.encode("utf-8"))
    result = invoke(
        "switch", "add", "work", "--base-url", "http://127.0.0.1:8080", "--key", KEY,
        "--model", "claude-x",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    result = invoke("switch", "work")
    assert result.exit_code == 0, result.stderr
    after = path.read_bytes().decode("utf-8")
    stray = _only_managed(_git_changed_lines(tmp_path, before, after))
    assert stray == [], f"{name}: unmanaged lines changed:\n" + "\n".join(stray)
    # Same content apart from the managed keys, parsed by Python's own parser.
    old = json.loads(before.removeprefix("\ufeff"))
    new = json.loads(after.removeprefix("\ufeff"))
    for doc in (old, new):
        env = doc.get("env") or {}
        for key in [k for k in env if k.startswith("ANTHROPIC_")]:
            del env[key]
        if not env:
            doc.pop("env", None)
    assert old == new
    assert json.loads(after.removeprefix("\ufeff"))["env"]["ANTHROPIC_API_KEY"] == KEY
    assert after.startswith("\ufeff") == before.startswith("\ufeff")
    assert ("\r\n" in after) == ("\r\n" in before)
    # Switching again to the same profile changes nothing at all.
    again = invoke("switch", "work", "--json")
    assert json.loads(again.stdout)["written"] is False
    assert path.read_bytes().decode("utf-8") == after


def test_unchanged_values_keep_their_spelling() -> None:
    text = CORPUS["same-value-escaped"]
    out = jsonedit.update(
        text,
        ["env"],
        {"ANTHROPIC_MODEL": "claude-x", "ANTHROPIC_BASE_URL": "http://127.0.0.1:8080"},
    )
    assert out == text  # equal values: not a byte changes, escapes included


def test_update_creates_missing_objects_along_the_path() -> None:
    text = '{\n  "projects": {\n    "/p": {"allowedTools": []}\n  }\n}\n'
    out = jsonedit.update(text, ["projects", "/p", "mcpServers"], {"t": {"command": "x"}})
    assert json.loads(out)["projects"]["/p"] == {
        "mcpServers": {"t": {"command": "x"}},
        "allowedTools": [],
    }
    assert out.endswith('"allowedTools": []}\n  }\n}\n')
    assert jsonedit.update(text, ["nope", "deeper"], {}, ["x"]) == text  # nothing to remove


def test_removing_members_keeps_neighbours_layout() -> None:
    text = '{\n  "m": {\n    "a": 1,\n    "b": 2,\n    "c": 3\n  }\n}\n'
    assert (
        jsonedit.update(text, ["m"], {}, ["b"]) == '{\n  "m": {\n    "a": 1,\n    "c": 3\n  }\n}\n'
    )
    assert (
        jsonedit.update(text, ["m"], {}, ["c"]) == '{\n  "m": {\n    "a": 1,\n    "b": 2\n  }\n}\n'
    )
    assert jsonedit.update(text, ["m"], {}, ["a", "b", "c"]) == '{\n  "m": {}\n}\n'


def test_inserted_objects_are_indented_like_the_file() -> None:
    text = '{\n    "mcpServers": {\n        "theirs": {"command": "a"}\n    }\n}\n'
    out = jsonedit.update(text, ["mcpServers"], {"ours": {"command": "b", "args": ["-x"]}})
    assert out == (
        '{\n    "mcpServers": {\n        "ours": {\n            "command": "b",\n'
        '            "args": [\n                "-x"\n            ]\n        },\n'
        '        "theirs": {"command": "a"}\n    }\n}\n'
    )


def test_keys_are_compared_decoded() -> None:
    text = '{"\\u0065nv": {"A": "1"}}'
    assert json.loads(jsonedit.update(text, ["env"], {"B": "2"})) == {"env": {"A": "1", "B": "2"}}
    with pytest.raises(jsonedit.JsonError, match="appears 2 times"):
        jsonedit.update('{"env": {}, "\\u0065nv": {}}', ["env"], {"B": "2"})


@pytest.mark.parametrize(
    ("text", "line", "column", "what"),
    [
        ('{"a": NaN}', 1, 7, "NaN"),
        ('{\n  "a": Infinity}', 2, 8, "Infinity"),
        ('{"a": -Infinity}', 1, 7, "-Infinity"),
        ('{"a": "\\ud800"}', 1, 8, "lone surrogate"),
        ('{"a": "\\udc00\\ud800"}', 1, 8, "lone surrogate"),
        ('{"a": "x\\ud83dy"}', 1, 9, "lone surrogate"),
        ('{"a": 1} {"b": 2}', 1, 10, "after the JSON value"),
        ('{"a": 1,}', 1, 9, "trailing comma"),
        ("[1, 2,]", 1, 7, "trailing comma"),
        ('{"a": 1 // no\n}', 1, 9, "expected ','"),
        ("/* c */ {}", 1, 1, "comments"),
        ('{"a": "\\q"}', 1, 8, "invalid escape"),
        ('{"a": "line\nbreak"}', 1, 12, "control character"),
        ('{"a": "open', 1, 7, "unterminated"),
        ('{"a": 01}', 1, 8, "expected ','"),
        ("", 1, 1, "no JSON value"),
        ('{"a": tru}', 1, 7, "unexpected character"),
        ("[" * 250 + "]" * 250, 1, 201, "nested deeper"),
    ],
)
def test_invalid_json_is_refused_with_its_position(
    text: str, line: int, column: int, what: str
) -> None:
    with pytest.raises(jsonedit.JsonError) as caught:
        jsonedit.parse(text)
    assert what in caught.value.message
    assert (caught.value.line, caught.value.column) == (line, column)


def test_big_claude_json_parses_in_one_pass() -> None:
    """A realistic ~/.claude.json (projects, history) round-trips through an edit."""
    doc = {
        "numStartups": 12,
        "projects": {
            f"/home/u/p{i}": {
                "history": [
                    {"display": f"fix bug {j} \u00e9", "pastedContents": {}} for j in range(50)
                ],
                "mcpServers": {},
            }
            for i in range(40)
        },
    }
    text = json.dumps(doc, indent=2)
    out = jsonedit.update(text, ["mcpServers"], {"time": {"type": "stdio", "command": "t"}})
    assert json.loads(out) == {"mcpServers": {"time": {"type": "stdio", "command": "t"}}, **doc}
    assert out.replace('  "mcpServers": {\n    "time": {\n      "type": "stdio",\n'
                       '      "command": "t"\n    }\n  },\n', "", 1) == text  # fmt: skip


def _reject(name: str) -> None:
    raise ValueError(name)


def test_parse_accepts_exactly_what_strict_json_accepts() -> None:
    """A seeded differential fuzz against Python's own parser (NaN/Infinity refused).

    Lone surrogate escapes are the one place the two differ on purpose (Python accepts
    them), so mutations that create a \\u escape are left out of the comparison.
    """
    import random

    rng = random.Random(20251206)
    seeds = [CORPUS["escapes"], CORPUS["compact-objects"], CORPUS["numbers"], "[1, [2, {}], []]"]
    alphabet = [*'{}[]:,"\\ -+.eE0123456789tfnlrsua/\t\n', "NaN", "true", "1e"]
    compared = 0
    for _ in range(3000):
        text = rng.choice(seeds)
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(text) + 1)
            cut = rng.choice((0, 0, 1, 2))
            text = text[:at] + rng.choice(alphabet) + text[at + cut :]
        if "\\u" in text:
            continue
        try:
            json.loads(text, parse_constant=_reject)
            python_ok = True
        except (ValueError, RecursionError):
            python_ok = False
        try:
            jsonedit.parse(text)
            ours_ok = True
        except jsonedit.JsonError:
            ours_ok = False
        assert ours_ok == python_ok, repr(text)
        compared += 1
    assert compared > 2000
