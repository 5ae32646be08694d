"""The ``lynkr`` console script and ``python -m lynkr_cli``.

A command whose Typer callback is ``@entry.runs(...)`` is run by
:func:`lynkr_cli.entry.run` before Typer loads, parsed with the table built from the
app's own declarations; everything else is the full CLI, :func:`lynkr_cli.cli.main`.
"""

from __future__ import annotations

import sys


def main() -> int:
    """Console-script entry point."""
    from lynkr_cli import entry

    code = entry.run(sys.argv[1:], boundary=_boundary)
    if code is not None:
        return code
    from lynkr_cli.cli import main as cli_main

    return cli_main()


def _boundary(exc: BaseException) -> int:
    """The CLI's error boundary, for a command run before Typer (Typer loads for it)."""
    from lynkr_cli.cli import boundary

    return boundary(exc)


if __name__ == "__main__":
    raise SystemExit(main())
