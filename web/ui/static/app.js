// punchbox panel: forms that talk to the JSON API, the live feed, charts
// and the row actions. No inline script anywhere (the CSP forbids it), and
// text from the box is set with textContent only, never parsed as HTML.
(function () {
  "use strict";

  // Set once per page load; a test reads it to tell a live update from a reload.
  window.punchboxLoadedAt = Date.now();

  var $ = function (sel, root) { return (root || document).querySelector(sel); };
  var $$ = function (sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); };

  function csrf() {
    var m = $('meta[name="csrf-token"]');
    return m ? m.getAttribute("content") : "";
  }

  // api calls the JSON API and resolves to {ok, status, data, retryAfter}.
  function api(method, path, body) {
    var opts = { method: method, credentials: "same-origin", headers: { "Accept": "application/json" } };
    if (method !== "GET" && method !== "HEAD") {
      opts.headers["X-CSRF-Token"] = csrf();
    }
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    return fetch(path, opts).then(function (r) {
      return r.text().then(function (text) {
        var data = null;
        if (text) {
          try { data = JSON.parse(text); } catch (e) { data = null; }
        }
        return { ok: r.ok, status: r.status, data: data, retryAfter: r.headers.get("Retry-After") };
      });
    }, function () {
      return { ok: false, status: 0, data: null, retryAfter: null };
    });
  }

  // problem turns a failed answer into {field, message}.
  function problem(res) {
    if (res.status === 0) {
      return { field: "", message: "The box did not answer. Check the network and try again." };
    }
    var e = res.data && res.data.error ? res.data.error : {};
    var msg = e.message || ("The box answered " + res.status + ".");
    if (res.status === 429 && res.retryAfter) {
      msg = "Too many attempts: wait " + waitText(parseInt(res.retryAfter, 10)) + " and try again.";
    } else if (res.status === 401 && e.code === "unauthenticated" && !document.querySelector('form[data-api="/api/v1/login"]')) {
      msg = "Your session has ended: sign in again.";
    }
    return { field: e.field || "", message: msg };
  }

  function waitText(s) {
    if (!(s > 0)) { return "a moment"; }
    if (s < 90) { return s + " s"; }
    return Math.ceil(s / 60) + " min";
  }

  // Flash messages; one can survive a reload through sessionStorage.
  function flash(message, isError) {
    var f = $("#flash");
    if (!f) { return; }
    f.textContent = message;
    f.classList.toggle("error", !!isError);
    f.hidden = false;
    clearTimeout(flash.timer);
    flash.timer = setTimeout(function () { f.hidden = true; }, isError ? 12000 : 6000);
  }
  function flashAfterReload(message) {
    try { sessionStorage.setItem("punchbox.flash", message); } catch (e) { /* private mode */ }
    location.reload();
  }
  try {
    var pending = sessionStorage.getItem("punchbox.flash");
    if (pending) {
      sessionStorage.removeItem("punchbox.flash");
      document.addEventListener("DOMContentLoaded", function () { flash(pending); });
    }
  } catch (e) { /* private mode */ }

  // Form errors: next to the field the API names, else for the whole form.
  function clearErrors(form) {
    $$("[data-error-for]", form).forEach(function (el) { el.textContent = ""; });
    $$("[aria-invalid]", form).forEach(function (el) { el.removeAttribute("aria-invalid"); });
  }
  function showError(form, p) {
    var slot = p.field ? form.querySelector('[data-error-for="' + CSS.escape(p.field) + '"]') : null;
    if (!slot) {
      slot = form.querySelector('[data-error-for=""]');
    }
    if (slot) {
      slot.textContent = p.field && slot.getAttribute("data-error-for") === "" ? p.field + ": " + p.message : p.message;
    } else {
      flash(p.message, true);
    }
    var input = p.field ? form.querySelector('[name="' + CSS.escape(p.field) + '"]') : null;
    if (input) {
      input.setAttribute("aria-invalid", "true");
      input.focus();
    }
  }

  function formBody(form) {
    var body = {};
    $$("input[name], select[name], textarea[name]", form).forEach(function (el) {
      if (el.hasAttribute("data-local") || el.hasAttribute("data-option") || el.name === "_csrf") { return; }
      body[el.name] = el.type === "checkbox" ? el.checked : el.value;
    });
    return body;
  }

  // checkRepeat compares a password with its repetition ("new" and "new2").
  function checkRepeat(form) {
    if (!form.hasAttribute("data-confirm-password")) { return null; }
    var name = form.getAttribute("data-confirm-password") || "password";
    var a = form.querySelector('[name="' + name + '"]');
    var b = form.querySelector('[name="' + name + '2"]');
    if (a && b && a.value !== b.value) {
      return { field: name + "2", message: "The two passwords differ." };
    }
    return null;
  }

  // submitForm sends a form to its API route; done gets the answer's data.
  function submitForm(form, body, done) {
    if (form.getAttribute("aria-busy") === "true") { return; } // a double click
    clearErrors(form);
    var bad = checkRepeat(form);
    if (bad) { showError(form, bad); return; }
    var buttons = $$("button", form);
    buttons.forEach(function (b) { b.disabled = true; });
    form.setAttribute("aria-busy", "true");
    api(form.getAttribute("data-method") || "POST", form.getAttribute("data-api"), body).then(function (res) {
      buttons.forEach(function (b) { b.disabled = false; });
      form.removeAttribute("aria-busy");
      if (!res.ok) { showError(form, problem(res)); return; }
      done(res.data);
    });
  }

  // Plain API forms: login, setup, own password, add user.
  $$("form[data-api]").forEach(function (form) {
    // getAttribute: form.id would be the form's input named "id".
    var own = form.getAttribute("id");
    if (own === "terminal-form" || own === "token-form") { return; }
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      submitForm(form, formBody(form), function () {
        if (form.hasAttribute("data-next")) {
          location.assign(form.getAttribute("data-next") || "/");
        } else if (form.hasAttribute("data-reload")) {
          flashAfterReload(form.getAttribute("data-done") || "Saved.");
        } else {
          if (form.hasAttribute("data-reset")) { form.reset(); }
          flash(form.getAttribute("data-done") || "Saved.");
        }
      });
    });
  });

  // Sign out: a POST with the CSRF token, then the login page.
  $$("form[data-logout]").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      api("POST", "/api/v1/logout").then(function () { location.assign("/login"); });
    });
  });

  // Relative times: "12 s ago", kept fresh.
  function ago(iso) {
    if (!iso) { return "never"; }
    var s = Math.round((Date.now() - Date.parse(iso)) / 1000);
    if (s < 2) { return "just now"; }
    if (s < 60) { return s + " s ago"; }
    if (s < 3600) { return Math.floor(s / 60) + " min ago"; }
    if (s < 172800) { return Math.floor(s / 3600) + " h ago"; }
    return Math.floor(s / 86400) + " days ago";
  }
  function refreshTimes() {
    $$("time[datetime]").forEach(function (t) { t.textContent = ago(t.getAttribute("datetime")); });
  }
  setInterval(refreshTimes, 10000);

  function offsetText(ms) {
    if (ms === undefined || ms === null) { return "–"; }
    var s = ms / 1000, sign = s < 0 ? "−" : "+";
    s = Math.abs(s);
    return sign + (s < 10 ? s.toFixed(1) : s.toFixed(0)) + " s";
  }

  // The live feed: punches, terminal health and job progress.
  var jobWatchers = {};
  function connectLive(handlers) {
    var indicator = $("#live-state");
    var delay = 1000, failures = 0;
    function setState(state, text) {
      if (!indicator) { return; }
      indicator.setAttribute("data-state", state);
      $(".live-text", indicator).textContent = text;
    }
    function open() {
      var proto = location.protocol === "https:" ? "wss:" : "ws:";
      var ws = new WebSocket(proto + "//" + location.host + "/api/v1/live");
      ws.addEventListener("open", function () {
        delay = 1000;
        failures = 0;
        setState("live", "live");
      });
      ws.addEventListener("message", function (ev) {
        var m;
        try { m = JSON.parse(ev.data); } catch (e) { return; }
        if (m.type === "job" && m.job && jobWatchers[m.job.id]) { jobWatchers[m.job.id](m.job); }
        var h = handlers[m.type];
        if (h) { h(m); }
      });
      ws.addEventListener("close", function () {
        failures++;
        setState("reconnecting", "reconnecting");
        if (failures >= 3) {
          // A feed that keeps failing may mean the session ended.
          api("GET", "/api/v1/session").then(function (res) {
            if (res.status === 401) { location.assign("/login?next=" + encodeURIComponent(location.pathname)); }
          });
        }
        setTimeout(open, delay + Math.random() * 500);
        delay = Math.min(delay * 2, 30000);
      });
    }
    open();
  }

  function updateTerminalRow(t) {
    var row = $('#terminal-table tr[data-terminal="' + CSS.escape(t.id) + '"]');
    if (!row) { return; }
    if (t.state === "removed") { row.remove(); return; }
    var badge = $('[data-field="state"]', row);
    if (badge) {
      badge.textContent = t.state;
      badge.className = "badge s-" + t.state;
    }
    var err = $('[data-field="error"]', row);
    if (err) { err.textContent = t.last_error || t.log_error || ""; }
    var garbage = $('[data-field="garbage"]', row);
    if (garbage) {
      var parts = [];
      if (t.malformed_events) { parts.push(t.malformed_events + " malformed events"); }
      if (t.dropped_events) { parts.push(t.dropped_events + " dropped"); }
      garbage.textContent = parts.join(" · ");
    }
    var contact = $('[data-field="contact"]', row);
    if (contact) {
      if (t.last_contact) { contact.setAttribute("datetime", t.last_contact); } else { contact.removeAttribute("datetime"); }
      contact.textContent = ago(t.last_contact);
    }
    var off = $('[data-field="offset"]', row);
    if (off) { off.textContent = offsetText(t.clock_offset_ms); }
    var rec = $('[data-field="records"]', row);
    if (rec) { rec.textContent = String(t.records) + (t.record_cap ? " / " + t.record_cap : ""); }
    var users = $('[data-field="users"]', row);
    if (users) { users.textContent = String(t.users) + (t.user_cap ? " / " + t.user_cap : ""); }
    var online = $("#online-count");
    if (online) { online.textContent = String($$('#terminal-table .badge.s-online').length); }
  }

  // Charts (uPlot): bars in the accent colour, axes in the text colours.
  var charts = {};
  function cssVar(name) { return getComputedStyle(document.documentElement).getPropertyValue(name).trim(); }
  function makeChart(el) {
    if (!window.uPlot) { return; }
    var values = (el.getAttribute("data-values") || "").split(",").map(Number);
    var kind = el.getAttribute("data-kind");
    var labels = kind === "daily" ? (el.getAttribute("data-labels") || "").split(",") : null;
    var xs = values.map(function (_, i) { return i; });
    var muted = cssVar("--muted"), grid = cssVar("--border"), accent = cssVar("--accent");
    var days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    var narrow = function () { return el.clientWidth < 480; };
    function xLabel(i) {
      if (kind === "hourly") { return (i < 10 ? "0" : "") + i + (narrow() ? "" : ":00"); }
      var d = labels && labels[i] ? new Date(labels[i] + "T12:00:00Z") : null;
      if (!d) { return ""; }
      return narrow() ? String(d.getUTCDate()) : days[d.getUTCDay()] + " " + d.getUTCDate();
    }
    var axis = { stroke: muted, grid: { stroke: grid, width: 1 }, ticks: { show: false }, font: "12px system-ui, sans-serif" };
    var opts = {
      width: Math.max(el.clientWidth, 200),
      height: 220,
      legend: { show: false },
      cursor: { y: false, points: { show: false } },
      scales: { x: { time: false, range: [-0.6, values.length - 0.4] }, y: { range: function (u, min, max) { return [0, Math.max(4, Math.ceil(max * 1.15))]; } } },
      axes: [
        Object.assign({}, axis, {
          grid: { show: false },
          splits: function () { return kind === "hourly" ? (narrow() ? [0, 6, 12, 18] : [0, 3, 6, 9, 12, 15, 18, 21]) : xs; },
          values: function (u, splits) { return splits.map(xLabel); }
        }),
        Object.assign({}, axis, { size: 40, values: function (u, splits) { return splits.map(function (v) { return v % 1 === 0 ? String(v) : ""; }); } })
      ],
      series: [
        {},
        { label: "Punches", stroke: accent, fill: accent + "cc", width: 0, paths: uPlot.paths.bars({ size: [0.7, 48], radius: 0.15 }), points: { show: false } }
      ]
    };
    var chart = new uPlot(opts, [xs, values], el);
    charts[kind] = { chart: chart, xs: xs, values: values };
    if (window.ResizeObserver) {
      new ResizeObserver(function () { chart.setSize({ width: Math.max(el.clientWidth, 200), height: 220 }); }).observe(el);
    }
  }

  function bumpCharts(p) {
    var todayEl = $("#today-count");
    if (!todayEl || !p.local_time) { return; }
    var today = todayEl.getAttribute("data-today");
    var day = p.local_time.slice(0, 10);
    if (day === today) {
      todayEl.textContent = String((parseInt(todayEl.textContent, 10) || 0) + 1);
      var h = charts.hourly, hour = parseInt(p.local_time.slice(11, 13), 10);
      if (h && hour >= 0 && hour < 24) {
        h.values[hour]++;
        h.chart.setData([h.xs, h.values]);
      }
    }
    var d = charts.daily, el = $("#chart-daily");
    if (d && el) {
      var i = (el.getAttribute("data-labels") || "").split(",").indexOf(day);
      if (i >= 0) {
        d.values[i]++;
        d.chart.setData([d.xs, d.values]);
      }
    }
  }

  function span(cls, text) {
    var s = document.createElement("span");
    s.className = cls;
    s.textContent = text;
    return s;
  }

  function addPunch(p) {
    var feed = $("#feed");
    if (!feed) { return; }
    var li = document.createElement("li");
    li.className = "feed-item fresh";
    li.setAttribute("data-pin", p.pin);
    li.appendChild(span("feed-time", (p.local_time || "").replace("T", " ")));
    var who = span("feed-who", "");
    who.appendChild(span("pin", p.pin));
    if (p.name) {
      who.appendChild(document.createTextNode(" "));
      who.appendChild(span("name", p.name));
    }
    li.appendChild(who);
    var what = span("feed-what", "");
    what.appendChild(span("tag", p.state_name));
    what.appendChild(document.createTextNode(" "));
    what.appendChild(span("muted", p.terminal));
    li.appendChild(what);
    feed.insertBefore(li, feed.firstChild);
    var max = parseInt(feed.getAttribute("data-max"), 10) || 30;
    while (feed.children.length > max) { feed.removeChild(feed.lastChild); }
    var empty = $("#feed-empty");
    if (empty) { empty.hidden = true; }
    bumpCharts(p);
  }

  function initDashboard() {
    $$(".chart").forEach(makeChart);
    connectLive({
      punch: function (m) { addPunch(m.punch); },
      skipped: function (m) {
        var el = $("#feed-skipped");
        if (el) {
          el.textContent = m.skipped + " more punches arrived at once (a log pull); the Punches page has them all.";
          el.hidden = false;
        }
      },
      terminal: function (m) { updateTerminalRow(m.terminal); }
    });
    // The status tiles are refreshed by htmx; keep the relative times fresh too.
    document.body.addEventListener("htmx:afterSwap", refreshTimes);
  }

  // Terminals page.
  function terminalRow(el) { return el.closest("tr[data-terminal]"); }

  function terminalInput(row) {
    var opts = {};
    try { opts = JSON.parse(row.getAttribute("data-options") || "{}") || {}; } catch (e) { opts = {}; }
    return {
      id: row.getAttribute("data-terminal"),
      name: row.getAttribute("data-name"),
      kind: row.getAttribute("data-kind"),
      address: row.getAttribute("data-address"),
      zone: row.getAttribute("data-zone"),
      enabled: row.getAttribute("data-enabled") === "true",
      options: opts
    };
  }

  function editorBody(form) {
    var body = formBody(form);
    var opts = {};
    try { opts = JSON.parse(form.getAttribute("data-options") || "{}") || {}; } catch (e) { opts = {}; }
    var key = $("#t-commkey").value.trim();
    if (key === "") {
      delete opts.commkey;
    } else {
      opts.commkey = /^[0-9]+$/.test(key) ? Number(key) : key;
    }
    if (Object.keys(opts).length) { body.options = opts; }
    if (form.getAttribute("data-method") === "PUT") { delete body.id; }
    return body;
  }

  function showProbe(r) {
    var box = $("#probe-result");
    box.replaceChildren();
    box.hidden = false;
    box.className = "probe " + (r.ok ? "ok" : "fail");
    var head = document.createElement("strong");
    if (!r.ok) {
      head.textContent = "Connection failed after " + r.took_ms + " ms";
      box.appendChild(head);
      box.appendChild(document.createTextNode(r.error || "no answer"));
      return;
    }
    head.textContent = "Connected in " + r.took_ms + " ms";
    box.appendChild(head);
    var facts = [];
    if (r.serial) { facts.push("serial " + r.serial); }
    if (r.platform) { facts.push(r.platform); }
    if (r.firmware) { facts.push("firmware " + r.firmware); }
    if (r.transport) { facts.push("over " + r.transport); }
    facts.push(r.users + " users, " + r.records + " records");
    if (r.clock_offset_ms !== undefined) { facts.push("clock " + offsetText(r.clock_offset_ms)); }
    box.appendChild(document.createTextNode(facts.join(" · ")));
  }

  function watchJob(row, job) {
    var box = $('[data-field="job"]', row);
    var bar = $("progress", box), text = $(".job-text", box);
    box.hidden = false;
    var finished = false;
    function show(j) {
      if (finished) { return; }
      if (j.total > 0) {
        bar.max = j.total;
        bar.value = j.done;
      } else {
        bar.removeAttribute("value");
      }
      text.textContent = j.state === "failed" ? "failed: " + j.error : (j.message || j.state);
      if (j.state !== "running") {
        finished = true;
        delete jobWatchers[j.id];
        if (j.state === "done") {
          bar.max = 1;
          bar.value = 1;
          flash("Pull from " + j.target + " done: " + (j.message || "finished") + ".");
        } else {
          flash("Pull from " + j.target + " failed: " + j.error, true);
        }
        setTimeout(function () { box.hidden = true; }, 8000);
      }
    }
    jobWatchers[job.id] = show;
    show(job);
    (function poll() {
      if (finished) { return; }
      setTimeout(function () {
        api("GET", "/api/v1/jobs/" + encodeURIComponent(job.id)).then(function (res) {
          if (res.ok && res.data) { show(res.data); }
          poll();
        });
      }, 1000);
    })();
  }

  function showUsers(row) {
    var dlg = $("#users-dialog");
    var id = row.getAttribute("data-terminal");
    $("#users-terminal").textContent = row.getAttribute("data-name") || id;
    var status = $("#users-status"), table = $("#users-table"), tbody = $("tbody", table);
    status.textContent = "Reading the users from the terminal…";
    status.hidden = false;
    table.hidden = true;
    tbody.replaceChildren();
    if (dlg.showModal) { dlg.showModal(); } else { dlg.setAttribute("open", ""); }
    api("GET", "/api/v1/terminals/" + encodeURIComponent(id) + "/users").then(function (res) {
      if (!res.ok) { status.textContent = problem(res).message; return; }
      var us = res.data || [];
      if (!us.length) { status.textContent = "No users are enrolled on this terminal."; return; }
      status.textContent = us.length + " users enrolled.";
      us.forEach(function (u) {
        var tr = document.createElement("tr");
        [u.pin, u.name, u.card || "", u.privilege, u.disabled ? "yes" : "no", u.in_roster ? "yes" : "no"].forEach(function (v, i) {
          var td = document.createElement("td");
          td.textContent = v;
          if (i === 0) { td.className = "mono"; }
          tr.appendChild(td);
        });
        tbody.appendChild(tr);
      });
      table.hidden = false;
    });
  }

  function showRejected(row) {
    var dlg = $("#rejected-dialog");
    var id = row.getAttribute("data-terminal");
    var path = "/api/v1/terminals/" + encodeURIComponent(id) + "/rejected";
    $("#rejected-terminal").textContent = row.getAttribute("data-name") || id;
    var status = $("#rejected-status"), table = $("#rejected-table"), tbody = $("tbody", table);
    status.textContent = "Reading…";
    table.hidden = true;
    tbody.replaceChildren();
    var clear = $("#rejected-clear");
    if (clear) {
      clear.onclick = function () {
        clear.disabled = true;
        api("DELETE", path).then(function (res) {
          clear.disabled = false;
          if (!res.ok) { status.textContent = problem(res).message; return; }
          flashAfterReload("Set-aside records of " + (row.getAttribute("data-name") || id) + " forgotten.");
        });
      };
    }
    if (dlg.showModal) { dlg.showModal(); } else { dlg.setAttribute("open", ""); }
    api("GET", path).then(function (res) {
      if (!res.ok) { status.textContent = problem(res).message; return; }
      var recs = res.data.records || [];
      if (!recs.length) { status.textContent = "Nothing set aside."; return; }
      status.textContent = res.data.total + " records set aside" + (recs.length < res.data.total ? ", the " + recs.length + " seen last shown" : "") +
        " (the box keeps the " + res.data.limit + " seen last).";
      recs.forEach(function (r) {
        var tr = document.createElement("tr");
        [r.reason, r.source, r.raw, new Date(r.first_seen).toLocaleString(), new Date(r.last_seen).toLocaleString()].forEach(function (v, i) {
          var td = document.createElement("td");
          td.textContent = v;
          if (i === 2) { td.className = "mono small break"; }
          tr.appendChild(td);
        });
        tbody.appendChild(tr);
      });
      table.hidden = false;
    });
  }

  function initTerminals() {
    connectLive({ terminal: function (m) { updateTerminalRow(m.terminal); } });
    var editor = $("#terminal-editor"), form = $("#terminal-form");
    function openEditor(row) {
      form.reset();
      clearErrors(form);
      $("#probe-result").hidden = true;
      var idInput = $("#t-id");
      if (row) {
        var t = terminalInput(row);
        $("#editor-title").textContent = "Edit " + (t.name || t.id);
        form.setAttribute("data-method", "PUT");
        form.setAttribute("data-api", "/api/v1/terminals/" + encodeURIComponent(t.id));
        form.setAttribute("data-options", JSON.stringify(t.options));
        idInput.value = t.id;
        idInput.readOnly = true;
        $("#t-name").value = t.name;
        $("#t-kind").value = t.kind;
        $("#t-address").value = t.address;
        $("#t-zone").value = t.zone;
        $("#t-enabled").checked = t.enabled;
        $("#t-commkey").value = t.options.commkey !== undefined && t.options.commkey !== null ? String(t.options.commkey) : "";
      } else {
        $("#editor-title").textContent = "Add a terminal";
        form.setAttribute("data-method", "POST");
        form.setAttribute("data-api", "/api/v1/terminals");
        form.setAttribute("data-options", "{}");
        idInput.readOnly = false;
      }
      editor.hidden = false;
      editor.scrollIntoView({ behavior: "smooth", block: "start" });
      (row ? $("#t-name") : $("#t-kind")).focus({ preventScroll: true });
    }
    if (form) {
      $("#add-terminal").addEventListener("click", function () { openEditor(null); });
      $("#cancel-terminal").addEventListener("click", function () { editor.hidden = true; });
      $("#test-terminal").addEventListener("click", function () {
        clearErrors(form);
        var body = editorBody(form);
        var path = "/api/v1/terminals/test";
        if (form.getAttribute("data-method") === "PUT") {
          if (body.options && body.options.commkey === "********") {
            // The stored comm key stays on the box: test the saved settings.
            path = "/api/v1/terminals/" + encodeURIComponent($("#t-id").value) + "/test";
            body = undefined;
          } else {
            body.id = $("#t-id").value;
          }
        }
        var btn = $("#test-terminal");
        btn.disabled = true;
        btn.textContent = "Testing…";
        api("POST", path, body).then(function (res) {
          btn.disabled = false;
          btn.textContent = "Test connection";
          if (!res.ok) { showError(form, problem(res)); return; }
          showProbe(res.data);
        });
      });
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        submitForm(form, editorBody(form), function (t) {
          flashAfterReload("Terminal " + (t.name || t.id) + " saved.");
        });
      });
    }
    var table = $("#terminal-table");
    if (!table) { return; }
    table.addEventListener("click", function (ev) {
      var btn = ev.target.closest("button[data-action]");
      if (!btn) { return; }
      var row = terminalRow(btn), id = row.getAttribute("data-terminal");
      var base = "/api/v1/terminals/" + encodeURIComponent(id);
      var label = row.getAttribute("data-name") || id;
      switch (btn.getAttribute("data-action")) {
      case "users":
        showUsers(row);
        break;
      case "rejected":
        showRejected(row);
        break;
      case "edit":
        openEditor(row);
        break;
      case "pull":
        btn.disabled = true;
        api("POST", base + "/pull").then(function (res) {
          btn.disabled = false;
          if (!res.ok) { flash(problem(res).message, true); return; }
          watchJob(row, res.data);
        });
        break;
      case "time":
        btn.disabled = true;
        api("POST", base + "/time").then(function (res) {
          btn.disabled = false;
          if (!res.ok) { flash(problem(res).message, true); return; }
          flash("Clock of " + label + " set to " + new Date(res.data.set_to).toLocaleString() + ".");
        });
        break;
      case "toggle":
        var t = terminalInput(row);
        t.enabled = !t.enabled;
        delete t.id;
        api("PUT", base, t).then(function (res) {
          if (!res.ok) { flash(problem(res).message, true); return; }
          flashAfterReload(label + (t.enabled ? " enabled." : " disabled."));
        });
        break;
      case "delete":
        if (!confirm("Delete the terminal " + label + "? Its stored punches stay on the box.")) { return; }
        api("DELETE", base).then(function (res) {
          if (!res.ok) { flash(problem(res).message, true); return; }
          flashAfterReload(label + " deleted.");
        });
        break;
      }
    });
  }

  // Users page.
  function initUsers() {
    var users = $("#user-table");
    if (users) {
      users.addEventListener("change", function (ev) {
        var sel = ev.target.closest('select[data-action="role"]');
        if (!sel) { return; }
        var name = sel.closest("tr").getAttribute("data-user");
        api("PATCH", "/api/v1/users/" + encodeURIComponent(name), { role: sel.value }).then(function (res) {
          if (!res.ok) { flash(problem(res).message, true); flashAfterReloadLater(); return; }
          flash(name + " is now " + sel.value + ".");
        });
      });
      users.addEventListener("click", function (ev) {
        var btn = ev.target.closest("button[data-action]");
        if (!btn) { return; }
        var name = btn.closest("tr").getAttribute("data-user");
        var path = "/api/v1/users/" + encodeURIComponent(name);
        if (btn.getAttribute("data-action") === "remove") {
          if (!confirm("Remove the user " + name + "? Their sessions end at once.")) { return; }
          api("DELETE", path).then(function (res) {
            if (!res.ok) { flash(problem(res).message, true); return; }
            flashAfterReload(name + " removed.");
          });
        } else {
          openPasswordDialog(name, path);
        }
      });
    }
    // The password of another user is set in a dialog: typed hidden,
    // twice, with the API's complaint shown next to the field.
    var pwDialog = $("#password-dialog"), pwForm = $("#password-form"), pwPath = "", pwName = "";
    function openPasswordDialog(name, path) {
      pwName = name;
      pwPath = path;
      $("#password-user").textContent = name;
      pwForm.reset();
      clearErrors(pwForm);
      pwDialog.showModal();
      $("#pw-new").focus();
    }
    if (pwForm) {
      pwForm.addEventListener("submit", function (ev) {
        ev.preventDefault();
        clearErrors(pwForm);
        var pw = $("#pw-new").value;
        if (pw !== $("#pw-new2").value) {
          showError(pwForm, { field: "password2", message: "the two passwords differ" });
          return;
        }
        api("PATCH", pwPath, { password: pw }).then(function (res) {
          if (!res.ok) { showError(pwForm, problem(res)); return; }
          pwDialog.close();
          flash("Password of " + pwName + " changed; their sessions ended.");
        });
      });
    }
    function flashAfterReloadLater() { setTimeout(function () { location.reload(); }, 2500); }

    var tokenForm = $("#token-form");
    if (tokenForm) {
      tokenForm.addEventListener("submit", function (ev) {
        ev.preventDefault();
        submitForm(tokenForm, formBody(tokenForm), function (created) {
          $("#token-secret-name").textContent = created.token.name;
          $("#token-secret-value").textContent = created.secret;
          $("#token-secret").hidden = false;
          tokenForm.reset();
          tokenForm.closest("details").open = false;
          $("#token-secret").scrollIntoView({ behavior: "smooth", block: "center" });
        });
      });
      $("#copy-secret").addEventListener("click", function () {
        var text = $("#token-secret-value").textContent;
        var done = function () { flash("Secret copied."); };
        if (navigator.clipboard && navigator.clipboard.writeText) {
          navigator.clipboard.writeText(text).then(done, function () { selectSecret(); });
        } else {
          selectSecret();
        }
      });
    }
    function selectSecret() {
      var range = document.createRange();
      range.selectNodeContents($("#token-secret-value"));
      var sel = getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      flash("Press Ctrl+C (or ⌘C) to copy the selected secret.");
    }
    var tokens = $("#token-table");
    if (tokens) {
      tokens.addEventListener("click", function (ev) {
        var btn = ev.target.closest('button[data-action="revoke"]');
        if (!btn) { return; }
        var row = btn.closest("tr");
        var name = row.getAttribute("data-name");
        if (!confirm("Revoke the token " + name + "? Scripts using it stop working at once.")) { return; }
        api("DELETE", "/api/v1/tokens/" + encodeURIComponent(row.getAttribute("data-token"))).then(function (res) {
          if (!res.ok) { flash(problem(res).message, true); return; }
          flashAfterReload("Token " + name + " revoked.");
        });
      });
    }
  }

  // What the other page scripts (manage.js) share with this one.
  window.punchbox = {
    api: api, problem: problem, flash: flash, flashAfterReload: flashAfterReload,
    clearErrors: clearErrors, showError: showError, formBody: formBody, csrf: csrf
  };

  // The phone menu closes after a choice and on a tap elsewhere.
  document.addEventListener("click", function (ev) {
    var menu = $("#menu"), toggle = $("#menu-toggle");
    if (menu && toggle && toggle.checked && !menu.contains(ev.target)) { toggle.checked = false; }
  });

  function init() {
    if (init.done) { return; }
    init.done = true;
    refreshTimes();
    switch (document.body.getAttribute("data-page")) {
    case "dashboard": initDashboard(); break;
    case "terminals": initTerminals(); break;
    case "users": initUsers(); break;
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
