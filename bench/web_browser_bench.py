"""Pages of the web UI in a real browser (Playwright + Debian's /usr/bin/chromium) with many steps.

    python bench/web_browser_bench.py [--steps 20000] [--url redis://...]

For every page: time from navigation to the first successful data poll ("first data"), and the
largest poll after it (bytes on the wire: with ETag/304, unchanged data costs only headers).
Budget: first data < 300 ms and every poll < 50 kB. Results go to bench/web_browser_results.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.web_bench import _given, populate, private_redis  # noqa: E402
from trunq.scheduler.redis import RedisStateStore  # noqa: E402
from trunq.web import create_app  # noqa: E402

RESULTS = Path(__file__).with_name("web_browser_results.md")
FIRST_DATA_MS, POLL_BYTES = 300.0, 50_000
POLL_MS = 500
REPEATS = 3  # visits per page; the median is reported (the machine is shared and noisy)
READY = "document.getElementById('live-indicator').title.startsWith('updated')"


def serve(app: Any) -> tuple[Any, str]:
    """The app in a forked process of its own on waitress, as ``trunq web`` serves it: in this
    process its threads would share the GIL with Playwright's driver and the timings would
    measure that. The child makes the server (waitress starts its threads at creation)."""
    import multiprocessing
    import socket

    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)

    def run() -> None:
        from waitress import create_server

        create_server(app, sockets=[listener], threads=8, ident="trunq").run()

    process = multiprocessing.get_context("fork").Process(target=run, daemon=True)
    process.start()
    port = listener.getsockname()[1]
    listener.close()  # the child serves; the parent keeps no listening socket
    return process, f"http://127.0.0.1:{port}"


def measure(page: Any, url: str) -> tuple[float, float, int, int]:
    sizes: list[tuple[float, int]] = []
    page.on("requestfinished", lambda request: sizes.append(
        (time.perf_counter(), request.sizes()["responseBodySize"])) if "/api/" in request.url else None)
    start = time.perf_counter()
    page.goto(url)
    page.wait_for_function(READY, timeout=30_000)
    first_ms = (time.perf_counter() - start) * 1000
    # navigation start -> first data rendered, on the browser's own clock (common.js records it)
    browser_ms = float(page.evaluate("window.trunqFirstDataMs"))
    loaded = time.perf_counter()
    page.wait_for_timeout(POLL_MS * 4)  # a measurement window of a few polls, not a condition
    later = [size for moment, size in sizes if moment > loaded]
    return browser_ms, first_ms, max(later, default=0), len(later)


def visit(browser: Any, url: str) -> tuple[float, float, int, int]:
    """One visit in a fresh context (cold cache, no cookies)."""
    context = browser.new_context(bypass_csp=True)  # the readiness probe evaluates JS
    try:
        if url.endswith("/about:warm-up"):
            context.new_page().goto(url.replace("/about:warm-up", "/runs"))
            return 0.0, 0.0, 0, 0
        return measure(context.new_page(), url)
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--url", default=None)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with private_redis() if args.url is None else _given(args.url) as url:
        store = RedisStateStore(url)
        root = populate(store, args.steps)
        app = create_app({"redis_url": url, "poll_ms": POLL_MS}, store=store)
        server, base = serve(app)
        pages = ["/", "/steps", f"/step?id={root}", f"/graph?id={root}", f"/timeline?root={root}",
                 "/workers", "/resources", "/runs"]
        rows = []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox"])
            visit(browser, base + "/about:warm-up")  # the browser's first page pays its own start-up
            for path in pages:
                runs = sorted((visit(browser, base + path) for _ in range(REPEATS)), key=lambda run: run[0])
                rows.append((path, *runs[len(runs) // 2]))  # the median visit (by first data)
            browser.close()
        server.terminate()
        server.join(timeout=10)
        store.close()
    report(args.steps, rows)


def report(steps: int, rows: list[tuple[str, float, float, int, int]]) -> None:
    ok = all(first < FIRST_DATA_MS and biggest < POLL_BYTES for _, first, _, biggest, _ in rows)
    lines = ["# Web UI in a browser", "",
             f"`python bench/web_browser_bench.py --steps {steps}`: Chromium (Playwright), app on waitress (as `trunq web`), "
             f"redis-server on loopback, polls every {POLL_MS} ms. Budget: first data < {FIRST_DATA_MS:.0f} ms, "
             f"every poll < {POLL_BYTES:,} bytes → **{'PASS' if ok else 'FAIL'}**.", "",
             f"Median of {REPEATS} visits per page, each in a fresh browser context, after one warm-up page. "
             "first data = navigation start to the first data rendered, on the browser's clock; "
             "the goto column adds Playwright's own round trips (Python clock, new page to ready).", "",
             "| page | first data ms | goto→ready ms | largest later poll (bytes) | polls seen |",
             "|---|---:|---:|---:|---:|"]
    lines += [f"| `{path}` | {first:.0f} | {goto:.0f} | {biggest:,} | {count} |"
              for path, first, goto, biggest, count in rows]
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
