"""Profile-guided build of lynkr's C accelerator: the training run.

``setup.py`` compiles the extension instrumented (``-fprofile-generate``), runs this
script with the build's Python, then compiles it again with the recorded profile
(``-fprofile-use``). The training parses this repository's own Python sources with the
Python grammar and lynkr's tags query, as ``lynkr index`` does; the runtime code it
exercises (parser, stack, subtrees, query cursor) is the same for every language.

    python native/train.py EXTENSION.so REPO_ROOT

Exit 0 when trained; anything else and the build goes on without the profile.
It imports nothing from lynkr (the build environment holds only the build needs).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

LIMIT = 4_000_000  # bytes of source: enough for a stable profile, a second or two
QUERIES = ("python.scm", "python-extra.scm", "python-imports.scm")


def role(name: str) -> tuple[int, str, bool]:
    head, _, kind = name.rpartition(".")
    aider = head.startswith("name.")
    head = head[5:] if aider else head
    code = {"definition": 1, "reference": 2}.get(head, 0)
    return (3 if name == "import" else code), kind, aider


def main(extension: str, root: str) -> int:
    import tree_sitter_python

    spec = importlib.util.spec_from_file_location("_native", extension)
    if spec is None or spec.loader is None:
        return 2
    native = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(native)
    base = Path(root)
    queries = base / "lynkr_cli" / "index" / "queries"
    source = "\n".join((queries / name).read_text(encoding="utf-8") for name in QUERIES)
    members = frozenset({"attribute", "call"})
    extractor = native.Extractor(tree_sitter_python.language(), source, role, members, True)
    files, total = [], 0
    for path in sorted(base.glob("lynkr_cli/**/*.py")) + sorted(base.glob("tests/**/*.py")):
        data = path.read_bytes()
        files.append(data)
        total += len(data)
        if total > LIMIT:
            break
    for data in files:
        extractor.run(data, 1)
    print(f"trained on {len(files)} files, {total} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
