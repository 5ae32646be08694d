"""Build configuration beyond pyproject.toml: the optional C accelerators.

Two extension modules, each optional (the pure-Python path stays, with identical
results, when one cannot be compiled):

- ``lynkr_cli.index._native``: the parser of `lynkr index` (below);
- ``lynkr_cli.team._counters``: the team gateway's in-memory limit counters
  (``native/team_counters.c``; its Python side is ``lynkr_cli/team/limits.py``), a
  plain -O3 build.

``lynkr_cli.index._native`` parses files and runs their tags queries with the
tree-sitter C runtime, vendored in ``native/tree_sitter_core`` (the runtime
py-tree-sitter 0.26.1 bundles; see docs/dependencies.md). It is optional: when it
cannot be compiled (no C compiler, no Python headers) the install goes on without it
and the indexer uses py-tree-sitter, with identical output.

With gcc the build is profile-guided: compiled instrumented, trained by
``native/train.py`` (it parses this repository's Python sources), compiled again with
the profile. Without a profile (the training failed, another compiler) it is a plain
-O3 build.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

CORE = "native/tree_sitter_core/lib"
HERE = os.path.dirname(os.path.abspath(__file__))
FLAGS = ["-std=c11", "-O3", "-fvisibility=hidden", "-Werror=implicit-function-declaration"]
TRAINED = {"lynkr_cli.index._native"}  # built profile-guided (gcc)
FALLBACK = {
    "lynkr_cli.index._native": "lynkr index uses py-tree-sitter",
    "lynkr_cli.team._counters": "the team gateway counts its limits in Python",
}


class OptionalBuildExt(build_ext):
    """Build the accelerator profile-guided when it can, and never fail the install."""

    def build_extension(self, ext: Extension) -> None:
        try:
            if self.compiler.compiler_type == "unix" and ext.name in TRAINED:
                self._build_trained(ext)
            else:
                super().build_extension(ext)
        except Exception as exc:  # optional: the pure-Python path stays
            print(f"warning: {ext.name} not built ({exc}); {FALLBACK[ext.name]}")

    def _build_trained(self, ext: Extension) -> None:
        profile = tempfile.mkdtemp(prefix="lynkr-pgo-")
        self.force = self.compiler.force = True  # the second pass rebuilds every object
        try:
            trained = self._instrumented(ext, profile)
            ext.extra_compile_args = FLAGS + (
                [
                    f"-fprofile-use={profile}",
                    "-fprofile-correction",
                    "-Wno-missing-profile",
                    "-DLYNKR_PROFILE_GUIDED",
                ]
                if trained
                else []
            )
            ext.extra_link_args = []
            super().build_extension(ext)
        finally:
            shutil.rmtree(profile, ignore_errors=True)

    def _instrumented(self, ext: Extension, profile: str) -> bool:
        ext.extra_compile_args = [
            *FLAGS,
            f"-fprofile-generate={profile}",
            "-fprofile-update=single",
        ]
        ext.extra_link_args = [f"-fprofile-generate={profile}"]
        try:
            super().build_extension(ext)
            train = [sys.executable, os.path.join(HERE, "native", "train.py")]
            done = subprocess.run(
                [*train, self.get_ext_fullpath(ext.name), HERE], timeout=300, check=False
            )
        except Exception as exc:
            print(f"note: {ext.name}: no profile-guided build ({exc})")
            return False
        if done.returncode:
            print(f"note: {ext.name}: training exited {done.returncode}, plain -O3 build")
        return done.returncode == 0


setup(
    cmdclass={"build_ext": OptionalBuildExt},
    ext_modules=[
        Extension(
            name="lynkr_cli.index._native",
            sources=["native/lynkr_native.c", f"{CORE}/src/lib.c"],
            include_dirs=[f"{CORE}/include", f"{CORE}/src"],
            define_macros=[
                ("_DEFAULT_SOURCE", None),
                ("TREE_SITTER_HIDE_SYMBOLS", None),
            ],
            optional=True,
        ),
        Extension(
            name="lynkr_cli.team._counters",
            sources=["native/team_counters.c"],
            extra_compile_args=FLAGS,
            optional=True,
        ),
    ],
)
