// The view of one session: the conversation, the composer, the queue and the decision
// requests, kept up to date over the live-chat WebSocket and resumed by seq after a break.

import { api, newClientMessageId, openLive } from "./api.js";
import { el, formatTime, requestCard, requestCardProblem, resolveRequestCard, statusText } from "./dom.js";
import { renderMarkdown } from "./markdown.js";

/** How many frames one step back in the history loads. */
const olderPage = 100;
/** Waits between reconnection attempts, in milliseconds (the last one repeats). */
const reconnectDelays = [250, 500, 1000, 2000, 3000];
const knownModels = ["opus", "sonnet", "haiku", "gpt-5", "gpt-5-codex"];

/** What one rendering pass needs to merge streamed text and link tool results. */
function renderContext(container) {
  return { container, assistant: null, tools: new Map(), requests: new Map() };
}

export class SessionView {
  /**
   * `session` is the session object of the HTTP API; `connectivity(up)` reports whether the
   * live connection stands; `changed()` is called when the status changes.
   */
  constructor(session, { connectivity, changed }) {
    this.session = session;
    this.id = session.sessionId;
    this.connectivity = connectivity;
    this.changed = changed;
    this.status = session.status;
    this.lastSeq = null;
    this.firstSeq = null;
    this.seen = new Set();
    this.queue = new Map();
    this.socket = null;
    this.attached = false;
    this.closed = false;
    this.attempt = 0;
    this.loadingOlder = false;
    this.reconnectTimer = null;
    this.build();
    this.live = renderContext(this.entries);
    this.requests = new Map();
    /** How each request seen so far was decided, for cards an older page brings later. */
    this.resolutions = new Map();
    /** Tool results shown without their call (the call is older than what is shown), by toolId. */
    this.orphanResults = new Map();
  }

