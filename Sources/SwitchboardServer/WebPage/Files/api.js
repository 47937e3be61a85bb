// How the page talks to the daemon: the token, HTTP calls and the live-chat WebSocket.

const storageKey = "switchboard.token";

/** The token kept in this browser, or null. */
export function storedToken() {
  try {
    return window.localStorage.getItem(storageKey);
  } catch {
    return null;
  }
}

/** Keeps the token in this browser (null forgets it). */
export function storeToken(token) {
  try {
    if (token) window.localStorage.setItem(storageKey, token);
    else window.localStorage.removeItem(storageKey);
  } catch {
    // Storage refused (private mode): the token lives until the page is closed.
  }
  currentToken = token;
}

let currentToken = storedToken();

/** Called when the daemon refuses the token. */
let onUnauthorized = () => {};
export function setUnauthorizedHandler(handler) {
  onUnauthorized = handler;
}

/** Called with true when the daemon answers, false when it cannot be reached. */
let onReachable = () => {};
export function setReachabilityHandler(handler) {
  onReachable = handler;
}

/** An answer of the daemon that is not a success: its status, code and message. */
export class APIError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/**
 * Calls the HTTP API with the bearer token; returns the parsed JSON body (null when empty).
 * Throws APIError for an error answer, and a TypeError when the daemon cannot be reached.
 */
export async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${currentToken}` };
  const init = { method, headers, cache: "no-store" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    onReachable(false);
    throw error;
  }
  onReachable(true);
  const text = await response.text();
  let json = null;
  if (text) {
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
  }
  if (!response.ok) {
    const code = json && json.error ? json.error.code : "http_" + response.status;
    const message = json && json.error ? json.error.message : `The daemon answered ${response.status}.`;
    if (response.status === 401) onUnauthorized();
    throw new APIError(response.status, code, message);
  }
  return json;
}

/** The token as the WebSocket subprotocol `switchboard.bearer.<base64url>`. */
function tokenSubprotocol(token) {
  const bytes = new TextEncoder().encode(token);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return "switchboard.bearer." + btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
}

/**
 * Opens the live-chat WebSocket of `workspace`. The token travels as a subprotocol, never in
 * the URL (a browser's WebSocket cannot set an Authorization header).
 */
export function openLive(workspace) {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  const url = `${scheme}//${window.location.host}/v1/live/${workspace}`;
  return new WebSocket(url, ["switchboard", tokenSubprotocol(currentToken)]);
}

/** A fresh id for a message, so that a send is never doubled. */
export function newClientMessageId() {
  if (window.crypto && window.crypto.randomUUID) return "web-" + window.crypto.randomUUID();
  return "web-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
}
