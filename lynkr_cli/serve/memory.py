"""Giving memory back after large requests.

A 30 MB body becomes a 30 MB string, its parsed form, the upstream's copy and the
tokenizer's work. glibc's allocator keeps freed memory for reuse: with its default
dynamic mmap threshold, after the first large free it serves later large blocks from
the heap, where they fragment and are never returned, and a gateway that once saw a
big body stayed at 3x its resting size. So, at start-up, large blocks are always
mapped on their own (and unmapped when freed), and after a request with a large body
the heaps are trimmed once (``malloc_trim``, coalesced, off the request's path).
Elsewhere than glibc both are no-ops.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
from typing import Any

M_MMAP_THRESHOLD = -3  # mallopt parameters, from glibc's malloc.h
MMAP_THRESHOLD = 256 * 1024
LARGE_BODY = 1024 * 1024  # bytes: a request this large is followed by a trim
_libc: Any = None
_pending = False


def _glibc() -> Any:
    global _libc
    if _libc is None:
        _libc = False
        name = ctypes.util.find_library("c")
        if name:
            try:
                libc = ctypes.CDLL(name)
                if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt"):
                    _libc = libc
            except OSError:
                pass
    return _libc


def tune_allocator() -> None:
    """Large blocks get their own mappings, returned to the system when freed."""
    libc = _glibc()
    if libc:
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)


def after_large_body() -> None:
    """Trim the heaps shortly after a large request has been answered (once per burst)."""
    global _pending
    if _pending or not _glibc():
        return
    _pending = True
    asyncio.get_running_loop().call_later(0.2, _trim)


def _trim() -> None:
    global _pending
    _pending = False
    _glibc().malloc_trim(0)
