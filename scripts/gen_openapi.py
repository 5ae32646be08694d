"""Write the gateway's OpenAPI document to docs/openapi.json (from lynkr_cli/serve/openapi/).

python scripts/gen_openapi.py          # rewrite docs/openapi.json
python scripts/gen_openapi.py --check  # exit 1 if the file is stale (the test suite runs this)
"""

from __future__ import annotations

import sys
from pathlib import Path

from lynkr_cli.serve.openapi.document import render

DOC = Path(__file__).resolve().parents[1] / "docs" / "openapi.json"


def main() -> int:
    fresh = render()
    if "--check" in sys.argv:
        if not DOC.is_file() or DOC.read_bytes() != fresh:
            print("docs/openapi.json is stale: run python scripts/gen_openapi.py")
            return 1
        return 0
    DOC.write_bytes(fresh)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
