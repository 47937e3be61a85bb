// Small helpers that build elements. Text always goes in as text nodes, never as HTML.

/**
 * Makes an element: `attributes` are set as properties (`className`, `type`, `hidden`…),
 * except `dataset`, `aria-*` and `for`, which are set as attributes; children are nodes or
 * strings (added as text).
 */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("aria-") || key === "for" || key === "role" || key === "list") node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

/** A timestamp for people: the time today, else the date and time. */
export function formatTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const now = new Date();
  if (date.toDateString() === now.toDateString()) return date.toLocaleTimeString();
  return date.toLocaleString();
}

/** The status word a session shows: a pending decision wins over the agent's status. */
export function statusText(status, pendingRequests) {
  if (pendingRequests > 0) return "waiting for a decision";
  return status || "unknown";
}

const decisionLabels = { allow: "Allow", allow_session: "Allow for session", deny: "Deny", answer: "Answer" };
const resolvedLabels = {
  allow: "Allowed",
  allow_session: "Allowed for the session",
  deny: "Denied",
  answer: "Answered",
  cancelled: "Cancelled",
};

/**
 * A card for a decision request (a `permission_request` or `question` frame, or an entry of
 * `GET /v1/requests`). `answer(request, body)` is called with the answer
 * (`{decision}` or `{decision: "answer", answers}`); the card shows the resolution when
 * `resolveRequestCard` is called with the `…_resolved` frame.
 */
export function requestCard(request, answer, { showSession = false } = {}) {
  const isQuestion = request.kind === "question" || request.type === "question";
  const card = el("article", {
    className: "request",
    dataset: { requestId: request.requestId, state: "pending" },
    "aria-label": isQuestion ? "Question" : `Permission request: ${request.toolName || "tool"}`,
  });
  card.append(el("h3", {}, isQuestion ? "The agent asks" : `Allow ${request.toolName || "the tool"}?`));
  if (showSession) {
    card.append(el("p", { className: "request-session" },
      el("a", { href: `#/session/${encodeURIComponent(request.sessionId)}` }, `${request.agentType || "agent"} · ${request.sessionId}`)));
  }
  if (request.content) card.append(el("pre", { className: "request-subject" }, request.content));
  if (!isQuestion && request.input && Object.keys(request.input).length > 0) {
    card.append(el("details", {}, el("summary", {}, "Input"), el("pre", {}, JSON.stringify(request.input, null, 2))));
  }
  const choices = [];
  if (isQuestion && Array.isArray(request.questions)) {
    request.questions.forEach((question, index) => {
      const set = el("fieldset", { className: "question" }, el("legend", {}, question.header ? `${question.header}: ${question.question}` : question.question));
      (question.options || []).forEach((option) => {
        const input = el("input", {
          type: question.multiSelect ? "checkbox" : "radio",
          name: `${request.requestId}-q${index}`,
          value: option.label,
        });
        set.append(el("label", { className: "choice" }, input, " ", option.label, option.description ? el("small", {}, ` ${option.description}`) : null));
      });
      choices.push({ question: question.question, set });
      card.append(set);
    });
  }
  const buttons = el("div", { className: "request-actions" });
  for (const option of request.options || []) {
    const button = el("button", { type: "button", className: option === "deny" ? "deny" : "allow", dataset: { decision: option } },
      decisionLabels[option] || option);
    button.addEventListener("click", () => {
      if (option === "answer") {
        const answers = {};
        for (const { question, set } of choices) {
          const picked = [...set.querySelectorAll("input:checked")].map((input) => input.value);
          if (picked.length) answers[question] = picked.join(", ");
        }
        answer(request, { decision: "answer", answers });
      } else {
        answer(request, { decision: option });
      }
    });
    buttons.append(button);
  }
  card.append(buttons);
  card.append(el("p", { className: "request-outcome", role: "status", hidden: true }));
  return card;
}

/** Shows on a request card how the request was decided, and takes its buttons away. */
export function resolveRequestCard(card, resolution) {
  card.dataset.state = "resolved";
  card.dataset.decision = resolution.decision;
  for (const control of card.querySelectorAll("button, input")) control.disabled = true;
  const actions = card.querySelector(".request-actions");
  if (actions) actions.hidden = true;
  const outcome = card.querySelector(".request-outcome");
  const by = resolution.by === "client" ? resolution.decider : resolution.by;
  let text = `${resolvedLabels[resolution.decision] || resolution.decision}${by ? ` by ${by}` : ""}`;
  if (resolution.message) text += `: ${resolution.message}`;
  if (resolution.answers && Object.keys(resolution.answers).length) text += ` (${Object.values(resolution.answers).join("; ")})`;
  outcome.textContent = text;
  outcome.hidden = false;
}

/** Shows a problem with answering on a request card. */
export function requestCardProblem(card, message) {
  const outcome = card.querySelector(".request-outcome");
  outcome.textContent = message;
  outcome.hidden = false;
}
