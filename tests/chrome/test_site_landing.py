"""The landing page (/) and the built site as a whole: the quick start runs in the page, every
link and asset the pages use is in the folder, and nothing is loaded from another host unless
the CDN switch asks for it.
"""

from __future__ import annotations

import html
import re
import sys
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from site_pages import attr, chrome_driver, screenshot, text, wait_for

ROOT = Path(__file__).resolve().parent.parent.parent
PAGES = ["index.html", "repl/index.html", "demos/index.html", "demos/mnist/index.html"]


@pytest.fixture(scope="module")
def landing(request, runtime, web_server_main, playwright_browsers, wasmdl_server):
    with chrome_driver(request, runtime, web_server_main, playwright_browsers) as driver:
        driver.get(wasmdl_server + "/")
        wait_for(
            driver,
            lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-state") != "loading",
            what="the landing page to start Python",
        )
        yield driver


def test_landing_quickstart_runs_in_the_page(landing, wasmdl_wheel, artifacts_dir):
    assert landing.find_element(By.TAG_NAME, "body").get_attribute("data-state") == "ready"
    assert text(landing, "wasmdl-version") == wasmdl_wheel.name.split("-")[1]
    code = landing.find_element(By.ID, "quickstart").get_attribute("textContent")
    readme = (ROOT / "README.md").read_text()
    assert code.strip() in readme, "the landing page's quick start differs from the README's"
    landing.find_element(By.ID, "quickstart-run").click()
    wait_for(
        landing,
        lambda d: attr(d, "quickstart-output", "data-state") in ("done", "error"),
        timeout=180,
        what="the quick start to run",
    )
    out = text(landing, "quickstart-output")
    landing.execute_script("document.getElementById('quickstart-output').scrollIntoView()")
    screenshot(landing, artifacts_dir, "landing_quickstart")
    assert attr(landing, "quickstart-output", "data-state") == "done", out
    assert "Epoch 1/1 125/125" in out, out  # fit's progress bar, "\r"-updated to its last state
    accuracy = re.search(r"test accuracy: (\d+\.\d)%", out)
    assert accuracy and float(accuracy.group(1)) > 70, out
    href = attr(landing, "quickstart-repl", "href")
    assert "/repl/?code=" in href and "micropip" in urllib.request.unquote(href)


class _Refs(HTMLParser):
    """Collect the URLs a page loads (scripts, styles, icons, images) and the links it shows."""

    def __init__(self):
        super().__init__()
        self.loads, self.links = [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("script", "img") and a.get("src"):
            self.loads.append(a["src"])
        elif tag == "link" and a.get("href"):
            self.loads.append(a["href"])
        elif tag == "a" and a.get("href"):
            self.links.append(a["href"])


def refs(page: Path) -> _Refs:
    parser = _Refs()
    parser.feed(page.read_text())
    return parser


@pytest.mark.parametrize("page", PAGES)
def test_pages_load_only_files_of_the_site(page, wasmdl_site, wasmdl_server, runtime):
    found = refs(wasmdl_site / page)
    assert found.loads, page
    for url in found.loads + [u for u in found.links if not re.match(r"https?:|#|mailto:", u)]:
        assert not re.match(r"(https?:)?//", url), f"{page} loads {url} from another host"
        target = urllib.request.urljoin(f"{wasmdl_server}/{page}", html.unescape(url))
        with urllib.request.urlopen(target.split("#")[0].split("?")[0]) as response:
            assert response.status == 200, (page, url)


def test_site_folder_has_pages_docs_and_local_pyodide(wasmdl_site, runtime):
    config = (wasmdl_site / "assets" / "config.js").read_text()
    assert 'pyodide: "pyodide/"' in config  # the default build is self-contained
    assert (wasmdl_site / "pyodide" / "pyodide.js").exists()
    assert list((wasmdl_site / "simple" / "wasmdl").glob("wasmdl-*.whl"))
    docs = wasmdl_site / "docs"
    assert (docs / "index.html").exists() and (docs / "wasmdl.html").exists()
    for page, name in [("models", "Sequential"), ("backend", "set_backend"), ("io", "load_model")]:
        assert f'id="{name}"' in (docs / "wasmdl" / f"{page}.html").read_text(), (page, name)
    assert not (docs / "wasmdl" / "_js.html").exists()  # private modules stay out
    for vendor in ("jquery/dist/jquery.min.js", "chart.js/dist/chart.umd.min.js"):
        assert (wasmdl_site / "vendor" / vendor).exists()


def test_cdn_switch_rewrites_only_the_config(tmp_path, runtime):
    sys.path.insert(0, str(ROOT / "scripts"))
    import site_steps_web

    written = site_steps_web.build(tmp_path, pyodide_cdn=True, docs=False)
    config = (tmp_path / "assets" / "config.js").read_text()
    assert f'pyodide: "{site_steps_web.PYODIDE_CDN}"' in config, written
    assert site_steps_web.PYODIDE_CDN == "https://cdn.jsdelivr.net/pyodide/v0.27.7/full/"
    assert (tmp_path / "repl" / "index.html").exists()
