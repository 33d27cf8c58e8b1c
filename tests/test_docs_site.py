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
* Every page of the built site (every HTML file but 404.html; the sitemap is
  cross-checked) is opened in ONE headless Chromium, driven over the DevTools
  protocol on a pipe (``--remote-debugging-pipe``), with every host name
  except 127.0.0.1 mapped to "not found". On each page, after its fonts have
  loaded: the visible text of the article (code blocks and typeset formulas
  left out) holds no raw TeX or reST markup (``$$``, ``\\(``, ``\\[``,
  ``:math:``, ``:func:`` and friends, double backquotes); every
  ``.arithmatex`` element holds KaTeX output and there is no ``katex-error``;
  every ``<img>`` has loaded (``complete`` with a natural width); no request
  the page made (scripts, styles, KaTeX fonts, figures) got an error status,
  and images are served with an image content type.
* At a 1280 x 800 window with every collapsible block opened, on every
  page: the content column is the 688 px ``cellnas_edu.page`` sizes figure
  text for; no table needs sideways scrolling in its wrapper and no table or
  image passes the column's right edge; every figure (an image of
  ``docs/figures/``) has its numbered caption, written by the page.
* The search index (``search/search_index.json``) holds formulas as plain
  text (``scripts/mkdocs_search_math_hook.py``), no TeX.
* The index and theory pages are screenshot under ``artifacts/docs-site/``
  (non-blank PNGs), and the palette toggle switches theory.html to the dark
  "slate" scheme, where the background is dark and formulas are light.
"""

from __future__ import annotations

import base64
import functools
import http.server
import json
import os
import re
import select
import shutil
import struct
import subprocess
import sys
import threading
import time
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


class _Chromium:
    """One headless Chromium driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``: the
    browser reads NUL-terminated JSON commands on fd 3 and writes replies and events on fd 4), so every page of
    the site is checked in one browser session without a WebSocket client."""

    def __init__(self, chromium: str, profile: Path):
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def wire_fds():  # in the child: fd 3 = commands in, fd 4 = replies out (pipe ends may sit on 3 or 4)
            read_end, write_end = os.dup(to_browser_r), os.dup(from_browser_w)
            os.dup2(read_end, 3)
            os.dup2(write_end, 4)

        cmd = [
            chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={profile}", "--remote-debugging-pipe",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--window-size=1280,2000", "about:blank",
        ]
        self.proc = subprocess.Popen(
            cmd, preexec_fn=wire_fds, pass_fds=(3, 4),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.call("Page.enable", session=True)

    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_browser], [], [], left)[0]:
                raise TimeoutError("chromium did not answer in time")
            chunk = os.read(self._from_browser, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        return json.loads(message)

    def call(self, method: str, session: bool = False, timeout: float = 30, **params) -> dict:
        self._next_id += 1
        command = {"id": self._next_id, "method": method, "params": params}
        if session:
            command["sessionId"] = self.session
        os.write(self._to_browser, json.dumps(command).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            message = self._read_message(deadline)
            if message.get("id") == self._next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, method: str, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            for k, event in enumerate(self.events):
                if event.get("method") == method:
                    return self.events.pop(k)
            self.events.append(self._read_message(deadline))

    def open(self, url: str) -> None:
        self.events.clear()
        self.call("Page.navigate", session=True, url=url)
        self.wait_for("Page.loadEventFired")

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", session=True, expression=expression, awaitPromise=True,
                           returnByValue=True)
        assert "exceptionDetails" not in result, result["exceptionDetails"]
        return result["result"].get("value")

    def screenshot(self, path: Path) -> None:
        path.write_bytes(base64.b64decode(self.call("Page.captureScreenshot", session=True, format="png")["data"]))

    def close(self) -> None:
        try:
            self.call("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)


# Runs in the page once it has loaded: waits for the web fonts, then reports what a reader sees.
# The visible text is the article's innerText without code, preformatted text and typeset formulas.
PAGE_REPORT = """
(async () => {
  await document.fonts.ready;
  await new Promise(r => setTimeout(r, 100));
  const article = document.querySelector("article") || document.body;
  const copy = article.cloneNode(true);
  copy.querySelectorAll("pre, code, .katex, script, style").forEach(e => e.remove());
  document.body.appendChild(copy);   /* innerText needs the copy in the document */
  const text = copy.innerText;
  copy.remove();
  const formulas = [...document.querySelectorAll(".arithmatex")];
  const images = [...document.querySelectorAll("img")];
  const katex = document.querySelector(".katex");
  return {
    text: text,
    formulas: formulas.length,
    untypeset: formulas.filter(e => !e.querySelector(".katex")).map(e => e.textContent.slice(0, 80)),
    errors: document.querySelectorAll(".katex-error").length,
    images: images.map(i => ({src: i.currentSrc || i.src, ok: i.complete && i.naturalWidth > 0})),
    scheme: document.body.getAttribute("data-md-color-scheme"),
    katexColor: katex ? getComputedStyle(katex).color : null,
    background: getComputedStyle(document.body).backgroundColor,
  };
})()
"""

# TeX or reST markup that must never reach a reader as text (``$\alpha`` is a formula arithmatex missed).
RAW_MARKUP = re.compile(
    r"\$\$|\$\\[A-Za-z]|\\\(|\\\)|\\\[|\\\]|:math:|\.\. math::|:(?:func|class|mod|meth|data|attr):`|``"
    r"|^\* \S",  # a list item Markdown did not see (a docstring list whose items hold several blocks)
    re.MULTILINE,
)


def _site_pages(site: Path) -> list[str]:
    """Every HTML page of the built site, from its sitemap (plus the 404 page is skipped: it is not content)."""
    sitemap = (site / "sitemap.xml").read_text(encoding="utf-8")
    locations = re.findall(r"<loc>([^<]*)</loc>", sitemap)
    pages = sorted({urlparse(loc).path.lstrip("/") or "index.html" for loc in locations})
    on_disk = sorted(str(p.relative_to(site)) for p in site.rglob("*.html") if p.name != "404.html")
    # the sitemap's URLs carry the site_url path prefix when one is set; the files on disk are the truth
    return on_disk if set(pages) != set(on_disk) else pages


def _luminance(css_color: str) -> float:
    r, g, b = (int(x) for x in re.findall(r"\d+", css_color)[:3])
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


@pytest.mark.slow
def test_every_page_renders_math_and_images_in_chromium(site, server, tmp_path):
    """Every page of the site, in one headless Chromium: no raw TeX or reST markup in the visible text,
    every formula typeset by KaTeX without error, every image loaded, every request served; the index and
    theory pages are also screenshot, and formulas stay readable in the dark (slate) scheme."""
    chromium = _chromium()
    if chromium is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium); the browser check needs it")
    base, log = server
    pages = _site_pages(site)
    assert len(pages) >= 10, f"the site has only {len(pages)} pages: {pages}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser = _Chromium(chromium, tmp_path / "profile")
    problems: list[str] = []
    typeset = 0
    try:
        for page in pages:
            url = urljoin(base, page)
            start = len(log)
            browser.open(url)
            report = browser.evaluate(PAGE_REPORT)
            requests = log[start:]
            for match in RAW_MARKUP.finditer(report["text"]):
                context = report["text"][max(0, match.start() - 40): match.end() + 40].replace("\n", " ")
                problems.append(f"{page}: raw markup {match.group(0)!r} in the visible text: ...{context}...")
                break
            if report["untypeset"]:
                problems.append(f"{page}: {len(report['untypeset'])} of {report['formulas']} formulas not typeset, "
                                f"e.g. {report['untypeset'][0]!r}")
            if report["errors"]:
                problems.append(f"{page}: {report['errors']} KaTeX errors")
            typeset += report["formulas"]
            for image in report["images"]:
                if not image["ok"]:
                    problems.append(f"{page}: image {image['src']} did not load")
            failed = [(path, status) for path, status, _ in requests if status >= 400]
            if failed:
                problems.append(f"{page}: requests that failed: {failed}")
            for path, status, ctype in requests:
                if status == 200 and path.endswith((".png", ".svg", ".jpg")) and not ctype.startswith("image/"):
                    problems.append(f"{page}: {path} served as {ctype}")
            if page in PAGES:
                shot = ARTIFACTS / page.replace(".html", ".png")
                browser.screenshot(shot)
                assert shot.stat().st_size > 20_000, f"{page}: screenshot tiny"
                assert _png_is_not_blank(shot.read_bytes()), f"{page}: the screenshot is blank"

        # dark mode: the palette toggle's slate scheme keeps formulas light on dark
        browser.open(urljoin(base, "theory.html"))
        toggled = browser.evaluate(
            'const t = document.querySelector(\'[data-md-component=palette] label[for="__palette_1"]\');'
            ' if (t) { t.click(); } !!t'
        )
        assert toggled, "the header has no palette toggle"
        dark = browser.evaluate(PAGE_REPORT)
        assert dark["scheme"] == "slate", f"the palette toggle switched to {dark['scheme']!r}, not slate"
        assert _luminance(dark["background"]) < 0.3, f"slate background is not dark: {dark['background']}"
        assert _luminance(dark["katexColor"]) > 0.6, f"formulas are not readable in slate: {dark['katexColor']}"
        browser.screenshot(ARTIFACTS / "theory-slate.png")
    finally:
        browser.close()
    assert typeset > 100, f"only {typeset} formulas on the whole site"
    assert any(path.endswith(".woff2") for path, _, _ in log), "the KaTeX fonts were never loaded"
    assert not problems, f"{len(problems)} problems on {len(pages)} pages:\n" + "\n".join(problems)


# Runs in a page at a 1280 x 800 window with every collapsible block opened: what does not fit the content
# column, and which figures lack a caption. "Does not fit" is what a reader meets: a table whose scroll
# wrapper (mkdocs-material's .md-typeset__scrollwrap) must be scrolled sideways to reach a column, or any table
# or image whose right edge passes the column's. A figure is an image of docs/figures/; its caption is the
# paragraph right after the image's paragraph, in italics, starting "Figure N." (scripts/mkdocs_figures_hook.py
# numbers it), and it must say more than the hook's stand-in "Click the figure to open it full size.".
LAYOUT_REPORT = """
(async () => {
  document.querySelectorAll("details").forEach(d => { d.open = true; });
  await document.fonts.ready;
  await Promise.all([...document.images].map(i => i.decode().catch(() => null)));
  await new Promise(r => setTimeout(r, 100));
  const inner = document.querySelector(".md-content__inner");
  const right = inner.getBoundingClientRect().right;
  const overflow = [];
  inner.querySelectorAll("table").forEach((t, k) => {
    const wrap = t.closest(".md-typeset__scrollwrap");
    const head = [...t.querySelectorAll("th")].map(h => h.textContent.trim()).join(" | ").slice(0, 80);
    if (wrap && wrap.scrollWidth > wrap.clientWidth + 1) {
      overflow.push(`table ${k + 1} (${head}) is ${wrap.scrollWidth} px wide in a ${wrap.clientWidth}-px column`);
    } else if (t.getBoundingClientRect().right > right + 1) {
      overflow.push(`table ${k + 1} (${head}) ends ${Math.round(t.getBoundingClientRect().right - right)} px `
                    + `right of the column`);
    }
  });
  const figures = [];
  inner.querySelectorAll("img").forEach(img => {
    const box = img.getBoundingClientRect();
    const src = img.getAttribute("src");
    if (box.right > right + 1) {
      overflow.push(`image ${src} ends ${Math.round(box.right - right)} px right of the column`);
    }
    if (!/(^|\\/)figures\\//.test(src)) return;
    const block = img.closest("p");
    const next = block ? block.nextElementSibling : null;
    const em = next && next.tagName === "P" ? next.querySelector(":scope > em:first-child") : null;
    figures.push({src: src, width: box.width, caption: em ? em.textContent.trim() : null});
  });
  return {column: inner.clientWidth, overflow: overflow, figures: figures};
})()
"""
STAND_IN_CAPTION = "Click the figure to open it full size."


@pytest.mark.slow
def test_every_page_fits_the_content_column_and_captions_its_figures_in_chromium(site, server, tmp_path):
    """At a 1280 x 800 window (a laptop), with every collapsible block opened: the content column is the
    688 px that cellnas_edu.page assumes for figure text sizes; no table or image is wider than the column
    (a table that must be scrolled sideways counts as too wide); every figure has its numbered caption."""
    from cellnas_edu.page import CONTENT_PX

    chromium = _chromium()
    if chromium is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium); the browser check needs it")
    base, _ = server
    pages = _site_pages(site)
    browser = _Chromium(chromium, tmp_path / "profile")
    problems: list[str] = []
    figures = 0
    try:
        browser.call("Emulation.setDeviceMetricsOverride", session=True, width=1280, height=800,
                     deviceScaleFactor=1, mobile=False)
        for page in pages:
            browser.open(urljoin(base, page))
            report = browser.evaluate(LAYOUT_REPORT)
            if abs(report["column"] - CONTENT_PX) > 2:
                problems.append(f"{page}: the content column is {report['column']} px, not {CONTENT_PX}")
            problems += [f"{page}: {item}" for item in report["overflow"]]
            for figure in report["figures"]:
                figures += 1
                caption = figure["caption"] or ""
                if not re.match(r"Figure \d+\.", caption):
                    problems.append(f"{page}: {figure['src']} has no numbered caption (got {caption[:60]!r})")
                elif caption.endswith(STAND_IN_CAPTION):
                    problems.append(f"{page}: {figure['src']} has only the stand-in caption; write one under it")
    finally:
        browser.close()
    assert figures >= 20, f"only {figures} figures found on {len(pages)} pages"
    assert not problems, f"{len(problems)} layout problems on {len(pages)} pages:\n" + "\n".join(problems)


def test_search_index_has_no_tex(site):
    """Search results show formulas as text: the index holds no TeX delimiters or commands outside code."""
    index = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    offenders = []
    for doc in index["docs"]:
        text = re.sub(r"<code>.*?</code>", "", doc["title"] + " " + doc["text"], flags=re.S)
        match = re.search(r"\\\(|\\\[|\$\$|\\[A-Za-z]{2,}\b|:math:", text)
        if match:
            offenders.append(f"{doc['location']}: ...{text[max(0, match.start() - 40): match.end() + 40]}...")
    assert not offenders, f"TeX in {len(offenders)} search entries:\n" + "\n".join(offenders[:10])
