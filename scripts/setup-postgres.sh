#!/usr/bin/env bash
# Installs what the PostgreSQL store's tests need on Debian, as root: a PostgreSQL server and the
# pgvector extension for its major version. Idempotent and quiet: does nothing when both are there,
# runs `apt-get update` at most once. Only Debian's archive is used.
#
# Debian 12 (bookworm) has no postgresql-15-pgvector package (pgvector entered Debian with trixie),
# so when apt has none for the installed major, Debian's own pgvector source package (from
# $PGVECTOR_SUITE, default trixie) is fetched with apt-get source, through a private apt config that
# leaves the system's sources alone, and built against the installed server (about 30 s on 2 cores).
#
# Env: PGVECTOR_SUITE (trixie), DEBIAN_MIRROR (http://deb.debian.org/debian),
#      PGVECTOR_FORCE_BUILD=1 to rebuild from source even when pgvector is present.
# The Python clients come from pyproject's dev extras: psycopg[binary], pgvector.
set -euo pipefail

if [ "$(id -u)" != 0 ]; then
  echo "setup-postgres.sh: run as root" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
SUITE="${PGVECTOR_SUITE:-trixie}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

updated=0
apt_update() {
  if [ "$updated" = 0 ]; then
    apt-get update -qq
    updated=1
  fi
}
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
apt_install() {
  local missing=() p
  for p in "$@"; do installed "$p" || missing+=("$p"); done
  if [ "${#missing[@]}" -gt 0 ]; then
    apt_update
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

server_major() {
  # Newest installed major that has a server binary.
  local d
  for d in /usr/lib/postgresql/*/bin/postgres; do
    [ -x "$d" ] && basename "$(dirname "$(dirname "$d")")"
  done | sort -n | tail -1
}

major="$(server_major)"
if [ -z "$major" ]; then
  apt_install postgresql
  major="$(server_major)"
fi
if [ -z "$major" ]; then
  echo "setup-postgres.sh: no PostgreSQL server after installing postgresql" >&2
  exit 1
fi

has_vector() {
  [ -f "/usr/share/postgresql/$major/extension/vector.control" ] &&
    [ -f "/usr/lib/postgresql/$major/lib/vector.so" ]
}

build_from_debian_source() {
  apt_install "postgresql-server-dev-$major" build-essential
  local tmp
  tmp="$(mktemp -d)"
  # shellcheck disable=SC2064
  trap "rm -rf '$tmp'" EXIT
  mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial"
  echo "deb-src $MIRROR $SUITE main" >"$tmp/sources.list"
  local opts=(-o "Dir::Etc::SourceList=$tmp/sources.list" -o "Dir::Etc::SourceParts=/nonexistent"
    -o "Dir::State::Lists=$tmp/lists" -o "Dir::Cache=$tmp/cache" -o "APT::Sandbox::User=root")
  apt-get "${opts[@]}" update -qq
  (cd "$tmp" && apt-get "${opts[@]}" source --download-only -qq pgvector >/dev/null)
  tar -xf "$tmp"/pgvector_*.orig.tar.* -C "$tmp"
  local src
  src="$(find "$tmp" -maxdepth 1 -type d -name 'pgvector-*' | head -1)"
  # OPTFLAGS="": no -march=native, so the build runs on any x86-64 machine.
  make -C "$src" -s -j"$(nproc)" PG_CONFIG="/usr/lib/postgresql/$major/bin/pg_config" OPTFLAGS="" \
    >"$tmp/build.log" 2>&1 || { tail -30 "$tmp/build.log" >&2; exit 1; }
  make -C "$src" -s install PG_CONFIG="/usr/lib/postgresql/$major/bin/pg_config" >>"$tmp/build.log" 2>&1 ||
    { tail -30 "$tmp/build.log" >&2; exit 1; }
}

if ! has_vector || [ "${PGVECTOR_FORCE_BUILD:-0}" = 1 ]; then
  apt_update
  if [ "${PGVECTOR_FORCE_BUILD:-0}" != 1 ] &&
    apt-cache policy "postgresql-$major-pgvector" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    apt_install "postgresql-$major-pgvector"
  else
    build_from_debian_source
  fi
fi
if ! has_vector; then
  echo "setup-postgres.sh: pgvector for PostgreSQL $major is still missing" >&2
  exit 1
fi
echo "PostgreSQL $major with pgvector: ready"
