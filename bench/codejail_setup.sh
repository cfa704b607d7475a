#!/usr/bin/env bash
# Sets up edX codejail 4.1.0 as the bench's baseline (the `codejail` driver,
# bench/codejail_driver.py), following codejail's README "Installation" as far as the
# machine allows, then checks that the jail is what the README says it is. Idempotent:
# run it again and it changes only what is missing. Needs root (it adds a user, a sudoers
# file and packages); it never touches the project's own .venv or the tests' environment.
#
#   sudo bench/codejail_setup.sh            # or as root
#   TOOLPOOL_CODEJAIL_HOME=/elsewhere CODEJAIL_CALLER=www-data bench/codejail_setup.sh
#
# What it makes (README step in brackets):
#   $HOME_DIR/venv            the caller's environment: edx-codejail==4.1.0 and six, pinned by
#                             hash (bench/codejail-caller.txt); the bench runs codejail here,
#                             in worker processes of its own (bench/codejail_host.py)
#   $HOME_DIR/venv-sandbox    <SANDENV>, `python3 -m venv --copies` of Debian's python3, with six [1, 2]
#   user and group `sandbox`  the unprivileged account the jailed python runs as [3]
#   /etc/sudoers.d/01-sandbox the README's three rules for the caller (default: whoever runs this) [4]
#   /etc/pam.d/sudo           without pam_limits.so, so sudo keeps codejail's rlimits [8]
# AppArmor [5, 6] is loaded only where the kernel has it; where it does not (no
# /sys/module/apparmor, as on the project's VMs) this says so and codejail runs with sudo and
# rlimits alone: by its README not secure, and cheaper than a real deployment, which only
# favours the baseline.
set -euo pipefail
cd "$(dirname "$0")"

HOME_DIR=${TOOLPOOL_CODEJAIL_HOME:-/opt/toolpool-codejail}
SANDBOX_USER=sandbox                        # the driver expects this name (codejail's default)
CALLER=${CODEJAIL_CALLER:-${SUDO_USER:-$(id -un)}}
PYTHON=${CODEJAIL_PYTHON:-/usr/bin/python3} # readable by the sandbox user (pyenv under /root is not)
CALLER_VENV=$HOME_DIR/venv
SANDENV=$HOME_DIR/venv-sandbox
SUDOERS=/etc/sudoers.d/01-sandbox

