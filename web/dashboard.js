// sqsd dashboard: reads GET /events (Server-Sent Events: one "snapshot", then a "sample" a second) and draws the
// table and the charts; the control buttons POST to /pause, /resume and /wake with the HTTP token, which is
// kept in this tab's session storage only. Text from the daemon (queue names, error messages) is only ever
// set with textContent, never parsed as HTML.
"use strict";

(function dashboard() {
  const HISTORY_MS = 15 * 60 * 1000;
  const TOKEN_KEY = "sqsd-token";
  /** @type {any[]} */
  let samples = [];
  /** @type {any} */
  let state;
  /** @type {Record<string, {plot: any, actions?: string[]}>} */
  const charts = {};

  const $ = (selector) => document.querySelector(selector);
  const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

  // ---- token and controls -------------------------------------------------------------------------------
  const dialog = $("#token-dialog");
  function token() {
    return sessionStorage.getItem(TOKEN_KEY);
  }
  function askToken() {
    return new Promise((resolve) => {
      const input = $("#token-input");
      input.value = "";
      dialog.addEventListener(
        "close",
        () => {
          if (dialog.returnValue === "ok" && input.value) {
            sessionStorage.setItem(TOKEN_KEY, input.value);
            resolve(input.value);
          } else resolve(null);
          renderControls();
        },
        { once: true },
      );
      // returnValue outlives the dialog: an earlier "ok" would make Escape save what was typed this time.
      dialog.returnValue = "";
      dialog.showModal();
      input.focus();
    });
  }
  $("#enter-token").addEventListener("click", () => askToken());
  $("#forget-token").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    errorMessages = {};
    errorsFetchedFor = "";
    render();
  });

  async function control(action, queue) {
    if (!state || !state.controls.enabled) return;
    let secret = token();
    if (state.controls.needsToken && !secret) {
      secret = await askToken();
      if (!secret) return;
    }
    const url = `/${action}${queue ? `?queue=${encodeURIComponent(queue)}` : ""}`;
    const headers = { "content-type": "application/json" };
    if (secret) headers.authorization = `Bearer ${secret}`;
    const note = $("#controls-note");
    try {
      const response = await fetch(url, { method: "POST", headers, body: "{}" });
      if (response.status === 401) {
        sessionStorage.removeItem(TOKEN_KEY);
        note.textContent = "The daemon refused the token; enter it again.";
      } else if (!response.ok) {
        const body = await response.json().catch(() => ({}));
        note.textContent = `${action} failed: ${body.error || response.status}`;
      } else {
        note.textContent = `${action}${queue ? ` ${queue}` : ""}: done`;
      }
    } catch (error) {
      note.textContent = `${action} failed: ${error}`;
    }
    renderControls();
  }
  for (const button of document.querySelectorAll(".controls [data-action]")) {
    button.addEventListener("click", () => control(button.dataset.action));
  }

  function renderControls() {
    if (!state) return;
    const { controls, daemon } = state;
    const live = daemon.state === "running" || daemon.state === "paused";
    $("#pause-daemon").disabled = !controls.enabled || daemon.state !== "running";
    $("#resume-daemon").disabled = !controls.enabled || daemon.state !== "paused";
    $("#wake-daemon").disabled = !controls.enabled || !live;
    $("#forget-token").hidden = !token();
    $("#enter-token").hidden = !controls.needsToken || Boolean(token());
    const note = $("#controls-note");
    if (!controls.enabled) note.textContent = `Controls disabled: ${controls.reason}`;
    else if (controls.needsToken && !token() && !note.textContent)
      note.textContent = "Controls ask for the HTTP token once, and keep it for this tab only.";
    for (const button of document.querySelectorAll("#queues button")) {
      button.disabled = !controls.enabled || !live;
      if (!controls.enabled) button.title = controls.reason;
      else button.removeAttribute("title");
    }
  }

  // ---- daemon facts and the queue table ----------------------------------------------------------------
  function duration(seconds) {
    const h = Math.floor(seconds / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    const s = seconds % 60;
    return h > 0 ? `${h} h ${m} min` : m > 0 ? `${m} min ${s} s` : `${s} s`;
  }
  function setFact(field, text, className) {
    const element = document.querySelector(`#daemon [data-field="${field}"]`);
    element.textContent = text;
    if (className !== undefined) element.className = className;
  }
  function renderDaemon() {
    const { daemon } = state;
    let stateText = daemon.state;
    if (daemon.drainingFor) {
      const waits = daemon.drainingFor;
      stateText += ` (waiting for ${waits.running} running, ${waits.buffered} buffered, ${waits.receives} receives)`;
    }
    setFact("state", stateText, `state-${daemon.state}`);
    setFact("inFlight", `${daemon.inFlight} / ${daemon.maxInFlight}`);
    setFact("buffered", String(daemon.buffered));
    setFact("processed", String(daemon.processed));
    setFact("threads", String(daemon.threads));
    setFact("threadReplacements", String(daemon.threadReplacements));
    setFact("uptime", duration(daemon.uptimeSeconds));
    setFact("version", daemon.version);
    setFact("nodeVersion", daemon.nodeVersion);
    setFact("statusAsOf", state.statusAsOf === null ? "not read yet" : new Date(state.statusAsOf).toLocaleTimeString());
    // The read's exact time, for scripts and tests that compare the table with /status.json.
    document.querySelector('#daemon [data-field="statusAsOf"]').dataset.asOf = String(state.statusAsOf ?? "");
  }

  const CELLS = [
    ["name", (q) => q.name, ""],
    ["visible", (q) => count(q.exists ? q.visible : null), "num"],
    ["inFlight", (q) => count(q.exists ? q.inFlight : null), "num"],
    ["delayed", (q) => count(q.exists ? q.delayed : null), "num"],
    ["deadLetterQueue", (q) => (q.exists ? (q.deadLetter ? q.deadLetter.name : "none") : "queue does not exist"), ""],
    ["deadLetters", (q) => (q.deadLetter ? String(q.deadLetter.visible) : "–"), "num"],
    ["buffered", (q) => String(q.buffered), "num"],
    ["running", (q) => String(q.running), "num"],
    ["weight", (q) => `${q.weight} / ${q.concurrency === null ? "pool" : q.concurrency}`, "num"],
    ["paused", (q) => (q.paused ? "paused" : q.rateLimited ? "rate-limited" : "consuming"), ""],
    [
      "lastError",
      (q) =>
        q.lastError ? `${new Date(q.lastError.at).toLocaleTimeString()} ${q.lastError.name}${errorMessage(q)}` : "–",
      "error",
    ],
  ];
  // The stream carries an error's class and time only; its message comes from GET /errors, with the token,
  // fetched again only when some queue's last error changed.
  /** @type {Record<string, {message: string, at: number}>} */
  let errorMessages = {};
  let errorsFetchedFor = "";
  function errorMessage(q) {
    const known = errorMessages[q.name];
    return known && known.at === q.lastError.at ? `: ${known.message}` : "";
  }
  async function refreshErrors() {
    const secret = token();
    if (!secret || !state) return;
    const key = state.queues.map((q) => (q.lastError ? q.lastError.at : 0)).join(",");
    if (key === errorsFetchedFor || !/[1-9]/.test(key)) return;
    errorsFetchedFor = key;
    try {
      const response = await fetch("/errors", { headers: { authorization: `Bearer ${secret}` } });
      if (!response.ok) return;
      errorMessages = (await response.json()).errors;
      renderQueues();
    } catch {
      errorsFetchedFor = "";
    }
  }
  function count(value) {
    return value === null || value === undefined ? "–" : String(value);
  }
  function renderQueues() {
    const body = $("#queues tbody");
    const rows = new Map([...body.rows].map((row) => [row.dataset.queue, row]));
    for (const queue of state.queues) {
      let row = rows.get(queue.name);
      if (!row) {
        row = document.createElement("tr");
        row.dataset.queue = queue.name;
        for (const [field, , className] of CELLS) {
          const cell = document.createElement(field === "name" ? "th" : "td");
          if (field === "name") cell.scope = "row";
          cell.dataset.field = field;
          if (className) cell.className = className;
          row.append(cell);
        }
        const actions = document.createElement("td");
        const button = document.createElement("button");
        button.type = "button";
        button.addEventListener("click", () => control(button.dataset.action, row.dataset.queue));
        actions.append(button);
        row.append(actions);
        body.append(row);
      }
      rows.delete(queue.name);
      CELLS.forEach(([, text], index) => {
        const value = text(queue);
        if (row.cells[index].textContent !== value) row.cells[index].textContent = value;
      });
      const button = row.querySelector("button");
      button.dataset.action = queue.paused ? "resume" : "pause";
      button.textContent = queue.paused ? "Resume" : "Pause";
      button.setAttribute("aria-label", `${queue.paused ? "Resume" : "Pause"} queue ${queue.name}`);
    }
    for (const row of rows.values()) row.remove();
  }

  function localTime(iso) {
    return iso ? new Date(iso).toLocaleString() : "–";
  }
  const SCHEDULE_CELLS = [
    (s) => s.name,
    (s) => s.cron,
    (s) => s.timezone,
    (s) => s.queue,
    (s) => localTime(s.nextTicks[0]),
    (s) => localTime(s.lastTick),
    (s) => localTime(s.lastForwardedTick),
    (s) => `${s.offered} / ${s.forwarded} / ${s.forwardErrors}`,
  ];
  // Rebuilt whole each time: a handful of rows, and every cell is set as text, never as HTML.
  function renderSchedules() {
    const schedules = state.schedules ?? [];
    $("#schedules-section").hidden = schedules.length === 0;
    const body = $("#schedules tbody");
    const rows = schedules.map((schedule) => {
      const row = document.createElement("tr");
      row.dataset.schedule = schedule.name;
      SCHEDULE_CELLS.forEach((text, index) => {
        const cell = document.createElement(index === 0 ? "th" : "td");
        if (index === 0) cell.scope = "row";
        if (index === SCHEDULE_CELLS.length - 1) cell.className = "num";
        cell.textContent = text(schedule);
        row.append(cell);
      });
      return row;
    });
    body.replaceChildren(...rows);
  }

  // ---- charts ------------------------------------------------------------------------------------------
  function chartSpec(id) {
    switch (id) {
      case "processed":
        return {
          series: [
            ["ok", "--ok", (s) => s.processedPerSecond.ok],
            ["failed", "--failed", (s) => s.processedPerSecond.failed],
            ["restartLater", "--later", (s) => s.processedPerSecond.restartLater],
          ],
        };
      case "duration":
        return {
          series: [
            ["p50", "--series-5", (s) => (s.durationMs ? s.durationMs.p50 : null)],
            ["p95", "--series-6", (s) => (s.durationMs ? s.durationMs.p95 : null)],
          ],
        };
      case "depth":
        return {
          series: [
            ["visible", "--series-5", (s) => (s.depth ? s.depth.visible : null)],
            ["in flight", "--series-4", (s) => (s.depth ? s.depth.inFlight : null)],
            ["delayed", "--later", (s) => (s.depth ? s.depth.delayed : null)],
            ["dead letters", "--failed", (s) => (s.depth ? s.depth.deadLetters : null)],
          ],
        };
      default: {
        const actions = [...new Set(samples.flatMap((s) => Object.keys(s.sqsRequestsPerSecond)))].sort();
        const colours = ["--series-5", "--ok", "--series-4", "--later", "--series-6", "--failed"];
        return {
          actions,
          series: actions.map((action, index) => [
            action,
            colours[index % colours.length],
            (s) => s.sqsRequestsPerSecond[action] ?? 0,
          ]),
        };
      }
    }
  }
  function buildChart(id) {
    const figure = $(`#chart-${id}`);
    const target = figure.querySelector(".plot");
    charts[id]?.plot.destroy();
    // For tests and screenshots: which colours this chart was built with, and no points until it draws some.
    figure.dataset.scheme = matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
    delete figure.dataset.points;
    const spec = chartSpec(id);
    const grid = { stroke: css("--border"), width: 1 };
    const axis = { stroke: css("--muted"), grid, ticks: grid };
    const plot = new uPlot(
      {
        width: Math.max(280, target.clientWidth),
        height: 200,
        // uPlot shows x in the browser's local time zone by default.
        series: [
          {},
          ...spec.series.map(([label, colour]) => ({ label, stroke: css(colour), width: 2, spanGaps: false })),
        ],
        axes: [axis, { ...axis, size: 56 }],
        scales: { x: { time: true }, y: { range: (_u, min, max) => [0, Math.max(1, max * 1.1)] } },
        legend: { live: false },
        cursor: { show: true },
      },
      data(spec),
      target,
    );
    charts[id] = { plot, spec };
  }
  function data(spec) {
    const xs = samples.map((s) => s.t / 1000);
    return [xs, ...spec.series.map(([, , read]) => samples.map(read))];
  }
  function renderCharts() {
    for (const id of ["processed", "duration", "depth", "sqs"]) {
      const chart = charts[id];
      if (!chart) continue;
      if (id === "sqs") {
        const actions = chartSpec("sqs").actions;
        if (actions.join() !== chart.spec.actions.join()) {
          buildChart("sqs");
          continue;
        }
      }
      const values = data(chart.spec);
      chart.plot.setData(values);
      // For tests and screen readers: how many points carry a value above zero.
      const nonZero = values
        .slice(1)
        .reduce((sum, series) => sum + series.filter((v) => v !== null && v > 0).length, 0);
      $(`#chart-${id}`).dataset.points = String(nonZero);
    }
  }
  function buildCharts() {
    for (const id of ["processed", "duration", "depth", "sqs"]) buildChart(id);
    renderCharts();
  }
  // Colours come from CSS: rebuild the charts when the scheme or the width changes.
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", buildCharts);
  let resizeTimer;
  addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(buildCharts, 200);
  });

  // ---- the stream ----------------------------------------------------------------------------------------
  function render() {
    renderDaemon();
    renderQueues();
    renderSchedules();
    renderControls();
    void refreshErrors();
  }
  const connection = $("#connection");
  // A live region: screen readers announce each change, so it is written only when the state changes.
  function setConnection(text) {
    if (connection.textContent !== text) connection.textContent = text;
  }
  // EventSource retries by itself after a dropped stream, but gives up for good when the daemon answers
  // without one (503 when it serves as many viewers as it allows, or a proxy's error page): then this opens
  // a new one, waiting longer each time, up to a minute.
  const RETRY_FIRST_MS = 2000;
  let retryMs = RETRY_FIRST_MS;
  function connect() {
    const source = new EventSource("/events");
    source.addEventListener("snapshot", (event) => {
      const message = JSON.parse(event.data);
      samples = message.history;
      state = message.state;
      retryMs = RETRY_FIRST_MS;
      setConnection("Live");
      render();
      buildCharts();
    });
    source.addEventListener("sample", (event) => {
      const message = JSON.parse(event.data);
      samples.push(message.sample);
      const oldest = message.sample.t - HISTORY_MS;
      while (samples.length > 0 && samples[0].t < oldest) samples.shift();
      state = message.state;
      setConnection("Live");
      $("#updated").textContent = `Updated ${new Date(message.sample.t).toLocaleTimeString()}`;
      render();
      renderCharts();
    });
    source.addEventListener("error", () => {
      if (source.readyState !== EventSource.CLOSED) {
        setConnection("Disconnected; reconnecting…");
        return;
      }
      source.close();
      const wait = retryMs;
      retryMs = Math.min(retryMs * 2, 60_000);
      setConnection(
        `The daemon did not open a stream (it may be serving as many viewers as it allows); trying again in ${Math.round(wait / 1000)} s`,
      );
      setTimeout(connect, wait);
    });
  }
  connect();
})();
