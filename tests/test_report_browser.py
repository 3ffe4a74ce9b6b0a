"""The report renders in a real headless Chromium: every chart drawn, nothing fetched, no errors.

Chromium is Debian's package at /usr/bin/chromium (``.ci/run`` installs it when missing), driven
by Playwright without ``playwright install``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tune_support import BROWSER, BROWSER_ARGS, expected_marks, report_run

CHARTS_JS = """() => Array.from(document.querySelectorAll('svg.chart')).map(svg => {
  const box = svg.getBoundingClientRect();
  const marks = Array.from(svg.querySelectorAll('.mark'));
  const drawn = marks.filter(m => { const b = m.getBBox(); return b.width > 0 && b.height > 0; });
  return {id: svg.id.replace('chart-', ''), width: box.width, height: box.height,
          marks: marks.length, drawn: drawn.length};
})"""


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    run = report_run(tmp_path_factory)
    url = Path(run["html"]).resolve().as_uri()
    shot = tmp_path_factory.mktemp("screenshot") / "report.png"
    requests: list[str] = []
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(BROWSER), args=list(BROWSER_ARGS))
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("request", lambda request: requests.append(request.url))
            page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(url, wait_until="load")
            charts = page.evaluate(CHARTS_JS)
            page.screenshot(path=str(shot), full_page=True)
            title = page.title()
        finally:
            browser.close()
    return {"run": run, "url": url, "charts": charts, "requests": requests, "errors": errors, "shot": shot,
            "title": title}


def test_every_chart_renders_with_its_marks(rendered: dict[str, Any]) -> None:
    expected = expected_marks(rendered["run"]["json"]["figures"])
    drawn = {chart["id"]: chart for chart in rendered["charts"]}
    assert set(drawn) == set(expected)
    for name, count in expected.items():
        chart = drawn[name]
        assert chart["width"] > 100 and chart["height"] > 100, chart
        assert chart["marks"] == count, chart
        assert chart["drawn"] >= max(1, count // 2), chart  # bars of zero height are fine, not most of them


def test_the_page_fetches_nothing_but_itself(rendered: dict[str, Any]) -> None:
    assert rendered["requests"] == [rendered["url"]]


def test_the_page_has_no_console_errors(rendered: dict[str, Any]) -> None:
    assert rendered["errors"] == []
    assert rendered["title"].startswith("leadscore report: b2b-saas")


def test_a_screenshot_is_taken(rendered: dict[str, Any]) -> None:
    data = rendered["shot"].read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000
