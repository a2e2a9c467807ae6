// The sandbox's chat: posts the page's forms without reloading, and polls the conversation for what happened since
// (new events, the conversation's state, the deliveries of every step) about once a second while the page is open.
// Every piece of data goes into the page as text (textContent), never as HTML.
"use strict";

(function () {
  const POLL_MS = 1000;
  const HIDDEN_POLL_MS = 5000; // a tab in the background asks less often
  const section = document.getElementById("conversation");
  if (!section) return;
  const chat = document.getElementById("chat");
  const status = document.getElementById("chat-status");
  const stateLine = document.getElementById("conversation-state");
  const deliveriesBody = document.getElementById("deliveries");
  let after = Number(section.dataset.after) || 0;
  let timer = null;
  let stopped = false;

  function element(tag, className, text) {
    const made = document.createElement(tag);
    if (className) made.className = className;
    if (text !== undefined) made.textContent = text;
    return made;
  }

  function say(text) {
    status.textContent = text;
  }

  function addLine(line) {
    const empty = chat.querySelector(".empty-chat");
    if (empty) empty.remove();
    const row = element("div", `line ${line.side} ${line.kind}`);
    row.dataset.eventId = String(line.id);
    row.appendChild(element("span", "who", line.who));
    row.appendChild(element("span", line.kind === "message" ? "bubble" : "note", line.text));
    const notified = element("ul", "notified");
    notified.setAttribute("aria-label", "Notifications of this step");
    row.appendChild(notified);
    chat.appendChild(row);
    chat.scrollTop = chat.scrollHeight;
  }

  function statusText(delivery) {
    if (delivery.last_status_code) return `${delivery.status} (HTTP ${delivery.last_status_code})`;
    if (delivery.last_error) return `${delivery.status} (${delivery.last_error})`;
    return delivery.status;
  }

  function showDeliveries(deliveries) {
    for (const list of chat.querySelectorAll("ul.notified")) list.replaceChildren();
    const rows = [];
    for (const delivery of deliveries) {
      const row = element("tr");
      const at = element("td");
      const time = element("time", "", String(delivery.at));
      time.dataset.ms = String(delivery.at);
      at.appendChild(time);
      row.appendChild(at);
      row.appendChild(element("td", "", delivery.label));
      row.appendChild(element("td", "", delivery.event_type));
      row.appendChild(element("td", "", delivery.installation));
      row.appendChild(element("td", `status-${delivery.status}`, statusText(delivery)));
      row.appendChild(element("td", "", String(delivery.attempts)));
      rows.push(row);
      if (delivery.event_id !== null) {
        const line = chat.querySelector(`[data-event-id="${Number(delivery.event_id)}"] ul.notified`);
        if (line) line.appendChild(element("li", "", `→ ${delivery.installation}: ${delivery.status}`));
      }
    }
    if (rows.length === 0) {
      const none = element("tr", "none");
      const cell = element("td", "", "No notification delivered yet: no installation of this account subscribes " +
        "to this conversation's events, or none has happened.");
      cell.colSpan = 6;
      none.appendChild(cell);
      rows.push(none);
    }
    deliveriesBody.replaceChildren(...rows);
    window.showTimes(deliveriesBody);
  }

  function showState(conversation) {
    let text = conversation.open ? "Open" : "Closed";
    if (!conversation.open && conversation.close_reason) text += ` by the ${conversation.close_reason.toLowerCase()}`;
    text += ` · agent: ${conversation.agent_id || "none yet"}`;
    if (!conversation.console_is_consumer) text += " · another consumer opened it: you can answer as the agent";
    stateLine.textContent = text;
    const shown = {
      "consumer-open": conversation.open && conversation.console_is_consumer,
      open: conversation.open,
      unassigned: !conversation.agent_id,
      assigned: Boolean(conversation.agent_id),
    };
    for (const part of section.querySelectorAll("[data-show-when]")) part.hidden = !shown[part.dataset.showWhen];
    showInList(conversation);
  }

  // The conversations list above is drawn with the page: keep the open conversation's row in step with the chat.
  function showInList(conversation) {
    const row = document.querySelector(`tr[data-conversation-id="${CSS.escape(section.dataset.conversationId)}"]`);
    if (!row) return;
    const state = document.createElement("span");
    state.className = conversation.open ? "ok" : "muted";
    state.textContent = conversation.open ? "open" : "closed";
    row.querySelector("td.conversation-state").replaceChildren(state);
    row.querySelector("td.conversation-agent").textContent = conversation.agent_id || "—";
  }

  async function poll() {
    timer = null;
    if (stopped) return;
    try {
      const response = await consoleFetch(`${section.dataset.updates}?after=${after}`, {
        headers: { Accept: "application/json" },
      });
      const type = response.headers.get("content-type") || "";
      if (!response.ok || !type.startsWith("application/json")) {
        stopped = true;
        say(response.redirected || response.status === 401
          ? "You are signed out: sign in again to see new messages."
          : `Updates stopped (HTTP ${response.status}); reload the page to try again.`);
        return;
      }
      const update = await response.json();
      for (const line of update.events) {
        if (line.id > after) {
          addLine(line);
          after = line.id;
        }
      }
      showState(update.conversation);
      showDeliveries(update.deliveries);
    } catch (error) {
      say("Cannot reach the server; trying again.");
    }
    schedule(document.hidden ? HIDDEN_POLL_MS : POLL_MS);
  }

  function schedule(delay) {
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(poll, delay);
  }

  document.addEventListener("submit", async (event) => {
    const form = event.target;
    if (event.defaultPrevented || !(form instanceof HTMLFormElement) || !form.hasAttribute("data-chat-form")) return;
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    try {
      const response = await consoleFetch(form.action, {
        method: "POST",
        headers: { Accept: "application/json", "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(new FormData(form)),
      });
      const type = response.headers.get("content-type") || "";
      const answer = type.startsWith("application/json") ? await response.json() : null;
      if (response.ok && answer && answer.ok) {
        const input = form.querySelector("input[name=message]");
        if (input) {
          input.value = "";
          input.focus();
        }
        say("");
      } else if (answer && answer.detail) {
        say(`Not done: ${answer.detail}`);
      } else {
        say(response.status === 401 ? "You are signed out: sign in again." : `Not done (HTTP ${response.status}).`);
      }
    } catch (error) {
      say("Cannot reach the server; nothing was sent.");
    } finally {
      if (button) button.disabled = false;
    }
    schedule(0);
  });

  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && !stopped) schedule(0);
  });
  schedule(0);
})();
