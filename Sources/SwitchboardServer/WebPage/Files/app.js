// The page: sign-in, the sessions list, the "New session" form, the "Needs you" inbox, and
// the session view (session.js). Routes live in the fragment: #/, #/session/<id>, #/inbox.

import { api, APIError, setReachabilityHandler, setUnauthorizedHandler, storedToken, storeToken } from "./api.js";
import { el, formatTime, requestCard, requestCardProblem, statusText } from "./dom.js";
import { SessionView } from "./session.js";

/** How often the sessions list and the inbox are read again, in milliseconds. */
const pollInterval = 2000;

const app = document.getElementById("app");
const top = document.getElementById("top");
const banner = document.getElementById("banner");
const inboxCount = document.getElementById("inbox-count");

const state = {
  signedIn: false,
  view: null, // the SessionView shown, if any
  route: null,
  sessions: [],
  agents: [],
  pollTimer: null,
  live: true, // whether the live connection of the session view stands
  reachable: true, // whether the last HTTP call got an answer
};

function updateBanner() {
  banner.hidden = state.live && state.reachable;
}

setReachabilityHandler((reachable) => {
  state.reachable = reachable;
  updateBanner();
});

setUnauthorizedHandler(() => signOut("The daemon did not accept the token; sign in again."));

// Sign-in.

