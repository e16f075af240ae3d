// punchbox panel: the employees, backups and settings pages. Uses what
// app.js shares as window.punchbox; like it, no inline script and text from
// the box set with textContent only.
(function () {
  "use strict";

  var pb = window.punchbox;
  if (!pb) { return; }
  var $ = function (sel, root) { return (root || document).querySelector(sel); };
  var $$ = function (sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); };

  function sizeText(n) {
    if (n < 1024) { return n + " B"; }
    var units = ["KiB", "MiB", "GiB", "TiB"], i = -1;
    do { n /= 1024; i++; } while (n >= 1024 && i < units.length - 1);
    return n.toFixed(n < 10 ? 1 : 0) + " " + units[i];
  }

  // upload sends file as the body of a POST to path with its content type,
  // reporting progress(sent, total); it resolves like punchbox.api.
  function upload(path, file, type, progress) {
    return new Promise(function (resolve) {
      var x = new XMLHttpRequest();
      x.open("POST", path);
      x.setRequestHeader("Content-Type", type);
      x.setRequestHeader("Accept", "application/json");
      x.setRequestHeader("X-CSRF-Token", pb.csrf());
      x.upload.addEventListener("progress", function (ev) {
        if (ev.lengthComputable) { progress(ev.loaded, ev.total); }
      });
      x.addEventListener("load", function () {
        var data = null;
        try { data = JSON.parse(x.responseText); } catch (e) { data = null; }
        resolve({ ok: x.status >= 200 && x.status < 300, status: x.status, data: data, retryAfter: x.getResponseHeader("Retry-After") });
      });
      x.addEventListener("error", function () { resolve({ ok: false, status: 0, data: null }); });
      x.addEventListener("abort", function () { resolve({ ok: false, status: 0, data: null }); });
      x.send(file);
    });
  }

  // progressBox drives a <progress> and its text inside box.
  function progressBox(box) {
    var bar = $("progress", box), text = $(".upload-text, .job-text", box);
    return {
      show: function (done, total, message) {
        box.hidden = false;
        if (total > 0) {
          bar.max = total;
          bar.value = Math.min(done, total);
        } else {
          bar.removeAttribute("value");
        }
        text.textContent = message || "";
      },
      hide: function () { box.hidden = true; }
    };
  }

  function uploadMessage(sent, total) {
    return "Uploading: " + sizeText(sent) + " of " + sizeText(total) + " (" + Math.floor(sent * 100 / total) + " %)";
  }

  // watchJob polls a job until it ends; update gets each state, and the
  // promise the last.
  function watchJob(job, update) {
    return new Promise(function (resolve) {
      function show(j) {
        update(j);
        if (j.state !== "running") { resolve(j); return; }
        setTimeout(function () {
          pb.api("GET", "/api/v1/jobs/" + encodeURIComponent(j.id)).then(function (res) {
            if (res.ok && res.data) { show(res.data); return; }
            if (res.status === 0) { show(j); return; } // try again
            resolve({ id: j.id, state: "failed", error: pb.problem(res).message });
          });
        }, 1000);
      }
      show(job);
    });
  }

  function jobText(j) {
    if (j.state === "failed") { return "Failed: " + (j.error || "unknown error"); }
    var msg = j.message || j.state;
    if (j.unit === "bytes" && j.total > 0) { msg += " (" + sizeText(j.done) + " of " + sizeText(j.total) + ")"; }
    return msg;
  }

  function para(text, cls) {
    var p = document.createElement("p");
    p.textContent = text;
    if (cls) { p.className = cls; }
    return p;
  }

  // Employees page.
  function initEmployees() {
    var editor = $("#employee-editor"), form = $("#employee-form");
    if (form) {
      var open = function (row) {
        form.reset();
        pb.clearErrors(form);
        var pin = $("#e-pin");
        if (row) {
          var p = row.getAttribute("data-pin");
          $("#employee-editor-title").textContent = "Edit " + (row.getAttribute("data-name") || p);
          form.setAttribute("data-method", "PUT");
          form.setAttribute("data-manage-api", "/api/v1/employees/" + encodeURIComponent(p));
          pin.value = p;
          pin.readOnly = true;
          $("#e-name").value = row.getAttribute("data-name");
          $("#e-card").value = row.getAttribute("data-card");
          $("#e-privilege").value = row.getAttribute("data-privilege");
          $("#e-disabled").checked = row.getAttribute("data-disabled") === "true";
        } else {
          $("#employee-editor-title").textContent = "Add an employee";
          form.setAttribute("data-method", "POST");
          form.setAttribute("data-manage-api", "/api/v1/employees");
          pin.readOnly = false;
        }
        editor.hidden = false;
        editor.scrollIntoView({ behavior: "smooth", block: "start" });
        (row ? $("#e-name") : pin).focus({ preventScroll: true });
      };
      $("#add-employee").addEventListener("click", function () { open(null); });
      $("#cancel-employee").addEventListener("click", function () { editor.hidden = true; });
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        if (form.getAttribute("aria-busy") === "true") { return; }
        pb.clearErrors(form);
        var buttons = $$("button", form);
        buttons.forEach(function (b) { b.disabled = true; });
        form.setAttribute("aria-busy", "true");
        pb.api(form.getAttribute("data-method"), form.getAttribute("data-manage-api"), pb.formBody(form)).then(function (res) {
          buttons.forEach(function (b) { b.disabled = false; });
          form.removeAttribute("aria-busy");
          if (!res.ok) { pb.showError(form, pb.problem(res)); return; }
          pb.flashAfterReload("Employee " + res.data.pin + (res.data.name ? " (" + res.data.name + ")" : "") + " saved.");
        });
      });
    }
    var table = $("#employee-table");
    if (table && form) {
      table.addEventListener("click", function (ev) {
        var btn = ev.target.closest("button[data-action]");
        if (!btn) { return; }
        var row = btn.closest("tr[data-pin]"), pin = row.getAttribute("data-pin");
        var label = pin + (row.getAttribute("data-name") ? " (" + row.getAttribute("data-name") + ")" : "");
        if (btn.getAttribute("data-action") === "edit") { open(row); return; }
        if (!confirm("Delete the employee " + label + "? Their stored punches stay on the box.")) { return; }
        btn.disabled = true;
        pb.api("DELETE", "/api/v1/employees/" + encodeURIComponent(pin)).then(function (res) {
          btn.disabled = false;
          if (!res.ok) { pb.flash(pb.problem(res).message, true); return; }
          pb.flashAfterReload("Employee " + label + " deleted.");
        });
      });
    }
    initImport();
  }

  function initImport() {
    var form = $("#import-form");
    if (!form) { return; }
    var file = $("#import-file"), replace = $("#import-replace"), check = $("#import-check"), run = $("#import-run");
    var bar = progressBox($("#import-progress")), errorEl = $("#import-error"), result = $("#import-result");
    var linesWrap = $("#import-lines-wrap"), lines = $("#import-lines tbody");
    var checked = false;
    function reset() {
      checked = false;
      run.disabled = true;
      errorEl.textContent = "";
      result.hidden = true;
      linesWrap.hidden = true;
      bar.hide();
    }
    file.addEventListener("change", reset);
    replace.addEventListener("change", reset);
    function send(dry) {
      var f = file.files && file.files[0];
      if (!f) { errorEl.textContent = "Choose a CSV file first."; return; }
      var q = "?dry_run=" + dry + (replace.checked ? "&replace=true" : "");
      reset();
      check.disabled = run.disabled = true;
      upload("/api/v1/employees/import" + q, f, "text/csv", function (sent, total) {
        bar.show(sent, total, uploadMessage(sent, total));
      }).then(function (res) {
        check.disabled = false;
        bar.hide();
        if (!res.ok) {
          errorEl.textContent = pb.problem(res).message;
          var ls = res.data && res.data.lines;
          if (ls && ls.length) {
            lines.replaceChildren();
            ls.forEach(function (l) {
              var tr = document.createElement("tr");
              [String(l.line), l.field || "", l.message].forEach(function (v, i) {
                var td = document.createElement("td");
                td.textContent = v;
                if (i === 0) { td.className = "num"; }
                if (i === 1) { td.className = "mono"; }
                tr.appendChild(td);
              });
              lines.appendChild(tr);
            });
            linesWrap.hidden = false;
          }
          return;
        }
        var r = res.data;
        var counts = r.added + " to add, " + r.updated + " to change, " + r.unchanged + " unchanged" + (r.replace ? ", " + r.removed + " to remove" : "");
        result.replaceChildren();
        if (dry) {
          result.className = "import-result" + (r.removed > 0 ? " warn" : " ok");
          result.appendChild(para("The file is good: " + r.lines + " employees. " + counts + ".", "strong"));
          result.appendChild(para("Nothing was written yet: press “Import” to apply it."));
          result.hidden = false;
          checked = true;
          run.disabled = false;
        } else {
          pb.flashAfterReload("Imported " + r.lines + " employees: " + r.added + " added, " + r.updated + " changed, " + r.unchanged + " unchanged" +
            (r.replace ? ", " + r.removed + " removed" : "") + ".");
        }
      });
    }
    check.addEventListener("click", function () { send(true); });
    run.addEventListener("click", function () {
      if (!checked) { return; }
      if (replace.checked && !confirm("Replace the roster? Employees not in the file are removed from the box and, with the next roster push, from the terminals.")) { return; }
      send(false);
    });
    form.addEventListener("submit", function (ev) { ev.preventDefault(); send(true); });
  }

  // Backups page.
  function initBackups() {
    var now = $("#backup-now");
    if (now) {
      var box = $("#backup-job"), bar = progressBox(box);
      now.addEventListener("click", function () {
        now.disabled = true;
        pb.api("POST", "/api/v1/backups").then(function (res) {
          if (!res.ok) { now.disabled = false; pb.flash(pb.problem(res).message, true); return; }
          $("#backup-job-title").textContent = "Taking a backup…";
          watchJob(res.data, function (j) { bar.show(j.done, j.total, jobText(j)); }).then(function (j) {
            now.disabled = false;
            if (j.state === "done") {
              pb.flashAfterReload("Backup taken" + (j.result && j.result.name ? ": " + j.result.name : "") + ".");
            } else {
              $("#backup-job-title").textContent = "The backup failed.";
              pb.flash("Backup failed: " + (j.error || "unknown error"), true);
            }
          });
        });
      });
    }
    var table = $("#backup-table");
    if (table) {
      table.addEventListener("click", function (ev) {
        var btn = ev.target.closest('button[data-action="delete"]');
        if (!btn) { return; }
        var name = btn.closest("tr[data-backup]").getAttribute("data-backup");
        if (!confirm("Delete the backup " + name + "? This cannot be undone.")) { return; }
        btn.disabled = true;
        pb.api("DELETE", "/api/v1/backups/" + encodeURIComponent(name)).then(function (res) {
          btn.disabled = false;
          if (!res.ok) { pb.flash(pb.problem(res).message, true); return; }
          pb.flashAfterReload("Backup " + name + " deleted.");
        });
      });
    }
    initRestore();
  }

  function initRestore() {
    var form = $("#restore-form");
    if (!form) { return; }
    var file = $("#restore-file"), runBtn = $("#restore-run"), errorEl = $("#restore-error"), result = $("#restore-result");
    var bar = progressBox($("#restore-progress"));
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      errorEl.textContent = "";
      result.hidden = true;
      var f = file.files && file.files[0];
      if (!f) { errorEl.textContent = "Choose a backup file first."; return; }
      if (!confirm("Restore " + f.name + "? Everything on this box is replaced by the backup's contents, and the box restarts.")) { return; }
      runBtn.disabled = file.disabled = true;
      upload("/api/v1/backups/restore", f, "application/gzip", function (sent, total) {
        bar.show(sent, total, uploadMessage(sent, total));
      }).then(function (res) {
        if (!res.ok) {
          runBtn.disabled = file.disabled = false;
          bar.hide();
          errorEl.textContent = pb.problem(res).message;
          return;
        }
        watchJob(res.data, function (j) { bar.show(j.done, j.total, jobText(j)); }).then(function (j) {
          if (j.state !== "done") {
            runBtn.disabled = file.disabled = false;
            bar.hide();
            errorEl.textContent = "The backup was not restored: " + (j.error || "unknown error");
            return;
          }
          bar.hide();
          result.replaceChildren();
          result.className = "import-result ok";
          var r = j.result || {};
          result.appendChild(para("The backup is verified" + (r.backup ? " (" + r.backup.punches + " punches)" : "") + ". The box restarts now and restores it; this page reconnects by itself.", "strong"));
          if (r.warning) { result.appendChild(para("Note: " + r.warning + ".")); }
          var waiting = para("Waiting for the box…", "muted");
          result.appendChild(waiting);
          result.hidden = false;
          waitForRestart(waiting);
        });
      });
    });
  }

  // waitForRestart polls /healthz until the restarted box answers, then
  // reloads. It waits to see the box go away first, but not for ever: a
  // quick restart may be missed.
  function waitForRestart(status) {
    var seenDown = false, started = Date.now();
    (function poll() {
      setTimeout(function () {
        fetch("/healthz", { cache: "no-store", credentials: "same-origin" }).then(function (r) {
          if (r.ok && (seenDown || Date.now() - started > 15000)) {
            status.textContent = "The box is back: reloading.";
            location.reload();
            return;
          }
          if (!r.ok) { seenDown = true; }
          poll();
        }, function () {
          seenDown = true;
          status.textContent = "The box is restarting…";
          poll();
        });
      }, 1500);
    })();
  }

  // Settings page: only the changed values are sent.
  function initSettings() {
    var form = $("#settings-form");
    var save = $("#save-settings");
    if (!form || !save) { return; }
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      if (form.getAttribute("aria-busy") === "true") { return; }
      pb.clearErrors(form);
      var body = {}, n = 0;
      $$("input[data-initial]", form).forEach(function (el) {
        if (el.value === el.getAttribute("data-initial")) { return; }
        var key = el.name.replace(/^settings\./, "");
        var v = el.value.trim();
        body[key] = v !== "" && isFinite(Number(v)) ? Number(v) : v;
        n++;
      });
      if (!n) { pb.flash("Nothing changed."); return; }
      save.disabled = true;
      form.setAttribute("aria-busy", "true");
      pb.api("PUT", "/api/v1/settings", body).then(function (res) {
        save.disabled = false;
        form.removeAttribute("aria-busy");
        if (!res.ok) { pb.showError(form, pb.problem(res)); return; }
        pb.flashAfterReload(n === 1 ? "Setting saved." : n + " settings saved.");
      });
    });
  }

  function init() {
    switch (document.body.getAttribute("data-page")) {
    case "employees": initEmployees(); break;
    case "backups": initBackups(); break;
    case "settings": initSettings(); break;
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
