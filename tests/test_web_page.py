"""The configurator page in a real browser: headless Chromium (the Debian package) driven by
Playwright against the real uvicorn server.

A customer opens the page, picks modules one at a time and sees the counts and the quote
follow; every option the page offers leads to a state with configurations left (no dead end);
an excluded option says why when clicked; undo goes back. The test saves the screenshot the
README shows (``docs/images/storefront.png``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright import sync_api as playwright

import modcfg
from modcfg.web import create_app

from .web_server import KEY, running

SCREENSHOT = Path(__file__).resolve().parents[1] / "docs" / "images" / "storefront.png"


def chromium() -> str:
    """The Chromium binary (``$MODCFG_CHROMIUM``, else Debian's ``chromium``), or skip."""
    for candidate in (os.environ.get("MODCFG_CHROMIUM"), "chromium", "chromium-browser"):
        found = candidate and shutil.which(candidate)
        if found:
            return found
    if os.environ.get("CI"):
        pytest.fail("no Chromium binary in CI: .ci/run installs Debian's chromium")
    pytest.skip("no Chromium binary: apt-get install chromium (.ci/run installs it)")


@pytest.fixture(scope="module")
def page() -> Iterator[Any]:
    binary = chromium()
    app = create_app(["windows_pro", "windows"], signing_key=KEY)
    with running(app) as url, playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=binary, headless=True, args=["--no-sandbox"]
        )
        try:
            tab = browser.new_page(viewport={"width": 1280, "height": 900})
            tab.goto(f"{url}/?catalog=windows_pro")
            ready(tab)
            yield tab
        finally:
            browser.close()


def ready(tab: Any) -> None:
    tab.wait_for_selector("body[data-ready='true']:not(.busy)")


def shown(tab: Any) -> dict[str, dict[str, tuple[str, int]]]:
    """slot -> module -> (status, count) as the page shows them (read in one call)."""
    found: dict[str, dict[str, list[Any]]] = tab.evaluate(SHOWN)
    return {
        slot: {module: (status, int(digits)) for module, (status, digits) in row.items()}
        for slot, row in found.items()
    }


SHOWN = """() => Object.fromEntries([...document.querySelectorAll("fieldset[data-slot]")].map(
    (box) => [box.dataset.slot, Object.fromEntries([...box.querySelectorAll("button.option")].map(
        (b) => [b.dataset.module, [b.dataset.status, b.dataset.count]]))]))"""


def count(tab: Any) -> int:
    return int(tab.get_attribute("#count", "data-count"))


def click(tab: Any, slot: str, module: str) -> None:
    tab.evaluate("document.body.dataset.ready = 'false'")
    tab.click(f"fieldset[data-slot='{slot}'] button[data-module='{module}']")
    ready(tab)


@pytest.mark.slow  # (a browser start and a dozen round trips: it runs in CI)
def test_picking_modules_updates_counts_and_quote_without_dead_ends(page: Any) -> None:
    assert count(page) == modcfg.compile("windows_pro").count()
    first_range = page.inner_text("#quote-range")
    assert first_range.startswith("From EUR")

    click(page, "frame", "pvc")
    state = shown(page)
    assert state["frame"]["pvc"][0] == "chosen"
    assert state["glass"]["triple"] == ("excluded", 0)
    page.click("fieldset[data-slot='glass'] button[data-module='triple']")
    page.wait_for_selector("#why[data-option='glass.triple']")
    assert "pvc" in page.inner_text("#why")

    before = count(page)
    click(page, "glass", "double")
    assert count(page) < before
    page.click("#undo")
    page.wait_for_function(f"document.querySelector('#count').dataset.count === '{before}'")
    ready(page)

    steps = 0
    while True:
        state = shown(page)
        for slot, row in state.items():  # every offered option keeps configurations
            for module, (status, completions) in row.items():
                if status in ("available", "implied", "chosen"):
                    assert completions > 0, f"{slot}.{module} offered with no completion"
        open_slots = [
            (slot, module, completions)
            for slot, row in state.items()
            if not any(status in ("chosen", "implied") for status, _ in row.values())
            for module, (status, completions) in row.items()
            if status == "available"
        ]
        if not open_slots:
            break
        slot, module, expected = open_slots[-1]
        click(page, slot, module)
        assert count(page) == expected > 0
        steps += 1
    assert steps >= 2
    if count(page) > 1:  # (a multi-select slot left open: the cheapest completion fills it)
        page.evaluate("document.body.dataset.ready = 'false'")
        page.click("#complete")
        ready(page)
    assert count(page) == 1
    page.wait_for_selector("#quote-total")
    total = page.get_attribute("#quote", "data-total")
    assert total
    assert total.replace(".", "").isdigit()
    assert page.inner_text("#quote-total") == f"EUR {total}"
    assert page.inner_text("#error") == ""

    # the screenshot of the README: a session part-way, with a why-not shown
    page.click("#undo")
    ready(page)
    page.click("#undo")
    ready(page)
    page.click("fieldset[data-slot='glass'] button[data-module='triple']")
    page.wait_for_selector("#why[data-option='glass.triple']")
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert SCREENSHOT.stat().st_size > 10_000
