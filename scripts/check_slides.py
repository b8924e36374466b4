"""Build the reveal.js decks and check them in headless Chromium, as a class would see them.

    python scripts/check_slides.py                 # every notebook
    python scripts/check_slides.py 04_ 06_         # only those whose name contains a pattern
    python scripts/check_slides.py --shots /tmp/s  # and a screenshot of every (sub)slide
    python scripts/check_slides.py --offline       # the decks of slides.py --deck --offline

Each deck is built by ``scripts/slides.py --deck`` with nbconvert's own CDN addresses (what an
online reader's browser loads). This machine cannot reach the CDN, so the browser is served
the same packages from npm instead: every request to the CDN is answered from
``build/slides-assets`` (``npm install --prefix build/slides-assets reveal.js@4 mathjax@2
requirejs@2 jquery@2``, run by this script when the folder is missing; mermaid, which no
notebook uses, gets an empty module). Any other request from the page is refused and reported.

Then it walks every slide and sub-slide with the Reveal API, every fragment shown, and
reports per notebook: slides and sub-slides, those whose content overflows the 1280×800 slide
(cut off) and those that scroll (their content is reachable by scrolling the slide or a
code block), maths typeset and any raw ``$…$`` left, MathJax errors, and GIFs and images that
did not load. Exit status 1 if any slide is empty or overflows, maths stays raw or fails, or an
image does not load. Needs Debian's ``chromium`` (``/usr/bin/chromium``) and the Python
package ``playwright`` (its own browser download is not used).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent))
import slides  # noqa: E402

try:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
except ImportError:  # --help works without playwright
    PlaywrightTimeout = TimeoutError

ROOT = slides.ROOT
ASSETS = ROOT / "build" / "slides-assets"
PACKAGES = ["reveal.js@4", "mathjax@2", "requirejs@2", "jquery@2"]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip

# What the page asks the CDN for -> the file of the npm package that answers it.
# A folder answers the rest of the path after the version; a file answers the request whole.
CDN = [
    ("unpkg.com", "/reveal.js@", "reveal.js/"),
    ("cdnjs.cloudflare.com", "/ajax/libs/mathjax/", "mathjax/"),
    ("cdnjs.cloudflare.com", "/ajax/libs/require.js/", "requirejs/require.js"),
    ("cdnjs.cloudflare.com", "/ajax/libs/jquery/", "jquery/dist/jquery.min.js"),
]

DRAWN = """() => [...window.__reveal.getCurrentSlide().querySelectorAll(
  'script[type^="math/tex"]')].every(sc => sc.closest('details:not([open])') || (
  document.getElementById(sc.id + '-Frame')
  && document.getElementById(sc.id + '-Frame').getBoundingClientRect().width > 0))"""

MEASURE = """() => {
  const R = window.__reveal, sec = R.getCurrentSlide();
  const box = document.querySelector('.reveal .slides').getBoundingClientRect();
  const scale = R.getScale();
  const scrolls = (el) => {
    const s = getComputedStyle(el);
    return (/(auto|scroll)/.test(s.overflowY) && el.scrollHeight > el.clientHeight + 1)
        || (/(auto|scroll)/.test(s.overflowX) && el.scrollWidth > el.clientWidth + 1);
  };
  const clipped = (el) => {  // inside a scrolling box below the section (or the section)
    for (let a = el.parentElement; a; a = a.parentElement) {
      if (scrolls(a)) return true;
      if (a === sec) break;
    }
    return false;
  };
  const overflow = [], scrolling = new Set();
  const leaves = sec.querySelectorAll(
    'p, li, pre, img, table, h1, h2, h3, h4, summary, .MathJax_Display');
  for (const el of leaves) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if (el.tagName !== 'SUMMARY' && el.closest('details:not([open])')) continue;  // folded
    const tol = 8 * scale;  // px: a margin's worth, still on screen
    const out = r.right > box.right + tol || r.bottom > box.bottom + tol
             || r.left < box.left - tol || r.top < box.top - tol;
    if (out && !clipped(el)) overflow.push(el.tagName.toLowerCase() + ': '
        + (el.innerText || el.alt || '').trim().slice(0, 50));
  }
  for (const el of [sec, ...sec.querySelectorAll('*')]) {
    if (scrolls(el)) scrolling.add(el === sec ? 'slide' : (el.tagName === 'PRE' ? 'code' : 'box'));
  }
  // raw maths: $…$ left in text outside code, after MathJax has run
  const walker = document.createTreeWalker(sec, NodeFilter.SHOW_TEXT);
  const raw = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (n.parentElement.closest('pre, code, script, .jp-OutputArea')) continue;
    const m = n.textContent.match(/\\$[^$\\s][^$]*\\$|\\\\\\(|\\\\\\[/);
    if (m) raw.push(m[0].slice(0, 40));
  }
  // maths that MathJax did not draw: a TeX script without a visible frame beside it
  for (const sc of sec.querySelectorAll('script[type^="math/tex"]')) {
    if (sc.closest('details:not([open])')) continue;  // a closed Hint or Solution
    const frame = document.getElementById(sc.id + '-Frame');
    const r = frame && frame.getBoundingClientRect();
    if (!r || r.width === 0) raw.push('not drawn: ' + sc.textContent.slice(0, 30));
  }
  const text = sec.innerText.trim();
  return {overflow, scrolling: [...scrolling], raw,
          empty: text.length === 0 && !sec.querySelector('img'),
          height: Math.round(sec.scrollHeight), scale};
}"""


def ensure_assets(folder: Path) -> None:
    """npm-install the packages that stand in for the CDN, unless they are there."""
    if not (folder / "node_modules" / "reveal.js" / "dist" / "reveal.js").exists():
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(folder),
                        *PACKAGES], check=True)  # fmt: skip


def asset_for(url: str, modules: Path) -> Path | None:
    """The local file that answers a CDN request, or None."""
    u = urlparse(url)
    for host, prefix, package in CDN:
        if u.netloc == host and u.path.startswith(prefix):
            if not package.endswith("/"):
                return modules / package
            rest = u.path[len(prefix) :].split("/", 1)  # drop the version
            return modules / package / (rest[1] if len(rest) > 1 else "")
    return None


def check_deck(page, deck: Path, shots: Path | None) -> dict:
    """Open one deck, walk it, and return what was found."""
    page.goto(Path(os.path.abspath(deck)).as_uri(), wait_until="domcontentloaded")
    page.wait_for_function("() => window.require && window.MathJax && MathJax.Hub", timeout=60_000)
    prefix = json.dumps(slides_prefix(deck))
    page.evaluate(
        f"() => new Promise(ok => require([{prefix} + '/dist/reveal.js'], R => {{"
        "window.__reveal = R; R.isReady() ? ok() : R.on('ready', ok); }))"
    )
    page.evaluate("() => window.__reveal.configure({transition: 'none'})")  # measure at rest
    page.evaluate("() => new Promise(ok => MathJax.Hub.Queue(ok))")
    typeset = page.evaluate("() => document.querySelectorAll('.MathJax, .MathJax_CHTML').length")
    math_errors = page.evaluate(
        "() => [...document.querySelectorAll('.MathJax_Error, .mjx-merror, merror')]"
        ".map(e => e.textContent.slice(0, 60))"
    )
    images = page.evaluate(
        "() => [...document.querySelectorAll('.reveal img')].map(i => ({gif: i.src.startsWith("
        "'data:image/gif'), ok: i.complete && i.naturalWidth > 0, alt: i.alt}))"
    )
    layout = page.evaluate(
        "() => window.__reveal.getHorizontalSlides().map(h => "
        "Math.max(1, h.querySelectorAll(':scope > section').length))"
    )
    found: dict = {"slides": len(layout), "subslides": sum(layout), "overflow": [],
                   "scroll": [], "raw": [], "empty": [], "typeset": typeset,
                   "math_errors": math_errors, "images": images,
                   "fragments": page.evaluate(
                       "() => document.querySelectorAll('.reveal .fragment').length")}  # fmt: skip
    for h, count in enumerate(layout):
        for v in range(count):
            page.evaluate(f"() => window.__reveal.slide({h}, {v}, -1)")
            page.evaluate(
                "() => { const R = window.__reveal; let k = 0;"
                " while (R.availableFragments().next && k++ < 50) R.nextFragment(); }"
            )
            page.evaluate("() => new Promise(ok => MathJax.Hub.Queue(ok))")  # its re-render
            try:  # the deck re-renders a slide's maths on every change: wait until drawn
                page.wait_for_function(DRAWN, timeout=3_000)
            except PlaywrightTimeout:
                pass  # MEASURE reports what is still not drawn
            page.wait_for_timeout(60)  # the layout
            m = page.evaluate(MEASURE)
            where = f"{h + 1}.{v + 1}"
            if m["overflow"]:
                found["overflow"].append(f"{where} {m['overflow'][0]}")
            if m["scrolling"]:
                found["scroll"].append(f"{where}({'+'.join(sorted(m['scrolling']))})")
            if m["raw"]:
                found["raw"].append(f"{where} {m['raw'][0]}")
            if m["empty"]:
                found["empty"].append(where)
            if shots is not None:
                page.screenshot(path=str(shots / f"{deck.stem.split('.')[0]}_{where}.png"))
    return found


def slides_prefix(deck: Path) -> str:
    """The reveal.js address the deck was built with (CDN or local)."""
    text = deck.read_text(encoding="utf-8")
    start = text.index('href="', text.index("<!-- General and theme style sheets -->")) + 6
    return text[start : text.index("/dist/reveal.css", start)]


def summary(name: str, f: dict, headings: list, refused: list) -> tuple[str, bool]:
    """The report of one deck, and whether it passed."""
    gifs = [i for i in f["images"] if i["gif"]]
    bad_images = [i for i in f["images"] if not i["ok"]]
    ok = not (f["overflow"] or f["raw"] or f["empty"] or f["math_errors"] or bad_images)
    lines = [
        f"{name}: {f['slides']} slides, {f['subslides']} (sub)slides in all, "
        f"{f['fragments']} fragments — {'OK' if ok else 'PROBLEMS'}",
        f"  overflow (cut off): {len(f['overflow'])} {f['overflow'][:6]}",
        f"  scrolls (reachable): {len(f['scroll'])} {f['scroll'][:12]}"
        + (" …" if len(f["scroll"]) > 12 else ""),
        f"  maths: {f['typeset']} typeset, raw left: {len(f['raw'])} {f['raw'][:3]}, "
        f"errors: {len(f['math_errors'])} {f['math_errors'][:3]}",
        f"  GIFs loaded: {sum(i['ok'] for i in gifs)}/{len(gifs)} "
        f"(alt: {'yes' if all(i['alt'] for i in gifs) else 'missing'}); "
        f"images loaded: {len(f['images']) - len(bad_images)}/{len(f['images'])}",
        f"  empty slides: {f['empty']}; requests refused: {sorted(set(refused))[:4]}",
    ]
    if headings:
        lines.append(f"  headings inside a cell (own slide in this deck; mid-slide in RISE): "
                     f"{len(headings)}")  # fmt: skip
    return "\n".join(lines), ok


def main(argv: list[str] | None = None) -> int:
    """The command line (module docstring); returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("patterns", nargs="*", help="only notebooks whose name contains one")
    parser.add_argument("--assets", type=Path, default=ASSETS, help="npm folder (see above)")
    parser.add_argument("--out", type=Path, default=slides.DECKS, help="where decks are built")
    parser.add_argument("--shots", type=Path, help="save a PNG of every (sub)slide here")
    parser.add_argument("--offline", action="store_true",
                        help="check the decks of slides.py --deck --offline ASSETS instead, "
                        "with every request off this machine refused")  # fmt: skip
    args = parser.parse_args(argv)
    paths = slides.notebooks(args.patterns)
    if not paths:
        parser.error(f"no notebook name contains {' or '.join(args.patterns)}")
    from playwright.sync_api import sync_playwright

    ensure_assets(args.assets)
    modules = args.assets / "node_modules"
    if args.shots:
        args.shots.mkdir(parents=True, exist_ok=True)
    status = 0
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for path in paths:
            here = Path(os.path.abspath(args.out))
            urls = slides.offline_urls(Path(os.path.abspath(args.assets)), here)
            deck = slides.build_deck(path, args.out, **(urls if args.offline else {}))
            page = browser.new_page(viewport={"width": slides.WIDTH, "height": slides.HEIGHT})
            refused: list[str] = []

            def route(r, _request=None, refused=refused):  # playwright passes (route, request)
                url = r.request.url
                if url.startswith(("file:", "data:")):
                    return r.continue_()
                if "/mermaid" in url:
                    return r.fulfill(body="export default {initialize() {}};",
                                     content_type="text/javascript")  # fmt: skip
                local = None if args.offline else asset_for(url, modules)
                if local is not None and local.is_file():
                    return r.fulfill(path=str(local))
                refused.append(urlparse(url).netloc + urlparse(url).path[:40])
                return r.abort()

            page.route("**/*", route)
            found = check_deck(page, deck, args.shots)
            page.close()
            nb = json.loads(path.read_text(encoding="utf-8"))
            text, ok = summary(path.stem, found, slides.headings_inside_cells(nb), refused)
            print(text, flush=True)
            status |= not ok
        browser.close()
    return status


if __name__ == "__main__":
    sys.exit(main())
