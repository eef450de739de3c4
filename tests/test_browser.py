"""Real-browser tests: headless Chromium (Debian ``chromium`` + ``chromium-driver``) driven by
Selenium against ``live_server``. One browser for the whole session; screenshots are saved under
``test-artifacts/screenshots/`` (the run prints the path).

No network but loopback: Chromium runs with background networking, updates, sync and QUIC off
and a fresh profile; Selenium Manager is kept offline and chromedriver is given by path.

Accessibility is checked, not hoped for: every end-user page is run through axe-core (WCAG 2.2 A/AA
rules; ``make axe`` installs it from npm into ``.venv/axe``, ``AXE_CORE_JS`` names another copy) at
desktop and phone widths, and every focus ring reached with the Tab key is measured against the
background it is drawn on (≥ 3:1, WCAG 1.4.11). Admin list pages must fit 1280 px.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile

import pytest
from oauth2_provider.models import AccessToken, Application

from demo_site import client as demo_client
from rar_provider.models import AuthorizationGrant

from .conftest import MONEY_TRANSFER, ROOT, SCREENSHOTS, SCREENSHOTS_TAKEN

os.environ["SE_OFFLINE"] = "true"  # before selenium is imported: Selenium Manager must not go online

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
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
    assert AuthorizationGrant.objects.get().authorization_details == [MONEY_TRANSFER]


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
    # A standard (reusable) consent stays revocable after its code is used; a transactional one is "Used".
    from rar_provider.models import ResourceServer

    ResourceServer.objects.filter(identifier="urn:demo:payments").update(consent_policy="standard")
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
    button = entry.find_element(By.CSS_SELECTOR, "button.danger")
    assert button.accessible_name.startswith("Revoke authorization ")
    assert "Demo Bank App, Payments API, Money transfer" in button.accessible_name
    button.click()
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


# -- accessibility: axe-core and focus rings on every end-user page --------------------------------------

AXE_JS = os.environ.get("AXE_CORE_JS") or str(
    ROOT / ".venv" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
)
#: axe-core's tags for the WCAG 2.0, 2.1 and 2.2 success criteria of levels A and AA.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
#: Desktop and phone (an iPhone 12-15 is 390 CSS pixels wide).
WIDTHS = (1280, 390)


@pytest.fixture(scope="session")
def axe_source() -> str:
    assert os.path.exists(AXE_JS), f"axe-core is missing at {AXE_JS}: run `make axe` (npm install axe-core)"
    with open(AXE_JS, encoding="utf-8") as handle:
        return handle.read()


def axe_violations(browser, axe_source: str) -> list[dict]:
    """axe-core's WCAG A/AA violations on the current page, each as {id, impact, help, targets}."""
    if not browser.execute_script("return typeof window.axe !== 'undefined'"):
        browser.execute_script(axe_source)
    browser.set_script_timeout(60)
    result = browser.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        axe.run(document, {runOnly: {type: "tag", values: arguments[0]}, resultTypes: ["violations"]})
          .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                                targets: v.nodes.map(n => n.target.join(" "))}))))
          .catch(e => done([{id: "axe-error", impact: "critical", help: String(e), targets: []}]));
        """,
        WCAG_TAGS,
    )
    return result


# The colour of the focus ring of the focused element (its own outline, or that of the nearest ancestor
# drawing one for it with :focus-within) and the background it is drawn on: the first opaque
# background below it. Colours as [r, g, b, a].
FOCUS_RING_JS = """
const rgba = c => { const m = c.match(/[\\d.]+/g) || []; return m.map(Number).concat([1]).slice(0, 4); };
let el = document.activeElement;
if (!el || el === document.body) return null;
let ring = el;
while (ring && getComputedStyle(ring).outlineStyle === "none") ring = ring.parentElement;
const target = ring || el;
const style = getComputedStyle(target);
let under = target.parentElement, background = [255, 255, 255, 1];
while (under) {
  const b = rgba(getComputedStyle(under).backgroundColor);
  if (b[3] > 0.5) { background = b; break; }
  under = under.parentElement;
}
return {
  element: el.outerHTML.slice(0, 120),
  style: ring ? style.outlineStyle : "none",
  width: parseFloat(style.outlineWidth) || 0,
  color: rgba(style.outlineColor),
  background: background,
};
"""


def _luminance(rgb) -> float:
    def channel(value):
        value = value / 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(v) for v in rgb[:3])
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(first, second) -> float:
    """WCAG 2 contrast ratio of two sRGB colours (1 to 21)."""
    light, dark = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def focus_ring_problems(browser, limit: int = 40) -> list[str]:
    """Tab through the page; every stop must show a ring ≥ 2 px at ≥ 3:1 against its background."""
    # Start from the top of the page: focus the body (made focusable for a moment), as a fresh load does.
    browser.execute_script(
        "const b = document.body; b.setAttribute('tabindex', '-1'); b.focus(); b.removeAttribute('tabindex');"
        "window.scrollTo(0, 0)"
    )
    problems, seen = [], []
    for _ in range(limit):
        ActionChains(browser).send_keys(Keys.TAB).perform()
        ring = browser.execute_script(FOCUS_RING_JS)
        if ring is None or ring["element"] in seen:
            break
        seen.append(ring["element"])
        if ring["style"] == "none" or ring["width"] < 2:
            problems.append(f"no visible focus ring on {ring['element']}")
            continue
        ratio = contrast(ring["color"], ring["background"])
        if ratio < 3:
            problems.append(
                f"focus ring {ring['color']} on {ring['background']} is {ratio:.2f}:1 on {ring['element']}"
            )
    assert seen, "Tab reached no focusable element"
    return problems


def check_page(browser, request, axe_source: str, name: str) -> None:
    """axe-core and the focus rings at desktop and phone widths; a screenshot of each."""
    size = browser.get_window_size()
    try:
        for width in WIDTHS:
            browser.set_window_size(width, 1000)
            violations = axe_violations(browser, axe_source)
            assert violations == [], f"{name} at {width}px: {json.dumps(violations, indent=2)}"
            assert focus_ring_problems(browser) == [], f"{name} at {width}px"
            assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
            shot(browser, request, f"a11y-{name}-{width}")
    finally:
        browser.set_window_size(size["width"], size["height"])


def test_every_end_user_page_passes_axe_and_shows_focus_at_3_to_1(
    site, browser, request, settings, axe_source
):
    """Login, step-up, consent (one entry and several), callback, Your authorizations, error page."""
    settings.RAR_PROVIDER = {
        **settings.RAR_PROVIDER,
        "CONSENT_HOOKS": ["demo_site.hooks.large_transfers_need_password"],
    }
    browser.get(site.url + "/")
    check_page(browser, request, axe_source, "home")
    verifier, _ = start_pushed(site, browser, [MONEY_TRANSFER])
    wait_for(browser, "#id_username")
    check_page(browser, request, axe_source, "login")
    log_in(browser)
    wait_for(browser, "form input[type=password]#id_password")  # 2,500 > 1,000: step-up first
    check_page(browser, request, axe_source, "step-up")
    field = browser.find_element(By.ID, "id_password")
    field.send_keys("wonderland-42")
    field.send_keys(Keys.ENTER)
    wait_for(browser, "button[name=decision]")
    check_page(browser, request, axe_source, "consent-one-entry")
    approve(browser)
    code_on_callback(browser)
    check_page(browser, request, axe_source, "callback")

    start_pushed(site, browser, [MONEY_TRANSFER, ACCOUNT_INFORMATION])
    wait_for(browser, "#approve-1")
    check_page(browser, request, axe_source, "consent-several-entries")
    approve(browser)
    code_on_callback(browser)

    browser.get(site.url + "/oauth/authorizations/")
    wait_for(browser, "section[id^=authorization-]")
    check_page(browser, request, axe_source, "your-authorizations")

    browser.get(site.url + "/oauth/authorize?client_id=no-such-client&response_type=code")
    wait_for(browser, "[role=alert]")
    check_page(browser, request, axe_source, "error")


def test_focus_ring_contrast_is_measured_not_assumed(site, browser):
    """The check above can fail: the old yellow ring (1.84:1 on white) is reported."""
    browser.get(site.url + "/accounts/login/")
    wait_for(browser, "#id_username")
    browser.execute_script("document.documentElement.style.setProperty('--focus', '#f5b400')")
    problems = focus_ring_problems(browser)
    assert any("is 1.84:1" in problem for problem in problems), problems
    assert contrast([245, 180, 0], [255, 255, 255]) == pytest.approx(1.84, abs=0.01)
    assert contrast([199, 119, 0], [10, 110, 79]) == pytest.approx(1.81, abs=0.01)  # the demo's old orange


def test_axe_reports_a_violation_when_there_is_one(site, browser, axe_source):
    """The axe run is live: an image without alt text on the page is reported."""
    browser.get(site.url + "/accounts/login/")
    wait_for(browser, "#id_username")
    browser.execute_script(
        "const i = document.createElement('img'); i.src = 'data:image/gif;base64,R0lGODlhAQABAAAAACw=';"
        "document.querySelector('main').appendChild(i);"
    )
    assert "image-alt" in [v["id"] for v in axe_violations(browser, axe_source)]


def test_the_fapi_flow_clicked_through_passes_axe(site, browser, request, settings, tmp_path, axe_source):
    """ "Try the FAPI 2.0 flow" as a newcomer uses it (tests/test_demo_fapi.py checks it against the
    server): consent, callback, the DPoP-bound token, the API with DPoP and as Bearer, a refresh."""
    from django.core.management import call_command

    settings.DEMO_FAPI_KEY_FILE = str(tmp_path / "demo-fapi-key.json")
    call_command("rar_demo_fapi_client", "--if-missing", verbosity=0)  # the callback: the live server's
    browser.get(site.url + "/")
    browser.find_element(By.XPATH, "//button[normalize-space()='Try the FAPI 2.0 flow']").click()
    log_in(browser)
    wait_for(browser, "button[name=decision]")
    consent = browser.find_element(By.TAG_NAME, "main").text
    assert "Demo FAPI client is asking for your authorization" in consent
    approve(browser)
    assert code_on_callback(browser) and "/demo/callback/" in browser.current_url
    check_page(browser, request, axe_source, "fapi-callback")
    browser.find_element(By.XPATH, "//button[normalize-space()='Exchange the code for tokens']").click()
    assert wait_for(browser, "#token-type").text == "DPoP"
    jkt = browser.find_element(By.ID, "cnf-jkt").text
    assert jkt and json.loads(browser.find_element(By.ID, "jwt-claims").text)["cnf"] == {"jkt": jkt}
    browser.find_element(By.XPATH, "//button[normalize-space()='Execute this transfer (DPoP)']").click()
    wait_for(browser, "#api-response")
    assert "The API answered HTTP 201 (DPoP)" in browser.find_element(By.TAG_NAME, "main").text
    browser.find_element(By.XPATH, "//button[normalize-space()='Send it as Bearer']").click()
    assert "DPoP-bound" in wait_for(browser, "#api-www-authenticate").text
    assert wait_for(browser, "#bearer-refused")
    check_page(browser, request, axe_source, "fapi-api-refused")
    browser.find_element(By.XPATH, "//button[normalize-space()='Refresh the token']").click()
    assert "still bound to the same key" in wait_for(browser, "#refresh-result").text
    assert browser.find_element(By.ID, "cnf-jkt").text == jkt
    shot(browser, request, "fapi-refreshed")


# -- admin in the browser: list pages at 1280 px, the live preview, the client grant's types --------------


def admin_log_in(site, browser) -> None:
    browser.get(site.url + "/admin/login/")
    wait_for(browser, "#id_username").send_keys("admin")
    field = browser.find_element(By.ID, "id_password")
    field.send_keys("admin-42")
    field.send_keys(Keys.ENTER)
    wait_for(browser, "#site-name")


def test_admin_list_pages_fit_1280_px(site, browser, request):
    # With rows in every list: a grant, a pushed request, tokens.
    verifier, _ = start_pushed(site, browser, [MONEY_TRANSFER, ACCOUNT_INFORMATION])
    log_in(browser)
    wait_for(browser, "button[name=decision]")
    approve(browser)
    assert demo_client.exchange_code(code_on_callback(browser), verifier).status == 200
    start_pushed(site, browser, [MONEY_TRANSFER])
    browser.delete_all_cookies()
    admin_log_in(site, browser)
    browser.set_window_size(1280, 900)
    too_wide = {}
    for page in (
        "resourceserver",
        "authorizationdetailtype",
        "clientpolicy",
        "authorizationgrant",
        "pushedauthorizationrequest",
        "issuedaccesstoken",
        "issuedrefreshtoken",
        "coderedemption",
    ):
        browser.get(f"{site.url}/admin/rar_provider/{page}/")
        wait_for(browser, "#changelist")
        # Neither the page nor the results table (admin gives it its own scroll bar) scrolls sideways.
        overflow = browser.execute_script(
            "const r = document.querySelector('#changelist .results');"
            "return [document.documentElement.scrollWidth - window.innerWidth,"
            "        r ? r.scrollWidth - r.clientWidth : 0]"
        )
        shot(browser, request, f"admin-{page}-1280")
        if max(overflow) > 0:
            too_wide[page] = overflow
    assert too_wide == {}, f"lists that scroll sideways at 1280 px (page, table overflow in px): {too_wide}"


def test_admin_preview_follows_the_sample_and_the_editor_says_if_json_parses(site, browser, request):
    from rar_provider.models import AuthorizationDetailType

    money_transfer = AuthorizationDetailType.objects.get(type="money_transfer")
    admin_log_in(site, browser)
    browser.set_window_size(1280, 1100)
    browser.get(f"{site.url}/admin/rar_provider/authorizationdetailtype/{money_transfer.pk}/change/")
    sample = wait_for(browser, "#rar-preview-sample")
    browser.execute_script("arguments[0].scrollIntoView()", sample)
    sample.clear()
    sample.send_keys(json.dumps({**MONEY_TRANSFER, "beneficiary": "Typed By The Operator"}))
    frame = browser.find_element(By.ID, "rar-preview-frame")
    WebDriverWait(browser, 20).until(lambda b: "Typed" in (frame.get_attribute("src") or ""))
    browser.switch_to.frame(frame)
    try:
        WebDriverWait(browser, 20).until(
            lambda b: "Typed By The Operator" in b.find_element(By.TAG_NAME, "main").text
        )
        assert "2,500.00 USD" in browser.find_element(By.TAG_NAME, "main").text
    finally:
        browser.switch_to.default_content()
    shot(browser, request, "admin-preview")
    # The schema editor: pretty-printed, and a message beside it at once when the text stops parsing.
    editor = browser.find_element(By.ID, "id_json_schema")
    assert editor.get_attribute("value").startswith('{\n  "')
    assert (
        browser.execute_script("return getComputedStyle(arguments[0]).fontFamily", editor).find("monospace")
        != -1
    )
    editor.send_keys(Keys.END, "}")
    status = browser.find_element(By.ID, "id_json_schema_status")
    WebDriverWait(browser, 10).until(lambda b: status.text.startswith("Not valid JSON:"))
    assert editor.get_attribute("aria-invalid") == "true"
    shot(browser, request, "admin-schema-invalid")


def test_admin_client_grant_shows_only_the_chosen_apis_types(site, browser, request):
    from rar_provider.models import AuthorizationDetailType, ClientPolicy, ResourceServer

    notes = ResourceServer.objects.create(name="Notes API", identifier="urn:test:notes")
    AuthorizationDetailType.objects.create(resource_server=notes, type="note", json_schema={})
    policy = ClientPolicy.objects.get(application__client_id="demo-service")
    policy.grants.all().delete()
    admin_log_in(site, browser)
    browser.get(f"{site.url}/admin/rar_provider/clientpolicy/{policy.pk}/change/")
    browser.find_element(By.CSS_SELECTOR, ".add-row a").click()
    select = wait_for(browser, "select[name='grants-0-resource_server']")
    from selenium.webdriver.support.ui import Select

    Select(select).select_by_visible_text(str(notes))

    def visible_types():
        boxes = browser.find_elements(By.CSS_SELECTOR, "input[name='grants-0-detail_types']")
        return sorted(box.find_element(By.XPATH, "..").text for box in boxes if box.is_displayed())

    assert visible_types() == ["note (Notes API)"]
    Select(select).select_by_visible_text("Payments API (urn:demo:payments)")
    assert visible_types() == [
        "account_information (Payments API)",
        "money_transfer (Payments API)",
        "payment_initiation (Payments API)",
    ]
    shot(browser, request, "admin-client-grant")
