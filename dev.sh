#!/usr/bin/env bash
# One entry point for a fresh machine: creates .venv, installs toolpool into it, then
#   ./dev.sh demo   runs the service on its embedded defaults and sends it a real call; its state (the
#                   database, secrets key and development token) goes in .state/ inside this checkout,
#                   so two checkouts never share a database or a token
#   ./dev.sh test   runs the whole test suite (installing Debian's postgresql first if initdb is missing):
#                   the tests not marked serial on two cores (pytest-xdist), then the serial ones alone
# Extra arguments go to the command: `./dev.sh test ARGS` is one `pytest ARGS` run, e.g.
# `./dev.sh test -m unit` (README, "Testing").
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
VENV=.venv

ensure_venv() {
    if [ ! -x "$VENV/bin/python" ]; then
        if ! "$PYTHON" -m venv "$VENV" 2>/dev/null; then
            # Debian ships venv's ensurepip separately.
            if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
                apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
                rm -rf "$VENV"
                "$PYTHON" -m venv "$VENV"
            else
                echo "dev.sh: '$PYTHON -m venv' failed; install python3-venv" >&2
                exit 1
            fi
        fi
    fi
    # Reinstall only when the packaging metadata changed.
    local stamp="$VENV/.installed" want
    want=$(sha256sum pyproject.toml | cut -d' ' -f1)
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        "$VENV/bin/python" -m pip install -q --upgrade pip
        "$VENV/bin/python" -m pip install -q -e '.[test]'
        echo "$want" > "$stamp"
    fi
}

# The tests start their own PostgreSQL server (tests/pg.py) from Debian's package; install
# it when initdb is missing and we may (CI runs as root on a fresh Debian machine).
ensure_postgresql() {
    if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null; then
        return
    fi
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
        # Debian starts a cluster of its own; the tests never use it.
        if command -v pg_lsclusters >/dev/null; then
            pg_lsclusters -h 2>/dev/null | while read -r version name _; do
                pg_ctlcluster "$version" "$name" stop 2>/dev/null || true
            done
        fi
    else
        echo "dev.sh: PostgreSQL's initdb is missing (the store tests need it): apt-get install postgresql" >&2
        exit 1
    fi
}

cmd=${1:-}
shift || true
case "$cmd" in
    demo)
        ensure_venv
        exec "$VENV/bin/toolpool" demo --state-dir "$PWD/.state" "$@"
        ;;
    test)
        ensure_venv
        ensure_postgresql
        if [ $# -gt 0 ]; then
            exec "$VENV/bin/python" -m pytest "$@"
        fi
        # The whole suite (what .ci/run runs). Checks that run no test (linters, type checks)
        # go here, before the tests, in this no-argument form only.

        # Two pytest runs: every test not marked serial, on two workers (a file's tests stay on
        # one worker, so its module fixtures start once; the machines here have two cores), then
        # the serial tests (RSS, timings, load), one at a time with the machine to themselves.
        # The second runs unless the first was interrupted or could not run; the exit status is
        # the first failure's.
        status=0
        "$VENV/bin/python" -m pytest -n 2 --dist loadfile -m "not serial" || status=$?
        if [ "$status" -le 1 ]; then
            "$VENV/bin/python" -m pytest -m serial || { serial=$?; [ "$status" -ne 0 ] || status=$serial; }
        fi
        exit "$status"
        ;;
    *)
        echo "usage: ./dev.sh demo | ./dev.sh test [pytest args]" >&2
        exit 2
        ;;
esac
