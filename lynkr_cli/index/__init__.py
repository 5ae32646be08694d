"""``lynkr index``: a tree-sitter symbol index of a repository, and a generated CLAUDE.md.

Other packages use :mod:`lynkr_cli.index.api`.
"""
