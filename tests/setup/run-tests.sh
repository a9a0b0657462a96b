#!/usr/bin/env bash
# The README's test command (`npm test` runs this; .ci/run runs `npm test`).
#
# 1. Makes sure the system binaries the tests drive are present. As root it installs the
#    missing ones with apt-get; otherwise it names them and fails. A missing binary is a
#    failure, never a skip (CI=true or not), because integration tests always run.
# 2. Installs node_modules with `npm ci` when they are missing.
# 3. Runs vitest (unit + integration; the integration global setup starts a private influxd on
#    a free loopback port in a temp dir and stops it afterwards), then prints the closing line
#    `N passed, N failed` that CI reads, and exits nonzero when anything failed.
#
# Extra arguments go to vitest, e.g. `npm test -- tests/hub`.
set -uo pipefail
cd "$(dirname "$0")/../.."

# binary -> Debian package that provides it
declare -A PACKAGE_OF=(
  [socat]=socat
  [influxd]=influxdb
  [mosquitto_sub]=mosquitto-clients
  [mosquitto_pub]=mosquitto-clients
  [mosquitto]=mosquitto
  [udevadm]=udev
  [ffmpeg]=ffmpeg
  [ffprobe]=ffmpeg
  [onvif-util]=onvif-tools
  [gst-launch-1.0]=gstreamer1.0-tools
  [mbpoll]=mbpoll
  [chromium]=chromium
)

binary_present() {
  # mosquitto and udevadm live in sbin, which a non-root PATH may lack.
  command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ]
}

missing_packages=()
missing_binaries=()
for binary in socat influxd mosquitto_sub mosquitto_pub mosquitto udevadm mbpoll ffmpeg ffprobe onvif-util gst-launch-1.0 chromium; do
  if ! binary_present "$binary"; then
    missing_binaries+=("$binary")
    package="${PACKAGE_OF[$binary]}"
    case " ${missing_packages[*]-} " in *" $package "*) ;; *) missing_packages+=("$package") ;; esac
  fi
done

# Packages with no binary of their own, checked with dpkg: the simulated cameras' RTSP server
# (gst-rtsp-server through Debian's python3-gi), the font sharp needs to draw SVG text, and a CJK
# font for the console's Chinese labels in the browser tests (chromium).
if command -v dpkg-query >/dev/null 2>&1; then
  for package in python3-gi gir1.2-gstreamer-1.0 gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base \
    gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly fonts-dejavu-core fonts-wqy-zenhei; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'ok installed'; then
      missing_binaries+=("($package)")
      missing_packages+=("$package")
    fi
  done
fi

if [ "${#missing_packages[@]}" -gt 0 ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "run-tests: installing ${missing_packages[*]} (missing: ${missing_binaries[*]})"
    # Keep package post-install scripts from starting their services (influxd on :8086,
    # mosquitto on :1883): tests start private instances on free ports. Only when no policy exists.
    policy=/usr/sbin/policy-rc.d
    created_policy=0
    if [ ! -e "$policy" ]; then
      printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt_rc=0
    apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing_packages[@]}" || apt_rc=$?
    [ "$created_policy" = 1 ] && rm -f "$policy"
    if [ "$apt_rc" != 0 ]; then
      echo "run-tests: FAILED to install ${missing_packages[*]} with apt-get (exit $apt_rc)" >&2
      echo "0 passed, 1 failed"
      exit 1
    fi
  else
    if [ "${CI:-}" = "true" ]; then
      echo "run-tests: FAILED (CI=true): missing system binaries: ${missing_binaries[*]}" >&2
      echo "run-tests: install them as root: apt-get install -y --no-install-recommends ${missing_packages[*]}" >&2
    else
      echo "run-tests: missing system binaries: ${missing_binaries[*]}" >&2
      echo "run-tests: install them (as root): apt-get install -y --no-install-recommends ${missing_packages[*]}" >&2
      echo "run-tests: or run this command as root and it installs them itself." >&2
    fi
    echo "0 passed, 1 failed"
    exit 1
  fi
fi

if [ ! -d node_modules ]; then
  echo "run-tests: node_modules missing, running npm ci"
  if ! npm ci; then
    echo "run-tests: FAILED: npm ci" >&2
    echo "0 passed, 1 failed"
    exit 1
  fi
fi

mkdir -p .ci
rm -f .ci/vitest.json
npx vitest run --reporter=default --reporter=json --outputFile=.ci/vitest.json "$@"
rc=$?

# A file that fails to load counts no failed test but fails the run: count such suites as
# failures so the closing line never says "0 failed" for a red run.
summary="$(node -e '
  const r = JSON.parse(require("node:fs").readFileSync(".ci/vitest.json", "utf8"));
  let failed = r.numFailedTests ?? 0;
  if (r.success === false && failed === 0) failed = Math.max(1, r.numFailedTestSuites ?? 0);
  console.log(`${r.numPassedTests ?? 0} passed, ${failed} failed`);
' 2>/dev/null)" || summary=""
if [ -z "$summary" ]; then
  summary="0 passed, 1 failed"
fi
echo "$summary"

if [ "$rc" = 0 ] && [ "${summary##*, }" != "0 failed" ]; then
  rc=1
fi
exit "$rc"
