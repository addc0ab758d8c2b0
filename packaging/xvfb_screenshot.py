"""Start the built DigitPad under Xvfb, wait for the ready window, draw a digit, take a screenshot.

    python3 packaging/xvfb_screenshot.py [--app dist/DigitPad/digitpad] [--out dist/screenshot.png]

Needs only ``Xvfb`` (Debian: ``apt-get install xvfb``) and the standard library: the screen is read
from the framebuffer file Xvfb keeps with ``-fbdir`` (XWD format) and written as a PNG. The app runs
on Qt's real ``xcb`` platform, as on a desktop. "Ready" means the screen stopped changing: while the
model loads, the status bar's busy indicator moves. With ``xdotool`` installed, a 3 is then drawn
with the mouse and the screenshot shows the app's verdict.

Exit status 0 when the app started, drew its window, stayed up until the screenshot, and (with
``--expect-verdict``, which needs xdotool) showed the window settling after the drawing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: A hand-drawn 3 in canvas-relative coordinates (0..1), as (x, y) points of one stroke.
THREE = [
    (0.30, 0.25),
    (0.40, 0.17),
    (0.55, 0.15),
    (0.66, 0.22),
    (0.66, 0.33),
    (0.57, 0.42),
    (0.45, 0.47),
    (0.58, 0.50),
    (0.68, 0.60),
    (0.68, 0.72),
    (0.58, 0.82),
    (0.44, 0.84),
    (0.32, 0.78),
]


# ---------------------------------------------------------------------------- framebuffer -> PNG
def xwd_header(data: bytes) -> dict:
    """The fields of an XWD header that matter here, and where the pixels start."""
    for endian in (">", "<"):
        fields = struct.unpack(endian + "25I", data[:100])
        if fields[1] == 7:  # file_version
            break
    else:
        raise ValueError("not an XWD file")
    names = (
        "header_size",
        "version",
        "format",
        "depth",
        "width",
        "height",
        "xoffset",
        "byte_order",
        "bitmap_unit",
        "bit_order",
        "bitmap_pad",
        "bits_per_pixel",
        "bytes_per_line",
        "visual",
        "red_mask",
        "green_mask",
        "blue_mask",
        "bits_per_rgb",
        "colormap_entries",
        "ncolors",
    )
    header = dict(zip(names, fields))
    header["offset"] = header["header_size"] + 12 * header["ncolors"]
    return header


def read_xwd(path: Path) -> tuple[int, int, bytes]:
    """(width, height, RGB bytes) of a 24/32-bit TrueColor XWD file, as Xvfb -fbdir writes it."""
    data = path.read_bytes()
    h = xwd_header(data)
    width, height, line = h["width"], h["height"], h["bytes_per_line"]
    if h["bits_per_pixel"] != 32:
        raise ValueError(
            f"{path}: {h['bits_per_pixel']} bits per pixel, expected 32 (-screen WxHx24)"
        )
    # Byte index of each channel inside a 32-bit pixel.
    index = []
    for mask in (h["red_mask"], h["green_mask"], h["blue_mask"]):
        byte = ((mask & -mask).bit_length() - 1) // 8
        index.append(byte if h["byte_order"] == 0 else 3 - byte)
    rgb = bytearray(width * height * 3)
    for row in range(height):
        start = h["offset"] + row * line
        pixels = data[start : start + 4 * width]
        out = row * width * 3
        for channel, byte in enumerate(index):
            rgb[out + channel : out + 3 * width : 3] = pixels[byte::4]
    return width, height, bytes(rgb)


def content_box(width: int, height: int, rgb: bytes) -> tuple[int, int, int, int] | None:
    """Bounding box (left, top, right, bottom) of the non-black pixels (Xvfb -br: black root)."""
    rows = [y for y in range(height) if rgb[y * width * 3 : (y + 1) * width * 3].strip(b"\0")]
    if not rows:
        return None
    left, right = width, 0
    for y in rows:
        line = rgb[y * width * 3 : (y + 1) * width * 3]
        first = len(line) - len(line.lstrip(b"\0"))
        last = len(line.rstrip(b"\0"))
        left, right = min(left, first // 3), max(right, (last + 2) // 3)
    return left, rows[0], right, rows[-1] + 1


def write_png(
    path: Path, width: int, height: int, rgb: bytes, box: tuple[int, int, int, int] | None = None
) -> None:
    left, top, right, bottom = box or (0, 0, width, height)
    raw = b"".join(
        b"\0" + rgb[(y * width + left) * 3 : (y * width + right) * 3] for y in range(top, bottom)
    )

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    header = struct.pack(">IIBBBBB", right - left, bottom - top, 8, 2, 0, 0, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 6))
        + chunk(b"IEND", b"")
    )


# ---------------------------------------------------------------------------- Xvfb and the app
def free_display() -> int:
    for number in range(99, 300):
        lock, socket = Path(f"/tmp/.X{number}-lock"), Path(f"/tmp/.X11-unix/X{number}")
        if not lock.exists() and not socket.exists():
            return number
    raise RuntimeError("no free X display number between :99 and :299")


def wait_until(condition, timeout: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


def wait_for_stable_screen(
    fb: Path, app: subprocess.Popen, timeout: float, quiet: float = 1.5
) -> bytes | None:
    """The framebuffer once it showed something and then did not change for ``quiet`` seconds."""
    deadline = time.monotonic() + timeout
    last, since = None, time.monotonic()
    while time.monotonic() < deadline and app.poll() is None:
        frame = fb.read_bytes()
        if frame != last:
            last, since = frame, time.monotonic()
        elif time.monotonic() - since >= quiet and frame[xwd_header(frame)["offset"] :].strip(
            b"\0"
        ):
            return frame
        time.sleep(0.2)
    return None


def xdotool(display: str, *args: str) -> str:
    result = subprocess.run(
        ["xdotool", *args],
        env=dict(os.environ, DISPLAY=display),
        capture_output=True,
        text=True,
        timeout=30,
    )
    if result.returncode != 0:
        raise RuntimeError(f"xdotool {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


#: The canvas's paper colour (``digitpad.canvas.PAPER_COLOR``), as the screen's RGB bytes.
PAPER_RGB = bytes((0xFD, 0xFD, 0xFB))


def paper_box(width: int, rgb: bytes, box: tuple[int, int, int, int]):
    """The bounding box of the paper's colour inside ``box`` (the window), or None: where the
    canvas's square paper is, whatever the window's size and the docks beside it."""
    left, top, right, bottom = box
    found = None
    for y in range(top, bottom):
        row = rgb[(y * width + left) * 3 : (y * width + right) * 3]
        pixels = [row[x : x + 3] == PAPER_RGB for x in range(0, len(row), 3)]
        if True not in pixels:
            continue
        first = pixels.index(True)  # the leftmost run of paper: the preview and the dock
        last = first  # further right may share the colour
        while last + 1 < len(pixels) and pixels[last + 1]:
            last += 1
        if last - first > 50:
            first, last = left + first, left + last
            found = (
                (first, y, last, y)
                if found is None
                else (min(found[0], first), found[1], max(found[2], last), y)
            )
    return found


def draw_three(display: str, box: tuple[int, int, int, int], paper=None) -> None:
    """Draw :data:`THREE` with the mouse on the paper (``paper``: its box on screen; else a guess:
    the window's left part, minus the 400 px panel on the right and the menu and status bars)."""
    left, top, right, bottom = box
    canvas = paper or (left + 16, top + 40, right - 16 - 20 - 400, bottom - 60)
    side = min(canvas[2] - canvas[0], canvas[3] - canvas[1])
    ox = (canvas[0] + canvas[2] - side) / 2
    oy = (canvas[1] + canvas[3] - side) / 2
    points = [(round(ox + x * side), round(oy + y * side)) for x, y in THREE]
    xdotool(display, "mousemove", str(points[0][0]), str(points[0][1]))
    xdotool(display, "mousedown", "1")
    for a, b in zip(points, points[1:]):
        for i in range(1, 5):  # a few points between samples, as a real mouse reports them
            x = a[0] + (b[0] - a[0]) * i / 4
            y = a[1] + (b[1] - a[1]) * i / 4
            xdotool(display, "mousemove", str(round(x)), str(round(y)))
    xdotool(display, "mouseup", "1")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app", type=Path, default=ROOT / "dist" / "DigitPad" / "digitpad")
    parser.add_argument("--out", type=Path, default=ROOT / "dist" / "screenshot.png")
    parser.add_argument("--screen", default="1280x800", help="Xvfb screen size (default 1280x800)")
    parser.add_argument(
        "--timeout",
        type=float,
        default=180.0,
        help="seconds to wait for the ready window (a cold start compiles)",
    )
    parser.add_argument("--no-draw", action="store_true", help="do not draw a digit with xdotool")
    args = parser.parse_args(argv)

    if shutil.which("Xvfb") is None:
        print("xvfb_screenshot: Xvfb is not installed (apt-get install xvfb)", file=sys.stderr)
        return 2
    if not os.access(args.app, os.X_OK):
        print(f"xvfb_screenshot: {args.app} is not an executable; build it first", file=sys.stderr)
        return 2
    draw = not args.no_draw and shutil.which("xdotool") is not None

    with tempfile.TemporaryDirectory(prefix="digitpad-xvfb-") as tmp:
        fbdir = Path(tmp)
        number = free_display()
        display = f":{number}"
        xvfb = subprocess.Popen(
            [
                "Xvfb",
                display,
                "-screen",
                "0",
                f"{args.screen}x24",
                "-fbdir",
                str(fbdir),
                "-nolisten",
                "tcp",
                "-br",
                "-noreset",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        app = None
        started = time.monotonic()
        try:
            fb = fbdir / "Xvfb_screen0"
            socket = Path(f"/tmp/.X11-unix/X{number}")
            if not wait_until(lambda: socket.exists() and fb.exists(), 20):
                print("xvfb_screenshot: Xvfb did not start", file=sys.stderr)
                return 1
            env = dict(os.environ, DISPLAY=display, QT_QPA_PLATFORM="xcb")
            env.pop("WAYLAND_DISPLAY", None)
            started = time.monotonic()
            app = subprocess.Popen(
                [str(args.app)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
            )
            frame = wait_for_stable_screen(fb, app, args.timeout)
            if frame is None:
                exited = app.poll() is not None
                output = app.stdout.read().decode(errors="replace") if exited else ""
                print(
                    f"xvfb_screenshot: no ready window within {args.timeout:.0f} s "
                    f"(app exit status {app.poll()})\n{output}",
                    file=sys.stderr,
                )
                return 1
            print(
                f"xvfb_screenshot: window ready {time.monotonic() - started:.1f} s after launch "
                "(screen stable for 1.5 s)"
            )
            width, height, rgb = read_xwd(fb)
            box = content_box(width, height, rgb)
            if draw and box is not None:
                draw_three(display, box, paper_box(width, rgb, box))
                if wait_for_stable_screen(fb, app, 30) is None:
                    print(
                        "xvfb_screenshot: the window did not settle after drawing", file=sys.stderr
                    )
                    return 1
                width, height, rgb = read_xwd(fb)
                box = content_box(width, height, rgb)
            if app.poll() is not None:
                print(f"xvfb_screenshot: the app exited ({app.returncode})", file=sys.stderr)
                return 1
            write_png(args.out, width, height, rgb, box)
            size = f"{box[2] - box[0]}x{box[3] - box[1]} px" if box else "empty screen"
            drawing = "with a drawn 3" if draw else "no drawing"
            print(f"xvfb_screenshot: wrote {args.out} ({drawing}; window {size})")
            return 0
        finally:
            if app is not None and app.poll() is None:
                app.send_signal(signal.SIGTERM)
                try:
                    app.wait(10)
                except subprocess.TimeoutExpired:
                    app.kill()
                    app.wait()
            xvfb.terminate()
            try:
                xvfb.wait(10)
            except subprocess.TimeoutExpired:
                xvfb.kill()
                xvfb.wait()


if __name__ == "__main__":
    sys.exit(main())
