"""The book site (scripts/build_site.py) in headless Chromium: every page, offline.

    pytest tests/test_site.py                                  # builds the site into a tmp dir
    PRDQN_SITE_DIR=build/site pytest tests/test_site.py        # checks an existing build

The site is served by Python's http.server on 127.0.0.1 only, and every request to another
host is aborted (and fails the test): the site must read with no network. Each page is checked
for: no console error and no uncaught exception, no failed request, every <img> (figures and
the GIFs, data URIs included) decoded with naturalWidth > 0, maths typeset by the local MathJax
(every .math element holds an mjx-container and no raw $…$, \\(…\\) or \\[…\\] is left in the
text outside code), every same-origin href answering HTTP 200 and every #anchor existing on its
page, and, on notebook pages, every cell collapsed in JupyterLab folded. The search page must
find "SumTree" and list notebook 04.

Needs the `playwright` package (pip; its own browser download is not used) and Debian's
chromium at /usr/bin/chromium. Without them the test is skipped, except under CI=true, where a
missing browser is a failure and not a silent skip.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import json
import os
import re
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _missing() -> str | None:
    for module in ("playwright", "sphinx", "myst_nb", "sphinx_book_theme"):
        if importlib.util.find_spec(module) is None:
            return (
                f"the Python package {module!r} is not installed (pip install -r requirements.txt)"
            )
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is absent (apt-get install -y chromium)"
    return None


_REASON = _missing()
_IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
if _REASON is not None and not _IN_CI:
    pytest.skip(f"site test skipped: {_REASON}", allow_module_level=True)


@pytest.fixture(scope="module", autouse=True)
def _requirements():
    # In CI a missing browser or package fails each test here (the rest of the suite still runs)
    if _REASON is not None:
        pytest.fail(f"CI is set and the site test cannot run: {_REASON}", pytrace=False)


@pytest.fixture(scope="module")
def site_dir(tmp_path_factory) -> Path:
    given = os.environ.get("PRDQN_SITE_DIR")
    if given:
        path = Path(given).resolve()
        assert (path / "index.html").is_file(), f"PRDQN_SITE_DIR={given} holds no index.html"
        return path
    out = tmp_path_factory.mktemp("site") / "site"
    cmd = [sys.executable, str(ROOT / "scripts" / "build_site.py"), "--out", str(out)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, f"site build failed:\n{done.stdout}\n{done.stderr}"
    return out


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest's output clean
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # The browser drops connections it no longer needs when a page closes: not an error.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@pytest.fixture(scope="module")
def base_url(site_dir):
    handler = functools.partial(_QuietHandler, directory=str(site_dir))
    server = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


def _pages(site_dir: Path) -> list[str]:
    """Every HTML page of the site (not the theme's template fragments or copied sources)."""
    pages = [
        p.relative_to(site_dir).as_posix()
        for p in site_dir.rglob("*.html")
        if not p.relative_to(site_dir).parts[0].startswith("_")
    ]
    return sorted(pages)


# Runs in the page once it has loaded: waits for MathJax and for every image to decode, then
# reports what the checks need.
_INSPECT = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  const imgs = [...document.images];
  for (const img of imgs) img.loading = "eager";
  await Promise.all(imgs.map(img => img.decode().catch(() => null)));
  const broken = imgs.filter(img => !(img.complete && img.naturalWidth > 0))
    .map(img => (img.getAttribute("src") || "").slice(0, 80));
  const mathElems = [...document.querySelectorAll(".math")];
  const untypeset = mathElems.filter(el => !el.querySelector("mjx-container"))
    .map(el => el.textContent.slice(0, 80));
  const main = document.querySelector("main") || document.body;
  const clone = main.cloneNode(true);
  clone.querySelectorAll("pre, code, script, style, textarea, mjx-container, .highlight")
    .forEach(el => el.remove());
  const hrefs = [...document.querySelectorAll("a[href]")].map(a => a.href);
  const ids = [...document.querySelectorAll("[id]")].map(el => el.id)
    .concat([...document.querySelectorAll("a[name]")].map(a => a.name));
  const folded = [...document.querySelectorAll("details.hide.above-input")]
    .filter(d => !d.open).length;
  return {broken, nimg: imgs.length, untypeset, nmath: mathElems.length,
          text: clone.textContent, hrefs, ids, folded};
}"""

_RAW_MATH = [r"\$[^$\n]{1,200}\$", r"\\\((.{1,200}?)\\\)", r"\\\[(.{1,200}?)\\\]"]


def _hidden_cells(site_dir: Path, page: str) -> int:
    """How many code cells of the page's notebook JupyterLab shows collapsed (and the site
    should fold, unless a remove-* tag takes the cell's input off the page altogether)."""
    source = site_dir / "_sources" / (page.removesuffix(".html") + ".ipynb")
    if not source.exists():
        return 0
    removed = {"remove-input", "remove-cell"}
    return sum(
        1
        for c in json.loads(source.read_text(encoding="utf-8"))["cells"]
        if c["cell_type"] == "code"
        and c.get("metadata", {}).get("jupyter", {}).get("source_hidden")
        and not removed & set(c.get("metadata", {}).get("tags", []))
    )


