"""A real browser for the interactive HTML page optviz writes: Debian's headless chromium,
driven by selenium through Debian's chromedriver. Nothing is ever downloaded: the driver's
path is given, so Selenium Manager never runs.

Use: ``from browser import browser, console_errors`` in a test module.
"""

import shutil

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """A headless chromium WebDriver (1400x900, console logs kept), quit after the module."""
    chromium, chromedriver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and chromedriver):
        pytest.fail("Debian's chromium and chromium-driver are needed: `make test` installs them",
                    pytrace=False)
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,900",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        options.add_argument(flag)
    # every console level; chromedriver keeps only WARNING and up otherwise
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SE_OFFLINE", "true")
        driver = webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))
        try:
            yield driver
        finally:
            driver.quit()


def console_errors(driver) -> list[str]:
    """The SEVERE browser console entries since the last call (reading the log empties it)."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
