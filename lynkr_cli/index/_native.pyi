# Stub of the optional C accelerator built from native/lynkr_native.c (see index/native.py).
from collections.abc import Callable

PROFILE_GUIDED: bool  # built with gcc's -fprofile-use (setup.py)
LANGUAGE_VERSION: int
MIN_COMPATIBLE_LANGUAGE_VERSION: int

class Unsupported(Exception):
    """This file needs py-tree-sitter (see index/native.py)."""

class Extractor:
    """A grammar and its compiled tags query, reused file after file."""

    def __init__(
        self,
        language: object,
        source: str,
        roles: Callable[[str], tuple[int, str, bool]],
        members: frozenset[str] | set[str],
        receivers: bool,
    ) -> None: ...
    def run(
        self, source: bytes, file_id: int, /
    ) -> tuple[
        list[tuple[int, str, str, int, int, int, str, str]],
        list[tuple[int, str, str, int, int, str, str]],
        list[tuple[int, str, int, str | None]],
        bool,
    ]:
        """Parse ``source``, query it: (symbols, references, import matches, has_error),
        the rows of extract.py's Python path for a file numbered ``file_id``."""
