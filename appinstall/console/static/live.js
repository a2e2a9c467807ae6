// The delivery pages kept live. The list: while the page is visible, ask the server every LIVE_MS for deliveries
// published since the page was read (the page's own filters applied) and put them on top, and for where the rows
// still on their way stand now. Rows are built with DOM calls and textContent: nothing from the server becomes markup.
"use strict";

const LIVE_MS = 1500;
const UNFINISHED = new Set(["blocked", "held", "pending", "in_flight"]);
const MAX_WATCHED = 200;

function cell(text, className) {
  const td = document.createElement("td");
  if (className) td.className = className;
  if (text !== null) td.textContent = text;
  return td;
}

function statusCell(row) {
  const td = cell(null, "status");
  const span = document.createElement("span");
  span.className = row.status_class;
  span.textContent = row.status;
  td.append(span);
  return td;
}

function rowElement(row) {
  const tr = document.createElement("tr");
  tr.dataset.id = row.id;
  tr.dataset.status = row.status;
  tr.className = "arrived";

  const link = document.createElement("a");
  link.href = row.url;
  const time = document.createElement("time");
  time.dataset.ms = String(row.at);
  time.textContent = row.at_text;
  link.append(time);
  const at = cell(null);
  at.append(link);

  const conversation = cell(null);
  if (row.conversation_id) {
    const code = document.createElement("code");
    code.textContent = row.conversation_id;
    conversation.append(code);
  } else {
    const none = document.createElement("span");
    none.className = "muted";
    none.textContent = "none";
    conversation.append(none);
  }
  tr.append(
    at,
    cell(row.installation),
    cell(row.event_type),
    conversation,
    statusCell(row),
    cell(String(row.attempts), "attempts"),
    cell(row.last_status_code === null ? "—" : String(row.last_status_code), "code"),
  );
  return tr;
}

function updateRow(tr, state) {
  tr.dataset.status = state.status;
  tr.querySelector("td.status").replaceWith(statusCell(state));
  tr.querySelector("td.attempts").textContent = String(state.attempts);
  tr.querySelector("td.code").textContent = state.last_status_code === null ? "—" : String(state.last_status_code);
}

function startLive(tbody) {
  const source = new URL(tbody.dataset.liveUrl, window.location.href);
  const status = document.getElementById("live-status");
  const empty = document.getElementById("no-deliveries");
  let usual = status ? status.textContent : "";
  let arrived = 0;
  let after = source.searchParams.get("after");
  let timer = null;
  let busy = false;

  function watched() {
    const ids = [];
    for (const tr of tbody.querySelectorAll("tr[data-id]")) {
      if (UNFINISHED.has(tr.dataset.status)) ids.push(tr.dataset.id);
      if (ids.length >= MAX_WATCHED) break;
    }
    return ids;
  }

  async function poll() {
    if (busy || document.visibilityState !== "visible") return;
    busy = true;
    try {
      const url = new URL(source);
      url.searchParams.set("after", after);
      for (const id of watched()) url.searchParams.append("watch", id);
      const answer = await consoleFetch(url.toString(), { headers: { Accept: "application/json" } });
      if (!answer.ok || !(answer.headers.get("content-type") || "").startsWith("application/json")) {
        stop(answer.status === 200 ? "Live updates stopped: sign in again to resume." : "Live updates stopped.");
        return;
      }
      const update = await answer.json();
      after = update.newest;
      for (const row of update.rows.slice().reverse()) {
        if (tbody.querySelector(`tr[data-id="${CSS.escape(row.id)}"]`)) continue;
        const tr = rowElement(row);
        tbody.prepend(tr);
        showTimes(tr);
        arrived += 1;
      }
      if (arrived) usual = `${arrived} new ${arrived === 1 ? "delivery" : "deliveries"} since the page was opened.`;
      if (status && status.textContent !== usual) status.textContent = usual;  // read out by screen readers too
      if (update.rows.length && empty) empty.hidden = true;
      for (const state of update.states) {
        const tr = tbody.querySelector(`tr[data-id="${CSS.escape(state.id)}"]`);
        if (tr) updateRow(tr, state);
      }
    } catch (error) {
      if (status) status.textContent = "Live updates paused: the server did not answer; trying again.";
    } finally {
      busy = false;
    }
  }

  function stop(message) {
    if (timer !== null) window.clearInterval(timer);
    timer = null;
    if (status) status.textContent = message;
  }

  function start() {
    if (timer === null) timer = window.setInterval(poll, LIVE_MS);
  }

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && timer !== null) poll();
  });
  start();
}

// A delivery's own page, while the delivery is on its way: once it has succeeded or failed, show the page again
// (without the "queued again" notice), with its new attempts and its Retry button.
function watchDelivery(status) {
  const url = new URL(status.dataset.watchUrl, window.location.href);
  const timer = window.setInterval(async () => {
    if (document.visibilityState !== "visible") return;
    try {
      const answer = await consoleFetch(url.toString(), { headers: { Accept: "application/json" } });
      if (!answer.ok || !(answer.headers.get("content-type") || "").startsWith("application/json")) {
        window.clearInterval(timer);
        return;
      }
      const [state] = (await answer.json()).states;
      if (state && !UNFINISHED.has(state.status)) {
        window.clearInterval(timer);
        window.location.replace(window.location.pathname);
      } else if (state && state.status !== status.textContent) {
        status.textContent = state.status;
        status.className = state.status_class;
      }
    } catch (error) {
      // the server did not answer: ask again at the next tick
    }
  }, LIVE_MS);
}

document.addEventListener("DOMContentLoaded", () => {
  const tbody = document.getElementById("delivery-rows");
  if (tbody && tbody.dataset.liveUrl) startLive(tbody);
  const status = document.getElementById("delivery-status");
  if (status && status.dataset.watchUrl) watchDelivery(status);
});