  build() {
    const title = this.session.projectPath ? this.session.projectPath.split("/").filter(Boolean).pop() || this.session.projectPath : this.id;
    this.statusNode = el("span", { className: "status", dataset: { status: this.status } }, this.status);
    this.modelInput = el("input", { id: "model", name: "model", list: "model-options", autocomplete: "off", value: this.session.model || "", placeholder: "default" });
    const models = el("datalist", { id: "model-options" }, knownModels.map((model) => el("option", { value: model })));
    this.modelInput.addEventListener("change", () => this.setModel(this.modelInput.value.trim()));
    const head = el("header", { className: "session-head" },
      el("a", { className: "back", href: "#/" }, "← Sessions"),
      el("div", { className: "session-title" },
        el("h1", {}, title),
        el("p", { className: "meta" },
          `${this.session.agentType} · ${this.session.workspaceName}${this.session.projectPath ? " · " + this.session.projectPath : ""}`)),
      el("div", { className: "session-controls" },
        this.statusNode,
        el("label", { className: "model", for: "model" }, "Model"), this.modelInput, models));
    this.olderButton = el("button", { type: "button", className: "older quiet", hidden: true }, "Load older messages");
    this.olderButton.addEventListener("click", () => this.loadOlder());
    this.entries = el("div", { className: "entries" });
    this.log = el("div", { className: "log", role: "log", "aria-label": "Conversation", tabIndex: 0 }, this.olderButton, this.entries);
    this.log.addEventListener("scroll", () => {
      if (this.log.scrollTop < 40) this.loadOlder();
    });
    this.queueList = el("ul", { className: "queue-list" });
    this.queuePanel = el("section", { className: "queue", "aria-label": "Queued messages", hidden: true },
      el("h2", {}, "Queued"), this.queueList);
    this.problem = el("p", { className: "problem", role: "alert", hidden: true });
    this.textarea = el("textarea", { id: "message", name: "message", rows: 2, placeholder: "Enter sends, Shift+Enter is a new line" });
    this.textarea.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.submit();
      }
    });
    this.interruptButton = el("button", { type: "button", className: "interrupt", hidden: true }, "Interrupt");
    this.interruptButton.addEventListener("click", () => this.interrupt());
    const form = el("form", { className: "composer" },
      el("label", { for: "message" }, "Message"), this.textarea,
      el("div", { className: "composer-actions" }, el("button", { type: "submit", className: "primary" }, "Send"), this.interruptButton));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    this.root = el("section", { className: "session", "aria-label": `Session ${title}` }, head, this.log, this.queuePanel, this.problem, form);
  }

  /** Shows the view in `container` and connects. */
  mount(container) {
    container.replaceChildren(this.root);
    this.updateStatus(this.status);
    this.connect();
  }

  /** Closes the connection for good. */
  destroy() {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    if (this.socket) {
      const socket = this.socket;
      this.socket = null;
      socket.close(1000);
    }
  }

  // The live connection.

  connect() {
    const socket = openLive(this.session.workspaceName);
    this.socket = socket;
    socket.addEventListener("message", (event) => {
      if (this.socket !== socket) return;
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      this.onFrame(frame);
    });
    socket.addEventListener("close", () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.attached = false;
      if (this.closed) return;
      this.connectivity(false);
      const delay = reconnectDelays[Math.min(this.attempt, reconnectDelays.length - 1)];
      this.attempt += 1;
      this.reconnectTimer = setTimeout(() => this.connect(), delay);
    });
  }

  sendFrame(frame) {
    if (!this.socket || !this.attached) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  onFrame(frame) {
    if (typeof frame.seq === "number") {
      this.sessionFrame(frame);
      return;
    }
    switch (frame.type) {
      case "connected": {
        const connect = { type: "connect", sessionId: this.id };
        if (this.lastSeq !== null) connect.resumeFromId = this.lastSeq;
        this.socket.send(JSON.stringify(connect));
        break;
      }
      case "session_joined":
      case "session_started":
        if (frame.model && !this.modelInput.value) this.modelInput.value = frame.model;
        break;
      case "system":
        this.connectionNotice(frame.content || "");
        break;
      case "error":
        this.showProblem(frame);
        break;
      default:
        break; // message_accepted and frames of later versions
    }
  }

  connectionNotice(text) {
    const connected = text.match(/^Connected to session \(status: (\w+)\)$/);
    if (connected) {
      this.attached = true;
      this.attempt = 0;
      this.connectivity(true);
      this.updateStatus(connected[1]);
      this.syncQueue();
      this.fillViewport();
      return;
    }
    if (text === "Session disposed") {
      this.attached = false;
      this.updateStatus("stored");
    }
    this.note(text);
  }

  // Session frames.

  sessionFrame(frame) {
    if (this.seen.has(frame.seq) || (this.lastSeq !== null && frame.seq <= this.lastSeq)) return;
    this.seen.add(frame.seq);
    this.lastSeq = frame.seq;
    if (this.firstSeq === null) {
      this.firstSeq = frame.seq;
      this.olderButton.hidden = this.firstSeq <= 0;
    }
    const atBottom = this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 80;
    this.render(frame, this.live, true);
    if (atBottom) this.log.scrollTop = this.log.scrollHeight;
  }

  /** Renders one frame into `context`; `live` frames also move the status and the queue. */
  render(frame, context, live) {
    const add = (node) => {
      context.container.append(node);
      if (!node.classList.contains("assistant")) context.assistant = null;
      return node;
    };
    switch (frame.type) {
      case "user":
        add(el("div", { className: "entry user", dataset: { seq: frame.seq } },
          el("div", { className: "who" }, "You", el("time", {}, formatTime(frame.timestamp))),
          el("div", { className: "text" }, frame.content)));
        if (live && frame.queueId) this.unqueue(frame.queueId);
        break;
      case "assistant": {
        const current = context.assistant;
        if (current && current.messageId === (frame.messageId ?? null)) {
          current.text += frame.content;
        } else {
          const body = el("div", { className: "text markdown" });
          const node = add(el("div", { className: "entry assistant", dataset: { seq: frame.seq } },
            el("div", { className: "who" }, this.session.agentType), body));
          context.assistant = { messageId: frame.messageId ?? null, text: frame.content, body, node };
        }
        context.assistant.body.replaceChildren(renderMarkdown(context.assistant.text));
        break;
      }
      case "tool_use": {
        const result = el("div", { className: "tool-result", hidden: true });
        const card = add(el("details", { className: "entry tool", dataset: { seq: frame.seq, toolId: frame.toolId || "" } },
          el("summary", {}, el("span", { className: "tool-name" }, frame.toolName || "tool"), " ", el("code", {}, toolSummary(frame.content))),
          el("div", { className: "tool-part" }, el("h4", {}, "Input"), el("pre", {}, prettyJSON(frame.content))),
          result));
        if (frame.toolId) context.tools.set(frame.toolId, { card, result });
        break;
      }
      case "tool_result": {
        const found = frame.toolId ? context.tools.get(frame.toolId) : null;
        const isError = frame.isError === true;
        const part = el("div", { className: "tool-part" }, el("h4", {}, isError ? "Error" : "Result"), el("pre", {}, frame.content));
        if (found) {
          found.result.replaceChildren(part);
          found.result.hidden = false;
          if (isError) found.card.classList.add("failed");
        } else {
          const card = add(el("details", { className: `entry tool${isError ? " failed" : ""}`, dataset: { seq: frame.seq } },
            el("summary", {}, el("span", { className: "tool-name" }, "Tool result")), part));
          // Its call may be on an older page, loaded later: it then moves into that card.
          if (frame.toolId && !this.orphanResults.has(frame.toolId)) this.orphanResults.set(frame.toolId, { card, part, isError });
        }
        break;
      }
      case "done":
        add(el("div", { className: "entry done", dataset: { seq: frame.seq } }, doneText(frame)));
        break;
      case "error":
        add(el("div", { className: "entry error", role: "note", dataset: { seq: frame.seq } }, frame.content));
        break;
      case "system": {
        let notice = null;
        try {
          notice = JSON.parse(frame.content);
        } catch {
          notice = null;
        }
        if (notice && typeof notice === "object" && !Array.isArray(notice)) {
          if (typeof notice.status === "string") {
            if (live) this.updateStatus(notice.status);
            if (notice.status === "interrupted") add(el("div", { className: "entry note", dataset: { seq: frame.seq } }, "Interrupted"));
          }
        } else {
          add(el("div", { className: "entry note", dataset: { seq: frame.seq } }, frame.content));
        }
        break;
      }
      case "permission_request":
      case "question": {
        const card = requestCard(frame, (request, body) => this.answer(request, body, card));
        card.classList.add("entry");
        card.dataset.seq = frame.seq;
        add(card);
        context.requests.set(frame.requestId, card);
        if (this.resolutions.has(frame.requestId)) resolveRequestCard(card, this.resolutions.get(frame.requestId));
        if (!this.requests.has(frame.requestId)) this.requests.set(frame.requestId, card);
        if (live) this.updateStatus(this.status);
        break;
      }
      case "permission_resolved":
      case "question_resolved": {
        this.resolutions.set(frame.requestId, frame);
        const card = context.requests.get(frame.requestId) || this.requests.get(frame.requestId);
        if (card) resolveRequestCard(card, frame);
        if (live) this.updateStatus(this.status);
        break;
      }
      case "queued":
        if (live) this.enqueue(frame);
        break;
      case "queue_cancelled":
        if (live) this.unqueue(frame.queueId);
        break;
      default:
        break;
    }
  }

  note(text) {
    this.live.container.append(el("div", { className: "entry note" }, text));
    this.live.assistant = null;
    this.log.scrollTop = this.log.scrollHeight;
  }

  showProblem(frame) {
    if (frame.requestId) {
      const card = this.requests.get(frame.requestId);
      if (card) {
        requestCardProblem(card, frame.content);
        return;
      }
    }
    this.problem.textContent = frame.content;
    this.problem.hidden = false;
  }

  updateStatus(status) {
    this.status = status;
    const pending = [...this.requests.values()].filter((card) => card.dataset.state === "pending").length;
    const text = statusText(status, pending);
    this.statusNode.textContent = text;
    this.statusNode.dataset.status = pending > 0 ? "waiting" : status;
    this.interruptButton.hidden = status !== "running";
    this.changed();
  }

  // The queue.

  enqueue(frame) {
    if (this.queue.has(frame.queueId)) return;
    const cancel = el("button", { type: "button", className: "quiet", "aria-label": `Cancel queued message: ${frame.content}` }, "Cancel");
    cancel.addEventListener("click", () => this.cancelQueued(frame.queueId));
    const item = el("li", { dataset: { queueId: frame.queueId } }, el("span", { className: "text" }, frame.content), cancel);
    this.queue.set(frame.queueId, item);
    this.queueList.append(item);
    this.queuePanel.hidden = false;
  }

  unqueue(queueId) {
    const item = this.queue.get(queueId);
    if (item) item.remove();
    this.queue.delete(queueId);
    this.queuePanel.hidden = this.queue.size === 0;
  }

  async syncQueue() {
    try {
      const queued = await api("GET", `/v1/sessions/${encodeURIComponent(this.id)}/queue`);
      const ids = new Set(queued.map((entry) => entry.queueId));
      for (const queueId of [...this.queue.keys()]) if (!ids.has(queueId)) this.unqueue(queueId);
      for (const entry of queued) this.enqueue(entry);
    } catch {
      // The next attach tries again.
    }
  }

  // Older history.

  /** Loads older pages while the conversation does not fill the view. */
  async fillViewport() {
    while (!this.closed && this.firstSeq !== null && this.firstSeq > 0 && this.log.scrollHeight <= this.log.clientHeight) {
      if (!(await this.loadOlder())) break;
    }
  }

  /** Loads the page before the oldest frame shown; false when nothing was loaded. */
  async loadOlder() {
    if (this.loadingOlder || this.firstSeq === null || this.firstSeq <= 0) return false;
    this.loadingOlder = true;
    try {
      const before = this.firstSeq;
      const after = Math.max(-1, before - 1 - olderPage);
      const frames = await api("GET", `/v1/sessions/${encodeURIComponent(this.id)}/messages?after=${after}&limit=${olderPage}`);
      const older = frames.filter((frame) => typeof frame.seq === "number" && frame.seq < before && !this.seen.has(frame.seq));
      const context = renderContext(document.createDocumentFragment());
      for (const frame of older) {
        this.seen.add(frame.seq);
        this.render(frame, context, false);
      }
      for (const [requestId, card] of context.requests) if (!this.requests.has(requestId)) this.requests.set(requestId, card);
      // The last call of each toolId on this page takes the result shown alone after it.
      for (const [toolId, tool] of context.tools) {
        const orphan = this.orphanResults.get(toolId);
        if (!orphan || !tool.result.hidden) continue;
        tool.result.replaceChildren(orphan.part);
        tool.result.hidden = false;
        if (orphan.isError) tool.card.classList.add("failed");
        orphan.card.remove();
        this.orphanResults.delete(toolId);
      }
      const height = this.log.scrollHeight;
      this.entries.prepend(context.container);
      this.log.scrollTop += this.log.scrollHeight - height;
      this.firstSeq = after < 0 ? 0 : (older.length ? Math.min(before, older[0].seq) : after + 1);
      this.olderButton.hidden = this.firstSeq <= 0;
      return older.length > 0 || after >= 0;
    } catch {
      return false;
    } finally {
      this.loadingOlder = false;
    }
  }

  // What the person does.

  async submit() {
    const content = this.textarea.value;
    if (!content.trim()) return;
    this.problem.hidden = true;
    const clientMessageId = newClientMessageId();
    if (this.sendFrame({ type: "message", content, clientMessageId })) {
      this.textarea.value = "";
      return;
    }
    try {
      await api("POST", `/v1/sessions/${encodeURIComponent(this.id)}/messages`, { content, clientMessageId });
      this.textarea.value = "";
    } catch (error) {
      this.showProblem({ content: error.message });
    }
  }

  async interrupt() {
    if (this.sendFrame({ type: "interrupt" })) return;
    try {
      await api("POST", `/v1/sessions/${encodeURIComponent(this.id)}/interrupt`);
    } catch (error) {
      this.showProblem({ content: error.message });
    }
  }

  async setModel(model) {
    if (!model) return;
    if (this.sendFrame({ type: "set_model", model })) return;
    try {
      await api("PUT", `/v1/sessions/${encodeURIComponent(this.id)}/model`, { model });
      this.note(`Model set to: ${model}`);
    } catch (error) {
      this.showProblem({ content: error.message });
    }
  }

  async answer(request, body, card) {
    const frame = request.kind === "question" || request.type === "question"
      ? { type: "question_response", requestId: request.requestId, ...body }
      : { type: "permission_response", requestId: request.requestId, decision: body.decision };
    if (this.sendFrame(frame)) return;
    try {
      await api("POST", `/v1/requests/${encodeURIComponent(request.requestId)}`, body);
    } catch (error) {
      requestCardProblem(card, error.message);
    }
  }

  async cancelQueued(queueId) {
    if (this.sendFrame({ type: "cancel_queued", queueId })) return;
    try {
      await api("DELETE", `/v1/sessions/${encodeURIComponent(this.id)}/queue/${encodeURIComponent(queueId)}`);
    } catch (error) {
      this.showProblem({ content: error.message });
    }
  }
}

