#!/usr/bin/env bash
# Install the jump-rope station.
#
# On a Raspberry Pi (Raspberry Pi OS Bookworm or Trixie), as root: system packages, SPI and the
# camera, the `station` user, /opt/station with its venv, /etc/station/station.toml (only if
# absent), the pose model file when the config needs one, and the systemd units, enabled and
# started. Anywhere else: the development venv, the same as `make venv`.
#
# Safe to run again: every step checks before it acts, and a trainer's config is never
# overwritten. Run `./install.sh --help` for the options.
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: sudo ./install.sh [--dry-run] [--prefix DIR] [--pi] [--without-pi-os]
                         [--with-broker] [--uninstall [--purge]]

Installs the jump-rope station on a Raspberry Pi and starts it; on any other machine it sets
up the development venv (.venv, the same as `make venv`).

  --dry-run     print every action without doing any of it
  --prefix DIR  install the station's files into the tree DIR (DIR/opt/station,
                DIR/etc/station, DIR/etc/systemd/system, ...) and nothing else: no apt,
                no user, no systemctl; for tests and image builds
  --pi          act as on a Raspberry Pi even where none is detected (with --dry-run:
                review what a Pi install would do)
  --without-pi-os
                the Pi install on plain Debian (arm64, an emulated root in CI's
                `make pi-check`): everything as on a Pi except what only Raspberry Pi OS
                has, each skip said: its own packages (python3-picamera2,
                python3-libcamera, python3-lgpio: lgpio then comes from PyPI where it
                has a wheel, Python < 3.13), the firmware config (SPI, camera) and
                the reboot
  --with-broker also install Mosquitto for the gym's fleet (docs/fleet.md): the
                shipped ACL and config, a password file with random passwords for the
                fleet and recorder roles; on a machine that is not a Pi (the gym's
                server) only the broker is installed
  --uninstall   stop and remove the units, /opt/station and the system files this script
                installed; keeps /etc/station (the trainer's config) and /var/lib/station
                (the session log)
  --purge       with --uninstall: remove the config, the session log and the user as well
  -h, --help    this help

Environment: STATION_POSE_MODEL_URL and STATION_POSE_MODEL_SHA256 override the pose model
download (a mirror inside the gym's network, say); the checksum is always verified.

After installing, check every part with:  sudo -u station station diag --beep
EOF
}

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# The pose model for [pose] backend = "tasks" (MediaPipe PoseLandmarker, full, float16, v1).
POSE_MODEL_URL="${STATION_POSE_MODEL_URL:-https://storage.googleapis.com/mediapipe-models/pose_landmarker/pose_landmarker_full/float16/1/pose_landmarker_full.task}"
POSE_MODEL_SHA256="${STATION_POSE_MODEL_SHA256:-5134a3aad27a58b93da0088d431f366da362b44e3ccfbe3462b3827a839011b1}"

# Packages only Raspberry Pi OS's archive has. picamera2 without its recommends (no desktop
# preview stack).
APT_PICAMERA=(python3-picamera2)
APT_PI_OS_PACKAGES=(
    python3-libcamera              # libcamera's Python bindings (picamera2 uses them)
    python3-lgpio                  # gpiozero's pin driver on the Pi 5 and Pi 4 (on Trixie's
                                   # Python 3.13 the only one: PyPI's lgpio has no wheel)
)
# Packages Debian itself has (so `make pi-check` installs them in its arm64 Debian root too).
APT_PACKAGES=(
    python3-venv                   # the station's venv (pip comes with it: ensurepip)
    python3-spidev                 # the mat's ADC on SPI (PyPI's spidev is source only)
    libdrm2 libgbm1 libegl1 libgles2  # SDL's KMS/DRM video driver: full screen without X
    libgl1 libglib2.0-0            # OpenCV's wheel links libGL and GLib; Pi OS Lite has neither
    curl ca-certificates           # the pose model download
    procps                         # kill(1): station.service's ExecReload
    openssl                        # the console's HTTPS certificate (make_console_certificate)
)
UNITS=(station.service station-console.service)

DRY_RUN=0
PREFIX=""
FORCE_PI=0
WITHOUT_PI_OS=0
UNINSTALL=0
PURGE=0

say() { printf '==> %s\n' "$*"; }
warn() { printf 'install.sh: warning: %s\n' "$*" >&2; }
# What --without-pi-os leaves out, said where it would have happened.
skip() { printf '==> skipped (--without-pi-os: not Raspberry Pi OS): %s\n' "$*"; }
die() {
    printf 'install.sh: %s\n' "$*" >&2
    exit 1
}

# Every change goes through `run`: printed, then done unless --dry-run.
run() {
    printf '+ %s\n' "$*"
    if ((DRY_RUN == 0)); then
        "$@"
    fi
}

parse_args() {
    while (($#)); do
        case "$1" in
            --dry-run) DRY_RUN=1 ;;
            --prefix)
                (($# >= 2)) || die "--prefix needs a directory"
                PREFIX="$2"
                shift
                ;;
            --prefix=*) PREFIX="${1#--prefix=}" ;;
            --pi) FORCE_PI=1 ;;
            --without-pi-os)
                FORCE_PI=1
                WITHOUT_PI_OS=1
                ;;
            --with-broker) WITH_BROKER=1 ;;
            --uninstall) UNINSTALL=1 ;;
            --purge) PURGE=1 ;;
            -h | --help)
                usage
                exit 0
                ;;
            *) die "unknown option '$1' (see --help)" ;;
        esac
        shift
    done
    if ((PURGE == 1 && UNINSTALL == 0)); then
        die "--purge only goes with --uninstall"
    fi
    if [[ -n "$PREFIX" ]]; then
        [[ "$PREFIX" == /* ]] || PREFIX="$PWD/$PREFIX"
        PREFIX="${PREFIX%/}"
    fi
}

set_paths() {
    ROOT="$PREFIX"
    APP_DIR="$ROOT/opt/station"
    VENV="$APP_DIR/venv"
    CONF_DIR="$ROOT/etc/station"
    CONF_FILE="$CONF_DIR/station.toml"
    STATE_DIR="$ROOT/var/lib/station"
    MODEL_DIR="$STATE_DIR/models"
    UNIT_DIR="$ROOT/etc/systemd/system"
    SYSUSERS_FILE="$ROOT/etc/sysusers.d/station.conf"
    TMPFILES_FILE="$ROOT/etc/tmpfiles.d/station.conf"
}

on_raspberry_pi() {
    ((FORCE_PI == 1)) && return 0
    grep -qs "Raspberry Pi" /proc/device-tree/model
}

# Files only (a --prefix tree) or the whole system?
system_mode() { [[ -z "$PREFIX" ]]; }

need_root() {
    if system_mode && ((EUID != 0 && DRY_RUN == 0)); then
        die "run as root: sudo $0 $*"
    fi
}

# --- the development venv (not a Pi) ------------------------------------------------------

install_dev_venv() {
    say "not a Raspberry Pi: setting up the development venv (.venv), as \`make venv\` does"
    command -v make >/dev/null || die "make is not installed (apt install make)"
    run make -C "$REPO" venv
    say "done: \`make run\` starts the simulated station, \`make test\` runs the checks"
}

# --- Raspberry Pi OS ------------------------------------------------------------------------

install_packages() {
    say "system packages"
    export DEBIAN_FRONTEND=noninteractive  # no questions: this may run over SSH, unattended
    run apt-get update
    if ((WITHOUT_PI_OS == 1)); then
        skip "apt packages ${APT_PICAMERA[*]} ${APT_PI_OS_PACKAGES[*]}"
    else
        run apt-get install -y --no-install-recommends "${APT_PICAMERA[@]}"
        run apt-get install -y "${APT_PI_OS_PACKAGES[@]}"
    fi
    run apt-get install -y "${APT_PACKAGES[@]}"
}

# SPI for the mat's ADC; the camera is found by the firmware's camera_auto_detect.
enable_interfaces() {
    say "SPI and the camera"
    if ((WITHOUT_PI_OS == 1)); then
        skip "the firmware config (SPI with raspi-config, camera_auto_detect in config.txt)"
    else
        enable_spi_and_camera
    fi
    # The kiosk draws with KMS/DRM on tty1: boot to the console, not a desktop that would hold
    # the display.
    if [[ "$(systemctl get-default 2>/dev/null || true)" == graphical.target ]]; then
        run systemctl set-default multi-user.target
        REBOOT_NEEDED=1
    fi
}

enable_spi_and_camera() {
    if command -v raspi-config >/dev/null; then
        if [[ "$(raspi-config nonint get_spi 2>/dev/null || echo 1)" != 0 ]]; then
            run raspi-config nonint do_spi 0
            REBOOT_NEEDED=1
        else
            echo "SPI already enabled"
        fi
    else
        warn "raspi-config not found: enable SPI yourself (dtparam=spi=on in config.txt)"
    fi
    local boot_config=/boot/firmware/config.txt
    [[ -f "$boot_config" ]] || boot_config=/boot/config.txt
    if [[ ! -f "$boot_config" ]]; then
        warn "no config.txt in /boot/firmware or /boot: check camera_auto_detect=1 yourself"
    elif grep -Eq '^\s*(camera_auto_detect=1|dtoverlay=imx)' "$boot_config"; then
        echo "camera detection already configured in $boot_config"
    else
        run sh -c "printf '%s\n' 'camera_auto_detect=1' >> '$boot_config'"
        REBOOT_NEEDED=1
    fi
}

create_user() {
    say "the station user (sysusers.d)"
    run install -D -m 0644 "$REPO/systemd/station.sysusers.conf" "$SYSUSERS_FILE"
    if system_mode; then
        run systemd-sysusers "$SYSUSERS_FILE"
    fi
}

create_directories() {
    say "state and config directories (tmpfiles.d)"
    run install -D -m 0644 "$REPO/systemd/station.tmpfiles.conf" "$TMPFILES_FILE"
    if system_mode; then
        run systemd-tmpfiles --create "$TMPFILES_FILE"
    else
        # No station user in a prefix tree: the same directories and modes, owned by the caller.
        run install -d -m 0750 "$STATE_DIR" "$MODEL_DIR" "$ROOT/run/station"
        run install -d -m 0755 "$CONF_DIR"
    fi
}

install_app() {
    say "the station in $APP_DIR (a venv that sees apt's picamera2 and libcamera)"
    run install -d -m 0755 "$APP_DIR"
    if venv_is_whole; then
        echo "venv already at $VENV"
    else
        # A venv cut short (power lost, Ctrl-C) may lack pip or apt's packages: made anew.
        if [[ -e "$VENV" ]]; then
            run rm -rf "$VENV"
        fi
        run python3 -m venv --system-site-packages "$VENV"
    fi
    if system_mode; then
        install_python_packages
        refuse_a_pose_wheel_this_cpu_cannot_run /proc/cpuinfo
    else
        # A prefix tree gets the station itself (its `station` command) but not the
        # dependencies: tests and image builds need the files, not another mediapipe.
        run "$VENV/bin/python" -m pip install --quiet --no-deps --upgrade "$REPO"
    fi
    run install -m 0644 "$REPO/README.md" "$APP_DIR/README.md"
    run install -m 0644 "$REPO/config/station.toml" "$APP_DIR/station.defaults.toml"
    # The link names the deployed path, so it is right once the tree is in place.
    run install -d -m 0755 "$ROOT/usr/local/bin"
    run ln -sfn /opt/station/venv/bin/station "$ROOT/usr/local/bin/station"
}

# A venv from an earlier run, complete: its python, its pip, and apt's packages visible.
venv_is_whole() {
    [[ -x "$VENV/bin/python" ]] &&
        grep -qs '^include-system-site-packages = true' "$VENV/pyvenv.cfg" &&
        "$VENV/bin/python" -m pip --version >/dev/null 2>&1
}

# Wheels only: Raspberry Pi OS Lite has no compiler, and a source build would fail late and
# cryptically, so a package without a wheel for this Python and CPU (aarch64) stops the
# install at once, named in pip's "No matching distribution found for ..." line.
install_python_packages() {
    # Not quiet: mediapipe is large, and a silent minute looks like a hang.
    if ! run "$VENV/bin/python" -m pip install --upgrade --only-binary=:all: "${REPO}[pi]"; then
        die "pip could not install the station's Python packages: the ERROR lines above name" \
            "the package (one with no wheel for Python $(python3 -c 'import sys; print(sys.version.split()[0])')" \
            "on $(uname -m) cannot be installed here: there is no compiler to build it)"
    fi
}

# mediapipe's aarch64 wheels for Python 3.13 (tasks API only; 1.2.3 checked) are built for
# ARMv8.1's LSE atomics. On an ARMv8.0 core, a Pi 4's Cortex-A72, they import but abort with
# SIGILL ("compiled with lse enabled, but this feature is not available") when the pose model
# loads, i.e. in the kiosk, restarting forever. So the install stops before the units and names
# the OS that works. Only a CPU whose "Features" line is there and lacks "atomics" is refused:
# with no such line (not an ARM kernel, or an emulator that hides it) nothing is known.
# Usage: cpu_lacks_lse ARCH CPUINFO_FILE; true when the CPU is known to lack LSE.
cpu_lacks_lse() {
    local arch="$1" cpuinfo="$2" features
    [[ "$arch" == aarch64 ]] || return 1
    features="$(grep -m1 -i '^features[[:space:]]*:' "$cpuinfo" 2>/dev/null)" || return 1
    [[ " ${features#*:} " != *" atomics "* ]]
}

# Usage: refuse_a_pose_wheel_this_cpu_cannot_run CPUINFO_FILE (the machine's: /proc/cpuinfo).
refuse_a_pose_wheel_this_cpu_cannot_run() {
    ((DRY_RUN == 0)) || return 0
    [[ "$(pose_backend_for_venv)" == tasks ]] || return 0
    cpu_lacks_lse "$(uname -m)" "$1" || return 0
    die "this CPU has no LSE atomics (ARMv8.0: a Raspberry Pi 4's Cortex-A72), and the" \
        "mediapipe pip resolved for Python $(python3 -c 'import sys; print(sys.version.split()[0])')" \
        "needs them: the station's pose model would abort with SIGILL when it loads. Install" \
        "Raspberry Pi OS Bookworm (Python 3.11, mediapipe 0.10.18) on this Pi, or use a Pi 5"
}

# The site config starts as the documented defaults with every setting commented out, so it
# overrides nothing until a trainer (or the console) sets a key. An existing file is the
# trainer's: it is never touched.
install_config() {
    say "site config $CONF_FILE"
    if [[ -e "$CONF_FILE" ]]; then
        echo "keeping the existing $CONF_FILE"
        if system_mode && ((DRY_RUN == 0)) && [[ "$(pose_setting backend)" == legacy &&
            "$(pose_backend_for_venv)" == tasks ]]; then
            warn "$CONF_FILE sets [pose] backend = \"legacy\", but this venv's mediapipe has no" \
                "solutions.pose: set backend = \"tasks\" there and run install.sh again (it" \
                "downloads the .task model)"
        fi
        return
    fi
    # A new config names the backend this venv's mediapipe can run (a --prefix tree has no
    # mediapipe: the packaged default).
    local backend=legacy
    if system_mode && ((DRY_RUN == 0)); then
        backend="$(pose_backend_for_venv)"
    fi
    local owner=()
    if system_mode; then
        owner=(-o station -g station)
    fi
    run install -d -m 0755 "${owner[@]}" "$CONF_DIR"
    if ((DRY_RUN == 1)); then
        printf '+ write %s (the defaults, commented out; [pose] backend = "tasks" if the' "$CONF_FILE"
        printf ' venv'"'"'s mediapipe has no solutions.pose; mode 0644)\n'
        return
    fi
    local tmp
    tmp="$(mktemp "$CONF_DIR/.station.toml.XXXXXX")"
    site_config_text "$backend" >"$tmp"
    # Readable by all (no secrets in it: `station diag` and `station config check` run as any
    # user); written by root and by the console (user station).
    chmod 0644 "$tmp"
    if system_mode; then
        chown station:station "$tmp"
    fi
    mv -f "$tmp" "$CONF_FILE"
    printf '+ wrote %s ([pose] backend = "%s")\n' "$CONF_FILE" "$backend"
}

# The pose backend this venv's mediapipe can run: "legacy" where it still has solutions.pose
# (mediapipe <= 0.10.21, which needs Python < 3.13; its model is bundled), else "tasks" (the
# .task model, downloaded below). Read from pip's record of mediapipe's files: no import, which
# takes long on a Pi.
pose_backend_for_venv() {
    "$VENV/bin/python" - <<'EOF'
import sys
from importlib import metadata
try:
    files = {str(f) for f in metadata.files("mediapipe") or ()}
except metadata.PackageNotFoundError:
    files = set()
legacy = sys.version_info < (3, 13) and "mediapipe/python/solutions/pose.py" in files
print("legacy" if legacy else "tasks")
EOF
}

# The console's HTTPS certificate, self-signed for the station's name (NAME and NAME.local,
# plus any IP given), made once: an existing pair is kept, so a trainer's phone that trusted it
# once keeps trusting it. Usage: make_console_certificate DIR NAME [IP...]. Needs openssl.
make_console_certificate() {
    local dir="$1" name="$2" ip san crt key tmp
    shift 2
    crt="$dir/console.crt"
    key="$dir/console.key"
    if [[ -s "$crt" && -s "$key" ]]; then
        echo "keeping the console certificate $crt"
        return 0
    fi
    san="DNS:$name,DNS:$name.local"
    for ip in "$@"; do
        san="$san,IP:$ip"
    done
    if ((${DRY_RUN:-0} == 1)); then
        printf '+ make %s for %s (self-signed, 10 years)\n' "$crt" "$san"
        return 0
    fi
    tmp="$(mktemp -d "$dir/.console-cert.XXXXXX")"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
        -subj "/CN=$name" -addext "subjectAltName=$san" \
        -addext "extendedKeyUsage=serverAuth" -addext "basicConstraints=critical,CA:FALSE" \
        -keyout "$tmp/key" -out "$tmp/crt" 2>/dev/null || {
        rm -rf "$tmp"
        warn "openssl could not make $crt: the console will serve plain HTTP"
        return 1
    }
    chmod 0640 "$tmp/key"
    chmod 0644 "$tmp/crt"
    if system_mode 2>/dev/null && id station >/dev/null 2>&1; then
        chown root:station "$tmp/key"  # the console (user station) reads it; nobody else
    fi
    mv -f "$tmp/key" "$key"
    mv -f "$tmp/crt" "$crt"
    rmdir "$tmp"
    printf '+ made %s for %s\n' "$crt" "$san"
}

# The site config's text; with "tasks" as $1, [pose] backend = "tasks" is set, not commented.
site_config_text() {
    local backend="${1:-legacy}"
    cat <<'EOF'
# This station's settings. Every key below is commented out, so the station runs on the
# packaged defaults (the values shown). To change one, remove the '# ' before the key and edit
# its value, or use the trainers' console. Then check and apply:
#
#   station config check /etc/station/station.toml
#   sudo systemctl reload station
#
# A file with an error is rejected whole: the station keeps its last good config and says so.
EOF
    # Drop the generated file's own header (its first paragraph), comment out every setting.
    awk 'body { print; next } /^$/ { body = 1; print }' "$REPO/config/station.toml" |
        sed -E 's/^([A-Za-z_][A-Za-z0-9_]* = )/# \1/' |
        if [[ "$backend" == tasks ]]; then
            sed -E 's/^# backend = "legacy"$/backend = "tasks"  # install.sh: this mediapipe has no solutions.pose/'
        else
            cat
        fi
}

# The configured pose backend and model path, read from the site config (defaults otherwise).
pose_setting() {
    python3 - "$CONF_FILE" "$REPO/config/station.toml" "$1" <<'EOF'
import sys, tomllib
site, defaults, key = sys.argv[1:4]
value = tomllib.load(open(defaults, "rb"))["pose"][key]
try:
    value = tomllib.load(open(site, "rb")).get("pose", {}).get(key, value)
except FileNotFoundError:
    pass
except tomllib.TOMLDecodeError as exc:
    print(f"install.sh: warning: {site} is not valid TOML ({exc}); assuming [pose] {key} = "
          f"{value!r}. Fix it: station config check {site}", file=sys.stderr)
print(value)
EOF
}

install_pose_model() {
    say "pose model"
    local backend model target
    backend="$(pose_setting backend)"
    if [[ "$backend" != tasks ]]; then
        echo "[pose] backend = \"$backend\" uses the model bundled with mediapipe; nothing to download"
        return
    fi
    model="$(pose_setting task_model)"
    target="$ROOT$model"
    if [[ -f "$target" ]] && sha256_matches "$target"; then
        echo "$target present, checksum OK"
        return
    fi
    run install -d -m 0750 "$(dirname "$target")"
    if ((DRY_RUN == 1)); then
        printf '+ download %s to %s and check sha256 %s\n' "$POSE_MODEL_URL" "$target" "$POSE_MODEL_SHA256"
        return
    fi
    local tmp
    tmp="$(mktemp "$(dirname "$target")/.model.XXXXXX")"
    printf '+ curl -fsSL %s\n' "$POSE_MODEL_URL"
    if ! curl -fsSL --retry 3 -o "$tmp" "$POSE_MODEL_URL"; then
        rm -f "$tmp"
        die "cannot download the pose model from $POSE_MODEL_URL (set STATION_POSE_MODEL_URL to a reachable copy)"
    fi
    if ! sha256_matches "$tmp"; then
        rm -f "$tmp"
        die "the pose model from $POSE_MODEL_URL does not match sha256 $POSE_MODEL_SHA256; not installed"
    fi
    chmod 0644 "$tmp"
    mv -f "$tmp" "$target"
    printf '+ installed %s (sha256 OK)\n' "$target"
}

sha256_matches() {
    local actual
    actual="$(sha256sum "$1" | cut -d' ' -f1)"
    [[ "$actual" == "$POSE_MODEL_SHA256" ]]
}

install_units() {
    say "systemd units"
    local unit
    for unit in "${UNITS[@]}"; do
        run install -D -m 0644 "$REPO/systemd/$unit" "$UNIT_DIR/$unit"
    done
    if system_mode; then
        run systemctl daemon-reload
        # The kiosk owns tty1; a login prompt there would fight it for the screen.
        run systemctl disable getty@tty1.service
        run systemctl enable "${UNITS[@]}"
        # restart, not start: a second run after an upgrade must run the new code.
        run systemctl restart "${UNITS[@]}"
    fi
}

install_station() {
    need_root "$@"
    REBOOT_NEEDED=0
    if system_mode; then
        install_packages
        enable_interfaces
    else
        say "installing into $PREFIX (files only: no packages, user or services)"
    fi
    create_user
    create_directories
    # The venv first: the site config's pose backend depends on the mediapipe pip resolved.
    install_app
    install_config
    if system_mode; then
        # shellcheck disable=SC2046  # one IP address per word
        make_console_certificate "$CONF_DIR" "$(hostname)" $(hostname -I 2>/dev/null) || true
    fi
    install_pose_model
    install_units
    say "installed. Check every part with: sudo -u station station diag --beep"
    if system_mode; then
        say "(stop the kiosk first so diag can use its devices: sudo systemctl stop station)"
    fi
    if ((WITHOUT_PI_OS == 1)); then
        skip "the reboot"
    elif ((REBOOT_NEEDED == 1)); then
        say "SPI, camera or boot settings changed: reboot to apply them (sudo reboot)"
    fi
}

uninstall_station() {
    need_root "$@"
    local unit
    if system_mode; then
        say "stopping and disabling the units"
        for unit in "${UNITS[@]}"; do
            if [[ -f "$UNIT_DIR/$unit" ]]; then
                run systemctl disable --now "$unit"
            fi
        done
        run systemctl enable getty@tty1.service
    fi
    say "removing the installed files"
    for unit in "${UNITS[@]}"; do
        run rm -f "$UNIT_DIR/$unit"
    done
    if system_mode; then
        run systemctl daemon-reload
    fi
    run rm -f "$ROOT/usr/local/bin/station" "$SYSUSERS_FILE" "$TMPFILES_FILE"
    run rm -rf "$APP_DIR" "$ROOT/run/station"
    if ((PURGE == 1)); then
        say "purging the config, the session log and the user"
        run rm -rf "$CONF_DIR" "$STATE_DIR"
        if system_mode && id station >/dev/null 2>&1; then
            run userdel station
        fi
    else
        say "kept $CONF_DIR (config) and $STATE_DIR (session log); --purge removes them"
    fi
}

# --- the fleet: the uplink's unit, and Mosquitto with --with-broker -------------------------
# Its own block: the station's install above reads the same without it.

UPLINK_UNIT=station-uplink.service
WITH_BROKER=0

install_uplink_unit() {
    say "the uplink unit (it runs only with [uplink] enabled = true)"
    run install -D -m 0644 "$REPO/systemd/$UPLINK_UNIT" "$UNIT_DIR/$UPLINK_UNIT"
    if system_mode; then
        run systemctl daemon-reload
        run systemctl enable "$UPLINK_UNIT"
        run systemctl restart "$UPLINK_UNIT"
    fi
}

uninstall_uplink_unit() {
    if system_mode && [[ -f "$UNIT_DIR/$UPLINK_UNIT" ]]; then
        run systemctl disable --now "$UPLINK_UNIT"
    fi
    run rm -f "$UNIT_DIR/$UPLINK_UNIT"
}

install_broker() {
    local dir="$ROOT/etc/mosquitto"
    say "Mosquitto for the fleet (--with-broker)"
    if system_mode; then
        run apt-get install -y --no-install-recommends mosquitto mosquitto-clients
    fi
    run install -D -m 0644 "$REPO/deploy/mosquitto/station.acl" "$dir/station.acl"
    run install -D -m 0644 "$REPO/deploy/mosquitto/station.conf" "$dir/conf.d/station.conf"
    if [[ -f "$dir/station.passwd" ]]; then
        say "kept $dir/station.passwd"
    else
        make_broker_passwords "$dir"
    fi
    say "add each station: mosquitto_passwd $dir/station.passwd STATION_ID, and put the same" \
        "password in the station's [uplink] password_file"
    if system_mode; then
        run systemctl enable mosquitto.service
        run systemctl restart mosquitto.service
    fi
}

# The fleet and recorder roles get random passwords, written for the gym's admin (root only)
# to station-roles.txt, and hashed into station.passwd.
make_broker_passwords() {
    local dir="$1"
    local roles="$dir/station-roles.txt" passwd="$dir/station.passwd" user
    printf '+ write %s and %s (fleet, recorder: random passwords)\n' "$roles" "$passwd"
    ((DRY_RUN == 1)) && return 0
    command -v mosquitto_passwd >/dev/null || die "mosquitto_passwd not found (apt-get install mosquitto)"
    (
        umask 077
        : >"$roles"
        for user in fleet recorder; do
            printf '%s:%s\n' "$user" "$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')" >>"$roles"
        done
        cp "$roles" "$passwd"
    )
    mosquitto_passwd -U "$passwd"
    if system_mode && getent group mosquitto >/dev/null; then
        chgrp mosquitto "$passwd"
        chmod 0640 "$passwd"
    fi
}

main() {
    parse_args "$@"
    set_paths
    ((DRY_RUN == 1)) && say "dry run: printing the actions, doing none of them"
    if ((UNINSTALL == 1)); then
        need_root "$@"
        uninstall_uplink_unit
        uninstall_station "$@"
    elif [[ -n "$PREFIX" ]] || on_raspberry_pi; then
        install_station "$@"
        install_uplink_unit
        ((WITH_BROKER == 1)) && install_broker
    elif ((WITH_BROKER == 1)); then
        need_root "$@"
        install_broker  # the gym's server: only the broker
    else
        install_dev_venv
    fi
    return 0
}

# Sourced (the tests call single functions), it defines them and does nothing.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    main "$@"
fi
