// epass kiosk live page: renders the kiosk's JSON events (epass/schemas/kiosk-event-1.schema.json)
// as they arrive over server-sent events. Every value is set with textContent: nothing a chip
// holds is ever parsed as HTML.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const recent = new Map(); // cycle -> verdict, this session (no personal data)

  function setText(el, value) {
    el.textContent = value === null || value === undefined ? "" : String(value);
  }
  function clear(el) {
    while (el.firstChild) el.removeChild(el.firstChild);
  }
  function cell(tr, value, tag, cls) {
    const td = document.createElement(tag || "td");
    if (cls) td.className = cls;
    setText(td, value);
    tr.appendChild(td);
    return td;
  }
  function badge(value) {
    const span = document.createElement("span");
    span.className = "badge " + String(value);
    setText(span, value);
    return span;
  }
  function status(text) {
    setText($("status"), text);
  }

  function resetDocument() {
    $("result").hidden = true;
    $("error").hidden = true;
    $("access").hidden = true;
    clear($("progress"));
    clear($("reasons"));
    clear($("holder").tBodies[0]);
    clear($("checks").tBodies[0]);
    clear($("not-checked"));
    const face = $("face");
    face.hidden = true;
    face.removeAttribute("src");
    $("face-missing").hidden = true;
    setText($("verdict"), "");
    $("verdict").className = "verdict";
  }

  function showRecent() {
    const list = $("recent");
    clear(list);
    for (const [cycle, verdict] of recent) {
      const li = document.createElement("li");
      li.appendChild(document.createTextNode("document " + cycle + ": "));
      li.appendChild(badge(verdict));
      list.appendChild(li);
    }
  }

  const WAITING = {
    key: "Scan the MRZ or type the CAN",
    document: "Lay the document on the reader",
    removal: "Take the document away",
    reader: "The reader is gone: plug it back in",
  };

  function showVerdict(e) {
    const report = e.report || {};
    const doc = report.document || {};
    $("result").hidden = false;
    const verdict = $("verdict");
    setText(verdict, e.verdict);
    verdict.className = "verdict " + String(e.verdict);
    setText($("verdict-note"), "read and verified in " + Math.round(e.ms) + " ms");
    const reasons = $("reasons");
    for (const name of e.reasons || []) {
      const li = document.createElement("li");
      setText(li, name);
      reasons.appendChild(li);
    }
    const holder = doc.holder;
    const body = $("holder").tBodies[0];
    if (holder) {
      const rows = [
        ["name", [holder.primary_identifier, holder.secondary_identifier].filter(Boolean).join(", ")],
        ["document", [holder.document_code, holder.issuing_state, holder.document_number].join(" ")],
        ["nationality", holder.nationality],
        ["date of birth", holder.date_of_birth],
        ["sex", holder.sex],
        ["date of expiry", holder.date_of_expiry],
      ];
      for (const [label, value] of rows) {
        const tr = document.createElement("tr");
        cell(tr, label, "th");
        cell(tr, value);
        body.appendChild(tr);
      }
    }
    const face = $("face");
    const missing = $("face-missing");
    if ((doc.faces || []).length > 0) {
      face.onerror = function () {
        face.hidden = true;
        setText(missing, "The face does not decode.");
        missing.hidden = false;
      };
      face.onload = function () {
        face.hidden = false;
      };
      face.src = "/face/" + encodeURIComponent(e.cycle) + "?seq=" + encodeURIComponent(e.seq);
    } else {
      setText(missing, "No face image on the chip.");
      missing.hidden = false;
    }
    const checks = $("checks").tBodies[0];
    for (const c of report.checks || []) {
      const tr = document.createElement("tr");
      tr.className = "check";
      const td = document.createElement("td");
      td.appendChild(badge(c.status));
      tr.appendChild(td);
      cell(tr, c.name);
      cell(tr, c.detail);
      checks.appendChild(tr);
    }
    for (const n of report.not_checked || []) {
      const li = document.createElement("li");
      setText(li, n.detail);
      $("not-checked").appendChild(li);
    }
    status("Verdict: " + e.verdict);
    recent.set(e.cycle, e.verdict);
    showRecent();
  }

  const handlers = {
    started(e) {
      setText($("reader"), "reader: " + e.reader);
    },
    waiting(e) {
      status(WAITING[e.for] || "Waiting");
    },
    key_accepted(e) {
      resetDocument();
      status("Key accepted: lay the document on the reader");
    },
    reader_ready() {
      status("The reader is back");
    },
    document_detected() {
      status("Reading the document…");
    },
    access_granted(e) {
      const el = $("access");
      let text = "Opened with " + e.protocol;
      if ((e.pace_offered || []).length) text += " (the chip offers PACE)";
      if (e.fallback) text += ". Fallback: " + e.fallback;
      setText(el, text);
      el.className = e.fallback ? "access warning" : "access";
      el.hidden = false;
    },
    file_read(e) {
      const li = document.createElement("li");
      setText(li, e.file + " " + e.bytes + " bytes");
      $("progress").appendChild(li);
    },
    verdict: showVerdict,
    document_removed() {
      status("Document removed");
    },
    error(e) {
      const el = $("error");
      setText(el, "Error (" + e.stage + "): " + e.type + ": " + e.message);
      el.hidden = false;
    },
    stopped(e) {
      status("The kiosk stopped (" + e.reason + ")");
    },
  };

  function connect() {
    const source = new EventSource("/events");
    const conn = $("connection");
    source.onopen = function () {
      setText(conn, "live");
      conn.className = "conn on";
      resetDocument(); // the server replays the current document first
    };
    source.onerror = function () {
      setText(conn, "reconnecting…");
      conn.className = "conn off";
    };
    source.onmessage = function (message) {
      let e;
      try {
        e = JSON.parse(message.data);
      } catch (err) {
        return;
      }
      if (!e || typeof e.event !== "string" || !Object.prototype.hasOwnProperty.call(handlers, e.event)) return;
      handlers[e.event](e);
      document.body.dataset.state = e.event;
      document.body.dataset.cycle = String(e.cycle);
    };
  }

  connect();
})();
