#!/usr/bin/env python3
"""The web page in a real headless Chromium, against a real `switchboard serve` with the
scripted plugin. Run by WebPageBrowserTests (Tests/SwitchboardCLITests), which starts the
daemon and passes, in the environment:

  WEBUI_BASE_URL     http://127.0.0.1:<port>
  WEBUI_TOKEN        the daemon's token
  WEBUI_DAEMON_PID   the daemon's pid (the script restarts the daemon once)
  WEBUI_SWITCHBOARD  the switchboard executable, WEBUI_CONFIG its config file
  WEBUI_PROJECT      a project directory for the sessions
  WEBUI_ARTIFACTS    where the screenshots go

Every wait has a deadline (WebDriverWait); the script never sleeps to wait for something.
It prints one line per step and `webui: ok` at the end; any failure exits with status 1
after saving failure.png."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import traceback
import urllib.error
import urllib.request

import websocket
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

BASE = os.environ["WEBUI_BASE_URL"]
TOKEN = os.environ["WEBUI_TOKEN"]
PORT = BASE.rsplit(":", 1)[1]
ARTIFACTS = os.environ["WEBUI_ARTIFACTS"]
PROJECT = os.environ["WEBUI_PROJECT"]
WAIT = 30  # seconds, for every wait

restarted_daemon = None


def step(text):
    print(f"webui: {text}", flush=True)


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def http(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(BASE + path, data=data, method=method,
                                     headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read().decode()
        return json.loads(text) if text else None


class OtherClient:
    """A second client of the daemon: a plain WebSocket with the token in the header."""

    def __init__(self):
        self.ws = websocket.create_connection(f"ws://127.0.0.1:{PORT}/v1/live/@host",
                                              header=[f"Authorization: Bearer {TOKEN}"], timeout=WAIT)
        self.wait_for(lambda f: f.get("type") == "connected")

    def send(self, frame):
        self.ws.send(json.dumps(frame))

    def wait_for(self, predicate):
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            frame = json.loads(self.ws.recv())
            if predicate(frame):
                return frame
        raise AssertionError("the other client did not get the frame it waited for")

    def close(self):
        self.ws.close()


def make_driver():
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1280,900", "--lang=en-US", "--no-first-run", "--disable-extensions"]:
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    return webdriver.Chrome(options=options, service=service)


def wait(driver, condition, message, timeout=WAIT):
    # The page replaces elements as it updates: a stale one means "look again".
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.05,
                             ignored_exceptions=[NoSuchElementException, StaleElementReferenceException]).until(lambda d: condition(d))
    except TimeoutException as error:
        raise AssertionError(f"{message} (waited {timeout} s)") from error


def button(driver, text, scope=None):
    root = scope or driver
    return root.find_element(By.XPATH, f".//button[normalize-space()='{text}']")


def field(driver, label):
    """The control whose <label> reads `label` (its accessible name)."""
    node = driver.find_element(By.XPATH, f"//label[normalize-space()='{label}']")
    return driver.find_element(By.ID, node.get_attribute("for"))


def visible(driver, css):
    return [e for e in driver.find_elements(By.CSS_SELECTOR, css) if e.is_displayed()]


def texts(driver, css):
    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, css)]


def shot(driver, name):
    path = os.path.join(ARTIFACTS, name + ".png")
    driver.save_screenshot(path)
    step(f"screenshot {path}")


def console_errors(driver, allowed=()):
    """The browser console's errors, except those containing one of `allowed`."""
    entries = driver.get_log("browser")
    return [e for e in entries if e["level"] == "SEVERE" and not any(a in e["message"] for a in allowed)]


def new_session(driver, agent, model=""):
    driver.get(BASE + "/#/")
    button_new = wait(driver, lambda d: button(d, "New session"), "no New session button")
    button_new.click()
    wait(driver, lambda d: d.find_element(By.ID, "new-agent").is_displayed(), "the New session form did not open")
    Select(field(driver, "Agent")).select_by_value(agent)
    check(field(driver, "Workspace").get_attribute("value") == "@host", "the workspace does not default to @host")
    field(driver, "Project path").send_keys(PROJECT)
    if model:
        field(driver, "Model").send_keys(model)
    button(driver, "Start").click()
    wait(driver, lambda d: "#/session/" in d.current_url and visible(d, "#message"), "the new session did not open")
    return driver.current_url.split("#/session/", 1)[1]


def send(driver, text):
    box = field(driver, "Message")
    box.send_keys(text)
    box.send_keys(Keys.ENTER)


