"""The pretrained demo (/demos/pretrained/) in Chromium, driven like a person: load
EfficientNet-Lite0 on the CPU backend, classify the bundled photos (top 5, latency), add
examples of two new classes, train the new head to 100% training accuracy, classify with it,
save it to the browser and load it back. The tests share one page and run in order."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select
from site_pages import attr, chrome_driver, screenshot, text, wait_for


@pytest.fixture(scope="module")
def page(request, runtime, web_server_main, playwright_browsers, wasmdl_server):
    with chrome_driver(request, runtime, web_server_main, playwright_browsers) as driver:
        driver.get(wasmdl_server + "/demos/pretrained/")
        wait_for(
            driver,
            lambda d: attr(d, "status", "data-state") in ("ready", "error"),
            what="the pretrained demo to start",
        )
        assert attr(driver, "status", "data-state") == "ready", text(driver, "progress")
        yield driver


def idle(driver):
    return attr(driver, "status", "data-state") in ("ready", "error")


def done_count(driver):
    return int(attr(driver, "status", "data-done") or 0)


def click_and_wait(driver, button, what, timeout=300):
    # wait for this click's action to finish (the page counts finished actions), not for an
    # idle state the page may still show before the click's handler has marked itself busy
    before = done_count(driver)
    driver.find_element(By.ID, button).click()
    wait_for(driver, lambda d: done_count(d) > before and idle(d), timeout, what)
    assert attr(driver, "status", "data-state") == "ready", text(driver, "progress")


def show_photo(driver, name):
    Select(driver.find_element(By.ID, "photo")).select_by_value(name)
    driver.execute_script(
        "return window.pretrainedDemo.drawURL(arguments[0])", f"../../models/{name}"
    )


def test_classify_bundled_photos(page, artifacts_dir, chrome_report):
    assert "def classify(" in text(page, "python-source")
    options = [o.text for o in Select(page.find_element(By.ID, "backend")).options]
    assert options[0] == "CPU (WASM)" and len(options) == 3, options
    page.find_element(By.ID, "load-button").click()
    wait_for(page, lambda d: attr(d, "load-info", "data-backend") == "numpy", 300, "the model")
    wait_for(page, idle, 60, "the page to settle")
    for name, index in (("chelsea.png", "285"), ("coffee.png", "967")):
        show_photo(page, name)
        click_and_wait(page, "classify-button", f"classifying {name}")
        first = page.find_elements(By.CSS_SELECTOR, "#top5 li")
        assert len(first) == 5 and first[0].get_attribute("data-index") == index, text(page, "top5")
    screenshot(page, artifacts_dir, "pretrained_classified")
    chrome_report("pretrained demo (CPU)", f"{text(page, 'load-info')} {text(page, 'latency')}")


def test_fine_tune_save_and_load(page, artifacts_dir):
    for label, photo in (("cat", "chelsea.png"), ("coffee", "coffee.png")):
        page.find_element(By.ID, "label").clear()
        page.find_element(By.ID, "label").send_keys(label)
        show_photo(page, photo)
        for _ in range(3):
            click_and_wait(page, "add-button", "adding an example")
    assert attr(page, "examples", "data-total") == "6", text(page, "examples")
    click_and_wait(page, "train-button", "training the head", timeout=600)
    assert float(attr(page, "accuracy", "data-value")) == 1.0, text(page, "progress")
    click_and_wait(page, "custom-button", "classifying with the new head")
    rows = page.find_elements(By.CSS_SELECTOR, "#custom li")
    assert [r.get_attribute("data-name") for r in rows] == ["cat", "coffee"]
    assert float(rows[1].get_attribute("data-p")) > 0.5  # the coffee photo is showing
    click_and_wait(page, "save-button", "saving")
    # the page marks the save after the IndexedDB write, which ends after the busy state
    wait_for(page, lambda d: attr(d, "save-status", "data-saved"), 60, "the IndexedDB write")
    assert int(attr(page, "save-status", "data-saved")) > 10_000_000
    wait_for(page, lambda d: d.find_element(By.ID, "restore-button").get_attribute("disabled")
             is None, 30, "the saved model")  # fmt: skip
    click_and_wait(page, "restore-button", "loading the saved model")
    assert attr(page, "save-status", "data-loaded") == "cat,coffee", text(page, "save-status")
    screenshot(page, artifacts_dir, "pretrained_finetuned")
