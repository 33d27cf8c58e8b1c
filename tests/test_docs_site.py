"""The textbook site builds strictly, works offline, and renders in a real browser.

What "renders" means here, and how it is checked:

* ``mkdocs build --strict`` succeeds (no broken links, no unresolved API
  cross-references, no missing images). When ``make docs`` has just built
  ``site/`` (``.ci/run`` does, before ``make test``) and no source changed
  since, that site is checked instead of building a second one.
* Nothing is loaded from the network: no ``http(s)://`` URL in any ``<script
  src>``, ``<link href>``, ``<img src>`` or stylesheet ``url(...)`` of the built
  site, and the browser runs with every host name except 127.0.0.1 mapped to
  "not found", so anything that *did* try the network would fail to load.
* Formulas are typeset: after a 10 s virtual-time budget the DOM dumped by
  headless Chromium contains KaTeX output (``class="katex"``), no
  ``katex-error``, and every ``.arithmatex`` element holds a rendered formula.
* Images load: every ``<img src>`` of the rendered DOM was *requested by the
  browser* from the local server and served with status 200 and an image
  content type (the server logs each request), and no request of the page
  (scripts, styles, KaTeX fonts, figures) got an error status. A broken image
  would show up as a 404 in that log or as a missing request. The screenshot
  is kept under ``artifacts/docs-site/`` and must be a non-blank PNG.
"""

from __future__ import annotations

