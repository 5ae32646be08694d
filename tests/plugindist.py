"""Third-party plugins as real distributions: a module and a ``*.dist-info`` (METADATA,
``entry_points.txt`` in the group ``lynkr``) in a site directory, found by
importlib.metadata exactly as a pip-installed package would be."""

from __future__ import annotations

from pathlib import Path


def install(
    site: Path,
    dist: str,
    module: str,
    source: str,
    *,
    entry: str | None = None,
    version: str = "1.2.3",
) -> None:
    """Install ``source`` as ``module``, of distribution ``dist``, entry point ``entry``."""
    site.mkdir(parents=True, exist_ok=True)
    (site / f"{module}.py").write_text(source)
    info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[lynkr]\n{entry or dist} = {module}\n")
    (info / "RECORD").write_text(f"{module}.py,,\n")
