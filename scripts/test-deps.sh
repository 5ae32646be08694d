#!/usr/bin/env bash
# Installs the real external programs the test-suite drives, into .tools/ (git-ignored):
#   - the Claude Code CLI (npm @anthropic-ai/claude-code)
#   - the MCP reference server "everything" (npm @modelcontextprotocol/server-everything)
# and from Debian: zsh, fish, ripgrep, redis-server and nginx (its `nginx -t` checks the
# scale-out example's config), and PostgreSQL's server binaries when they are missing
# (tests/scale starts PostgreSQL and Redis itself, on temporary directories and ports).
# mcp-server-time, psycopg and redis (the Python drivers) come from PyPI through the dev extra.
# Locally a missing npm only warns (the tests that need these skip with a reason);
# under CI=true it is an error, because those tests must run there.
set -uo pipefail
cd "$(dirname "$0")/.."
TOOLS=.tools
want=("@anthropic-ai/claude-code@2.1.197" "@modelcontextprotocol/server-everything")

# PostgreSQL's server binaries in Debian's layout (pg_config --bindir, /usr/lib/postgresql/N/bin).
pg_initdb() {
  local dir
  dir="$(pg_config --bindir 2>/dev/null)"
  if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then echo "$dir/initdb"; return 0; fi
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV); do
    if [ -x "$dir/initdb" ]; then echo "$dir/initdb"; return 0; fi
  done
  return 1
}

# Shells and ripgrep from Debian: the switch tests run the real shells, the search tool uses rg.
# Redis and PostgreSQL: the scale-out tests (tests/scale) start real servers.
missing=()
command -v zsh >/dev/null 2>&1 || missing+=(zsh)
command -v fish >/dev/null 2>&1 || missing+=(fish)
command -v rg >/dev/null 2>&1 || missing+=(ripgrep)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
pg_initdb >/dev/null || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "test-deps: installing ${missing[*]} with apt-get" >&2
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; } >/dev/null 2>&1 \
      || echo "test-deps: apt-get install ${missing[*]} failed" >&2
  else
    echo "test-deps: ${missing[*]} missing and cannot be installed here; those tests skip" >&2
  fi
  if [ "${CI:-}" = "true" ]; then
    for tool in zsh fish rg redis-server; do
      command -v "$tool" >/dev/null 2>&1 || { echo "test-deps: $tool is required under CI=true" >&2; exit 1; }
    done
    command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] \
      || { echo "test-deps: nginx is required under CI=true" >&2; exit 1; }
    pg_initdb >/dev/null || { echo "test-deps: PostgreSQL's initdb is required under CI=true" >&2; exit 1; }
  fi
fi
if [ "$(id -u)" = "0" ] && ! command -v runuser >/dev/null 2>&1; then
  echo "test-deps: runuser (util-linux) is missing: PostgreSQL cannot be started as root" >&2
  if [ "${CI:-}" = "true" ]; then exit 1; fi
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
