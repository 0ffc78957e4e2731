#!/usr/bin/env python3
"""Walks the credit-union portal in headless Chromium, as its staff would (issue 23).

Run by the Swift test `PortalBrowserTests`, which starts both planes, provisions a tenant with its
staff and two open compliance cases, and passes what this walk needs as JSON on stdin. Each role
signs in and does its main task through the pages only; every page visited is checked with axe-core
(no serious or critical violation) and photographed at desktop and phone widths. What the walk did
is printed as JSON on stdout; the Swift test then checks the resulting data through the API.
"""
import http.client
import urllib.parse

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from walk import BASE, browser, check_page, click, config, expect, finish, go, navigate, report, step, submit, wait
from walk import login as sign_in


def login(email, password):
    sign_in("/portal/login", email, password)


def logout():
    click("logout")
    wait.until(EC.presence_of_element_located((By.ID, "login-form")))


def nav_links():
    return [a.get_attribute("href").replace(BASE, "") for a in browser.find_elements(By.CSS_SELECTOR, "nav a")]


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


def walk():
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
    click("enrol-link")
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
    navigate(lambda: language.find_element(By.TAG_NAME, "button").click())
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
    # The confirmed case: draft its Suspicious Transaction Report, read it, find it in the list.
    browser.find_element(By.ID, "grounds").send_keys(config["strGrounds"])
    submit("str-form")
    expect(browser.find_element(By.ID, "report-grounds").text == config["strGrounds"], "the draft shows the grounds")
    check_page("report")
    report["reportPath"] = urllib.parse.urlparse(browser.current_url).path
    go("/portal/compliance/reports")
    check_page("reports")
    step("officer drafted an STR")
    logout()

    # Tenant admin: changes the branding with the live preview, reviews the diff, saves with a reason;
    # forms opened before that save are refused; rolls back to the first version.
    login(config["admin"]["email"], config["admin"]["password"])
    links = nav_links()
    expect("/portal/settings" in links, f"the admin sees Settings: {links}")
    go("/portal/settings")
    check_page("settings")
    first_version = int(browser.find_element(By.ID, "current-version").text)
    report["firstVersion"] = first_version
    click("edit-branding")
    check_page("settings-branding")
    form = browser.find_element(By.ID, "section-form")
    stale = {field.get_attribute("name"): field.get_attribute("value")
             for field in form.find_elements(By.CSS_SELECTOR, "input") if field.get_attribute("type") != "checkbox"}
    stale.update({"primary_color": "#123456"})
    primary = browser.find_element(By.ID, "primary_color")
    primary.clear()
    primary.send_keys("#7A1F5C")
    bar_colour = "return getComputedStyle(document.querySelector('.app-bar')).backgroundColor"
    wait.until(lambda d: d.execute_script(bar_colour) == "rgb(122, 31, 92)")
    name = browser.find_element(By.ID, "display_name")
    name.clear()
    name.send_keys("Walked Credit Union")
    wait.until(lambda d: d.find_element(By.ID, "preview-name").text == "Walked Credit Union")
    report["previewFollowed"] = True
    step("admin saw the preview follow the form")
    submit("section-form")
    changes = browser.find_element(By.ID, "changes").text
    expect("branding.primary_color" in changes and "#7A1F5C" in changes, f"the review shows the diff: {changes}")
    expect(browser.execute_script(bar_colour) == "rgb(122, 31, 92)", "the review previews the new colours")
    check_page("settings-review")
    section_json = browser.find_element(By.CSS_SELECTOR, "#save-form input[name=section_json]").get_attribute("value")
    browser.find_element(By.ID, "reason").send_keys("Portal walk: new colours")
    submit("save-form")
    expect(browser.find_element(By.ID, "done").is_displayed(), "the save is confirmed")
    report["savedVersion"] = int(browser.find_element(By.ID, "current-version").text)
    report["brandApplied"] = browser.execute_script("return getComputedStyle(document.querySelector('header.top')).backgroundColor")
    step("admin saved the branding")
    # Forms opened on the first version, sent now: refused with a clear message, nothing saved.
    report["staleReview"] = raw_post("/portal/settings/sections/branding/review", stale)
    report["staleSave"] = raw_post("/portal/settings/sections/branding/save",
                                   {"_csrf": stale["_csrf"], "version": str(first_version), "section_json": section_json,
                                    "reason": "a stale form"})
    click("rollback-%d" % first_version)
    expect(browser.find_element(By.ID, "changes").text, "the rollback shows what it undoes")
    check_page("settings-rollback")
    browser.find_element(By.ID, "reason").send_keys("Portal walk: back to the first colours")
    submit("rollback-form")
    expect(browser.find_element(By.ID, "done").is_displayed(), "the rollback is confirmed")
    report["rolledBackVersion"] = int(browser.find_element(By.ID, "current-version").text)
    step("admin rolled back")
    # Webhook endpoints and the audit log: read-only pages for the admin.
    links = nav_links()
    expect("/portal/webhooks" in links and "/portal/audit" in links, f"the admin sees Webhooks and Audit log: {links}")
    go("/portal/webhooks")
    check_page("webhooks")
    browser.find_element(By.CSS_SELECTOR, "#webhooks a")
    navigate(lambda: browser.find_element(By.CSS_SELECTOR, "#webhooks a").click())
    wait.until(EC.presence_of_element_located((By.ID, "h-deliveries")))
    check_page("webhook")
    go("/portal/tontine-cycles")
    check_page("tontine-cycles")
    go("/portal/audit")
    check_page("audit")
    report["auditText"] = browser.find_element(By.TAG_NAME, "main").text
    step("admin read webhooks and the audit log")
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


finish(walk, "failure.png")
