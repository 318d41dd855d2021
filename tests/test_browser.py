"""In a real browser: JupyterLab from the project's environment, fig3 opened in Debian's Chromium (Selenium with
Debian's chromedriver; no browser download), all cells run, the q slider moved; the live figure must change and
no error output appear. A screenshot is saved in the test's temporary folder (and, with LOSSNAV_SCREENSHOT=path,
copied there: that is how the README's screenshot is made)."""

import os
import pathlib
import shutil
import time

import pytest
from lab_server import lab_server

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="needs Debian's chromium and chromium-driver (apt-get install; .ci/run does)",
)
ROOT = pathlib.Path(__file__).resolve().parents[1]


def _wait(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.25)
    raise TimeoutError(f"waited {timeout:.0f} s for {what}")


def _click_menu(driver, by, menu: str, item: str) -> None:
    bar = _wait(lambda: [e for e in driver.find_elements(by.CSS_SELECTOR, ".lm-MenuBar-itemLabel") if e.text == menu],
                30, f"the {menu} menu")  # fmt: skip
    bar[0].click()
    entry = _wait(lambda: [e for e in driver.find_elements(by.CSS_SELECTOR, ".lm-Menu-itemLabel") if e.text == item],
                  10, f"the menu item {item}")  # fmt: skip
    entry[0].click()


def test_fig3_explorer_in_chromium(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    root = tmp_path / "lab"
    root.mkdir()
    (root / "fig3-nongrad.ipynb").write_bytes((ROOT / "fig3-nongrad.ipynb").read_bytes())
    (root / "functions").symlink_to(ROOT / "functions")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1500,1100"):
        options.add_argument(arg)
    start = time.monotonic()
    with lab_server(root) as server:
        driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
        try:
            driver.get(f"{server.url}/lab/tree/fig3-nongrad.ipynb?token={server.token}")
            _wait(lambda: driver.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jp-Cell"), 60, "the notebook")
            _wait(lambda: "Idle" in driver.find_element(By.CSS_SELECTOR, ".jp-StatusBar-Widget, body").text
                  or driver.find_elements(By.CSS_SELECTOR, ".jp-Notebook-ExecutionIndicator[data-status='idle']"),
                  60, "an idle kernel")  # fmt: skip
            _click_menu(driver, By, "Run", "Run All Cells")
            image = _wait(
                lambda: driver.find_elements(By.CSS_SELECTOR, "img.widget-image"), 240, "the explorer's figure"
            )[0]
            before = _wait(lambda: image.get_attribute("src"), 30, "the figure's first image")
            label = _wait(lambda: [e for e in driver.find_elements(By.CSS_SELECTOR, ".widget-slider")
                                   if e.find_elements(By.CSS_SELECTOR, ".widget-label")
                                   and e.find_element(By.CSS_SELECTOR, ".widget-label").text.strip() == "q"],
                          30, "the q slider")[0]  # fmt: skip
            driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", label)
            handle = label.find_element(By.CSS_SELECTOR, ".noUi-handle")
            handle.click()
            for _ in range(4):
                handle.send_keys(Keys.ARROW_RIGHT)
            after = _wait(lambda: image.get_attribute("src") != before and image.get_attribute("src"), 60,
                          "the figure to change after moving q")  # fmt: skip
            assert after != before
            for button in driver.find_elements(By.CSS_SELECTOR, ".jp-toast-button"):  # the "news?" toast, if any
                if button.text == "No":
                    button.click()
            driver.execute_script("arguments[0].scrollIntoView({block: 'start'});", label)
            time.sleep(0.5)
            driver.save_screenshot(str(tmp_path / "explorer-fig3.png"))
            if os.environ.get("LOSSNAV_SCREENSHOT"):
                shutil.copy(tmp_path / "explorer-fig3.png", os.environ["LOSSNAV_SCREENSHOT"])
            errors = driver.find_elements(By.CSS_SELECTOR, "[data-mime-type='application/vnd.jupyter.error']")
            stderr = [
                e.text
                for e in driver.find_elements(By.CSS_SELECTOR, "[data-mime-type='application/vnd.jupyter.stderr']")
            ]
            assert errors == [] and not any("Error" in t or "Traceback" in t for t in stderr), stderr
        finally:
            driver.quit()
    print(f"browser test: {time.monotonic() - start:.0f} s")
