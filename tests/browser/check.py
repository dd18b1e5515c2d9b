#!/usr/bin/env python3
"""Open surge's report.html files in headless Chromium and check what a reader would see.

For each report: the file names nothing to fetch (no script, no http(s) src/href, no @import or
url()); opened unmodified, the page logs nothing to the console (it has no script, so any console
line is an error) and its screenshot is not blank (pixel spread over a decoded PNG); a copy with a
probe script appended reports, after layout, every chart's <svg> with a non-zero size, one per
<figure>, no element loading anything, and (at phone width) no sideways overflow of the page;
printed to PDF it gives at least one page.

Test tooling only (python3 standard library and Debian's chromium): not part of `cargo test`.
Usage: check.py [--keep DIR] REPORT.html...
"""

import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "chromium")
BASE = [
    CHROMIUM,
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--hide-scrollbars",
    "--no-first-run",
    "--disable-extensions",
    # Nothing may be fetched: every host name fails to resolve.
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--enable-logging=stderr",
    "--v=0",
]

PROBE = """<script id="surge-probe">
(function () {
  var svgs = Array.prototype.slice.call(document.querySelectorAll('svg'));
  var out = {
    svgs: svgs.map(function (s) { var r = s.getBoundingClientRect();
                                  return [Math.round(r.width), Math.round(r.height)]; }),
    figures: document.querySelectorAll('figure').length,
    loading: document.querySelectorAll('[src],link[href],script:not(#surge-probe),iframe,object,embed').length,
    sheets: Array.prototype.slice.call(document.styleSheets).filter(function (s) {
      return !s.ownerNode || s.ownerNode.tagName !== 'STYLE'; }).length,
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    h1: (document.querySelector('h1') || {}).textContent || ''
  };
  document.body.setAttribute('data-probe', JSON.stringify(out));
})();
</script>"""


def chromium(args, timeout=120):
    p = subprocess.run(BASE + args, capture_output=True, text=True, timeout=timeout)
    return p


def console_lines(stderr):
    return [l for l in stderr.splitlines() if ":CONSOLE" in l]


