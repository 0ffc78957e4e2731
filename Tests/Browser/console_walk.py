#!/usr/bin/env python3
"""Walks the platform console in headless Chromium (issue 23): a platform admin creates a tenant from
a template and suspends it, and reads the audit log; tenant staff cannot sign in to the console.
Config on stdin, report on stdout, as portal_walk.py."""
import json
import os
import sys

from axe_selenium_python import Axe
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

config = json.load(sys.stdin)
BASE = config["base"]
SHOTS = config["screenshots"]
os.makedirs(SHOTS, exist_ok=True)
report = {"pages": [], "violations": [], "steps": []}

options = webdriver.ChromeOptions()
for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900", "--lang=en-CA"]:
    options.add_argument(argument)
options.binary_location = config.get("chromium", "/usr/bin/chromium")
browser = webdriver.Chrome(service=Service(config.get("chromedriver", "/usr/bin/chromedriver")), options=options)
wait = WebDriverWait(browser, 30)


def check_page(name):
    axe = Axe(browser)
    axe.inject()
    for violation in axe.run()["violations"]:
        if violation.get("impact") in ("serious", "critical"):
            report["violations"].append({"page": name, "id": violation["id"], "impact": violation["impact"], "help": violation["help"],
                                         "nodes": [{"target": n["target"], "html": n.get("html", "")[:300]} for n in violation["nodes"]][:5]})
    for label, width in (("desktop", 1280), ("phone", 390)):
        browser.set_window_size(width, 900)
        browser.save_screenshot(os.path.join(SHOTS, f"console-{name}-{label}.png"))
    browser.set_window_size(1280, 900)
    report["pages"].append(name)


def submit(form_id):
    form = browser.find_element(By.ID, form_id)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(EC.staleness_of(form))


def login(email, password):
    browser.delete_all_cookies()
    browser.get(BASE + "/console/login")
    browser.find_element(By.ID, "email").send_keys(email)
    browser.find_element(By.ID, "password").send_keys(password)
    submit("login-form")


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


try:
    # Tenant staff are not platform admins: the console refuses them like a wrong password.
    login(config["staff"]["email"], config["staff"]["password"])
    expect(browser.find_elements(By.ID, "login-error"), "tenant staff cannot sign in to the console")
    check_page("login")
    report["steps"].append("tenant staff refused")

    login(config["admin"]["email"], config["admin"]["password"])
    wait.until(EC.presence_of_element_located((By.ID, "create-link")))
    check_page("tenants")
    browser.find_element(By.ID, "create-link").click()
    wait.until(EC.presence_of_element_located((By.ID, "tenant-form")))
    check_page("tenant-new")
    browser.find_element(By.ID, "slug").send_keys(config["slug"])
    browser.find_element(By.ID, "name").send_keys(config["name"])
    submit("tenant-form")
    expect(browser.find_element(By.ID, "done").is_displayed(), "the tenant is provisioned")
    report["steps"].append("admin created a tenant")
    browser.find_element(By.ID, "suspend-reason").send_keys("Console walk: suspended for review")
    submit("suspend-form")
    expect(browser.find_element(By.ID, "done").is_displayed(), "the suspension is confirmed")
    report["statusShown"] = browser.find_element(By.ID, "tenant-status").text
    check_page("tenant")
    report["steps"].append("admin suspended it")
    browser.get(BASE + "/console/audit?tenant=" + config["slug"])
    wait.until(EC.presence_of_element_located((By.ID, "audit-filter")))
    report["auditText"] = browser.find_element(By.TAG_NAME, "main").text
    check_page("audit")
    report["ok"] = True
except Exception as error:  # noqa: BLE001
    report["ok"] = False
    report["error"] = f"{type(error).__name__}: {error}"
    report["url"] = browser.current_url
    try:
        browser.save_screenshot(os.path.join(SHOTS, "console-failure.png"))
    except Exception:  # noqa: BLE001
        pass
finally:
    browser.quit()

print(json.dumps(report))
