/* The visit page at the door. Works with a poor connection:
 *
 * - every saved visit goes first into a queue in localStorage (it survives a reload or a
 *   closed browser), with a UUID made on the phone;
 * - the queue is sent as one batch to the sync API whenever the phone is online (on load, on
 *   the browser's "online" event, every 30 s, and on "Sync now");
 * - the API is idempotent on the UUID: a batch sent twice (the answer lost on the way back)
 *   stores each visit once. Visits answered "created" or "duplicate" leave the queue; visits
 *   the server refuses stay, marked with its reasons;
 * - the page opens with no connection once loaded online: a service worker (/campaigns/sw.js,
 *   templates/campaigns/sw.js) keeps it and its assets.
 */
(function () {
  "use strict";

  var data = JSON.parse(document.getElementById("visit-data").textContent);
  var t = document.getElementById("i18n").dataset;
  var QUEUE_KEY = "shequ.campaigns.queue." + data.campaign;
  var DONE_KEY = "shequ.campaigns.done." + data.campaign + "." + data.round;
  var lang = data.language;
  var current = null;
  var syncing = false;

  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "className") node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }
  function label(obj) {
    var l = obj.label;
    if (typeof l === "string") return l;
    return l[lang] || l["zh-hans"] || Object.values(l)[0] || "";
  }
  function load(key, fallback) {
    try { return JSON.parse(localStorage.getItem(key)) || fallback; } catch (e) { return fallback; }
  }
  function store(key, value) { localStorage.setItem(key, JSON.stringify(value)); }
  function queue() { return load(QUEUE_KEY, []); }
  function uuid4() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); });
    return h.slice(0, 4).join("") + "-" + h.slice(4, 6).join("") + "-" + h.slice(6, 8).join("") +
      "-" + h.slice(8, 10).join("") + "-" + h.slice(10, 16).join("");
  }
  function csrf() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  /* --- status bar ------------------------------------------------------------------------ */
  function renderStatus() {
    var net = $("net-state");
    var online = navigator.onLine;
    net.textContent = online ? net.dataset.online : net.dataset.offline;
    net.className = online ? "net net--online" : "net net--offline";
    var n = queue().length;
    var q = $("queue-state");
    q.textContent = n ? q.dataset.template.replace("%(n)s", n) : q.dataset.empty;
    q.className = n ? "queue queue--waiting" : "queue";
  }

  /* --- the list of dwellings ------------------------------------------------------------- */
  function localStatus() {
    var status = load(DONE_KEY, {});
    queue().forEach(function (v) { status[v.task] = v.outcome; });
    return status;
  }
  function renderTasks() {
    var list = $("tasks");
    var filter = ($("task-filter").value || "").trim().toLowerCase();
    var local = localStatus();
    var queued = {};
    queue().forEach(function (v) { queued[v.task] = true; });
    list.textContent = "";
    data.tasks.forEach(function (task) {
      var text = (task.label + " " + task.code).toLowerCase();
      if (filter && text.indexOf(filter) < 0) return;
      var status = local[task.id] || task.status;
      var li = el("li", { className: "task task--" + status, "data-task": task.id });
      var button = el("button", { type: "button", className: "task__open" });
      button.appendChild(el("span", { className: "task__label" }, task.label));
      var meta = el("span", { className: "task__meta" });
      meta.appendChild(el("span", { className: "badge" }, data.statuses[status] || status));
      if (queued[task.id]) meta.appendChild(el("span", { className: "badge badge--queued" }, t.queued));
      meta.appendChild(el("span", {}, " " + task.households + " " + t.households));
      button.appendChild(meta);
      button.addEventListener("click", function () { openTask(task); });
      li.appendChild(button);
      list.appendChild(li);
    });
  }

  /* --- the form -------------------------------------------------------------------------- */
  function holds(cond, answers) {
    if (cond.all) return cond.all.every(function (c) { return holds(c, answers); });
    if (cond.any) return cond.any.some(function (c) { return holds(c, answers); });
    var v = answers[cond.question];
    if (v === undefined || v === null || v === "") return false;
    if ("equals" in cond) return Array.isArray(v) ? v.indexOf(cond.equals) >= 0 : v === cond.equals;
    if ("in" in cond) {
      return Array.isArray(v) ? v.some(function (x) { return cond.in.indexOf(x) >= 0; })
        : cond.in.indexOf(v) >= 0;
    }
    if ("gte" in cond) return Number(v) >= Number(cond.gte);
    if ("lte" in cond) return Number(v) <= Number(cond.lte);
    return false;
  }

  function questionInput(q, value) {
    var box = el("div", { className: "question", "data-q": q.id });
    var id = "q-" + q.id;
    var title = el("span", { className: "question__label", id: id + "-label" },
      label(q) + (q.required ? " *" : ""));
    box.appendChild(title);
    if (q.type === "yesno") {
      var group = el("div", { className: "yesno", role: "radiogroup", "aria-labelledby": id + "-label" });
      [[true, t.yes], [false, t.no]].forEach(function (pair) {
        var lab = el("label", { className: "pill" });
        var input = el("input", { type: "radio", name: id, value: String(pair[0]) });
        if (value === pair[0]) input.checked = true;
        lab.appendChild(input);
        lab.appendChild(document.createTextNode(" " + pair[1]));
        group.appendChild(lab);
      });
      box.appendChild(group);
    } else if (q.type === "choice") {
      var opts = el("div", { className: "choices" });
      q.options.forEach(function (o) {
        var lab = el("label", { className: "pill" });
        var input = el("input", { type: q.multiple ? "checkbox" : "radio", name: id, value: o.value });
        if (Array.isArray(value) ? value.indexOf(o.value) >= 0 : value === o.value) input.checked = true;
        lab.appendChild(input);
        lab.appendChild(document.createTextNode(" " + label(o)));
        opts.appendChild(lab);
      });
      box.appendChild(opts);
    } else {
      var attrs = { name: id, id: id, "aria-labelledby": id + "-label" };
      if (q.type === "number" || q.type === "temperature") {
        attrs.type = "number";
        attrs.inputmode = "decimal";
        attrs.step = q.type === "temperature" ? "0.1" : "1";
        var lo = q.min !== undefined ? q.min : (q.type === "temperature" ? 34 : undefined);
        var hi = q.max !== undefined ? q.max : (q.type === "temperature" ? 43 : undefined);
        if (lo !== undefined) attrs.min = lo;
        if (hi !== undefined) attrs.max = hi;
      } else if (q.type === "date") {
        attrs.type = "date";
      } else {
        attrs.type = "text";
        attrs.maxlength = q.max_length || 500;
      }
      var input = el("input", attrs);
      if (value !== undefined && value !== null) input.value = value;
      box.appendChild(input);
    }
    box.appendChild(el("p", { className: "field-error", id: id + "-error" }));
    return box;
  }

  function readOne(q) {
    var inputs = document.querySelectorAll("[name='q-" + q.id + "']");
    if (!inputs.length) return undefined;
    var value;
    if (q.type === "yesno") {
      inputs.forEach(function (i) { if (i.checked) value = i.value === "true"; });
    } else if (q.type === "choice") {
      var picked = [];
      inputs.forEach(function (i) { if (i.checked) picked.push(i.value); });
      if (picked.length) value = q.multiple ? picked : picked[0];
    } else {
      var v = inputs[0].value.trim();
      if (v !== "") value = (q.type === "number" || q.type === "temperature") ? Number(v) : v;
    }
    return value;
  }

  /* Show the questions whose condition holds on the answers above them; hide the others. */
  function applyConditions() {
    var asked = {};
    data.form.questions.forEach(function (q) {
      var box = document.querySelector(".question[data-q='" + q.id + "']");
      if (!box) return;
      var shown = !q.when || holds(q.when, asked);
      box.hidden = !shown;
      if (!shown) return;
      var v = readOne(q);
      if (v !== undefined) asked[q.id] = v;
    });
    return asked;
  }

  function readAnswers() {
    return applyConditions();
  }

  function renderQuestions(answers) {
    var box = $("questions");
    box.textContent = "";
    if (current.previous) {
      box.appendChild(el("p", { className: "hint", id: "previous-note" }, t.previous));
    }
    data.form.questions.forEach(function (q) {
      box.appendChild(questionInput(q, answers[q.id]));
    });
    applyConditions();
  }

  function chosenOutcome() {
    var picked = document.querySelector("input[name=outcome]:checked");
    return picked ? picked.value : null;
  }

  function openTask(task) {
    current = { task: task, previous: task.previous };
    $("task-list-view").hidden = true;
    $("visit-view").hidden = false;
    $("visit-title").textContent = task.label;
    $("visit-code").textContent = task.code;
    $("form-errors").textContent = "";
    $("note").value = "";
    $("revisit").value = "";
    $("new-residents").textContent = "";
    var rl = $("residents");
    rl.textContent = "";
    $("no-residents").hidden = task.residents.length > 0;
    task.residents.forEach(function (r) {
      var li = el("li", { className: "resident", "data-person": r.id });
      li.appendChild(el("span", { className: "resident__name" }, r.name));
      var facts = [r.sex, r.age !== null ? r.age : "", r.id_number, r.phone].filter(Boolean).join(" · ");
      li.appendChild(el("span", { className: "resident__facts masked" }, facts));
      var select = el("select", { name: "resident-" + r.id, "aria-label": r.name });
      ["present", "away", "moved_out", "deceased"].forEach(function (s) {
        select.appendChild(el("option", { value: s }, t[s]));
      });
      li.appendChild(select);
      rl.appendChild(li);
    });
    var ob = $("outcomes");
    ob.textContent = "";
    data.outcomes.forEach(function (o) {
      var lab = el("label", { className: "pill pill--outcome" });
      var input = el("input", { type: "radio", name: "outcome", value: o.value });
      lab.appendChild(input);
      lab.appendChild(document.createTextNode(" " + o.label));
      ob.appendChild(lab);
    });
    renderQuestions(task.previous || {});
    toggleBoxes();
    window.scrollTo(0, 0);
  }

  function toggleBoxes() {
    var outcome = chosenOutcome();
    $("questions").hidden = outcome !== "visited" && outcome !== "new_residents";
    $("new-residents-box").hidden = outcome !== "new_residents";
    $("revisit-box").hidden = outcome !== "not_home";
    if (outcome === "new_residents" && !$("new-residents").children.length) addResidentRow();
  }

  function addResidentRow() {
    var row = $("new-resident-row").content.cloneNode(true);
    $("new-residents").appendChild(row);
  }

  function validate(outcome, answers) {
    var ok = true;
    document.querySelectorAll(".question .field-error").forEach(function (p) { p.textContent = ""; });
    if (!outcome) { $("form-errors").textContent = t.chooseOutcome; return false; }
    if (outcome === "visited" || outcome === "new_residents") {
      var asked = {};
      data.form.questions.forEach(function (q) {
        if (q.when && !holds(q.when, asked)) return;
        var v = answers[q.id];
        var err = "";
        if (v === undefined || v === "" || (Array.isArray(v) && !v.length)) {
          if (q.required) err = t.required;
        } else {
          asked[q.id] = v;
          if (q.type === "number" || q.type === "temperature") {
            var lo = q.min !== undefined ? q.min : (q.type === "temperature" ? 34 : null);
            var hi = q.max !== undefined ? q.max : (q.type === "temperature" ? 43 : null);
            if (isNaN(v) || (lo !== null && v < lo) || (hi !== null && v > hi)) {
              err = t.range.replace("%(lo)s", lo).replace("%(hi)s", hi);
            }
          }
        }
        if (err) {
          ok = false;
          var p = $("q-" + q.id + "-error");
          if (p) p.textContent = err;
        }
      });
    }
    if (outcome === "new_residents" && !readNewResidents().length) {
      $("form-errors").textContent = t.needResident;
      ok = false;
    }
    return ok;
  }

  function readNewResidents() {
    var rows = [];
    document.querySelectorAll("#new-residents .new-resident").forEach(function (row) {
      var name = row.querySelector("[name=nr_name]").value.trim();
      if (!name) return;
      var by = row.querySelector("[name=nr_birth_year]").value.trim();
      rows.push({
        name: name,
        birth_year: /^\d{4}$/.test(by) ? Number(by) : null,
        phone: row.querySelector("[name=nr_phone]").value.trim()
      });
    });
    return rows;
  }

  function save(event) {
    event.preventDefault();
    var outcome = chosenOutcome();
    var answers = (outcome === "visited" || outcome === "new_residents") ? readAnswers() : {};
    if (!validate(outcome, answers)) return;
    var residents = current.task.residents.map(function (r) {
      return { person: r.id, status: document.querySelector("[name=resident-" + r.id + "]").value };
    });
    var visit = {
      uuid: uuid4(),
      task: current.task.id,
      outcome: outcome,
      answers: answers,
      residents: outcome === "visited" || outcome === "new_residents" ? residents : [],
      new_residents: outcome === "new_residents" ? readNewResidents() : [],
      note: $("note").value.trim(),
      revisit_on: outcome === "not_home" && $("revisit").value ? $("revisit").value : null,
      visited_at: new Date().toISOString()
    };
    var q = queue();
    q.push(visit);
    store(QUEUE_KEY, q);
    backToList();
    flash(t.saved);
    sync();
  }

  function flash(text) {
    var bar = $("sync-bar");
    var note = el("span", { className: "flash", role: "status" }, text);
    bar.appendChild(note);
    window.setTimeout(function () { note.remove(); }, 4000);
  }

  function backToList() {
    $("visit-view").hidden = true;
    $("task-list-view").hidden = false;
    current = null;
    renderTasks();
    renderStatus();
  }

  /* --- sync ------------------------------------------------------------------------------ */
  function sync() {
    var q = queue();
    renderStatus();
    if (syncing || !q.length || !navigator.onLine) return Promise.resolve();
    syncing = true;
    var sent = q.slice(0, 500);
    return fetch(data.syncUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
      body: JSON.stringify({ visits: sent })
    }).then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    }).then(function (body) {
      var byUuid = {};
      body.results.forEach(function (r) { byUuid[r.uuid] = r; });
      var done = load(DONE_KEY, {});
      var left = queue().filter(function (v) {
        var r = byUuid[v.uuid];
        if (r && (r.status === "created" || r.status === "duplicate")) {
          done[v.task] = v.outcome;
          return false;
        }
        if (r && r.status === "invalid") v.errors = r.errors;
        return true;
      });
      store(QUEUE_KEY, left);
      store(DONE_KEY, done);
      var refused = left.filter(function (v) { return v.errors; });
      if (refused.length) {
        $("form-errors").textContent = t.refusedSync + " " + JSON.stringify(refused[0].errors);
      }
    }).catch(function () {
      /* Offline or the server unreachable: the queue stays and is sent later. */
    }).then(function () {
      syncing = false;
      if (!current) renderTasks();
      renderStatus();
      document.body.dataset.syncedAt = String(Date.now());
    });
  }

  /* --- offline: the service worker keeps this page and its assets ------------------------ */
  function markOffline(ready) {
    var box = $("offline-state");
    box.hidden = !ready;
    box.textContent = ready ? box.dataset.ready : "";
    box.className = ready ? "offline-ready" : "";
  }
  function keepOffline() {
    if (!("serviceWorker" in navigator) || !data.serviceWorker) return;
    /* A load through the worker was kept by it; the first load (not controlled yet) asks for
       a copy once the worker is active. */
    var controlled = !!navigator.serviceWorker.controller;
    navigator.serviceWorker.register(data.serviceWorker).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (registration) {
      if (controlled) { markOffline(true); return; }
      if (!navigator.onLine || !registration.active) return;
      var channel = new MessageChannel();
      channel.port1.onmessage = function (e) { markOffline(!!(e.data && e.data.kept)); };
      registration.active.postMessage({ type: "keep-page", url: location.href }, [channel.port2]);
    }).catch(function () { /* no worker (private mode, old browser): online only */ });
  }

  /* --- wiring ---------------------------------------------------------------------------- */
  $("visit-form").addEventListener("submit", save);
  $("visit-form").addEventListener("change", function (e) {
    if (!current) return;
    if (e.target.name === "outcome") {
      toggleBoxes();
    } else if (e.target.name && e.target.name.indexOf("q-") === 0) {
      applyConditions();
    }
  });
  $("add-resident").addEventListener("click", addResidentRow);
  $("back").addEventListener("click", backToList);
  $("task-filter").addEventListener("input", renderTasks);
  $("sync-now").addEventListener("click", sync);
  window.addEventListener("online", sync);
  window.addEventListener("offline", renderStatus);
  window.setInterval(sync, 30000);
  renderTasks();
  sync();
  keepOffline();
})();
