"""Regenerate the settings table in docs/configuration.md from the Settings model.

python scripts/gen_config_docs.py          # rewrite the table
python scripts/gen_config_docs.py --check  # exit 1 if the doc is stale (the test suite runs this)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# The built-in providers' settings only: an installed plugin's do not belong in this doc.
os.environ["LYNKR_LOAD_PLUGINS"] = ""

from lynkr_cli.settings import field_env_names, is_secret, sections

DOC = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"
BEGIN, END = "<!-- settings-table:begin -->", "<!-- settings-table:end -->"


def table() -> str:
    rows = ["| setting | default | environment (first wins) |", "|---|---|---|"]
    for section, model in sections().items():
        for name, info in model.model_fields.items():
            default = (
                "(secret)"
                if is_secret(section, name)
                else info.get_default(call_default_factory=True)
            )
            shown = "" if default in (None, "", [], {}) else f"`{default}`"
            # A short name may equal the LYNKR_<SECTION>_<FIELD> one: list it once.
            unique = dict.fromkeys(field_env_names(section, name))
            names = ", ".join(f"`{n}`" for n in unique)
            rows.append(f"| `{section}.{name}` | {shown} | {names} |")
    return "\n".join(rows)


def render(text: str) -> str:
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n{table()}\n{END}{tail}"


def main() -> int:
    current = DOC.read_text()
    fresh = render(current)
    if "--check" in sys.argv:
        if fresh != current:
            print("docs/configuration.md is stale: run python scripts/gen_config_docs.py")
            return 1
        return 0
    DOC.write_text(fresh)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
