"""The ``lynkr`` console script and ``python -m lynkr_cli``.

``lynkr index`` with nothing to do is answered by :mod:`lynkr_cli.index.fastpath`
before Typer and the settings model are imported; everything else is the full CLI,
:func:`lynkr_cli.cli.main`.
"""

from __future__ import annotations

import sys


def main() -> int:
    """Console-script entry point."""
    if "index" in sys.argv[1:]:
        from lynkr_cli import console
        from lynkr_cli.index import fastpath

        console.begin(sys.argv[1:])  # --json errors from the fast path too
        code = fastpath.run(sys.argv[1:])
        if code is not None:
            return code
    from lynkr_cli.cli import main as cli_main

    return cli_main()


if __name__ == "__main__":
    raise SystemExit(main())
