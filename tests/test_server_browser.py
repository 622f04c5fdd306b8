"""The chat widget end to end in headless Chromium (Debian's /usr/bin/chromium driven by
Playwright) against a real uvicorn server: streamed answer, product cards, confirm a return.

Screenshots go to the test's tmp directory.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from server_app import RETURN_MSG, TestServer, shopper_token

CHROMIUM = os.environ.get("SHOPAGENT_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.browser,
    # CI must run these (make test installs chromium); elsewhere they skip without it
    pytest.mark.skipif(
        not Path(CHROMIUM).exists() and not os.environ.get("CI"),
        reason=f"{CHROMIUM} missing: `apt-get install -y chromium` (make test installs it)",
    ),
]

# Records every text change of the answer bubbles, to prove tokens arrive one by one.
RECORD_UPDATES = """
window.__answerUpdates = 0;
new MutationObserver((records) => {
  for (const r of records) {
    const node = r.target.nodeType === 1 ? r.target : r.target.parentElement;
    if (node && node.closest && node.closest('[data-testid="answer"]')) window.__answerUpdates++;
  }
}).observe(document, {subtree: true, childList: true, characterData: true});
"""


@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def srv(tmp_path):
    server = TestServer(tmp_path)
    yield server
    server.close()


def open_widget(browser, srv, email: str | None = None):
    page = browser.new_page(viewport={"width": 720, "height": 900})
    page.add_init_script(RECORD_UPDATES)
    fragment = f"key={srv.key}"
    if email:
        fragment += f"&token={shopper_token(email)}"
    page.goto(f"{srv.url}/widget/#{fragment}")
    return page


def send(page, text: str) -> None:
    page.fill("#input", text)
    page.click("#send")


def test_widget_streams_an_answer_with_product_cards(browser, srv, tmp_path) -> None:
    page = open_widget(browser, srv)
    send(page, "how much is the hearth classic kettle?")
    answer = page.locator('[data-testid="answer"].done').last
    answer.wait_for(timeout=15_000)
    assert answer.inner_text() == "The Hearth Classic Kettle is $29.49 with 3 in stock."
    assert page.evaluate("window.__answerUpdates") > 2  # token by token, then the final text
    card = page.locator(".product-card").first
    assert "Hearth Classic Kettle" in card.inner_text() and "3 in stock" in card.inner_text()
    page.screenshot(path=str(tmp_path / "widget-answer.png"), full_page=True)
    # the conversation continues in the same thread: "it" is the kettle
    send(page, "is it in stock?")
    page.locator('[data-testid="answer"].done').nth(1).wait_for(timeout=15_000)
    assert "Hearth Classic Kettle" in page.locator('[data-testid="answer"]').nth(1).inner_text()
    page.close()


def test_widget_confirms_a_return(browser, srv, tmp_path) -> None:
    page = open_widget(browser, srv, "ada@example.com")
    send(page, RETURN_MSG)
    yes = page.locator(".confirm-yes")
    yes.wait_for(timeout=15_000)
    assert "$109.65" in page.locator('[data-testid="answer"]').last.inner_text()
    assert srv.db.returns_of("C1") == []
    page.screenshot(path=str(tmp_path / "widget-confirm.png"), full_page=True)
    yes.click()
    done = page.locator('[data-testid="answer"].done').nth(1)
    done.wait_for(timeout=15_000)
    assert "R-SA-100002-H-400" in done.inner_text()
    assert [r["sku"] for r in srv.db.returns_of("C1")] == ["H-400"]
    assert page.locator(".confirm-yes").is_disabled()
    page.screenshot(path=str(tmp_path / "widget-returned.png"), full_page=True)
    keep = os.environ.get("SHOPAGENT_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        for shot in tmp_path.glob("widget-*.png"):
            shutil.copy(shot, keep)
    page.close()


def test_widget_without_a_key_says_so(browser, srv) -> None:
    page = browser.new_page()
    page.goto(f"{srv.url}/widget/")
    assert "no API key" in page.locator(".msg.error").inner_text()
    page.close()


def test_widget_embedded_in_a_shop_page_on_another_origin(browser, srv) -> None:
    from fastapi import FastAPI
    from fastapi.responses import HTMLResponse
    from shopagent.tools.inventory_api import serve_in_thread

    shop = FastAPI()
    token = shopper_token("ada@example.com")
    page_html = (
        "<!doctype html><html><body><h1>Test Goods shop</h1>"
        f'<script src="{srv.url}/widget/embed.js" data-key="{srv.key}" '
        f'data-shopper-token="{token}"></script></body></html>'
    )
    shop.get("/")(lambda: HTMLResponse(page_html))
    with serve_in_thread(shop) as shop_server:
        page = browser.new_page()
        page.goto(shop_server.url)
        page.get_by_role("button", name="Open the shop assistant").click()
        frame = page.frame_locator('iframe[title="Shop assistant"]')
        frame.locator("#input").fill("where is my order?")
        frame.locator("#send").click()
        answer = frame.locator('[data-testid="answer"].done')
        answer.wait_for(timeout=15_000)
        assert "SA-10000" in answer.inner_text()  # the signed-in shopper's orders
        page.close()
