"""What the browser walks share (issue 23): one headless Chromium, axe-core on each page, screenshots,
and navigation that waits for the next document rather than for an element of the last one.

Why not `staleness_of(form)`: while Chromium swaps documents, asking about an element of the old one
can fail with an inspector error ("Node with given id does not belong to the document") instead of a
stale-element error, and that escaped the wait (CI, 2026-12-06). A navigation here marks the current
window, acts, then polls until a document without the mark has finished loading; a WebDriver error
while the old document unloads only means "not yet", and the poll is bounded (30 s).
"""
import json
import os
import sys

from axe_selenium_python import Axe
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

config = json.load(sys.stdin)
BASE = config["base"]
SHOTS = config["screenshots"]
os.makedirs(SHOTS, exist_ok=True)
report = {"pages": [], "violations": [], "steps": []}


def _driver():
    options = webdriver.ChromeOptions()
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--host-resolver-rules=MAP *.localhost 127.0.0.1", "--window-size=1280,900", "--lang=en-CA"]:
        options.add_argument(argument)
    options.binary_location = config.get("chromium", "/usr/bin/chromium")
    return webdriver.Chrome(service=Service(config.get("chromedriver", "/usr/bin/chromedriver")), options=options)


browser = _driver()
# Bounded waits on what a page shows, never a fixed sleep.
wait = WebDriverWait(browser, 30)


def step(text):
    report["steps"].append(text)


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


def check_page(name):
    """axe-core on the current page (serious and critical findings are reported), then screenshots at
    desktop and phone widths."""
    axe = Axe(browser)
    axe.inject()
    for violation in axe.run()["violations"]:
        if violation.get("impact") in ("serious", "critical"):
            report["violations"].append({"page": name, "id": violation["id"], "impact": violation["impact"],
                                         "help": violation["help"],
                                         "nodes": [{"target": n["target"], "html": n.get("html", "")[:300],
                                                    "why": n.get("failureSummary", "")[:300]} for n in violation["nodes"]][:5]})
    for label, width in (("desktop", 1280), ("phone", 390)):
        browser.set_window_size(width, 900)
        browser.save_screenshot(os.path.join(SHOTS, f"{name}-{label}.png"))
    browser.set_window_size(1280, 900)
    report["pages"].append(name)


def _new_document_loaded(driver):
    try:
        return driver.execute_script(
            "return document.readyState === 'complete' && window.__nzilaWalkMark === undefined")
    except WebDriverException:
        return False  # the old document is unloading or the new one has no context yet: not yet


def navigate(action):
    """Runs `action` (a click that leads to another page) and returns once the next document has loaded."""
    browser.execute_script("window.__nzilaWalkMark = true")
    action()
    wait.until(_new_document_loaded)


def go(path):
    browser.get(BASE + path)


def click(element_id):
    """Follows a link or presses a button that leads to another page."""
    navigate(lambda: browser.find_element(By.ID, element_id).click())


def submit(form_id):
    """Submits a form with its submit button and waits for the page that answers it."""
    navigate(lambda: browser.find_element(By.ID, form_id)
             .find_element(By.CSS_SELECTOR, "button[type=submit]").click())


def login(path, email, password):
    browser.delete_all_cookies()
    go(path)
    browser.find_element(By.ID, "email").send_keys(email)
    browser.find_element(By.ID, "password").send_keys(password)
    submit("login-form")


def finish(run, failure_shot):
    """Runs the walk, reports what failed with the page it was on, always closes the browser, and
    prints the report as JSON."""
    try:
        run()
        report["ok"] = True
    except Exception as error:  # noqa: BLE001 - the walk reports what failed, with the page it was on
        report["ok"] = False
        report["error"] = f"{type(error).__name__}: {error}"
        try:
            report["url"] = browser.current_url
            browser.save_screenshot(os.path.join(SHOTS, failure_shot))
        except Exception:  # noqa: BLE001
            pass
    finally:
        browser.quit()
    print(json.dumps(report))
