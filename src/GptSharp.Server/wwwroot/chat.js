"use strict";
// The chat page: OpenAI's chat API called from the browser, replies streamed as Server-Sent Events. The conversation
// lives here (the server keeps no state between requests), and every request sends it whole.

const $ = id => document.getElementById(id);
const ui = {
  model: $("model"), temperature: $("temperature"), maxTokens: $("max-tokens"), apiKey: $("api-key"), system: $("system"),
  error: $("error"), transcript: $("transcript"), composer: $("composer"), prompt: $("prompt"), send: $("send"), stop: $("stop"),
  newChat: $("new-chat"),
};
const keyStorage = "gptsharp.apiKey";
let turns = []; // {role, content}: the user's and the assistant's turns; the system prompt is added per request
let controller = null; // aborts the reply being streamed

// Relative URLs, so the page also works behind a proxy that serves it under a path prefix.
const api = path => new URL(path, document.baseURI);

function headers() {
  const h = { "Content-Type": "application/json" };
  const key = ui.apiKey.value.trim();
  if (key) h.Authorization = "Bearer " + key;
  return h;
}

// OpenAI's error shape, {"error": {"message", "type", "param", "code"}}, as one line.
function describe(error, status) {
  if (!error || !error.message) return `HTTP ${status}`;
  return error.message + (error.code ? ` (${error.code})` : "");
}

async function failure(response) {
  const text = await response.text();
  try { return describe(JSON.parse(text).error, response.status); }
  catch { return `HTTP ${response.status}: ${text.slice(0, 200)}`; }
}

function showError(message) {
  ui.error.textContent = message;
  ui.error.hidden = !message;
}

async function loadModels() {
  showError("");
  try {
    const response = await fetch(api("v1/models"), { headers: headers() });
    if (!response.ok) throw new Error(await failure(response));
    const previous = ui.model.value;
    ui.model.replaceChildren(...(await response.json()).data.map(m => new Option(m.id, m.id)));
    if ([...ui.model.options].some(o => o.value === previous)) ui.model.value = previous;
    document.body.dataset.models = "loaded";
  } catch (e) {
    showError("Could not list the models: " + e.message);
  }
}

// Server-Sent Events: blocks separated by a blank line; a block's data is its "data:" lines joined.
async function* events(response) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = /\r?\n\r?\n/.exec(buffer)) !== null) {
      const block = buffer.slice(0, end.index);
      buffer = buffer.slice(end.index + end[0].length);
      const data = block.split(/\r?\n/).filter(l => l.startsWith("data:")).map(l => l.slice(5).replace(/^ /, "")).join("\n");
      if (data) yield data;
    }
  }
}

function addMessage(role, text) {
  const item = document.createElement("li");
  item.className = "message " + role;
  const label = document.createElement("div");
  label.className = "role";
  label.textContent = role;
  const content = document.createElement("div");
  content.className = "content";
  content.textContent = text;
  item.append(label, content);
  ui.transcript.append(item);
  item.scrollIntoView({ block: "end" });
  return { item, content };
}

function setBusy(busy) {
  ui.send.disabled = busy;
  ui.stop.disabled = !busy;
  document.body.dataset.busy = busy ? "true" : "false";
}

async function send(text) {
  showError("");
  turns.push({ role: "user", content: text });
  addMessage("user", text);
  const reply = addMessage("assistant", "");
  const system = ui.system.value.trim();
  const body = {
    model: ui.model.value,
    messages: system ? [{ role: "system", content: system }, ...turns] : turns,
    stream: true,
    stream_options: { include_usage: true },
    temperature: Number(ui.temperature.value),
  };
  // Empty: the model's own default, never past its context (a fixed default would overflow small models).
  if (ui.maxTokens.value.trim() !== "") body.max_tokens = Number(ui.maxTokens.value);
  controller = new AbortController();
  setBusy(true);
  const started = performance.now();
  let first = null, answer = "", deltas = 0, usage = null, finish = null, error = null;
  try {
    const response = await fetch(api("v1/chat/completions"), { method: "POST", headers: headers(), body: JSON.stringify(body), signal: controller.signal });
    if (!response.ok) throw new Error(await failure(response));
    for await (const data of events(response)) {
      if (data === "[DONE]") break;
      const chunk = JSON.parse(data);
      if (chunk.error) throw new Error(describe(chunk.error, 200)); // a failure mid-stream, after the 200
      if (chunk.usage) usage = chunk.usage;
      for (const choice of chunk.choices ?? []) {
        if (choice.delta?.content) {
          first ??= performance.now();
          answer += choice.delta.content;
          deltas++;
          reply.content.textContent = answer;
          reply.item.scrollIntoView({ block: "end" });
        }
        if (choice.finish_reason) finish = choice.finish_reason;
      }
    }
  } catch (e) {
    if (e.name === "AbortError") finish = "stopped";
    else error = e.message;
  } finally {
    controller = null;
    setBusy(false);
  }
  const seconds = (performance.now() - started) / 1000;
  if (error !== null && answer === "") {
    // Nothing came back: forget the turn and give the text back for another try.
    turns.pop();
    reply.item.remove();
    ui.prompt.value = text;
    showError(error);
    return;
  }
  if (error !== null) showError(error);
  turns.push({ role: "assistant", content: answer });
  const tokens = usage?.completion_tokens ?? deltas;
  const parts = [];
  if (usage) parts.push(`${usage.prompt_tokens} prompt tokens`);
  parts.push(`${tokens} tokens`, `${(tokens / seconds).toFixed(1)} tokens/s`);
  if (first !== null) parts.push(`first token ${Math.round(first - started)} ms`);
  if (finish && finish !== "stop") parts.push(finish);
  const stats = document.createElement("div");
  stats.className = "stats";
  stats.textContent = parts.join(" · ");
  reply.item.append(stats);
}

ui.composer.addEventListener("submit", event => {
  event.preventDefault();
  const text = ui.prompt.value.trim();
  if (!text || controller) return;
  ui.prompt.value = "";
  send(text);
});
ui.prompt.addEventListener("keydown", event => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    ui.composer.requestSubmit();
  }
});
ui.stop.addEventListener("click", () => controller?.abort());
ui.newChat.addEventListener("click", () => {
  controller?.abort();
  turns = [];
  ui.transcript.replaceChildren();
  showError("");
  ui.prompt.focus();
});
ui.apiKey.addEventListener("change", () => {
  localStorage.setItem(keyStorage, ui.apiKey.value.trim());
  loadModels();
});

ui.apiKey.value = localStorage.getItem(keyStorage) ?? "";
setBusy(false);
loadModels();
