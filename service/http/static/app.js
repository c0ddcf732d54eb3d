/* coopclf web page: classify an article through the JSON API and show each paragraph's areas.
   Vanilla JavaScript, no build step, no third-party code. */
"use strict";

(() => {
  const PALETTE_SIZE = 8;
  const REASONS = {
    empty: "Nothing is left of this paragraph once whitespace and markup are removed, so the model did not judge it.",
    too_short: "The paragraph has fewer than 3 words, too few for the model to judge.",
    not_english: "The paragraph does not look like English, the only language the model reads, so it was not judged.",
  };
  const NETWORK_ERROR = "Could not reach the coopclf service. Check that it is running and that " +
    "this computer is connected, then try again.";

  const state = { labels: [], names: {}, version: null };
  const $ = (id) => document.getElementById(id);

  /** Create an element with attributes/properties and children (strings become text nodes). */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key === "dataset") Object.assign(node.dataset, value);
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  const plural = (n, one, many) => `${n.toLocaleString("en")} ${n === 1 ? one : (many || one + "s")}`;
  const percent = (x) => `${Math.round(x * 100)}%`;
  const sentence = (s) => {
    const t = String(s).trim();
    if (!t) return t;
    const capital = t[0].toUpperCase() + t.slice(1);
    return /[.!?]$/.test(capital) ? capital : capital + ".";
  };

  function displayName(label) {
    if (state.names[label]) return state.names[label];
    const words = label.replace(/_/g, " ");
    return words.charAt(0).toUpperCase() + words.slice(1);
  }

  function colourClass(label) {
    let i = state.labels.indexOf(label);
    if (i < 0) {
      state.labels.push(label);
      i = state.labels.length - 1;
    }
    return `area-${i % PALETTE_SIZE}`;
  }

  /* ---------- talking to the API ---------- */

  class ApiError extends Error {
    constructor(message, status) {
      super(message);
      this.status = status; // the HTTP status, or undefined when the service could not be reached
    }
  }

  /** A problem+json (or any failed) response in plain words. */
  function problemMessage(response, body) {
    if (body && typeof body.detail === "string" && body.detail.trim()) {
      const long = /has (\d+) characters; the limit is (\d+)/.exec(body.detail);
      if (long && typeof body.index === "number") {
        return `Paragraph ${body.index + 1} is too long: it has ${Number(long[1]).toLocaleString("en")} ` +
          `characters and the service accepts at most ${Number(long[2]).toLocaleString("en")}. ` +
          "Split it into shorter paragraphs separated by blank lines.";
      }
      if (typeof body.type === "string" && body.type.endsWith(":request-too-costly") && typeof body.limit === "number") {
        // The page asks for evidence, which counts each character 4 times against the limit.
        return `The article is too long to classify at once: this service takes at most ` +
          `${Math.floor(body.limit / 4).toLocaleString("en")} characters with highlighted evidence. ` +
          "Classify it in shorter parts.";
      }
      const title = typeof body.title === "string" && body.title ? `${body.title}: ` : "";
      return title + sentence(body.detail);
    }
    if (response.status >= 500) {
      return `The service failed to answer (HTTP ${response.status} ${response.statusText}). ` +
        "Try again in a moment.";
    }
    return `The service refused the request (HTTP ${response.status} ${response.statusText}).`;
  }

  async function api(path, options) {
    let response;
    try {
      response = await fetch(path, {
        ...options,
        headers: {
          "Accept": "application/json",
          ...(options && options.body ? { "Content-Type": "application/json" } : {}),
          ...(options && options.headers),
        },
      });
    } catch (err) {
      throw new ApiError(NETWORK_ERROR);
    }
    let body = null;
    try {
      body = await response.json();
    } catch (err) {
      body = null;
    }
    if (!response.ok) throw new ApiError(problemMessage(response, body), response.status);
    if (body === null || typeof body !== "object") {
      throw new ApiError("The service sent an answer this page cannot read. Try reloading the page.");
    }
    return body;
  }

  const postJson = (path, payload, headers) => api(path, { method: "POST", body: JSON.stringify(payload), headers });

  /* The feedback token (COOPCLF_FEEDBACK_TOKEN) the analyst pasted, kept for this tab only. */
  const TOKEN_KEY = "coopclf.feedbackToken";
  const TOKEN_MESSAGES = {
    401: "Paste the feedback token in \u201cFeedback token for sending corrections\u201d above the paragraphs first.",
    403: "The feedback token is not the right one. Check it with your administrator and paste it again " +
      "above the paragraphs.",
    404: "This service does not record corrections: its administrator has not set a feedback token.",
  };

  function feedbackToken() {
    try {
      return (sessionStorage.getItem(TOKEN_KEY) || "").trim();
    } catch (err) {
      return ($("feedback-token").value || "").trim(); // storage disabled: use the field as it is
    }
  }

  function rememberToken(value) {
    try {
      sessionStorage.setItem(TOKEN_KEY, value.trim());
    } catch (err) {
      /* storage disabled: feedbackToken() reads the field */
    }
  }

  async function loadModel() {
    const info = $("model-info");
    try {
      const model = await api("/v1/model");
      state.labels = Array.isArray(model.labels) ? [...model.labels] : [];
      state.names = model.display_names || {};
      state.version = model.version;
      info.textContent = `Model ${model.version} · ${plural(state.labels.length, "area")}`;
    } catch (err) {
      info.textContent = "Model details unavailable";
      info.title = err.message;
    }
  }

  /* ---------- messages ---------- */

  function showError(message, heading = "The article could not be classified.") {
    const box = $("error");
    box.replaceChildren(el("strong", { text: `${heading} ` }), message);
    box.hidden = false;
    $("status").textContent = "";
  }

  function clearError() {
    const box = $("error");
    box.hidden = true;
    box.replaceChildren();
  }

  /* ---------- classify ---------- */

  let busy = false;

  async function classify() {
    if (busy) return;
    const textarea = $("document");
    const text = textarea.value;
    clearError();
    if (!text.trim()) {
      $("results").hidden = true;
      showError("Paste an article into the text box or open a .txt file first.", "There is nothing to classify yet.");
      textarea.focus();
      return;
    }
    busy = true;
    const button = $("classify");
    button.disabled = true;
    button.textContent = "Classifying…";
    $("results").setAttribute("aria-busy", "true");
    $("status").textContent = "Classifying the article…";
    try {
      const result = await postJson("/v1/classify", { document: text, explain: true });
      render(result, text);
      const s = result.summary;
      $("status").textContent = s.paragraph_count === 0
        ? "No paragraphs found in the text."
        : `Classified ${plural(s.paragraph_count, "paragraph")}; ` +
          `found ${plural(s.labels.length, "cooperation area")}.`;
      $("results").focus({ preventScroll: false });
    } catch (err) {
      $("results").hidden = true;
      showError(err instanceof ApiError ? err.message : `The page failed to show the result (${err.message}).`);
    } finally {
      busy = false;
      button.disabled = false;
      button.textContent = "Classify";
      $("results").removeAttribute("aria-busy");
    }
  }

  function render(result, text) {
    const labels = state.labels.length ? state.labels
      : Object.keys((result.paragraphs[0] || {}).scores || {});
    if (!state.labels.length) state.labels = [...labels];
    const codepoints = Array.from(text); // API offsets count Unicode code points, not UTF-16 units
    renderSummary(result);
    const list = $("paragraphs");
    const names = result.country_names || {};
    list.replaceChildren(...result.paragraphs.map((p) => paragraphCard(p, codepoints, labels, names)));
    $("results").hidden = false;
  }

  function renderSummary(result) {
    const s = result.summary;
    const found = s.labels;
    const carrying = new Set(found.flatMap((label) => s.paragraphs[label] || []));
    const summaryText = $("summary-text");
    if (s.paragraph_count === 0) {
      summaryText.textContent = "The text has no paragraphs to classify.";
    } else if (found.length === 0) {
      summaryText.textContent = `The model found no cooperation area in this article's ${plural(s.paragraph_count, "paragraph")}.`;
    } else {
      summaryText.replaceChildren(
        "This article touches ", el("strong", { text: plural(found.length, "cooperation area") }),
        ` of ${state.labels.length}, in ${carrying.size} of its ${plural(s.paragraph_count, "paragraph")}.`,
      );
    }
    const names = result.country_names || {};
    const parties = (result.parties || []).map((code) => names[code] || code);
    const partiesNode = $("summary-parties");
    partiesNode.hidden = parties.length === 0;
    partiesNode.replaceChildren(
      el("span", { class: "parties-label", text: parties.length > 2 ? "Parties: " : "Between: " }),
      el("strong", { class: "parties", text: parties.join(" – ") }),
      result.date ? el("span", { class: "parties-date", text: ` · dated ${result.date}` }) : null,
    );
    $("summary-areas").replaceChildren(...found.map((label) => {
      const indices = s.paragraphs[label] || [];
      return el("li", { class: "summary-area", dataset: { label } },
        chip(label),
        el("span", { class: "summary-count", text: plural(indices.length, "paragraph") }),
        el("span", { class: "summary-links" }, indices.map((i) =>
          el("a", { href: `#paragraph-${i + 1}`, "aria-label": `Go to paragraph ${i + 1}`, text: `¶${i + 1}` }))),
      );
    }));
    const none = s.paragraph_count - carrying.size - s.abstained_count;
    const notes = [];
    if (none > 0) notes.push(`${plural(none, "paragraph")} ${none === 1 ? "discusses" : "discuss"} none of the areas (shown dimmed)`);
    if (s.abstained_count > 0) notes.push(`${plural(s.abstained_count, "paragraph")} could not be judged`);
    const version = result.model_version ? `Model ${result.model_version}.` : "";
    $("summary-note").textContent = [notes.length ? sentence(notes.join("; ")) : "", version].filter(Boolean).join(" ");
  }

  function chip(label) {
    return el("span", { class: `chip ${colourClass(label)}`, dataset: { label }, text: displayName(label) });
  }

  /** "BHR-PAK" as "Bahrain – Pakistan", from the response's country names. */
  function pairName(pair, names) {
    return pair.split("-").map((code) => names[code] || code).join(" – ");
  }

  function paragraphCard(p, codepoints, labels, names) {
    const number = p.index + 1;
    const paragraphText = codepoints.slice(p.start, p.end).join("");
    const classes = ["para"];
    if (p.abstained) classes.push("is-abstained");
    else if (p.labels.length === 0) classes.push("is-empty");

    let areas;
    if (p.abstained) {
      areas = el("span", { class: "tag tag-abstained", text: "Not judged" });
    } else if (p.labels.length === 0) {
      areas = el("span", { class: "tag tag-none", text: "No cooperation area" });
    } else {
      areas = el("ul", { class: "chips", "aria-label": `Cooperation areas of paragraph ${number}` },
        p.labels.map((label) => el("li", {}, chip(label))));
    }

    const headingId = `paragraph-${number}-heading`;
    return el("li", {
      class: classes.join(" "), id: `paragraph-${number}`, "aria-labelledby": headingId,
      dataset: { index: p.index, labels: p.labels.join(" ") },
    },
      el("div", { class: "para-main" },
        el("div", { class: "para-head" }, el("h3", { id: headingId, text: `Paragraph ${number}` }), areas,
          p.pair ? el("span", { class: "tag tag-pair", title: `Countries this paragraph concerns (${p.pair})`,
            text: pairName(p.pair, names) }) : null),
        p.abstained ? el("p", { class: "abstain-reason", text: REASONS[p.abstained] || `The model did not judge this paragraph (${p.abstained.replace(/_/g, " ")}).` }) : null,
        el("p", { class: "para-text" }, highlighted(codepoints, p)),
        evidenceList(p),
      ),
      el("div", { class: "para-side" },
        p.abstained ? el("p", { class: "scores-note", text: "Scores not used: the paragraph was not judged." }) : null,
        scoreBars(p, labels, number)),
      correction(p, paragraphText, labels, number),
    );
  }

  /** The paragraph's text with evidence n-grams wrapped in <mark>, using the API's document offsets. */
  function highlighted(codepoints, p) {
    const length = p.end - p.start;
    const hits = Array.from({ length }, () => []);
    for (const [label, items] of Object.entries(p.evidence || {})) {
      for (const item of items) {
        for (const [start, end] of item.spans) {
          for (let i = Math.max(start, p.start); i < Math.min(end, p.end); i++) {
            hits[i - p.start].push({ label, ngram: item.ngram, weight: item.weight });
          }
        }
      }
    }
    const parts = [];
    let i = 0;
    while (i < length) {
      const key = hits[i].map((h) => `${h.label}\u0000${h.ngram}`).join("\u0001");
      let j = i + 1;
      while (j < length && hits[j].map((h) => `${h.label}\u0000${h.ngram}`).join("\u0001") === key) j++;
      const piece = codepoints.slice(p.start + i, p.start + j).join("");
      if (hits[i].length === 0) {
        parts.push(piece);
      } else {
        const strongest = hits[i].reduce((a, b) => (b.weight > a.weight ? b : a));
        const why = [...new Set(hits[i].map((h) => `${displayName(h.label)} (“${h.ngram}”)`))].join(", ");
        parts.push(el("mark", {
          class: `evidence ${colourClass(strongest.label)}`, dataset: { label: strongest.label },
          title: `Evidence for ${why}`,
        }, piece));
      }
      i = j;
    }
    return parts;
  }

  function evidenceList(p) {
    const entries = Object.entries(p.evidence || {}).filter(([, items]) => items.length);
    if (!entries.length) return null;
    return el("dl", { class: "evidence-list" }, entries.map(([label, items]) => [
      el("dt", {}, `Why ${displayName(label)}:`),
      el("dd", {}, items.map((item) => el("span", {
        class: "ngram", title: `weight ${item.weight.toFixed(2)}`,
      }, `${item.ngram}`, el("span", { class: "weight", text: ` +${item.weight.toFixed(2)}` })))),
    ]));
  }

  function scoreBars(p, labels, number) {
    return el("ul", { class: "scores", "aria-label": `Scores of paragraph ${number}` }, labels.map((label) => {
      const score = (p.scores || {})[label] || 0;
      const threshold = (p.thresholds || {})[label];
      const assigned = p.labels.includes(label);
      const fill = el("span", { class: `bar-fill ${colourClass(label)}` });
      fill.style.width = percent(score);
      const bar = el("span", {
        class: "bar", role: "meter", "aria-valuemin": 0, "aria-valuemax": 100,
        "aria-valuenow": Math.round(score * 100),
        "aria-valuetext": `${percent(score)}${threshold === undefined ? "" : `, threshold ${percent(threshold)}`}` +
          (assigned ? ", assigned" : ", not assigned"),
        "aria-label": `${displayName(label)} score`,
      }, fill);
      if (threshold !== undefined) {
        const tick = el("span", { class: "bar-threshold", title: `threshold ${percent(threshold)}` });
        tick.style.left = percent(threshold);
        bar.append(tick);
      }
      return el("li", { class: `score${assigned ? " is-assigned" : ""}`, dataset: { label } },
        el("span", { class: "score-name", text: displayName(label) }),
        bar,
        el("span", { class: "score-value", "aria-hidden": "true", text: percent(score) }));
    }));
  }

  /** "Correct these labels": checkboxes for every area and a Send button posting to /v1/feedback. */
  function correction(p, paragraphText, labels, number) {
    const id = `correct-${number}`;
    const result = el("p", { class: "feedback-result", role: "status", "aria-live": "polite" });
    const boxes = labels.map((label) => {
      const box = el("input", { type: "checkbox", id: `${id}-${label}`, value: label });
      box.checked = p.labels.includes(label);
      return el("label", { class: "check", for: `${id}-${label}` }, box, el("span", { text: displayName(label) }));
    });
    const send = el("button", { type: "submit", class: "button button-secondary button-small", text: "Send correction" });
    const form = el("form", { class: "feedback-form", "aria-label": `Correct the labels of paragraph ${number}` },
      el("fieldset", {},
        el("legend", { text: `Which areas does paragraph ${number} really discuss?` }),
        el("div", { class: "checks" }, boxes)),
      el("div", { class: "feedback-actions" }, send, result));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const chosen = [...form.querySelectorAll("input[type=checkbox]:checked")].map((b) => b.value);
      const token = feedbackToken();
      result.className = "feedback-result";
      if (!token) {
        result.classList.add("is-error");
        result.textContent = `Not saved. ${TOKEN_MESSAGES[401]}`;
        $("feedback-token-card").open = true;
        return;
      }
      send.disabled = true;
      result.textContent = "Sending…";
      try {
        const saved = await postJson("/v1/feedback", { text: paragraphText, labels: chosen },
          { "Authorization": `Bearer ${token}` });
        result.classList.add("is-ok");
        result.textContent = "Saved, thank you. Recorded as: " +
          (saved.labels.length ? saved.labels.map(displayName).join(", ") : "no cooperation area") + ".";
      } catch (err) {
        result.classList.add("is-error");
        result.textContent = `Not saved. ${TOKEN_MESSAGES[err.status] || err.message}`;
      } finally {
        send.disabled = false;
      }
    });
    return el("details", { class: "correct", id },
      el("summary", { text: "Correct these labels" }), form);
  }

  /* ---------- input ---------- */

  async function loadFile(file) {
    if (!file) return;
    const name = $("file-name");
    clearError();
    try {
      const text = await file.text();
      if (text.includes("\u0000")) {
        showError("Choose a plain .txt file.", `${file.name} does not look like a text file.`);
        return;
      }
      $("document").value = text;
      name.textContent = `Loaded ${file.name} (${plural(Math.max(1, Math.round(file.size / 1024)), "KB", "KB")})`;
      $("document").focus();
    } catch (err) {
      showError(sentence(err.message), `Could not read ${file.name}.`);
    }
  }

  function init() {
    const form = $("classify-form");
    const textarea = $("document");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      classify();
    });
    form.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        classify();
      }
    });
    const tokenInput = $("feedback-token");
    tokenInput.value = feedbackToken();
    tokenInput.addEventListener("input", () => rememberToken(tokenInput.value));
    $("file").addEventListener("change", (event) => {
      const input = event.target;
      loadFile(input.files[0]).finally(() => { input.value = ""; });
    });
    $("clear").addEventListener("click", () => {
      textarea.value = "";
      $("file-name").textContent = "";
      $("results").hidden = true;
      $("status").textContent = "";
      clearError();
      textarea.focus();
    });
    textarea.addEventListener("dragover", (event) => {
      event.preventDefault();
      textarea.classList.add("is-dragging");
    });
    textarea.addEventListener("dragleave", () => textarea.classList.remove("is-dragging"));
    textarea.addEventListener("drop", (event) => {
      event.preventDefault();
      textarea.classList.remove("is-dragging");
      loadFile(event.dataTransfer.files[0]);
    });
    loadModel();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
