"""The site's first page: Pyodide loads and installs wasmdl by name through micropip."""

import time

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait


def test_index_page_shows_wasmdl_version(
    selenium_standalone_noload, wasmdl_server, wasmdl_wheel, artifacts_dir, chrome_report
):
    driver = selenium_standalone_noload.driver
    start = time.perf_counter()
    driver.get(wasmdl_server + "/")
    WebDriverWait(driver, 180).until(
        lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-state") != "loading"
    )
    seconds = time.perf_counter() - start
    driver.save_screenshot(str(artifacts_dir / "index_page.png"))
    status = driver.find_element(By.ID, "status").text
    assert driver.find_element(By.TAG_NAME, "body").get_attribute("data-state") == "ready", status
    version = driver.find_element(By.ID, "wasmdl-version").text
    assert version == wasmdl_wheel.name.split("-")[1], (version, status)
    chrome_report("index page", f"wasmdl {version} installed via micropip in {seconds:.1f} s")
