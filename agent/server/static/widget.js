/* ShopAgent chat widget: plain JS, no build step.
 *
 * Configuration (first found wins): window.SHOPAGENT = {apiKey, shopperToken, apiBase},
 * or the page URL's fragment: /widget/#key=sa_...&token=<shopper JWT>&api=https://host
 * (the fragment never reaches server logs). Use a key created with --origin for browsers.
 */
(function () {
  "use strict";
  var params = new URLSearchParams(location.hash.replace(/^#/, ""));
  var cfg = window.SHOPAGENT || {};
  var apiKey = cfg.apiKey || params.get("key") || "";
  var shopperToken = cfg.shopperToken || params.get("token") || "";
  var apiBase = (cfg.apiBase || params.get("api") || location.origin).replace(/\/$/, "");
  var storageKey = "shopagent.thread." + apiKey.slice(0, 11) + "." + (shopperToken ? "s" : "a");

  var $messages = document.getElementById("messages");
  var $status = document.getElementById("status");
  var $form = document.getElementById("composer");
  var $input = document.getElementById("input");
  var $send = document.getElementById("send");
  var threadId = sessionStorage.getItem(storageKey);
  var busy = false;

  var TOOL_LABELS = {
    search_products: "Searching the catalog…",
    check_price_stock: "Checking live price and stock…",
    get_product_details: "Reading product details…",
    lookup_return_policy: "Reading the return policy…",
    get_order_status: "Looking up your order…",
    check_return_eligibility: "Checking return eligibility…",
    start_return: "Starting your return…",
    check_cancel_eligibility: "Checking the order…",
    cancel_order: "Cancelling the order…"
  };

  function headers(extra) {
    var h = { "Content-Type": "application/json", "Authorization": "Bearer " + apiKey };
    if (shopperToken) h["X-Shopper-Token"] = shopperToken;
    return Object.assign(h, extra || {});
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function add(node) {
    $messages.appendChild(node);
    $messages.scrollTop = $messages.scrollHeight;
    return node;
  }

  function setBusy(value) {
    busy = value;
    $send.disabled = value;
    $input.disabled = value;
    if (!value) { $status.textContent = ""; $input.focus(); }
  }

  async function errorText(response) {
    try {
      var body = await response.json();
      return (body.error && body.error.message) || response.statusText;
    } catch (e) {
      return response.statusText || ("HTTP " + response.status);
    }
  }

  async function ensureThread() {
    if (threadId) return threadId;
    var response = await fetch(apiBase + "/v1/threads", { method: "POST", headers: headers(), body: "{}" });
    if (!response.ok) throw new Error(await errorText(response));
    threadId = (await response.json()).thread_id;
    sessionStorage.setItem(storageKey, threadId);
    return threadId;
  }

  async function loadHistory() {
    if (!threadId) return;
    var response = await fetch(apiBase + "/v1/threads/" + encodeURIComponent(threadId), { headers: headers() });
    if (response.status === 404) { threadId = null; sessionStorage.removeItem(storageKey); return; }
    if (!response.ok) return;
    var thread = await response.json();
    var hist = await fetch(apiBase + "/v1/threads/" + encodeURIComponent(threadId) + "/messages", { headers: headers() });
    if (hist.ok) {
      (await hist.json()).messages.forEach(function (m) { add(el("div", "msg " + m.role, m.content)); });
    }
    if (thread.pending_confirmation) renderConfirmation(thread.pending_confirmation);
  }

  function renderCards(products) {
    if (!products || !products.length) return;
    var grid = el("div", "cards");
    grid.setAttribute("data-testid", "product-cards");
    products.forEach(function (p) {
      var card = el("div", "product-card");
      card.appendChild(el("div", "name", p.name));
      card.appendChild(el("div", "meta", [p.brand, p.category].filter(Boolean).join(" · ")));
      if (p.price) card.appendChild(el("div", "price", "$" + p.price));
      if (p.stock !== undefined && p.stock !== null) {
        card.appendChild(el("div", "stock" + (p.stock > 0 ? "" : " out"), p.stock > 0 ? p.stock + " in stock" : "out of stock"));
      }
      grid.appendChild(card);
    });
    add(grid);
  }

  function renderConfirmation(c) {
    var box = el("div", "confirm");
    box.setAttribute("data-testid", "confirmation");
    var labels = {
      cancel_order: "Yes, cancel it",
      start_return: "Yes, start the return",
      exchange_items: "Yes, exchange it",
      modify_items: "Yes, change the items",
      modify_address: "Yes, change the address",
      modify_payment: "Yes, change the payment",
      change_default_address: "Yes, change my address",
      return_items: "Yes, return these items"
    };
    var label = labels[c.action] || "Yes";
    var yes = el("button", "confirm-yes", label);
    var no = el("button", "confirm-no", "No");
    yes.type = no.type = "button";
    function answer(approve) {
      yes.disabled = no.disabled = true;
      run(apiBase + "/v1/threads/" + encodeURIComponent(threadId) + "/confirmation",
          { approve: approve, stream: true }, approve ? "Yes" : "No");
    }
    yes.addEventListener("click", function () { answer(true); });
    no.addEventListener("click", function () { answer(false); });
    box.appendChild(yes);
    box.appendChild(no);
    add(box);
  }

  /* Read an SSE stream from a fetch() response (EventSource cannot POST). */
  async function readEvents(response, onEvent) {
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var buffer = "";
    for (;;) {
      var part = await reader.read();
      if (part.done) break;
      buffer += decoder.decode(part.value, { stream: true }).replace(/\r\n/g, "\n");
      var cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        var block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        var event = "message", data = [];
        block.split("\n").forEach(function (line) {
          if (line.indexOf("event:") === 0) event = line.slice(6).trim();
          else if (line.indexOf("data:") === 0) data.push(line.slice(5).replace(/^ /, ""));
        });
        if (data.length) onEvent(event, JSON.parse(data.join("\n")));
      }
    }
  }

  async function run(url, body, shownText) {
    if (busy) return;
    setBusy(true);
    if (shownText) add(el("div", "msg user", shownText));
    var bubble = null;
    try {
      var response = await fetch(url, {
        method: "POST", headers: headers({ "Accept": "text/event-stream" }), body: JSON.stringify(body)
      });
      if (!response.ok) throw new Error(await errorText(response));
      var text = "";
      await readEvents(response, function (event, data) {
        if (event === "tool_started") {
          $status.textContent = TOOL_LABELS[data.name] || "Working…";
        } else if (event === "token") {
          if (!bubble) { bubble = add(el("div", "msg assistant streaming")); bubble.setAttribute("data-testid", "answer"); }
          text += data.text;
          bubble.textContent = text;
          $messages.scrollTop = $messages.scrollHeight;
        } else if (event === "final") {
          if (!bubble) { bubble = add(el("div", "msg assistant")); bubble.setAttribute("data-testid", "answer"); }
          bubble.textContent = data.answer;
          bubble.classList.remove("streaming");
          bubble.classList.add("done");
          renderCards(data.products);
          if (data.confirmation) renderConfirmation(data.confirmation);
        } else if (event === "error") {
          add(el("div", "msg error", data.message || "Something went wrong."));
        }
      });
    } catch (e) {
      add(el("div", "msg error", "Sorry, something went wrong: " + e.message));
    } finally {
      if (bubble) bubble.classList.remove("streaming");
      setBusy(false);
    }
  }

  $form.addEventListener("submit", async function (e) {
    e.preventDefault();
    var message = $input.value.trim();
    if (!message || busy) return;
    $input.value = "";
    try {
      await ensureThread();
    } catch (err) {
      add(el("div", "msg error", "Cannot start a conversation: " + err.message));
      return;
    }
    run(apiBase + "/v1/threads/" + encodeURIComponent(threadId) + "/messages",
        { message: message, stream: true }, message);
  });

  document.getElementById("new-thread").addEventListener("click", function () {
    threadId = null;
    sessionStorage.removeItem(storageKey);
    $messages.textContent = "";
    $input.focus();
  });

  if (!apiKey) {
    add(el("div", "msg error", "This widget has no API key: open it as /widget/#key=sa_..."));
  } else {
    loadHistory().catch(function () {});
  }
})();