def png_pixels(path):
    """Decode an 8-bit RGB or RGBA, non-interlaced PNG (what Chromium writes) into rows of bytes."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path} is not a PNG")
    pos, idat, width, height, ctype = 8, b"", 0, 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or ctype not in (2, 6) or interlace:
                raise ValueError(f"{path}: unsupported PNG (depth {depth}, type {ctype})")
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev, i = [], bytearray(stride), 0
    for _ in range(height):
        f, line = raw[i], bytearray(raw[i + 1 : i + 1 + stride])
        i += 1 + stride
        if f == 1:
            for x in range(bpp, stride):
                line[x] = (line[x] + line[x - bpp]) & 255
        elif f == 2:
            for x in range(stride):
                line[x] = (line[x] + prev[x]) & 255
        elif f == 3:
            for x in range(stride):
                left = line[x - bpp] if x >= bpp else 0
                line[x] = (line[x] + ((left + prev[x]) >> 1)) & 255
        elif f == 4:
            for x in range(stride):
                a = line[x - bpp] if x >= bpp else 0
                b = prev[x]
                c = prev[x - bpp] if x >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[x] = (line[x] + pred) & 255
        rows.append(line)
        prev = line
    return width, height, bpp, rows


def not_blank(path):
    """The share of pixels that are not near-white and the spread of grey levels."""
    width, height, bpp, rows = png_pixels(path)
    n = dark = 0
    total = total2 = 0.0
    for row in rows[::4]:
        for x in range(0, width * bpp, bpp * 4):
            g = (row[x] * 299 + row[x + 1] * 587 + row[x + 2] * 114) / 1000.0
            n += 1
            total += g
            total2 += g * g
            if g < 235:
                dark += 1
    mean = total / n
    sd = max(total2 / n - mean * mean, 0.0) ** 0.5
    return dark / n, sd


def check(path, keep, failures):
    name = os.path.relpath(path)
    fail = lambda why: failures.append(f"{name}: {why}")
    text = open(path, encoding="utf-8").read()
    lower = text.lower()
    for bad in ["<script", 'src="http', "src='http", 'href="http', "href='http", "@import", "url("]:
        if bad in lower:
            fail(f"the file contains {bad!r}: not self-contained")
    size = os.path.getsize(path)
    work = tempfile.mkdtemp(prefix="surge-browser-")
    try:
        # 1. The page as it is: no console line, a screenshot that is not blank.
        shot = os.path.join(work, "desktop.png")
        p = chromium([f"--screenshot={shot}", "--window-size=1200,1600", "file://" + os.path.abspath(path)])
        lines = console_lines(p.stderr)
        if lines:
            fail("console messages: " + " | ".join(lines[:3]))
        if not os.path.exists(shot):
            fail(f"no screenshot (chromium exit {p.returncode}): {p.stderr[-400:]}")
        else:
            ink, sd = not_blank(shot)
            if ink < 0.02 or sd < 8:
                fail(f"the screenshot looks blank ({ink:.1%} of pixels not white, grey spread {sd:.1f})")
        phone = os.path.join(work, "phone.png")
        chromium([f"--screenshot={phone}", "--window-size=390,844", "file://" + os.path.abspath(path)])
        # 2. A copy with the probe: charts laid out with a size, nothing loaded, fits a phone.
        probed = os.path.join(work, "probed.html")
        with open(probed, "w", encoding="utf-8") as f:
            f.write(text.replace("</body>", PROBE + "</body>"))
        for label, size_arg in [("desktop", "1200,1600"), ("phone", "390,844")]:
            p = chromium(["--dump-dom", f"--window-size={size_arg}", "--virtual-time-budget=2000", "file://" + probed])
            m = re.search(r'data-probe="([^"]*)"', p.stdout)
            if not m:
                fail(f"{label}: the probe did not run ({p.stderr[-300:]})")
                continue
            probe = json.loads(m.group(1).replace("&quot;", '"').replace("&amp;", "&"))
            svgs = probe["svgs"]
            if probe["figures"] != len(svgs):
                fail(f"{label}: {probe['figures']} figures but {len(svgs)} svg elements")
            for i, (w, h) in enumerate(svgs):
                if w <= 0 or h <= 0:
                    fail(f"{label}: chart {i + 1} has no size ({w} x {h})")
            if probe["loading"] or probe["sheets"]:
                fail(f"{label}: {probe['loading']} elements load something, {probe['sheets']} outside stylesheets")
            if label == "phone" and probe["scrollWidth"] > probe["innerWidth"] + 1:
                fail(f"phone: the page is {probe['scrollWidth']} px wide in a {probe['innerWidth']} px window")
            if not probe["h1"].strip():
                fail(f"{label}: no title")
        # 3. Printed: a PDF with pages.
        pdf = os.path.join(work, "print.pdf")
        chromium([f"--print-to-pdf={pdf}", "--no-pdf-header-footer", "file://" + os.path.abspath(path)])
        pages = len(re.findall(rb"/Type\s*/Page[^s]", open(pdf, "rb").read())) if os.path.exists(pdf) else 0
        if pages < 1:
            fail("printing gave no PDF page")
        print(f"{name}: {size / 1024:.0f} KiB, {len(svgs) if m else '?'} charts, {pages} printed pages")
        if keep:
            os.makedirs(keep, exist_ok=True)
            stem = os.path.basename(os.path.dirname(os.path.abspath(path)))
            for f in ["desktop.png", "phone.png", "print.pdf"]:
                if os.path.exists(os.path.join(work, f)):
                    shutil.copy(os.path.join(work, f), os.path.join(keep, f"{stem}-{f}"))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv):
    keep = None
    if len(argv) > 1 and argv[0] == "--keep":
        keep, argv = argv[1], argv[2:]
    if not argv:
        print(__doc__)
        return 2
    failures = []
    for path in argv:
        check(path, keep, failures)
    for f in failures:
        print("FAILED:", f)
    print(f"{len(argv)} reports checked, {len(failures)} problems")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