/** A tool's input in one short line. */
function toolSummary(content) {
  try {
    const input = JSON.parse(content);
    if (input && typeof input === "object") {
      const subject = input.command ?? input.file_path ?? input.path ?? input.pattern ?? input.url;
      if (typeof subject === "string") return subject.length > 80 ? subject.slice(0, 79) + "…" : subject;
    }
  } catch {
    // Not JSON: the text itself.
  }
  const text = String(content);
  return text.length > 80 ? text.slice(0, 79) + "…" : text;
}

function prettyJSON(content) {
  try {
    return JSON.stringify(JSON.parse(content), null, 2);
  } catch {
    return String(content);
  }
}

/** "Done · opus · $0.0123 · 1,200 tokens in, 45 out" with what the agent reported. */
function doneText(frame) {
  const parts = ["Done"];
  if (frame.model) parts.push(frame.model);
  const cost = frame.costUsd ?? frame.totalCostUsd;
  if (typeof cost === "number") parts.push(`$${cost.toFixed(4)}`);
  const usage = frame.usage;
  if (usage && typeof usage === "object") {
    const input = usage.inputTokens ?? usage.input_tokens;
    const output = usage.outputTokens ?? usage.output_tokens;
    const tokens = [];
    if (typeof input === "number") tokens.push(`${input.toLocaleString()} tokens in`);
    if (typeof output === "number") tokens.push(`${output.toLocaleString()} out`);
    if (tokens.length) parts.push(tokens.join(", "));
  }
  return parts.join(" · ");
}
