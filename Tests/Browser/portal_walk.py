#!/usr/bin/env python3
"""Walks the credit-union portal in headless Chromium, as its staff would (issue 23).

Run by the Swift test `PortalBrowserTests`, which starts both planes, provisions a tenant with its
staff and two open compliance cases, and passes what this walk needs as JSON on stdin. Each role
signs in and does its main task through the pages only; every page visited is checked with axe-core
(no serious or critical violation) and photographed at desktop and phone widths. What the walk did
is printed as JSON on stdout; the Swift test then checks the resulting data through the API.
"""
import http.client
import json
import os
import sys
import urllib.parse

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


def driver():
    options = webdriver.ChromeOptions()
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--host-resolver-rules=MAP *.localhost 127.0.0.1", "--window-size=1280,900", "--lang=en-CA"]:
        options.add_argument(argument)
    options.binary_location = config.get("chromium", "/usr/bin/chromium")
    return webdriver.Chrome(service=Service(config.get("chromedriver", "/usr/bin/chromedriver")), options=options)


browser = driver()
# Bounded waits on what a page shows, never a fixed sleep.
wait = WebDriverWait(browser, 30)


def step(text):
    report["steps"].append(text)


def check_page(name):
    """axe-core on the current page, then screenshots at desktop and phone widths."""
    axe = Axe(browser)
    axe.inject()
    results = axe.run()
    for violation in results["violations"]:
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


def go(path):
    browser.get(BASE + path)


def submit(form_id):
    """Submits a form with its submit button and waits for the next page."""
    form = browser.find_element(By.ID, form_id)
    button = form.find_element(By.CSS_SELECTOR, "button[type=submit]")
    button.click()
    wait.until(EC.staleness_of(form))


def login(email, password):
    browser.delete_all_cookies()
    go("/portal/login")
    browser.find_element(By.ID, "email").send_keys(email)
    browser.find_element(By.ID, "password").send_keys(password)
    submit("login-form")


def logout():
    submit_button = browser.find_element(By.ID, "logout")
    submit_button.click()
    wait.until(EC.presence_of_element_located((By.ID, "login-form")))


def nav_links():
    return [a.get_attribute("href").replace(BASE, "") for a in browser.find_elements(By.CSS_SELECTOR, "nav a")]


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


def session_cookie():
    for cookie in browser.get_cookies():
        if cookie["name"] == "nzila_portal":
            return cookie["value"]
    raise AssertionError("no portal session cookie")


def raw_post(path, fields, cookie=True, origin=None):
    """A form post outside the browser (a forged or replayed one), with the session cookie. It goes
    to 127.0.0.1 with the tenant's Host header (Python does not resolve *.localhost itself)."""
    parsed = urllib.parse.urlparse(BASE)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Host": parsed.netloc}
    if cookie:
        headers["Cookie"] = "nzila_portal=" + session_cookie()
    if origin:
        headers["Origin"] = origin
    connection = http.client.HTTPConnection("127.0.0.1", parsed.port, timeout=60)
    try:
        connection.request("POST", path, body=urllib.parse.urlencode(fields), headers=headers)
        return connection.getresponse().status
    finally:
        connection.close()


