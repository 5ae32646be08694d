"""The Rich progress bar of ``lynkr index`` on stderr, for runs that parse many files,
when stderr is a terminal.

Rich is imported only when the bar is shown, so the build itself stays free of it.
"""

from __future__ import annotations

from typing import Any

from lynkr_cli import console

PROGRESS_MIN_FILES = 200


def _stderr_is_terminal() -> bool:
    import sys

    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced or closed
        return False


class ProgressBar:
    """A Rich progress bar on stderr, shown only for runs that parse many files."""

    def __init__(self, *, enabled: bool) -> None:
        # Only for a person watching: on a pipe or a file (CI, Claude Code's Bash tool)
        # a bar is noise, and it would cost the import of Rich and a refresh thread.
        self.enabled = enabled and not console.state.quiet and _stderr_is_terminal()
        self.bar: Any = None
        self.task: Any = None

    def __enter__(self) -> ProgressBar:
        return self

    def update(self, done: int, total: int) -> None:
        if not self.enabled or total < PROGRESS_MIN_FILES:
            return
        if self.bar is None:
            from rich.progress import Progress

            self.bar = Progress(console=console.err(), transient=True)
            self.bar.start()
            self.task = self.bar.add_task("parsing", total=total)
        self.bar.update(self.task, completed=done)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()