def test_every_page_renders_offline(site_dir, base_url, browser):
    pages = _pages(site_dir)
    assert "index.html" in pages and "search.html" in pages
    assert sum(p.startswith("notebooks/") for p in pages) >= 7, pages
    context = browser.new_context()
    foreign: list[str] = []

    def route(r):
        if r.request.url.startswith(base_url) or r.request.url.startswith("data:"):
            r.continue_()
        else:
            foreign.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    problems: list[str] = []
    ids: dict[str, set[str]] = {}
    links: dict[str, set[str]] = {}  # href -> pages that hold it
    stats = {"images": 0, "maths": 0, "folded": 0}
    for rel in pages:
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m, e=errors: e.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc, e=errors: e.append(f"uncaught: {exc}"))
        page.on("requestfailed", lambda r, e=errors: e.append(f"failed: {r.url[:100]}"))
        url = urljoin(base_url, rel)
        response = page.goto(url, wait_until="load")
        page.wait_for_load_state("networkidle")  # late requests too (a missing favicon, fonts)
        if response is None or response.status != 200:
            problems.append(f"{rel}: HTTP {response and response.status}")
            continue
        info = page.evaluate(_INSPECT)
        page.close()
        stats["images"] += info["nimg"]
        stats["maths"] += info["nmath"]
        stats["folded"] += info["folded"]
        problems += [f"{rel}: console: {e[:200]}" for e in errors]
        problems += [f"{rel}: image not loaded: {src}" for src in info["broken"]]
        problems += [f"{rel}: maths not typeset: {t}" for t in info["untypeset"]]
        for pattern in _RAW_MATH:
            for m in re.finditer(pattern, info["text"]):
                problems.append(f"{rel}: raw maths in the text: {m.group(0)[:80]!r}")
        hidden = _hidden_cells(site_dir, rel)
        if info["folded"] < hidden:
            problems.append(f"{rel}: {hidden} collapsed cells, only {info['folded']} folded")
        ids[url] = set(info["ids"])
        for href in info["hrefs"]:
            links.setdefault(href, set()).add(rel)
    context.close()
    problems += [f"request to another host: {u[:100]}" for u in sorted(set(foreign))]

    status: dict[str, int] = {}
    for href, where in sorted(links.items()):
        if not href.startswith(base_url):
            continue  # external links are not followed: no network here
        target, fragment = urldefrag(href)
        if target not in status:
            try:
                with urllib.request.urlopen(target) as answer:
                    status[target] = answer.status
            except urllib.error.HTTPError as err:
                status[target] = err.code
        first = sorted(where)[0]
        if status[target] != 200:
            problems.append(f"{first}: link {href} -> HTTP {status[target]}")
        elif fragment and urlsplit(target).path.endswith(".html"):
            if target not in ids:
                problems.append(f"{first}: link {href} to a page that was not visited")
            elif fragment not in ids[target]:
                problems.append(f"{first}: link {href}: no element with id {fragment!r}")
    print(
        f"{len(pages)} pages, {stats['images']} images, {stats['maths']} maths, "
        f"{stats['folded']} folded cells, {len(status)} internal targets checked"
    )
    assert stats["images"] > 0 and stats["maths"] > 0
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:60])


# the search summaries that still show a backslash-paren or -bracket (maths left as LaTeX)
_RAW_SUMMARIES = r"""() => [...document.querySelectorAll('#search-results p.context')]
  .map(p => p.textContent).filter(t => /\\[()[\]]/.test(t))"""


def test_search_finds_sumtree(base_url, browser):
    """search.html?q=SumTree lists notebook 04; its summaries show typeset maths, no LaTeX."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    page.goto(urljoin(base_url, "search.html?q=SumTree"), wait_until="load")
    results = page.locator("#search-results ul.search li")
    results.first.wait_for(timeout=30_000)
    page.wait_for_load_state("networkidle")  # each summary is fetched from its page
    hrefs = results.locator("a").evaluate_all("els => els.map(a => a.getAttribute('href'))")
    try:  # MathJax typesets each summary once its page has been fetched
        page.wait_for_function(f"({_RAW_SUMMARIES})().length === 0", timeout=15_000)
    except PlaywrightTimeout:
        pass
    raw = page.evaluate(_RAW_SUMMARIES)
    summaries = page.locator("#search-results p.context").count()
    page.close()
    assert len(hrefs) >= 3, hrefs
    assert any("04_sumtree_per" in h for h in hrefs), hrefs
    assert summaries >= 3, "no result shows a summary"
    assert not raw, f"LaTeX source left in search summaries: {raw[:3]}"
    assert not errors, errors
