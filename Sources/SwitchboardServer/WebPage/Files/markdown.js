// A small Markdown renderer that builds DOM nodes and sets only textContent: nothing the
// agent writes is ever parsed as HTML. It knows fenced code blocks, headings, lists,
// block quotes, paragraphs, inline code, bold, italics and links (http and https only).

/** Renders `text` as Markdown into a new DocumentFragment. */
export function renderMarkdown(text) {
  const fragment = document.createDocumentFragment();
  const lines = String(text).replaceAll("\r\n", "\n").split("\n");
  let i = 0;
  let paragraph = [];
  const flush = () => {
    if (paragraph.length) {
      const p = document.createElement("p");
      appendInline(p, paragraph.join("\n"));
      fragment.append(p);
      paragraph = [];
    }
  };
  while (i < lines.length) {
    const line = lines[i];
    const fence = line.match(/^\s*(`{3,}|~{3,})\s*([\w+.-]*)\s*$/);
    if (fence) {
      flush();
      const marker = fence[1];
      const body = [];
      i += 1;
      while (i < lines.length && !lines[i].trim().startsWith(marker)) {
        body.push(lines[i]);
        i += 1;
      }
      i += 1; // the closing fence (or the end of the text, while it streams)
      const pre = document.createElement("pre");
      const code = document.createElement("code");
      if (fence[2]) code.dataset.language = fence[2];
      code.textContent = body.join("\n");
      pre.append(code);
      fragment.append(pre);
      continue;
    }
    const heading = line.match(/^(#{1,6})\s+(.*)$/);
    if (heading) {
      flush();
      const h = document.createElement("h" + Math.min(6, heading[1].length + 2));
      appendInline(h, heading[2]);
      fragment.append(h);
      i += 1;
      continue;
    }
    if (/^\s*([-*+]|\d{1,9}[.)])\s+/.test(line)) {
      flush();
      const ordered = /^\s*\d/.test(line);
      const list = document.createElement(ordered ? "ol" : "ul");
      while (i < lines.length) {
        const item = lines[i].match(ordered ? /^\s*\d{1,9}[.)]\s+(.*)$/ : /^\s*[-*+]\s+(.*)$/);
        if (!item) break;
        const li = document.createElement("li");
        appendInline(li, item[1]);
        list.append(li);
        i += 1;
      }
      fragment.append(list);
      continue;
    }
    if (/^\s*>/.test(line)) {
      flush();
      const quote = [];
      while (i < lines.length && /^\s*>/.test(lines[i])) {
        quote.push(lines[i].replace(/^\s*>\s?/, ""));
        i += 1;
      }
      const blockquote = document.createElement("blockquote");
      blockquote.append(renderMarkdown(quote.join("\n")));
      fragment.append(blockquote);
      continue;
    }
    if (line.trim() === "") {
      flush();
    } else {
      paragraph.push(line);
    }
    i += 1;
  }
  flush();
  return fragment;
}

const inlinePattern =
  /(`+)([\s\S]*?[^`])\1(?!`)|\*\*([^*\n]+?)\*\*|__([^_\n]+?)__|\*([^*\s][^*\n]*?)\*|\b_([^_\s][^_\n]*?)_\b|\[([^\]\n]+)\]\(([^)\s]+)\)|(https?:\/\/[^\s<>()]+[^\s<>().,;:!?'"])/g;

/** Appends the inline Markdown of `text` to `parent` as text and element nodes. */
export function appendInline(parent, text) {
  let last = 0;
  for (const match of text.matchAll(inlinePattern)) {
    if (match.index > last) appendText(parent, text.slice(last, match.index));
    last = match.index + match[0].length;
    if (match[2] !== undefined) {
      const code = document.createElement("code");
      code.textContent = match[2];
      parent.append(code);
    } else if (match[3] !== undefined || match[4] !== undefined) {
      const strong = document.createElement("strong");
      appendInline(strong, match[3] ?? match[4]);
      parent.append(strong);
    } else if (match[5] !== undefined || match[6] !== undefined) {
      const em = document.createElement("em");
      appendInline(em, match[5] ?? match[6]);
      parent.append(em);
    } else if (match[7] !== undefined) {
      const link = safeLink(match[8]);
      if (link) {
        appendInline(link, match[7]);
        parent.append(link);
      } else {
        appendText(parent, match[0]);
      }
    } else if (match[9] !== undefined) {
      const link = safeLink(match[9]);
      if (link) {
        link.textContent = match[9];
        parent.append(link);
      } else {
        appendText(parent, match[0]);
      }
    }
  }
  if (last < text.length) appendText(parent, text.slice(last));
}

function appendText(parent, text) {
  const parts = text.split("\n");
  parts.forEach((part, index) => {
    if (index > 0) parent.append(document.createElement("br"));
    if (part) parent.append(document.createTextNode(part));
  });
}

/** A link element for an http or https URL; null for any other scheme. */
function safeLink(href) {
  let url;
  try {
    url = new URL(href);
  } catch {
    return null;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  const a = document.createElement("a");
  a.href = url.href;
  a.rel = "noopener noreferrer";
  a.target = "_blank";
  return a;
}
