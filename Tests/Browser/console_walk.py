#!/usr/bin/env python3
"""Walks the platform console in headless Chromium (issue 23): a platform admin creates a tenant from
a template and suspends it, and reads the audit log; tenant staff cannot sign in to the console.
Config on stdin, report on stdout, as portal_walk.py."""
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from walk import BASE, browser, check_page, click, config, expect, finish, login, report, step, submit, wait


def walk():
    # Tenant staff are not platform admins: the console refuses them like a wrong password.
    login("/console/login", config["staff"]["email"], config["staff"]["password"])
    expect(browser.find_elements(By.ID, "login-error"), "tenant staff cannot sign in to the console")
    check_page("console-login")
    step("tenant staff refused")

    login("/console/login", config["admin"]["email"], config["admin"]["password"])
    wait.until(EC.presence_of_element_located((By.ID, "create-link")))
    check_page("console-tenants")
    click("create-link")
    wait.until(EC.presence_of_element_located((By.ID, "tenant-form")))
    check_page("console-tenant-new")
    browser.find_element(By.ID, "slug").send_keys(config["slug"])
    browser.find_element(By.ID, "name").send_keys(config["name"])
    submit("tenant-form")
    expect(browser.find_element(By.ID, "done").is_displayed(), "the tenant is provisioned")
    step("admin created a tenant")
    browser.find_element(By.ID, "suspend-reason").send_keys("Console walk: suspended for review")
    submit("suspend-form")
    expect(browser.find_element(By.ID, "done").is_displayed(), "the suspension is confirmed")
    report["statusShown"] = browser.find_element(By.ID, "tenant-status").text
    check_page("console-tenant")
    step("admin suspended it")
    browser.get(BASE + "/console/audit?tenant=" + config["slug"])
    wait.until(EC.presence_of_element_located((By.ID, "audit-filter")))
    report["auditText"] = browser.find_element(By.TAG_NAME, "main").text
    check_page("console-audit")
    # The fleet pages: versions and failed tenants, the warm pool, the signing keys, the doctor.
    for link, marker, name in (("/console/fleet", "latest-version", "console-fleet"), ("/console/keys", "keys", "console-keys"),
                               ("/console/doctor", "main", "console-doctor")):
        expect(link in [a.get_attribute("href").replace(BASE, "") for a in browser.find_elements(By.CSS_SELECTOR, "nav a")],
               f"the admin sees {link} in the navigation")
        browser.get(BASE + link)
        wait.until(EC.presence_of_element_located((By.ID, marker)))
        check_page(name)
    browser.get(BASE + "/console/fleet")
    report["latestVersion"] = int(browser.find_element(By.ID, "latest-version").text)
    browser.get(BASE + "/console/keys")
    report["keysText"] = browser.find_element(By.ID, "keys").text
    step("admin read the fleet, keys and doctor pages")


finish(walk, "console-failure.png")
