#!/bin/sh
# Take DigitPad out of your application menu (undoes ./install.sh).
#
#   ./uninstall.sh           remove the launcher and the icon
#   ./uninstall.sh --purge   also delete your kept model and DigitPad's caches
#                            ($XDG_DATA_HOME/digitpad, $XDG_CACHE_HOME/digitpad)
#
# The app folder itself is not touched: delete it yourself afterwards.
set -eu

data="${XDG_DATA_HOME:-${HOME:?HOME is not set}/.local/share}"
cache="${XDG_CACHE_HOME:-$HOME/.cache}"
apps="$data/applications"
icons="$data/icons/hicolor"
purge=no
case ${1-} in
    "") ;;
    --purge) purge=yes ;;
    *) echo "usage: $0 [--purge]" >&2; exit 2 ;;
esac

rm -f "$apps/digitpad.desktop" "$icons/256x256/apps/digitpad.png" "$icons/scalable/apps/digitpad.svg"
[ -d "$apps" ] && touch "$apps"
[ -d "$icons" ] && touch "$icons"
if [ -f "$apps/mimeinfo.cache" ] && command -v update-desktop-database >/dev/null 2>&1; then
    update-desktop-database -q "$apps" 2>/dev/null || true
fi
if [ -f "$icons/icon-theme.cache" ] && command -v gtk-update-icon-cache >/dev/null 2>&1; then
    gtk-update-icon-cache -q -t -f "$icons" 2>/dev/null || true
fi
echo "DigitPad's launcher and icon are removed."

if [ "$purge" = yes ]; then
    rm -rf "$data/digitpad" "$cache/digitpad"
    echo "Removed $data/digitpad (your kept model) and $cache/digitpad (downloaded MNIST, compiled kernels)."
else
    echo "Your kept model ($data/digitpad) and caches ($cache/digitpad) are left; --purge removes them."
fi
