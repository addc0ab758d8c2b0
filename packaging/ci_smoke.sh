#!/usr/bin/env bash
# CI: build the standalone app and prove that the built app starts and recognises digits.
#
#   packaging/ci_smoke.sh [build.py options, e.g. --model other.npz]
#
# 1. Builds with `python packaging/build.py`, using $PYTHON if set, else .venv if CI made one
#    (PyInstaller is added to it), else `python3` (build.py then makes build/venv if it must).
# 2. Runs the built app's --selftest (offscreen): with an empty Numba cache from one folder, again
#    from another folder (must load every kernel from the cache and write nothing into either
#    folder), and with a home folder that cannot be written (must still pass, without a cache).
# 3. Unpacks the .tar.gz and runs the --selftest of the unpacked copy.
# 4. Starts the built app under Xvfb on Qt's xcb platform, draws a 3 (with xdotool) and saves a
#    screenshot to dist/screenshot.png. Xvfb, xdotool and the X11 libraries Qt's xcb plugin lacks
#    are installed with apt-get when missing and running as root; otherwise this step is skipped
#    with a note.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS

if [ -n "${PYTHON:-}" ]; then
    python=$PYTHON
elif [ -x .venv/bin/python ]; then
    python=.venv/bin/python
    "$python" -c 'import PyInstaller' 2>/dev/null || "$python" -m pip install -q 'pyinstaller>=6.10'
else
    python=python3
fi

step() { printf '\n=== %s (%ds)\n' "$1" $((SECONDS - started)); }

step "build"
"$python" packaging/build.py "$@"
app="$PWD/dist/DigitPad/digitpad"
version=$("$python" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')
tarball="$PWD/dist/DigitPad-$version-linux-$(uname -m).tar.gz"
test -x "$app" && test -f "$tarball"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The app's user folders live in $work; no Numba settings are inherited.
unset NUMBA_CACHE_DIR NUMBA_CACHE_LOCATOR_CLASSES QT_QPA_PLATFORM
export XDG_CACHE_HOME="$work/cache" XDG_DATA_HOME="$work/data"
mkdir -p "$work/start-a" "$work/start-b" "$work/start-c"

selftest() {  # selftest <folder to start in> <log> [VAR=value...]: the built app's --selftest
    local dir=$1 log=$2
    shift 2
    (cd "$dir" && env "$@" "$app" --selftest) | tee "$log"
    test "$(tail -n 1 "$log")" = "selftest: PASS"
}

step "selftest, empty Numba cache"
selftest "$work/start-a" "$work/cold.log"

grep -q "^selftest: threads: .* (omp)" "$work/cold.log" || {
    echo "CI: the app has no OpenMP threading layer (numba.np.ufunc.omppool, libgomp)" >&2; exit 1; }
grep -q "^selftest: threads: .*BLAS threads set through: .*openblas" "$work/cold.log" || {
    echo "CI: threadpoolctl finds no OpenBLAS in the app (trainer/fast/blas_threads.py)" >&2; exit 1; }

step "selftest, warm cache, started from another folder"
selftest "$work/start-b" "$work/warm.log"
grep -q "^selftest: numba: .* 0 compiled (FrozenAppCacheLocator" "$work/warm.log" || {
    echo "CI: the warm start compiled kernels instead of loading them from the cache" >&2; exit 1; }
if [ -n "$(find "$work/start-a" "$work/start-b" -mindepth 1)" ]; then
    echo "CI: the app wrote into its working directory:" >&2
    ls -lA "$work/start-a" "$work/start-b" >&2
    exit 1
fi

step "selftest, home folder not writable"
touch "$work/file"
selftest "$work/start-c" "$work/readonly.log" HOME="$work/file/home" \
    XDG_CACHE_HOME="$work/file/cache" XDG_DATA_HOME="$work/file/data"
grep -q "NoCacheLocator" "$work/readonly.log"

step "the tarball unpacks into a working app"
mkdir "$work/unpacked"
tar -xzf "$tarball" -C "$work/unpacked"
for f in digitpad install.sh uninstall.sh digitpad.desktop digitpad.png digitpad.svg \
         _internal/digitpad/assets/model.npz; do
    test -e "$work/unpacked/DigitPad/$f" || { echo "CI: $f missing from the tarball" >&2; exit 1; }
done
if command -v desktop-file-validate >/dev/null; then
    desktop-file-validate "$work/unpacked/DigitPad/digitpad.desktop"
fi
app="$work/unpacked/DigitPad/digitpad" selftest "$work/start-a" "$work/unpacked.log"

step "screenshot under Xvfb"
# What the screenshot needs that this machine lacks, installed in one go: Xvfb, xdotool, and the X11
# client libraries Qt's xcb plugin loads that a server may lack (libxcb-icccm4, ...), which the app
# names when it cannot open a window (digitpad/platform_hint.py).
packages=$(
    command -v Xvfb >/dev/null || echo xvfb
    command -v xdotool >/dev/null || echo xdotool
    "$python" -c 'from digitpad.platform_hint import debian_package as package, missing_libraries, xcb_plugin
print(" ".join(sorted({package(soname) for soname in missing_libraries(xcb_plugin())})))' || true
)
packages=$(echo $packages)
if [ -n "$packages" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    { apt-get update -qq && apt-get install -y -qq $packages >/dev/null; } \
        || echo "CI: could not install $packages" >&2
fi
if command -v Xvfb >/dev/null; then
    python3 packaging/xvfb_screenshot.py --app "$PWD/dist/DigitPad/digitpad" --out dist/screenshot.png
else
    echo "CI: Xvfb is not installed and cannot be installed here; no screenshot"
fi

step "done: build and smoke test passed"