try:
    # A wrong password shows the form again with a message, never a session.
    go("/portal/login")
    check_page("login")
    login(config["teller"]["email"], "not the password")
    expect("login-error" in browser.page_source, "a wrong password is explained on the form")
    step("wrong password refused on the form")

    # Teller: enrol a member, open an account, deposit; a replayed deposit form posts once.
    login(config["teller"]["email"], config["teller"]["password"])
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "nav")))
    check_page("teller-dashboard")
    links = nav_links()
    expect("/portal/members" in links, f"the teller sees Members: {links}")
    expect("/portal/compliance/cases" not in links, f"the teller does not see Compliance: {links}")
    go("/portal/members")
    check_page("members")
    browser.find_element(By.ID, "enrol-link").click()
    wait.until(EC.presence_of_element_located((By.ID, "enrol-form")))
    check_page("member-new")
    new = config["newMember"]
    browser.find_element(By.ID, "full_name").send_keys(new["name"])
    browser.find_element(By.ID, "email").send_keys(new["email"])
    browser.find_element(By.ID, "phone").send_keys("+14165550123")
    browser.find_element(By.ID, "password").send_keys("member password 42!")
    submit("enrol-form")
    expect(browser.find_element(By.ID, "done").is_displayed(), "the enrolment is confirmed")
    member_url = browser.current_url
    report["memberId"] = member_url.split("/portal/members/")[1].split("?")[0]
    step("teller enrolled a member")
    browser.find_element(By.ID, "currency").send_keys("CAD")
    submit("open-account-form")
    expect(browser.find_element(By.ID, "accounts").is_displayed(), "the new account is listed")
    step("teller opened a chequing account")
    form = browser.find_element(By.ID, "cash-form")
    replay = {field.get_attribute("name"): field.get_attribute("value")
              for field in form.find_elements(By.CSS_SELECTOR, "input[type=hidden]")}
    replay.update({"direction": "deposit", "account": form.find_element(By.ID, "cash-account").get_attribute("value"), "amount": "125.50"})
    browser.find_element(By.ID, "amount").send_keys("125.50")
    submit("cash-form")
    expect("125.50" in browser.find_element(By.ID, "accounts").text, "the balance shows the deposit")
    check_page("member-detail")
    report["replayStatus"] = raw_post("/portal/members/%s/cash" % report["memberId"], replay)
    step("teller deposited 125.50 and the same form posted again")

    # Forged posts: no CSRF token, a foreign Origin, no session.
    forged = {"full_name": "Forged", "email": "forged@example.test", "password": "forged password 123"}
    report["forgedNoToken"] = raw_post("/portal/members", forged)
    report["forgedWrongToken"] = raw_post("/portal/members", dict(forged, _csrf="x" * 43))
    report["forgedOrigin"] = raw_post("/portal/members", dict(forged, _csrf=replay["_csrf"]), origin="https://evil.example")
    report["forgedNoSession"] = raw_post("/portal/members", dict(forged, _csrf=replay["_csrf"]), cookie=False)

    # French, per staff member: the choice sticks to the next pages.
    language = browser.find_element(By.CSS_SELECTOR, "form[action='/portal/language']")
    language.find_element(By.TAG_NAME, "button").click()
    wait.until(EC.staleness_of(language))
    expect(browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "fr", "the page is in French")
    go("/portal/members")
    expect("Membres" in browser.find_element(By.TAG_NAME, "h1").text, "the members page is in French")
    check_page("members-fr")
    step("teller switched to French")
    logout()

    # Compliance officer: release one case, reject the other.
    login(config["officer"]["email"], config["officer"]["password"])
    links = nav_links()
    expect("/portal/compliance/cases" in links, f"the officer sees Compliance: {links}")
    go("/portal/compliance/cases")
    check_page("cases")
    for case_id, decision in ((config["releaseCase"], "release"), (config["rejectCase"], "reject")):
        go("/portal/compliance/cases/" + case_id)
        if decision == "release":
            check_page("case")
        browser.find_element(By.ID, "decide-" + decision).click()
        browser.find_element(By.ID, "reason").send_keys(f"Portal walk: {decision}")
        submit("decision-form")
        expect(browser.find_element(By.ID, "done").is_displayed(), f"the {decision} is confirmed")
        step(f"officer decided {decision}")
    logout()

    # Auditor: reads, changes nothing, sees no link or form it may not use.
    login(config["auditor"]["email"], config["auditor"]["password"])
    go("/portal/members")
    expect(not browser.find_elements(By.ID, "enrol-link"), "the auditor sees no enrol link")
    go("/portal/members/" + report["memberId"])
    expect(not browser.find_elements(By.ID, "cash-form"), "the auditor sees no cash form")
    expect(not browser.find_elements(By.ID, "open-account-form"), "the auditor sees no account form")
    go("/portal/members/new")
    report["auditorEnrolPage"] = "role" in browser.page_source.lower()
    check_page("forbidden")
    step("auditor saw no action it may not take")
    logout()
    report["ok"] = True
except Exception as error:  # noqa: BLE001 - the walk reports what failed, with the page it was on
    report["ok"] = False
    report["error"] = f"{type(error).__name__}: {error}"
    report["url"] = browser.current_url
    try:
        browser.save_screenshot(os.path.join(SHOTS, "failure.png"))
    except Exception:  # noqa: BLE001
        pass
finally:
    browser.quit()

print(json.dumps(report))
