#!/bin/sh
# Put DigitPad in your desktop's application menu (for you only; no root needed).
#
#   ./install.sh            run from the unpacked DigitPad folder; keep that folder where it is
#
# Writes the launcher $XDG_DATA_HOME/applications/digitpad.desktop (default XDG_DATA_HOME:
# ~/.local/share), pointing at the digitpad executable beside this script, and the icon into
# $XDG_DATA_HOME/icons/hicolor/. Run it again after moving the folder; ./uninstall.sh undoes it.
set -eu

here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd -P)
exe="$here/digitpad"
data="${XDG_DATA_HOME:-${HOME:?HOME is not set}/.local/share}"
apps="$data/applications"
icons="$data/icons/hicolor"

if [ ! -x "$exe" ]; then
    echo "install.sh: $exe is missing; run this script from the unpacked DigitPad folder" >&2
    exit 1
fi
case $here in
    *'
'*|*%*)
        # A line break cannot be written in a launcher; a % must be written %%, which GLib-based
        # menus then fail to find on disk.
        echo "install.sh: the folder's path contains a line break or a %; move DigitPad elsewhere" >&2
        exit 1 ;;
esac

# Desktop Entry quoting: inside "..." escape \ " ` $ with a backslash; then, the value being a
# string, every backslash is doubled.
exec_arg=$(printf '%s' "$exe" | sed -e 's/[\\"`$]/\\&/g')
exec_value=$(printf '"%s"' "$exec_arg" | sed -e 's/\\/\\\\/g')
tryexec_value=$(printf '%s' "$exe" | sed -e 's/\\/\\\\/g')

mkdir -p "$apps" "$icons/256x256/apps" "$icons/scalable/apps"
cp -f "$here/digitpad.png" "$icons/256x256/apps/digitpad.png"
cp -f "$here/digitpad.svg" "$icons/scalable/apps/digitpad.svg"

tmp="$apps/.digitpad.desktop.$$"
while IFS= read -r line || [ -n "$line" ]; do
    case $line in
        Exec=*) printf 'Exec=%s\n' "$exec_value" ;;
        TryExec=*) printf 'TryExec=%s\n' "$tryexec_value" ;;
        *) printf '%s\n' "$line" ;;
    esac
done < "$here/digitpad.desktop" > "$tmp"
chmod 644 "$tmp"
mv -f "$tmp" "$apps/digitpad.desktop"

# Menus notice the new files by the folders' times. Caches are refreshed only where they already
# exist: a user-level cache created here would go stale when other apps add icons without one.
touch "$apps" "$icons"
if [ -f "$apps/mimeinfo.cache" ] && command -v update-desktop-database >/dev/null 2>&1; then
    update-desktop-database -q "$apps" 2>/dev/null || true
fi
if [ -f "$icons/icon-theme.cache" ] && command -v gtk-update-icon-cache >/dev/null 2>&1; then
    gtk-update-icon-cache -q -t -f "$icons" 2>/dev/null || true
fi

echo "DigitPad is now in your applications menu ($apps/digitpad.desktop -> $exe)."
echo "Keep this folder where it is, or run ./install.sh again after moving it."