/** Takes a token from `#token=…` (and removes it from the address bar). */
function tokenFromFragment() {
  const match = window.location.hash.match(/^#token=([^&]*)/);
  if (!match) return null;
  let token = null;
  try {
    token = decodeURIComponent(match[1]);
  } catch {
    token = null;
  }
  window.history.replaceState(null, "", window.location.pathname + window.location.search);
  return token;
}

function showSignIn(message) {
  state.signedIn = false;
  top.hidden = true;
  document.body.dataset.view = "sign-in";
  const input = el("input", { id: "token", name: "token", type: "password", autocomplete: "current-password", required: true });
  const problem = el("p", { className: "problem", role: "alert", hidden: !message }, message || "");
  const form = el("form", { className: "sign-in" },
    el("h1", {}, "Switchboard"),
    el("p", {}, "Paste the daemon's token (switchboard web prints a link that signs in)."),
    el("label", { for: "token" }, "Token"), input, problem,
    el("button", { type: "submit", className: "primary" }, "Sign in"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const token = input.value.trim();
    if (!token) return;
    storeToken(token);
    if (!(await checkToken())) {
      storeToken(null);
      problem.textContent = "The daemon did not accept this token.";
      problem.hidden = false;
      return;
    }
    signedIn();
  });
  app.replaceChildren(form);
  input.focus();
}

/** Whether the stored token is accepted (reading the agent types on the way). */
async function checkToken() {
  try {
    state.agents = await api("GET", "/v1/agents");
    return true;
  } catch (error) {
    return !(error instanceof APIError && error.status === 401);
  }
}

function signedIn() {
  state.signedIn = true;
  top.hidden = false;
  route();
  poll();
}

function signOut(message) {
  storeToken(null);
  clearTimeout(state.pollTimer);
  if (state.view) state.view.destroy();
  state.view = null;
  state.route = null;
  state.live = true;
  state.reachable = true;
  updateBanner();
  showSignIn(message);
}

document.getElementById("sign-out").addEventListener("click", () => signOut());

// Routing.

window.addEventListener("hashchange", () => {
  if (window.location.hash.startsWith("#token=")) {
    const token = tokenFromFragment();
    if (token) {
      storeToken(token);
      signedIn();
    }
    return;
  }
  if (state.signedIn) route();
});

function route() {
  const hash = window.location.hash || "#/";
  if (hash === state.route) return;
  state.route = hash;
  if (state.view) state.view.destroy();
  state.view = null;
  state.live = true;
  updateBanner();
  const session = hash.match(/^#\/session\/(.+)$/);
  if (session) {
    showSession(decodeURIComponent(session[1]));
  } else if (hash === "#/inbox") {
    showInbox();
  } else {
    showSessions();
  }
}

// The sessions list and the "New session" form.

function layout(main) {
  const sidebar = el("aside", { className: "sidebar", "aria-label": "Sessions" });
  app.replaceChildren(el("div", { className: "layout" }, sidebar, el("div", { className: "content" }, main)));
  renderSidebar(sidebar);
}

function renderSidebar(sidebar) {
  const newButton = el("button", { type: "button", className: "primary", "aria-expanded": "false" }, "New session");
  const formSlot = el("div", { className: "new-session-slot" });
  newButton.addEventListener("click", () => {
    const open = !formSlot.firstChild;
    newButton.setAttribute("aria-expanded", String(open));
    formSlot.replaceChildren(...(open ? [newSessionForm(() => {
      formSlot.replaceChildren();
      newButton.setAttribute("aria-expanded", "false");
      newButton.focus();
    })] : []));
    if (open) formSlot.querySelector("select, input").focus();
  });
  sidebar.append(
    el("div", { className: "sidebar-head" }, el("h2", {}, "Sessions"), newButton),
    formSlot,
    el("ul", { className: "session-list", id: "session-list" }),
  );
  renderSessionList();
}

function newSessionForm(close) {
  const agents = state.agents.filter((agent) => agent.status === "loaded" && agent.agentType);
  const agentSelect = el("select", { id: "new-agent", name: "agentType" },
    agents.map((agent) => el("option", { value: agent.agentType, selected: agent.agentType === "claude" }, agent.agentType)));
  const workspace = el("input", { id: "new-workspace", name: "workspace", value: "@host", required: true, autocomplete: "off" });
  const projectPath = el("input", { id: "new-project", name: "projectPath", autocomplete: "off", placeholder: "/path/to/project" });
  const model = el("input", { id: "new-model", name: "model", autocomplete: "off", placeholder: "default" });
  const problem = el("p", { className: "problem", role: "alert", hidden: true });
  const cancel = el("button", { type: "button", className: "quiet" }, "Cancel");
  cancel.addEventListener("click", close);
  const form = el("form", { className: "new-session", "aria-label": "New session" },
    el("label", { for: "new-agent" }, "Agent"), agentSelect,
    el("label", { for: "new-workspace" }, "Workspace"), workspace,
    el("label", { for: "new-project" }, "Project path"), projectPath,
    el("label", { for: "new-model" }, "Model"), model,
    problem,
    el("div", { className: "form-actions" }, el("button", { type: "submit", className: "primary" }, "Start"), cancel));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { agentType: agentSelect.value, workspace: workspace.value.trim() };
    if (projectPath.value.trim()) body.projectPath = projectPath.value.trim();
    if (model.value.trim()) body.model = model.value.trim();
    try {
      const session = await api("POST", "/v1/sessions", body);
      close();
      window.location.hash = `#/session/${encodeURIComponent(session.sessionId)}`;
      refreshSessions();
    } catch (error) {
      problem.textContent = error.message;
      problem.hidden = false;
    }
  });
  return form;
}

const renderedLists = new WeakMap();

function renderSessionList() {
  const list = document.getElementById("session-list");
  if (!list) return;
  const current = state.view ? state.view.id : null;
  // Only when something changed: the rows stay the same elements between polls.
  const key = JSON.stringify([current, state.sessions]);
  if (renderedLists.get(list) === key) return;
  renderedLists.set(list, key);
  if (state.sessions.length === 0) {
    list.replaceChildren(el("li", { className: "empty" }, "No sessions yet."));
    return;
  }
  list.replaceChildren(...state.sessions.map((session) => {
    const status = statusText(session.status, session.pendingRequests || 0);
    const title = session.projectPath ? session.projectPath.split("/").filter(Boolean).pop() || session.projectPath : session.sessionId;
    return el("li", {},
      el("a", {
        className: "session-item", href: `#/session/${encodeURIComponent(session.sessionId)}`,
        "aria-current": session.sessionId === current ? "page" : null,
        dataset: { sessionId: session.sessionId },
      },
      el("span", { className: "session-name" }, title),
      el("span", { className: "status", dataset: { status: session.pendingRequests > 0 ? "waiting" : session.status } }, status),
      el("span", { className: "meta", title: session.sessionId }, `${session.agentType} · ${session.workspaceName} · ${shortId(session.sessionId)}`),
      el("time", { className: "meta", dateTime: session.lastActivity }, formatTime(session.lastActivity))));
  }));
}