def entry_texts(driver, kind):
    return [e.find_element(By.CSS_SELECTOR, ".text").text for e in driver.find_elements(By.CSS_SELECTOR, f".entries .entry.{kind}")]


def status(driver):
    return driver.find_element(By.CSS_SELECTOR, ".session-head .status").text


def accessible_names_missing(driver):
    return driver.execute_script("""
        const missing = [];
        for (const node of document.querySelectorAll('button, input, select, textarea')) {
          if (node.closest('[hidden]') || node.type === 'hidden') continue;
          const named = (node.labels && node.labels.length > 0) || node.getAttribute('aria-label')
            || (node.tagName === 'BUTTON' && node.textContent.trim() !== '')
            || (node.closest('label') !== null);
          if (!named) missing.push(node.outerHTML.slice(0, 120));
        }
        return missing;""")


def run(driver):
    step("sign in through the fragment")
    driver.get(f"{BASE}/#token={TOKEN}")
    wait(driver, lambda d: visible(d, "#sign-out"), "the page did not sign in from #token=")
    check(TOKEN not in driver.current_url, f"the token is still in the address bar: {driver.current_url}")
    check(driver.execute_script("return localStorage.getItem('switchboard.token')") == TOKEN, "the token was not kept")
    check(console_errors(driver) == [], "console errors after sign-in")

    step("create a session from the form")
    chat = new_session(driver, "claude", model="opus")
    check(driver.find_element(By.CSS_SELECTOR, ".session-title h1").text == os.path.basename(PROJECT), "the title is not the project")

    step("send a message and see the streamed reply")
    box = field(driver, "Message")
    box.send_keys("Hello from the page")
    box.send_keys(Keys.SHIFT, Keys.ENTER)
    box.send_keys("second line")
    check(box.get_attribute("value") == "Hello from the page\nsecond line", "Shift+Enter did not make a new line")
    check(entry_texts(driver, "user") == [], "Shift+Enter sent the message")
    box.send_keys(Keys.ENTER)
    wait(driver, lambda d: entry_texts(d, "user") == ["Hello from the page\nsecond line"], "the user message is not shown")
    check(box.get_attribute("value") == "", "the message box was not emptied")
    wait(driver, lambda d: visible(d, ".interrupt"), "no Interrupt button while running")
    wait(driver, lambda d: any("$0.0123" in t and "1,200 tokens in" in t and "opus" in t for t in texts(d, ".entry.done")),
         "no done line with model, cost and tokens")
    wait(driver, lambda d: not visible(d, ".interrupt"), "the Interrupt button stayed after the turn")
    replies = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".entry.assistant .text")]
    check(any("Hello from the page" in r for r in replies), f"the echo reply is missing: {replies}")
    check(any("Here is what I found" in r for r in replies), f"the streamed reply is missing: {replies}")
    # Streamed deltas of one reply are one block, rendered as Markdown, safely.
    found = [e for e in driver.find_elements(By.CSS_SELECTOR, ".entry.assistant") if "Here is what I found" in e.text]
    check(len(found) == 1, "the streamed deltas did not join into one reply")
    reply = found[0]
    check([li.text for li in reply.find_elements(By.CSS_SELECTOR, "ul li")] == ["README.md", "Package.swift"], "the list is not rendered")
    check(reply.find_element(By.CSS_SELECTOR, "pre code").text == "swift build", "the code block is not rendered")
    check(reply.find_element(By.CSS_SELECTOR, "strong").text == "careful", "bold is not rendered")
    links = [a.get_attribute("href") for a in reply.find_elements(By.CSS_SELECTOR, "a")]
    check(links == ["https://example.com/docs"], f"links: {links}")
    check("<img src=x onerror=alert(1)>" in reply.text, "the HTML in the reply was not shown as text")
    check(driver.find_elements(By.CSS_SELECTOR, ".entries img") == [], "HTML from the agent became an element")
    tools = driver.find_elements(By.CSS_SELECTOR, ".entry.tool")
    check(len(tools) == 2, f"expected 2 tool cards, found {len(tools)}")
    tools[0].find_element(By.TAG_NAME, "summary").click()
    wait(driver, lambda d: "README.md" in tools[0].find_element(By.CSS_SELECTOR, ".tool-result").text, "the tool result is not in its card")
    check("Input" in tools[0].text and "ls" in tools[0].text, "the tool input is not in its card")
    check("failed" in tools[1].get_attribute("class"), "the failed tool is not marked")
    shot(driver, "session-view")

    step("a second client's message shows live")
    other = OtherClient()
    other.send({"type": "connect", "sessionId": chat})
    other.wait_for(lambda f: f.get("type") == "system" and str(f.get("content", "")).startswith("Connected to session"))
    other.send({"type": "message", "content": "Hello from another client"})
    wait(driver, lambda d: "Hello from another client" in entry_texts(d, "user"), "the other client's message did not show")
    wait(driver, lambda d: any(t == "Hello from another client" for t in texts(d, ".entry.assistant .text")), "its reply did not show")
    other.close()

    step("the model picker")
    model = field(driver, "Model")
    model.clear()
    model.send_keys("sonnet", Keys.TAB)
    wait(driver, lambda d: "Model set to: sonnet" in texts(d, ".entry.note"), "the model change was not confirmed")

    step("a permission request answered from the page")
    asker = new_session(driver, "asker")
    send(driver, "Make notes")
    card = wait(driver, lambda d: visible(d, ".request[data-state='pending']")[0] if visible(d, ".request[data-state='pending']") else None,
                "no permission card")
    check([b.text for b in card.find_elements(By.CSS_SELECTOR, "button")] == ["Allow", "Allow for session", "Deny"], "the card's buttons")
    check("touch notes.txt" in card.text, "the card does not say what runs")
    wait(driver, lambda d: status(d) == "waiting for a decision", "the status does not say it waits for a decision")
    wait(driver, lambda d: any(e.text == "waiting for a decision" for e in d.find_elements(By.CSS_SELECTOR, ".session-list .status")),
         "the sessions list does not show the waiting session")
    shot(driver, "permission-card")
    # With the keyboard: Tab from the message box reaches Send; the card's Allow answers to Enter.
    field(driver, "Message").send_keys(Keys.TAB)
    check(driver.switch_to.active_element.text == "Send", "Tab from the message box does not reach Send")
    allow = button(driver, "Allow", card)
    driver.execute_script("arguments[0].focus()", allow)
    driver.switch_to.active_element.send_keys(Keys.ENTER)
    wait(driver, lambda d: card.get_attribute("data-state") == "resolved" and card.find_element(By.CSS_SELECTOR, ".request-outcome").text.startswith("Allowed by client-"),
         "the card does not show the page's answer")
    wait(driver, lambda d: "Created notes.txt." in texts(d, ".entry.assistant .text"), "the agent did not go on after Allow")

    step("a permission request answered by another client updates the page")
    send(driver, "Make more notes")
    wait(driver, lambda d: len(visible(d, ".request[data-state='pending']")) == 1, "no second permission card")
    pending = http("GET", f"/v1/requests?session={asker}")
    check(len(pending) == 1, f"pending requests: {pending}")
    other = OtherClient()
    other.send({"type": "connect", "sessionId": asker, "resumeFromId": 1 << 40})
    other.wait_for(lambda f: f.get("type") == "system" and str(f.get("content", "")).startswith("Connected to session"))
    other.send({"type": "permission_response", "requestId": pending[0]["requestId"], "decision": "deny", "message": "Not from the page"})
    other.wait_for(lambda f: f.get("type") == "permission_resolved")
    other.close()
    wait(driver, lambda d: any(o.text.startswith("Denied by client-") and o.text.endswith(": Not from the page") for o in d.find_elements(By.CSS_SELECTOR, ".request-outcome")),
         "the other client's answer did not reach the page")
    wait(driver, lambda d: not visible(d, ".request[data-state='pending'] button"), "the answered card still has buttons")

    step("the Needs you inbox")
    send(driver, "Notes once more")
    wait(driver, lambda d: len(visible(d, ".request[data-state='pending']")) == 1, "no third permission card")
    driver.find_element(By.ID, "nav-inbox").click()
    inbox_card = wait(driver, lambda d: (visible(d, ".inbox-list .request") or [None])[0], "the inbox does not list the request")
    check([b.text for b in inbox_card.find_elements(By.CSS_SELECTOR, "button")] == ["Allow", "Allow for session", "Deny"], "inbox buttons")
    check(asker in inbox_card.text, "the inbox card does not name the session")
    wait(driver, lambda d: d.find_element(By.ID, "inbox-count").text == "1", "the inbox count is not 1")
    shot(driver, "inbox")
    button(driver, "Allow for session", inbox_card).click()
    wait(driver, lambda d: "Nothing waits for you." in d.find_element(By.ID, "inbox-list").text, "the inbox did not empty")
    driver.get(f"{BASE}/#/session/{asker}")
    wait(driver, lambda d: any(o.text == "Allowed for the session by http" for o in d.find_elements(By.CSS_SELECTOR, ".request-outcome")),
         "the session does not show the inbox's answer")

    step("a question answered from the page")
    new_session(driver, "quiz")
    send(driver, "Pick a color")
    question = wait(driver, lambda d: (visible(d, ".request[data-state='pending']") or [None])[0], "no question card")
    check("Color: Which color?" in question.text, f"the question is not shown: {question.text}")
    check([b.text for b in question.find_elements(By.CSS_SELECTOR, "button")] == ["Answer", "Deny"], "the question's buttons")
    question.find_element(By.XPATH, ".//label[contains(normalize-space(), 'Blue')]").click()
    button(driver, "Answer", question).click()
    wait(driver, lambda d: question.find_element(By.CSS_SELECTOR, ".request-outcome").text.startswith("Answered by client-")
         and question.find_element(By.CSS_SELECTOR, ".request-outcome").text.endswith("(Blue)"), "the answer is not shown on the card")
    wait(driver, lambda d: "Blue it is." in texts(d, ".entry.assistant .text"), "the agent did not go on after the answer")

    step("queue and interrupt")
    hanger = new_session(driver, "hanger")
    send(driver, "Long task")
    wait(driver, lambda d: status(d) == "running" and visible(d, ".interrupt"), "no running status and Interrupt button")
    send(driver, "Next task")
    queued = wait(driver, lambda d: (visible(d, ".queue-list li") or [None])[0], "the queued message is not shown")
    check("Next task" in queued.text, "the queued message text")
    queued.find_element(By.XPATH, ".//button[normalize-space()='Cancel']").click()
    wait(driver, lambda d: not visible(d, ".queue"), "the cancelled message stayed queued")
    button(driver, "Interrupt").click()
    wait(driver, lambda d: status(d) == "interrupted" and not visible(d, ".interrupt"), "the interrupt did not stop the turn")
    wait(driver, lambda d: "Interrupted" in texts(d, ".entry.note"), "no Interrupted note")
    check(http("GET", f"/v1/sessions/{hanger}/queue") == [], "the queue is not empty")

    step("reload and see the history (older pages load when scrolling up)")
    driver.get(f"{BASE}/#/session/{chat}")
    driver.refresh()
    wait(driver, lambda d: "Model set to: sonnet" not in texts(d, ".entry.note") and visible(d, "#message"), "the session did not load again")

    def scrolled_to_first(d):
        d.execute_script("const log = document.querySelector('.log'); if (log) log.scrollTop = 0;")
        return entry_texts(d, "user")[:1] == ["Hello from the page\nsecond line"]

    wait(driver, scrolled_to_first, "the start of the history did not load")
    check(entry_texts(driver, "user") == ["Hello from the page\nsecond line", "Hello from another client"],
          f"history: {entry_texts(driver, 'user')}")
    check(not visible(driver, ".older"), "the Load older button is still shown at the start")
    alone = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".entry.tool .tool-name") if e.text == "Tool result"]
    check(alone == [], "a tool result is shown apart from its call after paging the history")
    errors = console_errors(driver)
    check(errors == [], f"console errors before the restart: {errors}")

    step("the daemon restarts while the page is open")
    global restarted_daemon
    os.kill(int(os.environ["WEBUI_DAEMON_PID"]), signal.SIGTERM)
    wait(driver, lambda d: d.find_element(By.ID, "banner").is_displayed(), "no banner while disconnected")
    shot(driver, "disconnected")

    def daemon_gone(_):
        try:
            urllib.request.urlopen(BASE + "/health", timeout=2)
            return False
        except (urllib.error.URLError, ConnectionError, OSError):
            return True

    wait(driver, daemon_gone, "the daemon did not stop listening")

    def process_gone(_):
        # Exited: gone, or a zombie its parent (the Swift test) has not reaped yet.
        try:
            with open(f"/proc/{os.environ['WEBUI_DAEMON_PID']}/stat") as stat:
                return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
        except FileNotFoundError:
            return True

    wait(driver, process_gone, "the daemon did not exit", timeout=90)
    restarted_daemon = subprocess.Popen([os.environ["WEBUI_SWITCHBOARD"], "serve", "--config", os.environ["WEBUI_CONFIG"], "--port", PORT],
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = restarted_daemon.stdout.readline()
    check("listening on" in line, f"the daemon did not start again: {line!r}")
    # Frames the page has not seen: sent by another client before or while it reconnects.
    http("POST", f"/v1/sessions/{chat}/messages", {"content": "Sent while you were away", "clientMessageId": "webui-away-1"})
    wait(driver, lambda d: not d.find_element(By.ID, "banner").is_displayed(), "the banner stayed after the daemon came back")
    wait(driver, lambda d: "Sent while you were away" in texts(d, ".entry.assistant .text"), "the missed reply did not show")
    check(entry_texts(driver, "user") == ["Hello from the page\nsecond line", "Hello from another client", "Sent while you were away"],
          f"after the restart: {entry_texts(driver, 'user')}")
    seqs = [e.get_attribute("data-seq") for e in driver.find_elements(By.CSS_SELECTOR, ".entries [data-seq]")]
    step("entries: " + json.dumps(driver.execute_script(
        "return [...document.querySelectorAll('.entries > *')].map(e => e.dataset.seq + ':' + e.className + ':' + e.textContent.slice(0, 30))")))
    check(len(seqs) == len(set(seqs)), f"frames shown twice: {seqs}")
    check(texts(driver, ".entry.assistant .text").count("Sent while you were away") == 1, "the missed reply shows twice")
    # While the daemon was down the browser logged the refused connections; nothing else.
    errors = console_errors(driver, allowed=("ERR_CONNECTION_REFUSED", "WebSocket connection to", "net::ERR_"))
    check(errors == [], f"console errors around the restart: {errors}")

    step("a phone-sized window shows one column")
    driver.set_window_size(390, 844)
    driver.get(f"{BASE}/#/")
    wait(driver, lambda d: visible(d, ".sidebar") and not visible(d, ".content"), "the list is not alone on a phone")
    width = driver.execute_script("return document.documentElement.clientWidth")
    sidebar = driver.find_element(By.CSS_SELECTOR, ".sidebar").rect
    check(sidebar["x"] == 0 and sidebar["width"] >= width - 1, f"the list is not full width: {sidebar} of {width}")
    shot(driver, "phone-sessions")
    driver.find_element(By.CSS_SELECTOR, f".session-item[data-session-id='{chat}']").click()
    wait(driver, lambda d: visible(d, "#message") and not visible(d, ".sidebar"), "the session is not alone on a phone")
    log = driver.find_element(By.CSS_SELECTOR, ".log").rect
    check(log["x"] == 0 and log["width"] >= width - 1, f"the conversation is not full width: {log} of {width}")
    check(driver.execute_script("return document.documentElement.scrollWidth") <= width, "the page scrolls sideways on a phone")
    check(accessible_names_missing(driver) == [], f"controls without a name: {accessible_names_missing(driver)}")
    shot(driver, "phone-session")
    driver.set_window_size(1280, 900)

    step("sign out, and sign in with the Token field")
    button(driver, "Sign out").click()
    token_field = wait(driver, lambda d: field(d, "Token"), "no Token field after Sign out")
    check(driver.execute_script("return localStorage.getItem('switchboard.token')") is None, "the token was kept after Sign out")
    check(token_field.get_attribute("type") == "password", "the Token field is not a password field")
    token_field.send_keys("not-the-token")
    button(driver, "Sign in").click()
    wait(driver, lambda d: any("did not accept" in e.text for e in visible(d, ".problem")), "a wrong token was not refused")
    field(driver, "Token").send_keys(TOKEN, Keys.ENTER)
    wait(driver, lambda d: visible(d, ".session-item"), "signing in with the Token field did not work")
    driver.get(f"{BASE}/#/")
    wait(driver, lambda d: len(visible(d, ".session-item")) == 4 and visible(d, ".placeholder"), "the sessions list")
    shot(driver, "sessions-list")
    check(accessible_names_missing(driver) == [], f"controls without a name: {accessible_names_missing(driver)}")
    errors = console_errors(driver, allowed=("401 (Unauthorized)",))
    check(errors == [], f"console errors at the end: {errors}")


def main():
    os.makedirs(ARTIFACTS, exist_ok=True)
    driver = make_driver()
    try:
        run(driver)
        step("ok")
        return 0
    except Exception:
        traceback.print_exc()
        try:
            driver.save_screenshot(os.path.join(ARTIFACTS, "failure.png"))
            print("webui: console: " + json.dumps(driver.get_log("browser")), file=sys.stderr)
        except Exception:
            pass
        return 1
    finally:
        driver.quit()
        if restarted_daemon is not None:
            restarted_daemon.send_signal(signal.SIGTERM)
            try:
                restarted_daemon.wait(timeout=30)
            except subprocess.TimeoutExpired:
                restarted_daemon.kill()


if __name__ == "__main__":
    sys.exit(main())