say() { echo "codejail_setup: $*"; }
die() { echo "codejail_setup: $1" >&2; [ $# -gt 1 ] && echo "hint: $2" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (it adds a user, a sudoers file and packages)" \
    "sudo bench/codejail_setup.sh"

apt_install() {
    command -v apt-get >/dev/null || die "missing: $*" "install $* with the system's package manager"
    if [ -z "${APT_UPDATED:-}" ]; then apt-get update -qq; APT_UPDATED=1; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
    say "installed $*"
}

# -- packages: sudo (codejail runs every jailed command through it), python3 with venv --------
command -v sudo >/dev/null || apt_install sudo
[ -x /usr/bin/find ] && [ -x /usr/bin/pkill ] || apt_install findutils procps
[ -x "$PYTHON" ] || apt_install python3
"$PYTHON" -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv

# -- the caller's environment: codejail itself ----------------------------------------------
mkdir -p "$HOME_DIR"
chmod 755 "$HOME_DIR"
if ! "$CALLER_VENV/bin/python" -c \
        'import importlib.metadata as m, sys; sys.exit(m.version("edx-codejail") != "4.1.0")' 2>/dev/null; then
    rm -rf "$CALLER_VENV"
    "$PYTHON" -m venv "$CALLER_VENV"
    "$CALLER_VENV/bin/python" -m pip install -q --disable-pip-version-check --require-hashes \
        --only-binary :all: -r codejail-caller.txt
    say "caller environment $CALLER_VENV: edx-codejail 4.1.0"
fi

# -- <SANDENV>: a distinct python executable (--copies) for the jailed code -----------------
if ! "$SANDENV/bin/python" -c 'import six' 2>/dev/null || [ -L "$SANDENV/bin/python" ]; then
    rm -rf "$SANDENV"
    "$PYTHON" -m venv --copies "$SANDENV"
    "$SANDENV/bin/python" -m pip install -q --disable-pip-version-check --require-hashes \
        --only-binary :all: -r codejail-sandbox.txt
    say "sandbox environment $SANDENV"
fi
chmod -R go-w "$SANDENV"   # read-only to the sandbox user, as the README's AppArmor profile would keep it

# -- the sandbox user: no password, no login shell, no home to leave files in ---------------
getent group "$SANDBOX_USER" >/dev/null || { groupadd --system "$SANDBOX_USER"; say "added group $SANDBOX_USER"; }
if ! id -u "$SANDBOX_USER" >/dev/null 2>&1; then
    useradd --system --gid "$SANDBOX_USER" --shell /usr/sbin/nologin --home-dir /nonexistent --no-create-home \
        "$SANDBOX_USER"
    say "added user $SANDBOX_USER (uid $(id -u "$SANDBOX_USER"))"
fi
[ "$(id -u "$SANDBOX_USER")" != 0 ] || die "user $SANDBOX_USER has uid 0" "userdel $SANDBOX_USER and run this again"

# -- sudoers: the README's rules, verbatim but for the paths ---------------------------------
id -u "$CALLER" >/dev/null 2>&1 || die "no such caller user: $CALLER" "CODEJAIL_CALLER=USER $0"
grep -qE '^[@#]includedir /etc/sudoers.d' /etc/sudoers \
    || die "/etc/sudoers does not read /etc/sudoers.d" "add '@includedir /etc/sudoers.d' with visudo"
rules=$(printf '%s\n' \
    "# edX codejail's sudoers rules (its README, step 4), for toolpool's bench (bench/codejail_setup.sh)." \
    "# find can run anything: not a safe file outside codejail." \
    "$CALLER ALL=($SANDBOX_USER) SETENV:NOPASSWD:$SANDENV/bin/python" \
    "$CALLER ALL=($SANDBOX_USER) SETENV:NOPASSWD:/usr/bin/find" \
    "$CALLER ALL=(ALL) NOPASSWD:/usr/bin/pkill")
if [ "$(cat "$SUDOERS" 2>/dev/null)" != "$rules" ]; then
    mkdir -p /etc/sudoers.d
    tmp=$(mktemp)
    printf '%s\n' "$rules" > "$tmp"
    chmod 0440 "$tmp"
    visudo -cqf "$tmp" || { rm -f "$tmp"; die "visudo rejected the rules for $SUDOERS"; }
    mv "$tmp" "$SUDOERS"
    say "wrote $SUDOERS for caller $CALLER"
fi

# -- sudo must not reset codejail's rlimits through PAM --------------------------------------
if grep -q 'pam_limits.so' /etc/pam.d/sudo 2>/dev/null; then
    sed -i '/pam_limits.so/d' /etc/pam.d/sudo
    say "removed pam_limits.so from /etc/pam.d/sudo"
fi

# -- AppArmor ---------------------------------------------------------------------------------
if [ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" = Y ] && command -v apparmor_parser >/dev/null; then
    say "AppArmor is available but this script does not load codejail's profile: see codejail's" \
        "apparmor-profiles/ and README steps 5-6 (profile name: ${SANDENV#/}/bin/python with / as .)"
else
    say "AppArmor: not available on this kernel (no /sys/module/apparmor); codejail runs with sudo and" \
        "rlimits only"
fi

# -- check the jail: the sandbox uid, the rlimits, /etc/shadow unreadable --------------------
# (as the caller: the sudoers rules are its; root would pass on sudoers' own "root ALL" rule)
as_caller=()
[ "$CALLER" = "$(id -un)" ] || as_caller=(runuser -u "$CALLER" --)
"${as_caller[@]}" "$CALLER_VENV/bin/python" -I "$PWD/codejail_host.py" --self-check \
    --sandbox-python "$SANDENV/bin/python" --user "$SANDBOX_USER"