/** The end of a session id, enough to tell sessions of one project apart. */
function shortId(id) {
  const tail = id.split("-").pop();
  return tail.length >= 4 && tail.length < id.length ? tail : id;
}

async function refreshSessions() {
  try {
    state.sessions = await api("GET", "/v1/sessions");
    renderSessionList();
  } catch {
    // Unreachable: the banner says so; the next poll tries again.
  }
}

function showSessions() {
  document.body.dataset.view = "sessions";
  layout(el("div", { className: "placeholder" },
    el("h1", {}, "Sessions"),
    el("p", {}, "Choose a session, or start one with “New session”.")));
}

// The session view.

async function showSession(id) {
  document.body.dataset.view = "session";
  const slot = el("div", { className: "session-slot" }, el("p", { className: "placeholder" }, "Loading…"));
  layout(slot);
  const route = state.route;
  let session;
  try {
    session = await api("GET", `/v1/sessions/${encodeURIComponent(id)}`);
  } catch (error) {
    if (state.route === route) slot.replaceChildren(el("p", { className: "problem", role: "alert" }, error.message));
    return;
  }
  if (state.route !== route) return;
  state.view = new SessionView(session, {
    connectivity: (up) => {
      state.live = up;
      updateBanner();
    },
    changed: () => refreshSessions(),
  });
  state.view.mount(slot);
  renderSessionList();
}

// The "Needs you" inbox.

async function showInbox() {
  document.body.dataset.view = "inbox";
  const list = el("div", { className: "inbox-list", id: "inbox-list" });
  layout(el("section", { className: "inbox", "aria-label": "Needs you" }, el("h1", {}, "Needs you"), list));
  await refreshInbox();
}

const inboxCards = new Map();

async function refreshInbox() {
  let requests;
  try {
    requests = await api("GET", "/v1/requests");
  } catch {
    return;
  }
  inboxCount.textContent = String(requests.length);
  inboxCount.hidden = requests.length === 0;
  const list = document.getElementById("inbox-list");
  if (!list) return;
  const ids = new Set(requests.map((request) => request.requestId));
  for (const [requestId, card] of inboxCards) {
    if (!ids.has(requestId) || !list.contains(card)) inboxCards.delete(requestId);
  }
  for (const request of requests) {
    if (inboxCards.has(request.requestId)) continue;
    const card = requestCard(request, async (answered, body) => {
      try {
        await api("POST", `/v1/requests/${encodeURIComponent(answered.requestId)}`, body);
        refreshInbox();
      } catch (error) {
        requestCardProblem(card, error.message);
      }
    }, { showSession: true });
    inboxCards.set(request.requestId, card);
  }
  const cards = requests.map((request) => inboxCards.get(request.requestId));
  if (cards.length === 0) list.replaceChildren(el("p", { className: "empty" }, "Nothing waits for you."));
  else list.replaceChildren(...cards);
}

// Polling.

async function poll() {
  clearTimeout(state.pollTimer);
  if (!state.signedIn) return;
  await Promise.all([refreshSessions(), refreshInbox()]);
  if (state.signedIn) state.pollTimer = setTimeout(poll, pollInterval);
}

// Start.

const fragmentToken = tokenFromFragment();
if (fragmentToken) storeToken(fragmentToken);
if (storedToken()) {
  checkToken().then((ok) => {
    if (ok) signedIn();
    else signOut("The daemon did not accept the token; sign in again.");
  });
} else {
  showSignIn();
}
