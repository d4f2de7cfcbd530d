// The kiosk: scan or pick a style, tap a colour × size, price the cart on the server, order.
// Prices are only ever shown from the server's quote; the order request carries codes and
// quantities, nothing else. Every text goes into the page as textContent (never as HTML).
(function () {
  "use strict";
  const root = document.getElementById("kiosk");
  const texts = JSON.parse(document.getElementById("kiosk-texts").textContent);
  const csrf = root.querySelector("input[name=csrfmiddlewaretoken]").value;
  const cart = new Map(); // code -> {code, name, quantity}
  const $ = (id) => document.getElementById(id);
  window.tcKiosk = { busy: 0 };

  function say(text, kind) {
    const m = $("message");
    m.textContent = text || "";
    m.className = text ? "message " + (kind || "error") : "";
  }

  async function call(url, body) {
    window.tcKiosk.busy += 1;
    try {
      const options = body === undefined ? {} : {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
        body: JSON.stringify(body),
      };
      const response = await fetch(url, options);
      let data;
      try { data = await response.json(); } catch (e) { data = { ok: false, error: { message: texts.failed } }; }
      return data;
    } finally {
      window.tcKiosk.busy -= 1;
    }
  }

  async function showStyle(style) {
    const data = await call(root.dataset.styleUrl.replace("STYLE", encodeURIComponent(style)));
    if (!data.ok) { say(data.error.message); return; }
    say("");
    const grid = data.grid;
    $("grid-title").textContent = grid.name + " · " + grid.style_code;
    const thead = $("grid").querySelector("thead");
    const tbody = $("grid").querySelector("tbody");
    thead.replaceChildren();
    tbody.replaceChildren();
    const head = document.createElement("tr");
    head.appendChild(document.createElement("th"));
    for (const size of grid.sizes) {
      const th = document.createElement("th");
      th.textContent = size || "—";
      head.appendChild(th);
    }
    thead.appendChild(head);
    for (const colour of grid.colours) {
      const tr = document.createElement("tr");
      const th = document.createElement("th");
      th.textContent = colour || "—";
      tr.appendChild(th);
      for (const size of grid.sizes) {
        const td = document.createElement("td");
        const cell = grid.cells[colour + "|" + size];
        if (cell) {
          const b = document.createElement("button");
          b.type = "button";
          b.dataset.code = cell.code;
          if (cell.store <= 0 && cell.main <= 0) b.className = "none";
          const price = document.createElement("span");
          price.className = "price";
          price.textContent = cell.price === null ? "—" : "¥" + cell.price;
          const stock = document.createElement("small");
          stock.textContent = texts.store + " " + cell.store + " / " + texts.main + " " + cell.main;
          b.append(price, stock);
          b.addEventListener("click", () => add(cell.code, cell.name));
          td.appendChild(b);
        }
        tr.appendChild(td);
      }
      tbody.appendChild(tr);
    }
    $("grid").hidden = false;
    $("grid").scrollIntoView({ block: "start" });
  }

  function add(code, name) {
    const line = cart.get(code) || { code: code, name: name, quantity: 0 };
    line.quantity += 1;
    cart.set(code, line);
    refresh();
  }

  function lines() {
    return Array.from(cart.values()).map((l) => ({ code: l.code, quantity: l.quantity }));
  }

  let quoteSeq = 0;
  async function refresh() {
    const tbody = $("cart-lines").querySelector("tbody");
    tbody.replaceChildren();
    $("cart-empty").hidden = cart.size > 0;
    $("place").disabled = cart.size === 0;
    if (cart.size === 0) {
      $("cart-total").textContent = "0.00";
      $("cart-list-total").textContent = "";
      $("cart-notes").replaceChildren();
      return;
    }
    const seq = ++quoteSeq;
    const data = await call(root.dataset.quoteUrl, { lines: lines(), member_phone: $("member-phone").value });
    if (seq !== quoteSeq) return;
    if (!data.ok) { say(data.error.message); return; }
    const byCode = new Map(data.quote.lines.map((l) => [l.code, l]));
    for (const line of cart.values()) {
      const q = byCode.get(line.code) || {};
      const tr = document.createElement("tr");
      tr.dataset.code = line.code;
      const name = document.createElement("td");
      name.textContent = line.name;
      explainLine(name, q.steps);
      const qty = document.createElement("td");
      const minus = document.createElement("button");
      minus.type = "button"; minus.className = "secondary"; minus.textContent = "−";
      minus.setAttribute("aria-label", texts.less);
      minus.addEventListener("click", () => { line.quantity -= 1; if (line.quantity <= 0) cart.delete(line.code); refresh(); });
      const count = document.createElement("span");
      count.className = "qty"; count.textContent = " " + line.quantity + " ";
      const plus = document.createElement("button");
      plus.type = "button"; plus.className = "secondary"; plus.textContent = "+";
      plus.setAttribute("aria-label", texts.more);
      plus.addEventListener("click", () => { line.quantity += 1; refresh(); });
      qty.append(minus, count, plus);
      const amount = document.createElement("td");
      amount.className = "num price";
      amount.textContent = "¥" + (q.net_amount || "");
      tr.append(name, qty, amount);
      tbody.appendChild(tr);
    }
    $("cart-total").textContent = data.quote.total;
    $("cart-list-total").textContent = data.quote.list_total !== data.quote.total ? "(" + texts.was + " " + data.quote.list_total + ")" : "";
    showNotes($("cart-notes"), data.quote, true);
  }

  // Why a line costs what it costs: one small line of text per step (member price, 满减 …).
  function explainLine(cell, steps) {
    for (const text of steps || []) {
      const small = document.createElement("small");
      small.className = "step";
      small.textContent = text;
      cell.appendChild(small);
    }
  }

  // The order-level facts of a quote: the red packet spent, the cash-back to come and (while
  // the cart can still change) the near misses, "再买 23.00 元可减 50".
  function showNotes(list, quote, nearMisses) {
    list.replaceChildren();
    const texts = quote.notes.slice();
    if (nearMisses) for (const n of quote.near_misses) texts.push(n.text);
    for (const text of texts) {
      const li = document.createElement("li");
      li.textContent = text;
      list.appendChild(li);
    }
  }

  // The quote frozen on the order just placed, line by line.
  function showFrozen(quote) {
    const tbody = $("done-lines").querySelector("tbody");
    tbody.replaceChildren();
    const names = new Map(Array.from(cart.values()).map((l) => [l.code, l.name]));
    for (const line of quote.lines) {
      const tr = document.createElement("tr");
      const name = document.createElement("td");
      name.textContent = (names.get(line.code) || line.code) + " × " + line.quantity;
      explainLine(name, line.steps);
      const amount = document.createElement("td");
      amount.className = "num price";
      amount.textContent = "¥" + line.net_amount;
      tr.append(name, amount);
      tbody.appendChild(tr);
    }
    showNotes($("done-notes"), quote, false);
  }

  function fulfilment() {
    const checked = root.querySelector("input[name=fulfilment]:checked");
    return checked ? checked.value : "";
  }

  $("fulfilment").addEventListener("change", () => { $("address").hidden = fulfilment() !== "delivery"; });
  $("member-phone").addEventListener("change", refresh);

  $("scan-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const code = $("scan").value.trim();
    $("scan").value = "";
    if (!code) return;
    const data = await call(root.dataset.scanUrl + "?code=" + encodeURIComponent(code));
    if (!data.ok) { say(data.error.message); return; }
    showStyle(data.style);
  });

  for (const b of root.querySelectorAll(".styles button[data-style]")) {
    b.addEventListener("click", () => showStyle(b.dataset.style));
  }

  $("place").addEventListener("click", async () => {
    $("place").disabled = true;
    const data = await call(root.dataset.orderUrl, {
      lines: lines(),
      fulfilment: fulfilment(),
      member_phone: $("member-phone").value,
      customer: {
        name: $("c-name").value, phone: $("c-phone").value, province: $("c-province").value,
        city: $("c-city").value, district: $("c-district").value, address: $("c-address").value,
      },
    });
    $("place").disabled = cart.size === 0;
    if (!data.ok) { say(data.error.message); return; }
    say("");
    $("done-no").textContent = data.order_no;
    $("done-total").textContent = "¥" + data.total;
    $("done-qr").innerHTML = data.qr; // built by the server from the order number only
    showFrozen(data.quote);
    $("done").hidden = false;
    $("cart").hidden = true;
    $("grid").hidden = true;
    $("done").scrollIntoView({ block: "start" });
  });

  $("again").addEventListener("click", () => {
    cart.clear();
    for (const id of ["member-phone", "c-name", "c-phone", "c-province", "c-city", "c-district", "c-address"]) $(id).value = "";
    $("done").hidden = true;
    $("cart").hidden = false;
    refresh();
    $("scan").focus();
  });
})();
