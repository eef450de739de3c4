"""Real-browser tests: headless Chromium (Debian ``chromium`` + ``chromium-driver``) driven by
Selenium against ``live_server``. One browser for the whole session; screenshots are saved under
``test-artifacts/screenshots/`` (the run prints the path).

No network but loopback: Chromium runs with background networking, updates, sync and QUIC off
and a fresh profile; Selenium Manager is kept offline and chromedriver is given by path.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile

import pytest
from oauth2_provider.models import AccessToken, Application

from demo_site import client as demo_client
from rar_provider.models import Consent

from .conftest import MONEY_TRANSFER, SCREENSHOTS, SCREENSHOTS_TAKEN

os.environ["SE_OFFLINE"] = "true"  # before selenium is imported: Selenium Manager must not go online

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ACCOUNT_INFORMATION = {"type": "account_information", "actions": ["list_accounts", "read_balances"]}


@pytest.fixture(scope="session")
def browser():
    profile = tempfile.mkdtemp(prefix="rar-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        "--window-size=1024,1100",
    ):
        options.add_argument(argument)
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def site(live_server, load_demo_data, settings, browser):
    """The demo against the live server: the demo client pushes to it and gets its callback there."""
    callback = f"{live_server.url}/demo/callback/"
    settings.DEMO_AS_URL = live_server.url
    settings.DEMO_REDIRECT_URI = callback
    app = Application.objects.get(client_id="demo-client")
    app.redirect_uris = f"{app.redirect_uris} {callback}"
    app.save()
    browser.get(f"{live_server.url}/")
    browser.delete_all_cookies()
    browser.set_window_size(1024, 1100)
    return live_server


def shot(browser, request, step: str) -> None:
    path = SCREENSHOTS / f"{request.node.name}-{step}.png"
    browser.save_screenshot(str(path))
    SCREENSHOTS_TAKEN.append(path)


def wait_for(browser, css: str):
    return WebDriverWait(browser, 20).until(EC.presence_of_element_located((By.CSS_SELECTOR, css)))


def log_in(browser, password: str = "wonderland-42") -> None:
    wait_for(browser, "#id_username").send_keys("alice")
    field = browser.find_element(By.ID, "id_password")
    field.send_keys(password)
    field.send_keys(Keys.ENTER)  # the keyboard is enough


def approve(browser) -> None:
    browser.find_element(By.CSS_SELECTOR, "button[name=decision][value=allow]").click()


def start_pushed(site, browser, details) -> tuple[str, str]:
    """The demo client pushes ``details`` over HTTP; the browser opens the authorization URL."""
    verifier, challenge = demo_client.pkce_pair()
    reply = demo_client.push_authorization_request(details, "browser-state", challenge)
    assert reply.status == 201, reply.body
    browser.get(site.url + demo_client.authorize_url(reply.body["request_uri"]))
    return verifier, reply.body["request_uri"]


def code_on_callback(browser) -> str:
    return wait_for(browser, "#code").text


def test_money_transfer_consent_reads_like_a_confirmation_and_reaches_the_callback(
    site, browser, request, settings
):
    """The demo as a newcomer uses it: step-up for > 1,000, the transfer shown, approved, exchanged."""
    settings.RAR_PROVIDER = {
        **settings.RAR_PROVIDER,
        "CONSENT_HOOKS": ["demo_site.hooks.large_transfers_need_password"],
    }
    browser.get(site.url + "/")
    shot(browser, request, "1-home")
    browser.find_element(By.XPATH, "//button[normalize-space()='Try a money transfer']").click()
    log_in(browser)
    # The demo's hook: 2,500 USD is above 1,000, so the password is asked again first.
    wait_for(browser, "form input[type=password]#id_password")
    assert "Confirm it is you" in browser.find_element(By.TAG_NAME, "h1").text
    shot(browser, request, "2-step-up")
    field = browser.find_element(By.ID, "id_password")
    field.send_keys("wonderland-42")
    field.send_keys(Keys.ENTER)
    wait_for(browser, "button[name=decision]")
    page = browser.find_element(By.TAG_NAME, "main").text
    assert "Demo Bank App is asking for your authorization" in page
    assert browser.find_element(By.CSS_SELECTOR, ".amount").text == "2,500.00 USD"
    assert "Hanna Herwitz" in page and "xxxxxxxxxxx1234" in page
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en-us"  # the active language
    shot(browser, request, "3-consent")
    # Mobile: nothing wider than the screen.
    browser.set_window_size(390, 844)
    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    shot(browser, request, "4-consent-mobile")
    browser.set_window_size(1024, 1100)
    approve(browser)
    assert code_on_callback(browser)
    assert "/demo/callback/" in browser.current_url
    shot(browser, request, "5-callback")
    browser.find_element(By.XPATH, "//button[normalize-space()='Exchange the code for tokens']").click()
    body = json.loads(wait_for(browser, "#token-response").text)
    assert body["authorization_details"] == [MONEY_TRANSFER]
    shot(browser, request, "6-token-response")


def test_untick_one_entry_yields_a_token_with_the_other(site, browser, request):
    verifier, _ = start_pushed(site, browser, [MONEY_TRANSFER, ACCOUNT_INFORMATION])
    log_in(browser)
    box = wait_for(browser, "#approve-1")
    label = browser.find_element(By.CSS_SELECTOR, "label[for=approve-1]")
    assert "Authorize this Account information" in label.text
    assert box.is_selected()
    box.send_keys(Keys.SPACE)  # unticked with the keyboard
    assert not box.is_selected()
    # Keyboard focus is visible.
    assert browser.execute_script("return getComputedStyle(document.activeElement).outlineStyle") == "solid"
    assert browser.find_element(By.ID, "approve-0").is_selected()
    shot(browser, request, "consent-one-unticked")
    approve(browser)
    reply = demo_client.exchange_code(code_on_callback(browser), verifier)
    assert reply.status == 200, reply.body
    assert reply.body["authorization_details"] == [MONEY_TRANSFER]
    assert Consent.objects.get().authorization_details == [MONEY_TRANSFER]


def test_script_in_a_detail_is_shown_as_text(site, browser, request):
    evil = {
        **MONEY_TRANSFER,
        "beneficiary": "<script>window.pwned = 1; document.title = 'pwned'</script>",
        "subject": '<img src="x" onerror="window.pwned = 2">',
    }
    start_pushed(site, browser, [evil])
    log_in(browser)
    wait_for(browser, "button[name=decision]")
    text = browser.find_element(By.TAG_NAME, "main").text
    assert "<script>window.pwned = 1; document.title = 'pwned'</script>" in text
    assert '<img src="x" onerror="window.pwned = 2">' in text
    assert browser.execute_script("return window.pwned === undefined")
    assert browser.title != "pwned"
    assert not browser.find_elements(By.CSS_SELECTOR, "main script, main img")
    shot(browser, request, "script-as-text")


def test_your_authorizations_page_revokes_a_grant(site, browser, request):
    verifier, _ = start_pushed(site, browser, [MONEY_TRANSFER])
    log_in(browser)
    wait_for(browser, "button[name=decision]")
    approve(browser)
    tokens = demo_client.exchange_code(code_on_callback(browser), verifier)
    assert tokens.status == 200 and AccessToken.objects.count() == 1
    browser.get(site.url + "/")
    browser.find_element(By.LINK_TEXT, "Your authorizations").click()
    entry = wait_for(browser, "section[id^=authorization-]")
    assert "Hanna Herwitz" in entry.text and "2,500.00 USD" in entry.text and "Active" in entry.text
    shot(browser, request, "1-authorizations")
    entry.find_element(By.XPATH, ".//button[normalize-space()='Revoke']").click()
    status = wait_for(browser, "[role=status]")
    assert "You revoked the authorization you gave Demo Bank App." in status.text
    entry = browser.find_element(By.CSS_SELECTOR, "section[id^=authorization-]")
    assert "Revoked" in entry.text and not entry.find_elements(By.TAG_NAME, "button")
    shot(browser, request, "2-revoked")
    assert AccessToken.objects.count() == 0
    refreshed = demo_client._post(
        "/oauth/token", {"grant_type": "refresh_token", "refresh_token": tokens.body["refresh_token"]}
    )
    assert refreshed.status == 400 and refreshed.body["error"] == "invalid_grant"
