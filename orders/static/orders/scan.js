/* The scan page (复核发货). A barcode scanner types a code and presses Enter.
 * First code: a tracking or order number opens the order; then every code is an item.
 * The server decides everything (views_warehouse → fulfilment services); this page only
 * shows what it answers, and beeps: one high tone for a good scan, a low buzz for an error.
 */
(function () {
  "use strict";

  const form = document.getElementById("scan-form");
  const input = document.getElementById("scan");
  const label = document.getElementById("scan-label");
  const message = document.getElementById("message");
  const section = document.getElementById("order");
  const tbody = document.querySelector("#items tbody");
  const shipButton = document.getElementById("ship");
  const resetButton = document.getElementById("reset");
  const texts = JSON.parse(document.getElementById("scan-texts").textContent);
  const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  const canShip = form.dataset.canShip === "1";

  let current = null; // {order, items, scanned, complete}
  // Scans are handled one after the other, in the order they were made: a fast scanner's
  // second code waits for the answer to the first instead of being lost.
  let queue = Promise.resolve();
  function enqueue(task) {
    queue = queue.then(task, task);
    return queue;
  }

  // --- sound -------------------------------------------------------------------------------
  window.tcSounds = []; // what was played, for tests and for people debugging a silent speaker
  let audio = null;
  function tone(freq, start, length, type) {
    if (!audio) {
      const Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) return;
      audio = new Ctx();
    }
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.type = type;
    osc.frequency.value = freq;
    gain.gain.value = 0.25;
    osc.connect(gain);
    gain.connect(audio.destination);
    const t = audio.currentTime + start;
    osc.start(t);
    osc.stop(t + length);
  }
  function beep(kind) {
    window.tcSounds.push(kind);
    try {
      if (kind === "error") {
        tone(180, 0, 0.25, "square");
        tone(180, 0.32, 0.25, "square");
      } else if (kind === "done") {
        tone(660, 0, 0.12, "sine");
        tone(990, 0.14, 0.2, "sine");
      } else {
        tone(1200, 0, 0.08, "sine");
      }
    } catch (e) {
      /* no audio device: the message still shows */
    }
  }

  // --- display -----------------------------------------------------------------------------
  function say(kind, text) {
    message.className = "message " + kind;
    message.textContent = text;
    document.body.classList.toggle("has-error", kind === "error");
    if (kind === "error") {
      // Restart the flash animation so two errors in a row both show.
      message.classList.remove("flash");
      void message.offsetWidth;
      message.classList.add("flash");
    }
  }

  function cell(text, cls) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    return td;
  }

  function show(data) {
    current = data;
    const o = data.order;
    section.hidden = false;
    document.getElementById("order-no").textContent = o.order_no;
    document.getElementById("tracking-no").textContent = o.tracking_no;
    document.getElementById("carrier").textContent = o.carrier;
    document.getElementById("receiver").textContent = o.receiver;
    const status = document.getElementById("status");
    status.textContent = o.status_label;
    status.dataset.status = o.status;
    tbody.replaceChildren();
    let expected = 0, scanned = 0, missing = 0;
    for (const item of data.items) {
      const tr = document.createElement("tr");
      tr.dataset.code = item.code;
      tr.className = item.missing === 0 ? "done" : item.scanned > 0 ? "partial" : "";
      tr.append(
        cell(item.code),
        cell(item.name),
        cell(item.spec),
        cell(item.expected, "num expected"),
        cell(item.scanned, "num scanned"),
        cell(item.missing, "num missing")
      );
      tbody.append(tr);
      expected += item.expected;
      scanned += item.scanned;
      missing += item.missing;
    }
    document.getElementById("total-expected").textContent = expected;
    document.getElementById("total-scanned").textContent = scanned;
    document.getElementById("total-missing").textContent = missing;
    const verified = o.status === "verified";
    shipButton.disabled = !(verified && canShip);
    // A verified parcel ships before the next waybill: the prompt says so (the next waybill
    // would be refused).
    if (verified && canShip) label.textContent = texts.shipFirst;
    else if (verified || o.status === "shipped") label.textContent = texts.scanOrder;
    else label.textContent = texts.scanItems;
  }

  function reset(text) {
    current = null;
    section.hidden = true;
    tbody.replaceChildren();
    shipButton.disabled = true;
    label.textContent = texts.scanOrder;
    say("idle", text || texts.ready);
    input.value = "";
    input.focus();
  }

  // --- server ------------------------------------------------------------------------------
  async function post(url, body) {
    let response;
    try {
      response = await fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
        body: JSON.stringify(body),
      });
    } catch (e) {
      return { ok: false, error: { code: "network", message: texts.network } };
    }
    try {
      return await response.json();
    } catch (e) {
      return { ok: false, error: { code: "network", message: texts.network } };
    }
  }

  function failed(data) {
    say("error", data.error.message);
    message.dataset.code = data.error.code;
    beep("error");
  }

  function hidePanel() {
    current = null;
    section.hidden = true;
    tbody.replaceChildren();
    shipButton.disabled = true;
    label.textContent = texts.scanOrder;
  }

  async function openOrder(code) {
    const data = await post(form.dataset.orderUrl, { code });
    if (!data.ok) {
      // The error is about the scanned parcel: the previous order's panel must not stay
      // on screen as if it were this one — unless it is the verified one still to ship.
      if (data.error.code !== "verified_not_shipped") hidePanel();
      return failed(data);
    }
    show(data);
    message.dataset.code = "";
    if (data.order.status === "verified") {
      say("ok", texts.verifiedShip);
      beep("done");
      if (canShip) shipButton.focus();
    } else {
      say("ok", texts.opened);
      beep("ok");
    }
  }

  async function scanItem(code) {
    // Codes only: the server keeps what this packer scanned into this parcel.
    const data = await post(form.dataset.scanUrl, { order_id: current.order.id, code });
    if (!data.ok) return failed(data); // the tally stays as it was
    show(data);
    message.dataset.code = "";
    if (data.order.status === "verified") {
      say("ok", canShip ? texts.verifiedShip : texts.verified);
      beep("done");
      if (canShip) shipButton.focus();
    } else {
      const item = data.items.find((i) => i.code === code || i.product_code === code);
      say("ok", texts.itemOk.replace("%(name)s", item ? item.name : code));
      beep("ok");
    }
  }

  async function ship() {
    if (!current || shipButton.disabled) return;
    shipButton.disabled = true; // one click, one request
    const data = await post(form.dataset.shipUrl, { order_id: current.order.id });
    if (!data.ok) {
      failed(data);
      shipButton.disabled = !(current.order.status === "verified" && canShip);
      input.focus();
      return;
    }
    show(data);
    current = null;
    say("ok", texts.shipped);
    beep("done");
    input.value = "";
    input.focus();
  }


  // --- keyboard ----------------------------------------------------------------------------
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const code = input.value.trim();
    input.value = "";
    if (!code) {
      // Enter in the scan field of a verified parcel ships it, like Enter on the button.
      if (current && current.order.status === "verified" && canShip) enqueue(ship);
      return;
    }
    enqueue(async () => {
      // While a parcel is open (being scanned, or verified and not yet shipped) every code
      // goes to it: the server says "one too many" or "ship this one first".
      const open = current && ["printed", "verified"].includes(current.order.status);
      if (open) await scanItem(code);
      else await openOrder(code);
      if (document.activeElement !== shipButton) input.focus();
    });
  });

  shipButton.addEventListener("click", () => enqueue(ship));
  resetButton.addEventListener("click", () => reset());
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      reset();
    } else if (
      document.activeElement === shipButton &&
      event.key.length === 1 &&
      !event.ctrlKey &&
      !event.metaKey
    ) {
      // A scanner typing while the ship button has focus: the code goes to the scan field.
      input.focus();
    }
  });

  reset();
})();