import functools
import html.parser
import http.server
import os
import re
import shutil
import struct
import subprocess
import sys
import threading
import zlib
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts" / "docs-site"
PAGES = ("index.html", "theory.html")


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _fresh_site() -> Path | None:
    """``site/`` if ``make docs`` built it after every change to its sources (as .ci/run does), else ``None``."""
    index = ROOT / "site" / "index.html"
    if not index.is_file():
        return None
    sources = [ROOT / "mkdocs.yml", ROOT / "scripts" / "mkdocs_results_hook.py"]
    for folder in ("docs", "cellnas_edu"):
        sources += [p for p in (ROOT / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    newest = max(p.stat().st_mtime for p in sources)
    return ROOT / "site" if index.stat().st_mtime > newest else None


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The site built with ``mkdocs build --strict``: ``site/`` when ``make docs`` just built it, otherwise built
    here into a temporary folder (after fetching the local KaTeX assets, which is idempotent)."""
    fetch = subprocess.run(["bash", str(ROOT / "scripts" / "fetch-docs-assets.sh")], capture_output=True, text=True)
    if fetch.returncode != 0:
        if shutil.which("npm") is None:
            pytest.skip("npm is not installed, so the KaTeX assets of the site cannot be fetched")
        pytest.fail(f"scripts/fetch-docs-assets.sh failed: {fetch.stderr.strip()}")
    fresh = _fresh_site()
    if fresh is not None:
        return fresh
    out = tmp_path_factory.mktemp("site")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(out)],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=180,
    )
    assert build.returncode == 0, f"mkdocs build --strict failed:\n{build.stderr[-4000:]}"
    return out


REMOTE_RESOURCE = re.compile(
    r"<script[^>]*\ssrc=\"https?://|<link[^>]*\shref=\"https?://|<img[^>]*\ssrc=\"https?://|url\(\s*['\"]?https?://",
    re.IGNORECASE,
)


def test_site_loads_nothing_from_the_network(site):
    """Every script, stylesheet, font and image of the site is served by the site itself."""
    offenders = []
    for path in list(site.rglob("*.html")) + list(site.rglob("*.css")):
        for match in REMOTE_RESOURCE.finditer(path.read_text(encoding="utf-8", errors="replace")):
            offenders.append(f"{path.relative_to(site)}: {match.group(0)}")
    assert not offenders, "remote resources in the built site:\n" + "\n".join(offenders)
    assert (site / "assets" / "vendor" / "katex" / "katex.min.js").is_file()
    assert list((site / "assets" / "vendor" / "katex" / "fonts").glob("*.woff2")), "KaTeX fonts are not served"


class _LoggingHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the built site and records (path, status, content type) of every request."""

    log: list[tuple[str, int, str]]

    def send_response(self, code, message=None):
        self._status = code
        super().send_response(code, message)

    def send_header(self, keyword, value):
        if keyword.lower() == "content-type":
            self._ctype = value
        super().send_header(keyword, value)

    def end_headers(self):
        self.log.append((urlparse(self.path).path, int(getattr(self, "_status", 0)), getattr(self, "_ctype", "")))
        super().end_headers()

    def log_message(self, format, *args):  # keep pytest output clean
        pass


@pytest.fixture(scope="module")
def server(site):
    log: list[tuple[str, int, str]] = []
    handler = functools.partial(type("Handler", (_LoggingHandler,), {"log": log}), directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/", log
    httpd.shutdown()
    httpd.server_close()


class _DomScan(html.parser.HTMLParser):
    """Collects ``<img src>`` and, for every ``.arithmatex`` element, whether KaTeX output is inside it."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self):
        super().__init__()
        self.images: list[str] = []
        self.math: list[bool] = []
        self._stack: list[tuple[str, int | None]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if tag == "img" and attrs.get("src"):
            self.images.append(attrs["src"])
        if "katex" in classes:
            for _, index in self._stack:
                if index is not None:
                    self.math[index] = True
        if tag in self.VOID:
            return
        index = None
        if "arithmatex" in classes:
            self.math.append(False)
            index = len(self.math) - 1
        self._stack.append((tag, index))

    def handle_endtag(self, tag):
        for k in range(len(self._stack) - 1, -1, -1):
            if self._stack[k][0] == tag:
                del self._stack[k:]
                return


def _png_is_not_blank(data: bytes) -> bool:
    """Decode an 8-bit RGB(A) PNG (Chromium's screenshot format) and check it has more than one colour."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width, height, channels = 8, b"", 0, 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos: pos + 8])
        body = data[pos + 8: pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and color in (2, 6), f"unexpected PNG format (bit depth {depth}, colour type {color})"
            channels = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels + 1
    assert len(raw) == stride * height
    # filter bytes aside, a blank (single-colour) image has at most a few distinct byte values per row;
    # count distinct pixel rows instead: text and figures make many rows differ.
    rows = {raw[r * stride + 1: (r + 1) * stride] for r in range(0, height, 4)}
    return width > 0 and height > 0 and len(rows) > 20


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
def test_page_renders_math_and_images_in_chromium(site, server, page, tmp_path):
    chromium = _chromium()
    if chromium is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium); the browser check needs it")
    base, log = server
    url = urljoin(base, page)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / page.replace(".html", ".png")
    shot.unlink(missing_ok=True)
    start = len(log)
    cmd = [
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=10000",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--window-size=1280,2000", f"--screenshot={shot}", "--dump-dom", url,
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    dom = result.stdout
    assert result.returncode == 0 and "</html>" in dom, f"chromium failed: {result.stderr[-2000:]}"
    requests = log[start:]

    # math is typeset, completely
    assert 'class="katex"' in dom, f"{page}: no KaTeX output in the rendered DOM"
    assert "katex-error" not in dom, f"{page}: KaTeX reported a TeX error"
    scan = _DomScan()
    scan.feed(dom)
    assert scan.math, f"{page}: the page has no formulas to check"
    assert all(scan.math), f"{page}: {scan.math.count(False)} of {len(scan.math)} formulas were not typeset"
    assert any(path.endswith(".woff2") for path, _, _ in requests), f"{page}: the KaTeX fonts were not loaded"

    # every request the page made succeeded; every image was fetched by the browser
    failed = [(path, status) for path, status, _ in requests if status >= 400]
    assert not failed, f"{page}: requests that failed: {failed}"
    served = {path: (status, ctype) for path, status, ctype in requests}
    for src in scan.images:
        path = urlparse(urljoin(url, src)).path
        assert path in served, f"{page}: image {src} was never requested by the browser"
        status, ctype = served[path]
        assert status == 200 and ctype.startswith("image/"), f"{page}: image {src} served as {status} {ctype}"

    # the screenshot is a real picture of the page
    assert shot.is_file() and shot.stat().st_size > 20_000, f"{page}: screenshot missing or tiny"
    assert _png_is_not_blank(shot.read_bytes()), f"{page}: the screenshot is blank"
