"""Write lynkr_cli/entry_table.py from the Typer app's own declarations (``cli.entry_table``).

python scripts/gen_entry_table.py          # rewrite the table
python scripts/gen_entry_table.py --check  # exit 1 if the table differs from the app's

Run it after changing a parameter of the root callback or of a command whose callback
is ``@entry.runs(...)``; ``tests/core/test_entry.py`` fails until then.
"""

from __future__ import annotations

import os
import pprint
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "lynkr_cli" / "entry_table.py"
HEADER = '''"""The command lines ``entry.py`` runs before Typer loads. Generated: do not edit.

Written by ``scripts/gen_entry_table.py`` from ``cli.entry_table()``, which reads the
Typer app's own parameter declarations; ``tests/core/test_entry.py`` fails when they
and this table differ. An option maps to (its keyword, its kind): ``flag``, ``count``,
``str`` and ``path`` are read as Typer reads them; ``stop`` leaves the command line to
Typer (help, version, completion).
"""

from typing import Any

'''


def render(table: dict[str, Any]) -> str:
    body = "".join(
        f"{name}: dict[str, Any] = {pprint.pformat(table[name], width=88)}\n"
        for name in ("ROOT", "GROUPS", "COMMANDS")
    )
    return HEADER + body


def main() -> int:
    os.environ["LYNKR_LOAD_PLUGINS"] = ""  # the built-in commands only
    from lynkr_cli.cli import entry_table
    from lynkr_cli.entry_table import COMMANDS, GROUPS, ROOT

    table = entry_table()
    if "--check" in sys.argv:
        same = table == {"ROOT": ROOT, "GROUPS": GROUPS, "COMMANDS": COMMANDS}
        if not same:
            print(f"{TABLE} is stale: run python scripts/gen_entry_table.py", file=sys.stderr)
        return 0 if same else 1
    TABLE.write_text(render(table), encoding="utf-8")
    ruff = Path(sys.executable).with_name("ruff")
    subprocess.run([str(ruff), "format", "-q", str(TABLE)], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
