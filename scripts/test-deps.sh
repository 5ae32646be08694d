#!/usr/bin/env bash
# Installs the real external programs the test-suite drives, into .tools/ (git-ignored):
#   - the Claude Code CLI (npm @anthropic-ai/claude-code)
#   - the MCP reference server "everything" (npm @modelcontextprotocol/server-everything)
# mcp-server-time comes from PyPI through the dev extra.
# Locally a missing npm only warns (the tests that need these skip with a reason);
# under CI=true it is an error, because those tests must run there.
set -uo pipefail
cd "$(dirname "$0")/.."
TOOLS=.tools
want=("@anthropic-ai/claude-code@2.1.197" "@modelcontextprotocol/server-everything")

# Shells and ripgrep from Debian: the switch tests run the real shells, the search tool uses rg.
missing=()
command -v zsh >/dev/null 2>&1 || missing+=(zsh)
command -v fish >/dev/null 2>&1 || missing+=(fish)
command -v rg >/dev/null 2>&1 || missing+=(ripgrep)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "test-deps: installing ${missing[*]} with apt-get" >&2
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; } >/dev/null 2>&1 \
      || echo "test-deps: apt-get install ${missing[*]} failed" >&2
  else
    echo "test-deps: ${missing[*]} missing and cannot be installed here; those tests skip" >&2
  fi
  if [ "${CI:-}" = "true" ]; then
    for tool in zsh fish rg; do
      command -v "$tool" >/dev/null 2>&1 || { echo "test-deps: $tool is required under CI=true" >&2; exit 1; }
    done
  fi
fi

if ! command -v npm >/dev/null 2>&1; then
  if [ "${CI:-}" = "true" ]; then echo "test-deps: npm is required under CI=true" >&2; exit 1; fi
  echo "test-deps: npm not found; Claude Code and MCP npm tests will skip" >&2; exit 0
fi
if [ -x "$TOOLS/node_modules/.bin/claude" ] && [ -d "$TOOLS/node_modules/@modelcontextprotocol/server-everything" ]; then
  exit 0
fi
mkdir -p "$TOOLS"
[ -f "$TOOLS/package.json" ] || echo '{"name":"lynkr-test-tools","private":true}' > "$TOOLS/package.json"
if ! npm install --prefix "$TOOLS" --no-audit --no-fund --loglevel=error "${want[@]}"; then
  if [ "${CI:-}" = "true" ]; then echo "test-deps: npm install failed" >&2; exit 1; fi
  echo "test-deps: npm install failed; the tests that need it will skip" >&2
fi
exit 0
