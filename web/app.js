/* heracron web console.
 *
 * Plain ES2020, no build step, no dependencies. Served by heracrond at "/"
 * together with /style.css and /favicon.svg; talks to the JSON API under
 * /api/.
 *
 * Layout of this file:
 *   1. constants and small helpers (DOM builder, formatting)
 *   2. api(): fetch wrapper (auth header, errors, 401 handling, big ids)
 *   3. page lifecycle: each page gets a context whose timers die with it
 *   4. shell: sidebar, top bar, cluster status
 *   5. components: pills, tables, modal, toasts, form fields, log viewer,
 *      sparkline
 *   6. pages: one render function per page
 *   7. router and boot
 *
 * Every piece of text that comes from the API goes into the DOM through
 * textContent / text nodes (the h() builder), never through innerHTML, so
 * job names, scripts and logs show verbatim.
 */
'use strict';

(function () {
  // ---------------------------------------------------------------------
  // 1. Constants and helpers
  // ---------------------------------------------------------------------

  const TOKEN_KEY = 'heracron.token';
  const PAGE_SIZE = 50;
  const ACTIVE = new Set(['QUEUED', 'DISPATCHED', 'RUNNING']);
  const ENDED_BAD = new Set(['FAILED', 'TIMED_OUT', 'STOPPED', 'LOST', 'CANCELED']);
  const INSTANCE_STATUSES = ['WAITING', 'QUEUED', 'DISPATCHED', 'RUNNING', 'SUCCEEDED',
    'FAILED', 'TIMED_OUT', 'STOPPED', 'LOST', 'CANCELED'];
  const ACTION_STATUSES = ['WAITING', 'QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED',
    'TIMED_OUT', 'STOPPED', 'LOST', 'CANCELED', 'SKIPPED'];
  const TRIGGERS = ['SCHEDULE', 'MANUAL', 'RECOVERY', 'SUPER_RECOVERY', 'RERUN', 'DEBUG'];
  const JOB_TYPES = ['shell', 'bash', 'python'];
  const FANOUTS = [
    ['none', 'none (one run)'],
    ['broadcast', 'broadcast (every worker of the group)'],
    ['shards', 'shards (N parts)'],
    ['map', 'map (tasks emitted by the script)'],
  ];

  const app = {
    token: localStorage.getItem(TOKEN_KEY),
    me: null,            // {user, role, email}
    statusTimer: null,   // top bar cluster status poll
    workerHistory: new Map(), // worker name -> [avg load 0..1], last 60
  };

  const enc = encodeURIComponent;
  const pad = (n) => String(n).padStart(2, '0');
  const isAdmin = () => !!app.me && app.me.role === 'admin';

  /* h('div', {class: 'x', onclick: fn}, child, 'text', [more]) builds an
   * element. Strings become text nodes (safe). Known DOM properties (value,
   * checked, ...) are set as properties after the children are appended
   * (so a <select>'s value can name one of its options); other keys become
   * attributes. */
  const PROPS = new Set(['value', 'checked', 'disabled', 'hidden', 'selected',
    'readOnly', 'required', 'multiple']);
  function h(tag, props, ...kids) {
    const el = document.createElement(tag);
    appendKids(el, kids);
    if (props) {
      for (const [k, v] of Object.entries(props)) {
        if (v == null || v === false) continue;
        if (k === 'class') el.className = v;
        else if (k === 'text') el.textContent = String(v);
        else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
        else if (PROPS.has(k)) el[k] = v;
        else el.setAttribute(k, v === true ? '' : String(v));
      }
    }
    return el;
  }
  // Replaces el's children (null / false kids are skipped).
  function fill(el, ...kids) {
    el.replaceChildren();
    appendKids(el, kids);
    return el;
  }
  function appendKids(el, kids) {
    for (const k of kids) {
      if (k == null || k === false) continue;
      if (Array.isArray(k)) appendKids(el, k);
      else el.append(k instanceof Node ? k : String(k));
    }
  }

  // SVG elements need their namespace.
  const SVG_NS = 'http://www.w3.org/2000/svg';
  function s(tag, attrs, ...kids) {
    const el = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
    appendKids(el, kids);
    return el;
  }

  // Sidebar icons: static path data (not API data).
  const ICONS = {
    dashboard: 'M3 13h8V3H3v10zm0 8h8v-6H3v6zm10 0h8V11h-8v10zm0-18v6h8V3h-8z',
    jobs: 'M10 4H4c-1.1 0-2 .9-2 2v12c0 1.1.9 2 2 2h16c1.1 0 2-.9 2-2V8c0-1.1-.9-2-2-2h-8l-2-2z',
    actions: 'M19 4h-1V2h-2v2H8V2H6v2H5c-1.1 0-2 .9-2 2v14c0 1.1.9 2 2 2h14c1.1 0 2-.9 2-2V6c0-1.1-.9-2-2-2zm0 16H5V9h14v11zM7 11h5v5H7z',
    instances: 'M3 5h18v2H3V5zm0 6h18v2H3v-2zm0 6h18v2H3v-2z',
    debug: 'M20 8h-2.8a6 6 0 0 0-1.8-2l1.6-1.6L15.6 3l-2.2 2.2a6 6 0 0 0-2.8 0L8.4 3 7 4.4 8.6 6a6 6 0 0 0-1.8 2H4v2h2.1c-.1.3-.1.7-.1 1v1H4v2h2v1c0 .3 0 .7.1 1H4v2h2.8a6 6 0 0 0 10.4 0H20v-2h-2.1c.1-.3.1-.7.1-1v-1h2v-2h-2v-1c0-.3 0-.7-.1-1H20V8zm-6 8h-4v-2h4v2zm0-4h-4v-2h4v2z',
    workers: 'M4 4h16v6H4V4zm0 10h16v6H4v-6zm2-8v2h2V6H6zm0 10v2h2v-2H6z',
    users: 'M16 11c1.7 0 3-1.3 3-3s-1.3-3-3-3-3 1.3-3 3 1.3 3 3 3zm-8 0c1.7 0 3-1.3 3-3S9.7 5 8 5 5 6.3 5 8s1.3 3 3 3zm0 2c-2.3 0-7 1.2-7 3.5V19h14v-2.5C15 14.2 10.3 13 8 13zm8 0h-1c1.2.8 2 2 2 3.5V19h6v-2.5c0-2.3-4.7-3.5-7-3.5z',
    audit: 'M14 2H6c-1.1 0-2 .9-2 2v16c0 1.1.9 2 2 2h12c1.1 0 2-.9 2-2V8l-6-6zm2 16H8v-2h8v2zm0-4H8v-2h8v2zm-3-5V3.5L18.5 9H13z',
  };
  const icon = (name) => s('svg', { class: 'icon', viewBox: '0 0 24 24', 'aria-hidden': 'true' },
    s('path', { d: ICONS[name] }));

  function today() {
    const d = new Date();
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  }
  function shiftDate(day, delta) {
    const [y, m, d] = day.split('-').map(Number);
    const t = new Date(y, m - 1, d + delta);
    return `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())}`;
  }
  // "YYYY-MM-DD HH:MM:SS" (server local time) -> Date in the browser's zone;
  // only ever used for differences between two server times.
  function parseTs(str) {
    if (!str) return null;
    const d = new Date(String(str).replace(' ', 'T'));
    return isNaN(d) ? null : d;
  }
  function fmtDuration(ms) {
    if (ms == null || !isFinite(ms) || ms < 0) return '';
    const sec = Math.round(ms / 1000);
    if (sec < 60) return `${sec}s`;
    if (sec < 3600) return `${Math.floor(sec / 60)}m ${pad(sec % 60)}s`;
    return `${Math.floor(sec / 3600)}h ${pad(Math.floor(sec / 60) % 60)}m`;
  }
  function duration(inst) {
    const a = parseTs(inst.started_at), b = parseTs(inst.ended_at);
    return a && b ? fmtDuration(b - a) : '';
  }
  function fmtBytes(n) {
    if (n == null || !isFinite(n)) return '';
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0, v = Number(n);
    while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return `${v >= 100 || i === 0 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
  }
  const pct = (x) => `${Math.round((Number(x) || 0) * 100)}%`;
  const level = (x) => (x >= 0.85 ? 'high' : x >= 0.6 ? 'mid' : 'low');
  const splitList = (str) => String(str || '').split(',').map((x) => x.trim()).filter(Boolean);
  const timeOf = (ts) => (ts ? String(ts).slice(11, 16) : '');

  // "a=1\nb=2" <-> {a: "1", b: "2"}
  function varsToText(vars) {
    return Object.entries(vars || {}).map(([k, v]) => `${k}=${v}`).join('\n');
  }
  function textToVars(text) {
    const out = {};
    for (const line of String(text || '').split('\n')) {
      if (!line.trim()) continue;
      const i = line.indexOf('=');
      if (i < 1) throw Object.assign(new Error(`"${line.trim()}": expected NAME=value`), { field: 'variables' });
      out[line.slice(0, i).trim()] = line.slice(i + 1);
    }
    return out;
  }

  function debounce(fn, ms) {
    let t = null;
    return (...args) => { clearTimeout(t); t = setTimeout(() => fn(...args), ms); };
  }

  // Re-render a container only when its data changed: polling refreshes
  // then never rebuild identical DOM (no flicker, hover/focus kept).
  const lastSig = new WeakMap();
  function renderInto(el, data, build) {
    const sig = JSON.stringify(data);
    if (lastSig.get(el) === sig) return;
    lastSig.set(el, sig);
    el.replaceChildren(build(data));
  }

  // ---------------------------------------------------------------------
  // 2. API
  // ---------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, message, field) {
      super(message);
      this.status = status;
      this.field = field || null;
    }
  }

  /* Action ids are YYYYMMDDHHMM + six digits: 18 digits, beyond what a JS
   * number holds exactly. Before JSON.parse, quote every integer literal
   * outside strings that is not a safe integer, so it arrives as a string. */
  function parseJSON(text) {
    if (!/\d{16}/.test(text)) return JSON.parse(text);
    let out = '', last = 0, i = 0;
    const n = text.length;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 34) { // skip a string literal, honouring backslash escapes
        let j = i + 1;
        for (;;) {
          j = text.indexOf('"', j);
          if (j < 0) { j = n; break; }
          let bs = 0;
          for (let k = j - 1; text.charCodeAt(k) === 92; k--) bs++;
          if (bs % 2 === 0) break;
          j++;
        }
        i = j + 1;
      } else if (c === 45 || (c >= 48 && c <= 57)) {
        let j = i + 1;
        while (j < n && /[0-9.eE+-]/.test(text[j])) j++;
        const tok = text.slice(i, j);
        if (/^-?\d{16,}$/.test(tok) && !Number.isSafeInteger(Number(tok))) {
          out += text.slice(last, i) + '"' + tok + '"';
          last = j;
        }
        i = j;
      } else {
        i++;
      }
    }
    return JSON.parse(out + text.slice(last));
  }

  /* api(method, path, body?, {auth}) -> parsed JSON. Throws ApiError with the
   * server's {"error", "field"}. A 401 on an authenticated call ends the
   * session and shows the login page. */
  async function api(method, path, body, opts = {}) {
    const auth = opts.auth !== false;
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (auth && app.token) headers.Authorization = `Bearer ${app.token}`;
    let res;
    try {
      res = await fetch(path, {
        method, headers, cache: 'no-store',
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new ApiError(0, `cannot reach the server (${e.message})`);
    }
    const text = await res.text();
    let data = null;
    if (text) {
      try { data = parseJSON(text); } catch (e) { data = null; }
    }
    if (res.status === 401 && auth) {
      sessionExpired();
      throw new ApiError(401, (data && data.error) || 'not signed in');
    }
    if (!res.ok) {
      const msg = (data && data.error) || `${res.status} ${res.statusText || 'error'}`;
      throw new ApiError(res.status, msg, data && data.field);
    }
    return data || {};
  }
  const get = (p) => api('GET', p);
  const post = (p, b) => api('POST', p, b === undefined ? {} : b);
  const put = (p, b) => api('PUT', p, b);
  const del = (p) => api('DELETE', p);
  function qs(params) {
    const u = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v != null && v !== '') u.set(k, v);
    const str = u.toString();
    return str ? `?${str}` : '';
  }
  // Promise.allSettled, mapped to value-or-null.
  async function settle(promises) {
    const rs = await Promise.allSettled(promises);
    return rs.map((r) => (r.status === 'fulfilled' ? r.value : null));
  }

  // ---------------------------------------------------------------------
  // 3. Page lifecycle
  // ---------------------------------------------------------------------

  /* Each rendered page gets a context. Its timers (every/later) stop when
   * the user navigates away; async code checks ctx.alive after awaits. */
  let page = null;
  function beginPage() {
    if (page) page.dispose();
    const timers = new Set();
    const ctx = {
      alive: true,
      root: null,
      later(ms, fn) {
        const t = setTimeout(() => { timers.delete(t); if (ctx.alive) fn(); }, ms);
        timers.add(t);
      },
      // Runs fn every ms (after the previous run finished), never overlapping.
      every(ms, fn) {
        const tick = async () => {
          try { await fn(); } catch (e) { if (e.status !== 401) console.warn(e); }
          if (ctx.alive) ctx.later(ms, tick);
        };
        ctx.later(ms, tick);
      },
      dispose() {
        ctx.alive = false;
        for (const t of timers) clearTimeout(t);
        timers.clear();
      },
    };
    page = ctx;
    return ctx;
  }

  // ---------------------------------------------------------------------
  // 4. Shell: sidebar, top bar, cluster status
  // ---------------------------------------------------------------------

  const NAV = [
    ['dashboard', 'Dashboard', '#/dashboard'],
    ['jobs', 'Jobs', '#/jobs'],
    ['actions', 'Actions', '#/actions'],
    ['instances', 'Instances', '#/instances'],
    ['debug', 'Debug console', '#/debug'],
    ['workers', 'Workers', '#/workers'],
    ['users', 'Users', '#/users'],
    ['audit', 'Audit', '#/audit'],
  ];
  // Page name -> the sidebar entry it belongs to.
  const NAV_OF = { job: 'jobs', 'job-form': 'jobs', instance: 'instances' };

  function ensureShell() {
    if (document.getElementById('shell')) return;
    const nav = h('nav', { class: 'nav' }, NAV.map(([key, label, href]) =>
      h('a', { id: `nav-${key}`, href, class: 'nav-link', 'data-key': key }, icon(key), h('span', { text: label }))));
    const sidebar = h('aside', { class: 'sidebar' },
      h('a', { class: 'brand', href: '#/dashboard' },
        h('img', { src: '/favicon.svg', alt: '', width: 22, height: 22 }),
        h('span', { text: 'heracron' })),
      nav,
      h('div', { class: 'sidebar-foot', text: 'distributed job scheduler' }));
    const topbar = h('header', { class: 'topbar' },
      h('div', { id: 'cluster-status', class: 'cluster-status' }, h('span', { class: 'dot' }), h('span', { text: 'connecting…' })),
      h('div', { class: 'userbox' },
        h('span', { id: 'whoami', class: 'whoami' }),
        h('button', { id: 'logout', class: 'btn small ghost', type: 'button', text: 'Sign out', onclick: logout })));
    const shell = h('div', { id: 'shell', class: 'shell' }, sidebar,
      h('div', { class: 'main-col' }, topbar, h('main', { id: 'main', class: 'main' })));
    document.getElementById('app').replaceChildren(shell);
    updateWhoami();
    startStatusPoll();
  }

  function updateWhoami() {
    const el = document.getElementById('whoami');
    if (!el) return;
    el.replaceChildren();
    if (!app.me) return;
    el.append(h('span', { class: 'avatar', text: (app.me.user || '?').slice(0, 1).toUpperCase() }),
      h('span', { class: 'whoami-name', text: app.me.user, title: app.me.email || '' }),
      h('span', { class: `role role-${app.me.role}`, text: app.me.role }));
    const users = document.getElementById('nav-users');
    if (users) users.hidden = !isAdmin();
  }

  function setActiveNav(name) {
    const key = NAV_OF[name] || name;
    for (const a of document.querySelectorAll('.nav-link')) a.classList.toggle('active', a.dataset.key === key);
  }

  async function refreshClusterStatus() {
    const el = document.getElementById('cluster-status');
    if (!el) return;
    let cls = 'bad', text;
    try {
      const st = await get('/api/status');
      if (st.master) {
        cls = 'ok';
        text = `master ${st.master} · epoch ${st.epoch} · ${st.workers ?? 0} worker${st.workers === 1 ? '' : 's'}`;
      } else {
        cls = 'warn';
        text = `no master · epoch ${st.epoch ?? 0} · ${st.workers ?? 0} workers`;
      }
      if (st.node) el.title = `served by node ${st.node}`;
    } catch (e) {
      if (e.status === 401) return;
      text = e.status === 503 ? 'database unavailable' : e.message;
    }
    el.className = `cluster-status ${cls}`;
    el.replaceChildren(h('span', { class: 'dot' }), h('span', { text }));
  }
  function startStatusPoll() {
    stopStatusPoll();
    refreshClusterStatus();
    app.statusTimer = setInterval(refreshClusterStatus, 5000);
  }
  function stopStatusPoll() {
    if (app.statusTimer) clearInterval(app.statusTimer);
    app.statusTimer = null;
  }

  /* Creates the page root (id "page-<name>") in <main> and returns it. */
  function mount(ctx, name, title) {
    const root = h('section', { id: `page-${name}`, class: 'page' });
    document.getElementById('main').replaceChildren(root);
    document.getElementById('main').scrollTop = 0;
    document.title = `${title} · heracron`;
    ctx.root = root;
    return root;
  }
  function pageHeader(title, sub, ...buttons) {
    return h('div', { class: 'page-head' },
      h('div', null, title instanceof Node ? title : h('h1', { text: title }), sub ? h('div', { class: 'sub' }, sub) : null),
      h('div', { class: 'toolbar' }, buttons));
  }

  function sessionExpired() {
    app.token = null;
    app.me = null;
    localStorage.removeItem(TOKEN_KEY);
    renderLogin();
  }
  async function logout() {
    try { await post('/api/logout'); } catch (e) { /* the token goes anyway */ }
    sessionExpired();
    history.replaceState(null, '', '#/dashboard');
  }

  // ---------------------------------------------------------------------
  // 5. Components
  // ---------------------------------------------------------------------

  const pill = (status, text) => h('span', { class: `pill pill-${String(status || 'none').toLowerCase()}`, text: text || status || '—' });
  const link = (href, text, cls) => h('a', { href, text, class: cls });
  const jobLink = (name) => (name ? link(`#/job/${enc(name)}`, name) : muted('—'));
  const instLink = (id) => (id != null ? link(`#/instance/${id}`, `#${id}`, 'mono') : muted('—'));
  const muted = (text) => h('span', { class: 'muted', text });
  const mono = (text) => h('span', { class: 'mono', text });
  const btn = (label, onclick, cls = '', id) => h('button', { type: 'button', class: `btn ${cls}`.trim(), id, text: label, onclick });
  const card = (title, body, extra) => h('div', { class: 'card' },
    h('div', { class: 'card-head' }, h('h2', { text: title }), extra || null), h('div', { class: 'card-body' }, body));

  /* table([[label, row => value, cls?], ...], rows, {empty, rowClass}) */
  function table(cols, rows, opts = {}) {
    const head = h('tr', null, cols.map((c) => h('th', { class: c[2], text: c[0] })));
    const body = h('tbody');
    if (!rows.length) body.append(h('tr', { class: 'empty' }, h('td', { colspan: cols.length, text: opts.empty || 'Nothing to show.' })));
    for (const r of rows) {
      body.append(h('tr', { class: opts.rowClass ? opts.rowClass(r) : null }, cols.map((c) => {
        const v = c[1](r);
        return h('td', { class: c[2] }, v == null || v === '' ? muted('—') : v);
      })));
    }
    return h('div', { class: 'table-wrap' }, h('table', { class: `grid ${opts.cls || ''}` }, h('thead', null, head), body));
  }
  // Two-column key/value table.
  function kvTable(pairs) {
    return h('table', { class: 'kv' }, h('tbody', null, pairs.filter(Boolean).map(([k, v]) =>
      h('tr', null, h('th', { text: k }), h('td', null, v == null || v === '' ? muted('—') : v)))));
  }
  const loading = () => h('div', { class: 'loading', text: 'Loading…' });
  const errorBox = (msg) => h('div', { class: 'alert error', text: msg });

  function toast(content, kind = 'info', ms = 4500) {
    let box = document.getElementById('toasts');
    if (!box) { box = h('div', { id: 'toasts' }); document.body.append(box); }
    const t = h('div', { class: `toast ${kind}`, role: 'status' }, content);
    box.append(t);
    setTimeout(() => t.remove(), ms);
  }

  /* A labelled form field with its error slot (class "field-error",
   * data-field = the API's field name). */
  function field(label, input, apiField, opts = {}) {
    return h('div', { class: `field ${opts.cls || ''}`.trim() },
      h('label', { for: input.id, text: label }), input,
      opts.hint ? h('div', { class: 'hint' }, opts.hint) : null,
      apiField ? h('div', { class: 'field-error', 'data-field': apiField }) : null);
  }
  function clearErrors(form) {
    for (const e of form.querySelectorAll('.field-error')) e.textContent = '';
    for (const e of form.querySelectorAll('.invalid')) e.classList.remove('invalid');
    for (const e of form.querySelectorAll('.form-error')) e.textContent = '';
  }
  /* Shows err beside its field when the form has a slot for err.field,
   * else in the form's general error box. */
  function showError(form, err, generalBox) {
    const slot = err.field ? form.querySelector(`.field-error[data-field="${CSS.escape(err.field)}"]`) : null;
    if (slot) {
      slot.textContent = err.message;
      const input = slot.closest('.field') && slot.closest('.field').querySelector('input, select, textarea');
      if (input) { input.classList.add('invalid'); input.focus(); }
      return;
    }
    const box = generalBox || form.querySelector('.form-error');
    if (box) box.textContent = err.message; else toast(err.message, 'error');
  }

  /* modal({title, body, okText, danger, onOk(form)}) -> Promise of onOk's
   * result (or true), null when dismissed. onOk may throw an ApiError: it is
   * shown inside the dialog, which stays open. The OK button is
   * #confirm-ok. */
  function closeModal() {
    const m = document.getElementById('modal');
    if (m && m._close) m._close(null); else if (m) m.remove();
  }
  function modal({ title, body, okText = 'OK', danger = false, onOk }) {
    closeModal();
    return new Promise((resolve) => {
      const general = h('div', { class: 'form-error' });
      const ok = h('button', { id: 'confirm-ok', type: 'submit', class: `btn ${danger ? 'danger' : 'primary'}`, text: okText });
      const cancel = h('button', { id: 'confirm-cancel', type: 'button', class: 'btn', text: 'Cancel' });
      const form = h('form', { class: 'modal', role: 'dialog', 'aria-modal': 'true', novalidate: true },
        h('h2', { text: title }), h('div', { class: 'modal-body' }, body), general,
        h('div', { class: 'modal-actions' }, cancel, ok));
      const overlay = h('div', { id: 'modal', class: 'overlay' }, form);
      const onKey = (e) => { if (e.key === 'Escape') close(null); };
      function close(v) {
        overlay.remove();
        document.removeEventListener('keydown', onKey);
        resolve(v);
      }
      overlay._close = close;
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        clearErrors(form);
        ok.disabled = true;
        try {
          const v = onOk ? await onOk(form) : true;
          close(v === undefined ? true : v);
        } catch (err) {
          ok.disabled = false;
          if (err.status === 401) { close(null); return; }
          showError(form, err, general);
        }
      });
      cancel.addEventListener('click', () => close(null));
      overlay.addEventListener('mousedown', (e) => { if (e.target === overlay) close(null); });
      document.addEventListener('keydown', onKey);
      document.body.append(overlay);
      (form.querySelector('input, textarea, select') || ok).focus();
    });
  }
  const confirmDialog = (title, message, okText = 'Delete') =>
    modal({ title, body: h('p', { text: message }), okText, danger: true });

  /* Live log of an instance into <pre>: polls ?after=last_seq every 500 ms
   * while the instance is queued/dispatched/running; keeps the view pinned
   * to the bottom unless the user scrolled up. onStatus(status) is called
   * whenever the status changes. Returns {stop()}. */
  function liveLog(ctx, pre, id, onStatus) {
    let seq = 0, status = null, stopped = false;
    const poll = async () => {
      if (stopped || !ctx.alive) return;
      let r;
      try {
        r = await get(`/api/instances/${id}/log?after=${seq}`);
      } catch (e) {
        if (e.status === 401 || stopped || !ctx.alive) return;
        if (e.status === 404) { pre.dataset.state = 'ended'; return; }
        ctx.later(2000, poll);
        return;
      }
      if (stopped || !ctx.alive) return;
      const data = r.data || '';
      if (data) {
        const pinned = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 30;
        pre.append(data);
        if (pinned) pre.scrollTop = pre.scrollHeight;
      }
      const next = Number(r.last_seq);
      const advanced = isFinite(next) && next > seq;
      if (advanced) seq = next;
      if (r.status !== status) { status = r.status; if (onStatus) onStatus(status); }
      const active = ACTIVE.has(status);
      pre.dataset.state = active ? 'live' : status === 'WAITING' ? 'waiting' : 'ended';
      // The server returns at most 1000 chunks per call: catch up quickly.
      if (advanced && (!active || data.length > 32768)) ctx.later(30, poll);
      else if (active) ctx.later(500, poll);
      else if (status === 'WAITING') ctx.later(2000, poll);
    };
    poll();
    return { stop() { stopped = true; } };
  }

  // A small inline SVG sparkline of values in 0..1 (newest on the right).
  function sparkline(values, w = 100, ht = 28, slots = 60) {
    const svg = s('svg', { class: `spark ${level(values[values.length - 1] || 0)}`, width: w, height: ht, viewBox: `0 0 ${w} ${ht}` });
    svg.append(s('line', { x1: 0, y1: ht - 1, x2: w, y2: ht - 1, class: 'spark-base' }));
    if (values.length < 2) return svg;
    const step = w / (slots - 1);
    const pts = values.map((v, i) => {
      const x = w - (values.length - 1 - i) * step;
      const y = ht - 2 - Math.min(1, Math.max(0, v)) * (ht - 4);
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    });
    const x0 = (w - (values.length - 1) * step).toFixed(1);
    svg.append(s('polygon', { class: 'spark-area', points: `${x0},${ht} ${pts.join(' ')} ${w},${ht}` }),
      s('polyline', { class: 'spark-line', points: pts.join(' ') }));
    return svg;
  }
  // Horizontal bar with a fill of frac (0..1).
  const bar = (frac, label) => h('div', { class: `bar ${level(frac)}`, title: label || pct(frac) },
    h('div', { class: 'bar-fill', style: `width:${Math.min(100, Math.max(0, frac * 100)).toFixed(1)}%` }),
    label ? h('span', { class: 'bar-label', text: label }) : null);

  // Suggestions (<datalist>) of host groups, from /api/workers.
  async function groupOptions(list) {
    try {
      const r = await get('/api/workers');
      const groups = new Set(['default']);
      for (const w of r.workers || []) for (const g of w.groups || []) groups.add(g);
      list.replaceChildren(...[...groups].sort().map((g) => h('option', { value: g })));
    } catch (e) { /* suggestions only */ }
  }

  // ---------------------------------------------------------------------
  // 6. Pages
  // ---------------------------------------------------------------------

  // --- Login -----------------------------------------------------------

  function renderLogin() {
    if (page) page.dispose();
    page = null;
    stopStatusPoll();
    closeModal();
    if (document.getElementById('page-login')) return;
    const user = h('input', { id: 'login-user', autocomplete: 'username', required: true, autofocus: true });
    const pass = h('input', { id: 'login-password', type: 'password', autocomplete: 'current-password', required: true });
    const error = h('div', { id: 'login-error', class: 'form-error', role: 'alert' });
    const submit = h('button', { id: 'login-submit', type: 'submit', class: 'btn primary block', text: 'Sign in' });
    const form = h('form', { class: 'login-card' },
      h('div', { class: 'login-brand' }, h('img', { src: '/favicon.svg', alt: '', width: 36, height: 36 }),
        h('div', null, h('div', { class: 'login-title', text: 'heracron' }), h('div', { class: 'muted', text: 'Sign in to the console' }))),
      field('User', user), field('Password', pass), error, submit);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      error.textContent = '';
      if (!user.value.trim() || !pass.value) { error.textContent = 'enter your user name and password'; return; }
      submit.disabled = true;
      try {
        const r = await api('POST', '/api/login', { user: user.value.trim(), password: pass.value }, { auth: false });
        app.token = r.token;
        localStorage.setItem(TOKEN_KEY, r.token);
        app.me = { user: r.user, role: r.role, email: '' };
        document.getElementById('app').replaceChildren();
        if (!location.hash || location.hash.startsWith('#/login')) history.replaceState(null, '', '#/dashboard');
        loadMe();
        route();
      } catch (err) {
        error.textContent = err.status === 429 ? 'too many attempts, wait a minute'
          : err.status === 401 ? (err.message && err.message !== 'not signed in' ? err.message : 'wrong user or password')
            : err.message;
        submit.disabled = false;
        pass.select();
      }
    });
    document.getElementById('app').replaceChildren(h('div', { id: 'page-login', class: 'login-page' }, form));
    document.title = 'Sign in · heracron';
    user.focus();
  }

  async function loadMe() {
    try {
      app.me = await get('/api/me');
      updateWhoami();
    } catch (e) { /* 401 handled by api() */ }
  }

  // --- Dashboard -------------------------------------------------------

  async function renderDashboard(ctx) {
    const root = mount(ctx, 'dashboard', 'Dashboard');
    const cluster = h('div', null, loading());
    const counts = h('div', null, loading());
    const waiting = h('div', null, loading());
    const failures = h('div', null, loading());
    const day = today();
    root.append(pageHeader('Dashboard', `Cluster overview and today's runs (${day})`),
      cluster,
      card("Today's actions by status", counts, link(`#/actions?date=${day}`, 'all actions →', 'more')),
      h('div', { class: 'cols' },
        card("Today's DAG at a glance — waiting actions", waiting),
        card('Recent failures', failures, link('#/instances?status=FAILED', 'more →', 'more'))));

    const load = async () => {
      const [st, wk, acts, f1, f2, f3] = await settle([
        get('/api/status'), get('/api/workers'), get(`/api/actions?date=${day}`),
        get('/api/instances?status=FAILED&limit=10'), get('/api/instances?status=TIMED_OUT&limit=10'),
        get('/api/instances?status=LOST&limit=10')]);
      if (!ctx.alive) return;
      const workers = wk ? wk.workers || [] : null;
      renderInto(cluster, { st, n: workers && workers.length, c: workers && workers.filter((w) => w.connected).length }, (d) => {
        const stat = (label, value, cls, sub) => h('div', { class: `stat ${cls || ''}` },
          h('div', { class: 'stat-label', text: label }), h('div', { class: 'stat-value', text: value }),
          sub ? h('div', { class: 'stat-sub', text: sub }) : null);
        if (!d.st) return h('div', { class: 'stats' }, stat('Cluster', 'unreachable', 'bad', 'GET /api/status failed'));
        const lease = d.st.lease_expires_ms;
        return h('div', { class: 'stats' },
          stat('Master', d.st.master || 'none', d.st.master ? 'ok' : 'bad', d.st.node ? `this node: ${d.st.node}` : null),
          stat('Epoch', String(d.st.epoch ?? '—')),
          stat('Workers connected', d.n == null ? String(d.st.workers ?? '—') : `${d.c} / ${d.n}`, d.n && d.c < d.n ? 'warn' : 'ok'),
          stat('Lease expires in', lease > 0 ? `${(lease / 1000).toFixed(1)} s` : 'expired', lease > 0 ? '' : 'bad'));
      });
      const actions = acts ? acts.actions || [] : null;
      renderInto(counts, actions, (list) => {
        if (!list) return errorBox('could not load actions');
        const by = {};
        for (const a of list) by[a.status] = (by[a.status] || 0) + 1;
        return h('div', { class: 'counts' },
          h('a', { class: 'count total', href: `#/actions?date=${day}` }, h('span', { class: 'count-n', text: String(list.length) }), h('span', { text: 'total' })),
          ACTION_STATUSES.map((st) => h('a', { class: `count ${by[st] ? '' : 'zero'}`, href: `#/actions?date=${day}&status=${st}` },
            h('span', { class: 'count-n', text: String(by[st] || 0) }), pill(st))));
      });
      renderInto(waiting, actions, (list) => (list ? waitingTable(list) : errorBox('could not load actions')));
      const fails = [f1, f2, f3].filter(Boolean).flatMap((r) => r.instances || [])
        .sort((a, b) => Number(b.id) - Number(a.id)).slice(0, 10);
      renderInto(failures, fails, (list) => table([
        ['Instance', (i) => instLink(i.id)],
        ['Job', (i) => jobLink(i.job)],
        ['Status', (i) => pill(i.status)],
        ['Worker', (i) => i.worker],
        ['Ended', (i) => i.ended_at, 'nowrap'],
        ['Reason', (i) => i.reason || (i.exit_code != null ? `exit ${i.exit_code}` : ''), 'clip'],
      ], list, { empty: 'No failures.' }));
    };
    await load();
    ctx.every(5000, load);
  }

  /* WAITING actions of the day, with the upstream actions they still wait
   * on (upstream ids resolved against the same day's list). */
  function waitingTable(list) {
    const byId = new Map(list.map((a) => [String(a.id), a]));
    const rows = list.filter((a) => a.status === 'WAITING');
    const shown = rows.slice(0, 40);
    const t = table([
      ['Job', (a) => jobLink(a.job)],
      ['Fire at', (a) => timeOf(a.fire_at), 'nowrap mono'],
      ['Waits on', (a) => {
        const ups = (a.upstreams || []).map((id) => byId.get(String(id)) || { id, job: null, status: null });
        const open = ups.filter((u) => u.status !== 'SUCCEEDED');
        if (!ups.length) return h('span', { class: 'muted', text: `its time (${timeOf(a.fire_at)})` });
        if (!open.length) return h('span', { class: 'muted', text: `upstreams done; its time (${timeOf(a.fire_at)})` });
        return h('div', { class: 'chips' }, open.map(upChip));
      }],
    ], shown, { empty: 'Nothing is waiting.' });
    if (rows.length > shown.length) return h('div', null, t, h('div', { class: 'more-note' }, `and ${rows.length - shown.length} more — `, link('#/actions?status=WAITING', 'see Actions')));
    return t;
  }
  // One upstream action: job name, time, status.
  function upChip(u) {
    if (!u.job) return h('span', { class: 'chip', title: 'action not in this day' }, mono(String(u.id)));
    return h('span', { class: 'chip', title: `action ${u.id}` }, jobLink(u.job), h('span', { class: 'mono muted', text: timeOf(u.fire_at) }), pill(u.status));
  }

  // --- Jobs ------------------------------------------------------------

  async function renderJobs(ctx, m, q) {
    const root = mount(ctx, 'jobs', 'Jobs');
    let mode = localStorage.getItem('heracron.jobs.mode') === 'group' ? 'group' : 'folder';
    const collapsed = new Set(JSON.parse(localStorage.getItem('heracron.jobs.collapsed') || '[]'));
    let jobs = [], folders = [];

    const search = h('input', { id: 'job-search', type: 'search', placeholder: 'Search jobs…', value: q.get('q') || '', class: 'search' });
    const segFolder = btn('By folder', () => setMode('folder'), 'seg', 'jobs-by-folder');
    const segGroup = btn('By host group', () => setMode('group'), 'seg', 'jobs-by-group');
    const tree = h('div', null, loading());
    const count = h('span', { class: 'muted' });
    root.append(pageHeader('Jobs', count,
      search, h('div', { class: 'segmented' }, segFolder, segGroup),
      h('a', { id: 'job-new', class: 'btn primary', href: '#/jobs/new', text: '+ New job' })),
    h('div', { class: 'card flush' }, tree));

    function setMode(m2) {
      mode = m2;
      localStorage.setItem('heracron.jobs.mode', mode);
      draw();
    }
    function toggle(key) {
      if (collapsed.has(key)) collapsed.delete(key); else collapsed.add(key);
      localStorage.setItem('heracron.jobs.collapsed', JSON.stringify([...collapsed]));
      draw();
    }
    search.addEventListener('input', debounce(() => {
      history.replaceState(null, '', `#/jobs${qs({ q: search.value.trim() })}`);
      draw();
    }, 150));

    function draw() {
      segFolder.classList.toggle('active', mode === 'folder');
      segGroup.classList.toggle('active', mode === 'group');
      const needle = search.value.trim().toLowerCase();
      const match = (j) => !needle || [j.name, j.description, j.owner, j.folder, j.group, j.cron]
        .some((x) => x && String(x).toLowerCase().includes(needle));
      const shown = jobs.filter(match);
      count.textContent = needle ? `${shown.length} of ${jobs.length} jobs match` : `${jobs.length} jobs`;
      const body = h('tbody');
      const jobRow = (j, depth) => h('tr', { class: `job-row ${j.enabled ? '' : 'disabled'}` },
        h('td', { style: `padding-left:${12 + depth * 20}px` }, h('span', { class: 'tree-leaf' }), jobLink(j.name),
          j.description ? h('div', { class: 'desc', text: j.description }) : null),
        h('td', null, mono(j.type || '')),
        h('td', null, schedule(j)),
        h('td', null, mode === 'folder' ? h('span', { class: 'tag', text: j.group || 'default' }) : mono(j.folder || '/')),
        h('td', null, j.owner || muted('—')),
        h('td', null, pill(j.enabled ? 'ENABLED' : 'DISABLED', j.enabled ? 'enabled' : 'disabled')));
      const groupRow = (key, depth, label, n, extra) => {
        const open = needle || !collapsed.has(key);
        return h('tr', { class: 'folder-row', onclick: () => { if (!needle) toggle(key); } },
          h('td', { colspan: 6, style: `padding-left:${8 + depth * 20}px` },
            h('span', { class: `caret ${open ? 'open' : ''}`, text: '▸' }), icon(mode === 'folder' ? 'jobs' : 'workers'),
            h('span', { class: 'folder-name', text: label }),
            h('span', { class: 'badge', text: String(n) }), extra || null));
      };
      if (mode === 'folder') {
        // Build the folder tree from job folders and known folders.
        const rootNode = { path: '/', children: new Map(), jobs: [], vars: {} };
        const nodeFor = (path) => {
          let node = rootNode, p = '';
          for (const part of String(path || '/').split('/').filter(Boolean)) {
            p += `/${part}`;
            if (!node.children.has(part)) node.children.set(part, { path: p, name: part, children: new Map(), jobs: [], vars: {} });
            node = node.children.get(part);
          }
          return node;
        };
        if (!needle) for (const f of folders) nodeFor(f.path).vars = f.variables || {};
        for (const j of shown) nodeFor(j.folder).jobs.push(j);
        const total = (n) => n.jobs.length + [...n.children.values()].reduce((a, c) => a + total(c), 0);
        const walk = (node, depth) => {
          for (const child of [...node.children.values()].sort((a, b) => a.name.localeCompare(b.name))) {
            const n = total(child);
            if (needle && !n) continue;
            const nv = Object.keys(child.vars).length;
            const varsBtn = h('button', { type: 'button', class: 'btn tiny ghost folder-vars', title: 'Folder variables',
              text: nv ? `vars (${nv})` : 'vars', onclick: (e) => { e.stopPropagation(); editFolderVars(child.path, child.vars, reload); } });
            const newBtn = h('a', { class: 'btn tiny ghost', href: `#/jobs/new?folder=${enc(child.path)}`, text: '+ job', onclick: (e) => e.stopPropagation() });
            body.append(groupRow(`f:${child.path}`, depth, child.name, n, h('span', { class: 'row-tools' }, varsBtn, newBtn)));
            if (needle || !collapsed.has(`f:${child.path}`)) walk(child, depth + 1);
          }
          for (const j of node.jobs.sort((a, b) => a.name.localeCompare(b.name))) body.append(jobRow(j, depth));
        };
        walk(rootNode, 0);
      } else {
        const groups = new Map();
        for (const j of shown) {
          const g = j.group || 'default';
          if (!groups.has(g)) groups.set(g, []);
          groups.get(g).push(j);
        }
        for (const g of [...groups.keys()].sort()) {
          body.append(groupRow(`g:${g}`, 0, g, groups.get(g).length));
          if (needle || !collapsed.has(`g:${g}`)) {
            for (const j of groups.get(g).sort((a, b) => a.name.localeCompare(b.name))) body.append(jobRow(j, 1));
          }
        }
      }
      if (!body.children.length) body.append(h('tr', { class: 'empty' }, h('td', { colspan: 6, text: needle ? 'No job matches.' : 'No jobs yet.' })));
      tree.replaceChildren(h('div', { class: 'table-wrap' }, h('table', { class: 'grid tree' },
        h('thead', null, h('tr', null, ['Name', 'Type', 'Schedule', mode === 'folder' ? 'Host group' : 'Folder', 'Owner', 'State']
          .map((t) => h('th', { text: t })))), body)));
    }

    let sig = '';
    async function reload() {
      const [j, f] = await settle([get('/api/jobs'), get('/api/folders')]);
      if (!ctx.alive) return;
      if (!j) { tree.replaceChildren(errorBox('could not load jobs')); return; }
      const next = JSON.stringify([j.jobs, f && f.folders]);
      if (next === sig) return; // unchanged: keep the DOM as it is
      sig = next;
      jobs = j.jobs || [];
      folders = (f && f.folders) || [];
      draw();
    }
    await reload();
    ctx.every(10000, reload);
  }

  // A job's schedule: cron (+ tz) or its upstream jobs.
  function schedule(j) {
    if (j.cron) return h('span', null, h('code', { text: j.cron }), j.tz ? h('span', { class: 'muted small', text: ` ${j.tz}` }) : null);
    const ups = j.upstreams || [];
    if (!ups.length) return muted('manual only');
    return h('span', null, h('span', { class: 'muted', text: 'after ' }), ups.map((u, i) => [i ? ', ' : '', jobLink(u)]));
  }

  // A job's fan-out: "none", "broadcast (min 60%)", "4 shards", "map + reduce".
  function fanoutText(j) {
    switch (j.fanout) {
      case 'broadcast': return `broadcast (min ${j.min_success_pct ?? 100}%)`;
      case 'shards': return `${j.shards ?? 0} shard${j.shards === 1 ? '' : 's'}`;
      case 'map': return (j.reduce ? 'map + reduce' : 'map') + (j.runner ? ' (runners)' : '');
      default: return 'none';
    }
  }

  function editFolderVars(path, vars, done) {
    const ta = h('textarea', { id: 'folder-vars', rows: 8, class: 'mono', value: varsToText(vars), spellcheck: 'false' });
    modal({
      title: `Variables of ${path}`, okText: 'Save',
      body: field('One NAME=value per line', ta, 'variables', { hint: 'Used as ${NAME} in the scripts of jobs under this folder.' }),
      onOk: async () => {
        await put(`/api/folders${path.split('/').map(enc).join('/')}`, { variables: textToVars(ta.value) });
        toast(`Saved variables of ${path}`, 'ok');
        if (done) done();
      },
    });
  }

  // --- Job page --------------------------------------------------------

  async function renderJob(ctx, name) {
    const root = mount(ctx, 'job', name);
    root.append(loading());
    const job = await get(`/api/jobs/${enc(name)}`);
    if (!ctx.alive) return;
    const key = job.id != null ? job.id : enc(job.name);
    const day = today();

    const title = h('h1', { id: 'job-title', text: job.name });
    const toggleBtn = btn(job.enabled ? 'Disable' : 'Enable', async () => {
      try {
        await post(`/api/jobs/${key}/${job.enabled ? 'disable' : 'enable'}`);
        toast(`${job.name} ${job.enabled ? 'disabled' : 'enabled'}`, 'ok');
        route();
      } catch (e) { if (e.status !== 401) toast(e.message, 'error'); }
    }, '', 'job-toggle');
    const runBtn = btn('▶ Run now', async () => {
      runBtn.disabled = true;
      try {
        const r = await post(`/api/jobs/${key}/run`);
        location.hash = `#/instance/${r.instance}`;
      } catch (e) { runBtn.disabled = false; if (e.status !== 401) toast(e.message, 'error'); }
    }, 'primary', 'job-run');
    const head = pageHeader(h('div', { class: 'title-row' }, title, pill(job.enabled ? 'ENABLED' : 'DISABLED', job.enabled ? 'enabled' : 'disabled')),
      h('span', null, h('span', { class: 'mono', text: job.folder || '/' }), job.description ? ` — ${job.description}` : ''),
      runBtn,
      h('a', { id: 'job-edit', class: 'btn', href: `#/job/${enc(job.name)}/edit`, text: 'Edit' }),
      toggleBtn,
      btn('Backfill…', () => backfillDialog(job), '', 'job-backfill'),
      btn('Delete', async () => {
        const ok = await confirmDialog('Delete job', `Delete job "${job.name}"? Its definition is removed; past instances stay.`);
        if (!ok) return;
        try {
          await del(`/api/jobs/${key}`);
          toast(`Deleted ${job.name}`, 'ok');
          location.hash = '#/jobs';
        } catch (e) { if (e.status !== 401) toast(e.message, 'error'); }
      }, 'danger-outline', 'job-delete'));

    const vars = Object.entries(job.variables || {});
    const def = kvTable([
      ['ID', mono(String(job.id))],
      ['Owner', job.owner],
      ['Folder', mono(job.folder || '/')],
      ['Host group', h('span', { class: 'tag', text: job.group || 'default' })],
      ['Type', mono(job.type || '')],
      ['Schedule', schedule(job)],
      job.cron ? ['Misfire', job.misfire] : null,
      ['Retries', `${job.retries ?? 0} × every ${job.retry_wait_s ?? 0} s`],
      ['Timeout', job.timeout_s ? `${job.timeout_s} s` : 'none'],
      ['Fan-out', fanoutText(job)],
      ['Alerts', job.alerts === false ? 'off' : 'on'],
      job.expected_s > 0 ? ['Expected duration', `${job.expected_s} s${job.expected_s >= 60 ? ` (${fmtDuration(job.expected_s * 1000)})` : ''}`] : null,
      job.deadline ? ['Deadline', mono(job.deadline)] : null,
      ['Monitors', (job.monitors || []).join(', ')],
      ['Variables', vars.length ? h('div', { class: 'vars' }, vars.map(([k, v]) => h('div', null, mono(k), ' = ', mono(String(v))))) : ''],
      ['Revision', String(job.revision ?? '')],
      ['Created', job.created_at],
      ['Updated', job.updated_at],
    ]);
    const script = h('pre', { class: 'code', text: job.script || '' });

    const next = h('div', null, job.cron ? loading() : muted('Runs after its upstream jobs, not on a clock.'));
    const deps = h('div', { class: 'deps' },
      h('div', null, h('h3', { text: 'Upstream' }), (job.upstreams || []).length ? h('ul', { class: 'plain' }, job.upstreams.map((u) => h('li', null, jobLink(u)))) : muted('none')),
      h('div', null, h('h3', { text: 'Downstream' }), (job.downstreams || []).length ? h('ul', { class: 'plain' }, job.downstreams.map((u) => h('li', null, jobLink(u)))) : muted('none')));
    const versions = h('div', null, loading());
    const recent = h('div', null, loading());

    root.replaceChildren(head, h('div', { class: 'cols job-cols' },
      h('div', null, card('Definition', def), card('Script', script)),
      h('div', null,
        card('Next fire times', next),
        card('Dependencies', deps),
        card(`Today's versions (${day})`, versions, link(`#/actions?date=${day}&job=${enc(job.name)}`, 'actions →', 'more')),
        card('Recent instances', recent, link(`#/instances?job=${enc(job.name)}`, 'all →', 'more')))));

    if (job.cron) {
      get(`/api/cron/next${qs({ expr: job.cron, tz: job.tz, count: 5 })}`)
        .then((r) => { if (ctx.alive) next.replaceChildren(h('ol', { class: 'times' }, (r.times || []).map((t) => h('li', { class: 'mono', text: t })))); })
        .catch((e) => { if (ctx.alive) next.replaceChildren(errorBox(e.message)); });
    }
    const load = async () => {
      const [a, i] = await settle([get(`/api/actions${qs({ date: day, job: job.name })}`), get(`/api/instances${qs({ job: job.name, limit: 10 })}`)]);
      if (!ctx.alive) return;
      renderInto(versions, a && a.actions, (list) => (list ? actionsTable(list, load, { compact: true }) : errorBox('could not load versions')));
      renderInto(recent, i && i.instances, (list) => (list ? table([
        ['Instance', (x) => instLink(x.id)],
        ['Trigger', (x) => h('span', { class: 'small', text: x.trigger })],
        ['Status', (x) => pill(x.status)],
        ['Started', (x) => x.started_at || x.queued_at, 'nowrap'],
        ['Took', (x) => duration(x), 'nowrap'],
      ], list, { empty: 'Never ran.' }) : errorBox('could not load instances')));
    };
    await load();
    ctx.every(5000, load);
  }

  function backfillDialog(job) {
    const from = h('input', { id: 'backfill-from', type: 'date', value: shiftDate(today(), -7) });
    const to = h('input', { id: 'backfill-to', type: 'date', value: shiftDate(today(), -1) });
    const par = h('input', { id: 'backfill-parallel', type: 'number', min: 1, max: 64, value: '1' });
    modal({
      title: `Backfill ${job.name}`, okText: 'Start backfill',
      body: h('div', null,
        h('p', { class: 'muted', text: 'Queues one RERUN instance per business day of the range (HERACRON_BIZDATE set to that day).' }),
        h('div', { class: 'form-grid three' }, field('From', from, 'from'), field('To', to, 'to'), field('Parallel', par, 'parallel')),
        h('div', { class: 'field-error', 'data-field': 'job' })),
      onOk: async () => {
        const r = await post('/api/reruns', { job: job.name, from: from.value, to: to.value, parallel: Number(par.value) || 1 });
        toast(h('span', null, `Backfill #${r.rerun} queued: ${r.days} day${r.days === 1 ? '' : 's'}. `,
          link(`#/instances?job=${enc(job.name)}&trigger=RERUN`, 'view instances')), 'ok', 7000);
      },
    });
  }

  /* Actions table (actions page, job page): status, upstreams, instance,
   * Recover / Recover chain. refresh() is called after a recovery. */
  function actionsTable(list, refresh, opts = {}) {
    const byId = new Map(list.map((a) => [String(a.id), a]));
    const recover = async (a, chain) => {
      try {
        const r = await post(`/api/actions/${a.id}/recover`, { chain });
        toast(h('span', null, `${chain ? 'Recovery with chain' : 'Recovery'} of ${a.job} queued: `, instLink(r.instance)), 'ok', 7000);
        if (refresh) refresh();
      } catch (e) { if (e.status !== 401) toast(e.message, 'error'); }
    };
    const compact = opts.compact;
    const cols = [
      compact ? null : ['Action', (a) => mono(String(a.id)), 'small'],
      compact ? null : ['Job', (a) => jobLink(a.job)],
      ['Fire at', (a) => (compact ? mono(timeOf(a.fire_at)) : a.fire_at), 'nowrap'],
      ['Status', (a) => pill(a.status)],
      ['Instance', (a) => instLink(a.instance)],
      compact ? null : ['Upstreams', (a) => ((a.upstreams || []).length
        ? h('div', { class: 'chips' }, a.upstreams.map((id) => upChip(byId.get(String(id)) || { id })))
        : '')],
      ['', (a) => (a.status === 'QUEUED' || a.status === 'RUNNING' ? '' : h('div', { class: 'row-buttons' },
        btn('Recover', () => recover(a, false), 'tiny', null),
        btn('Recover chain', () => recover(a, true), 'tiny', null))), 'right nowrap'],
    ].filter(Boolean);
    return table(cols, list, { empty: 'No actions.' });
  }

  // --- Job form (create / edit) ---------------------------------------

  async function renderJobForm(ctx, name, q) {
    const root = mount(ctx, 'job-form', name ? `Edit ${name}` : 'New job');
    let job = null;
    if (name) {
      root.append(loading());
      job = await get(`/api/jobs/${enc(name)}`);
      if (!ctx.alive) return;
      root.replaceChildren();
    }
    const j = job || { name: '', owner: app.me ? app.me.user : '', description: '', folder: q.get('folder') || '/', group: 'default',
      type: 'shell', script: '', cron: '', tz: '', upstreams: [], retries: 0, retry_wait_s: 60, timeout_s: 0,
      misfire: 'run_once', enabled: true, monitors: [], variables: {},
      fanout: 'none', shards: 0, min_success_pct: 100, reduce: false, runner: false, alerts: true, expected_s: 0, deadline: null };

    const inp = (id, value, extra) => h('input', Object.assign({ id, value: value == null ? '' : String(value), spellcheck: 'false' }, extra));
    const fName = inp('job-name', j.name, { required: true, placeholder: 'e.g. load_orders' });
    const fOwner = inp('job-owner', j.owner);
    const fDesc = inp('job-description', j.description);
    const fFolder = inp('job-folder', j.folder || '/', { placeholder: '/team/area' });
    const fGroup = inp('job-group', j.group || 'default', { list: 'group-options' });
    const groupList = h('datalist', { id: 'group-options' });
    const fType = h('select', { id: 'job-type', value: j.type || 'shell' }, JOB_TYPES.map((t) => h('option', { value: t, text: t })));
    const fScript = h('textarea', { id: 'job-script', rows: 14, class: 'mono', value: j.script || '', spellcheck: 'false',
      placeholder: 'echo "business day ${zdt.addDay(-1).format("yyyyMMdd")}"' });
    const useCron = !!j.cron || !(j.upstreams || []).length;
    const mCron = h('input', { id: 'job-mode-cron', type: 'radio', name: 'job-mode', value: 'cron', checked: useCron });
    const mUps = h('input', { id: 'job-mode-upstreams', type: 'radio', name: 'job-mode', value: 'upstreams', checked: !useCron });
    const fCron = inp('job-cron', j.cron || '', { placeholder: '0 30 2 * * ?   or   30 2 * * *', class: 'mono' });
    const fTz = inp('job-tz', j.tz || '', { placeholder: 'server default, e.g. Europe/Paris' });
    const fMisfire = h('select', { id: 'job-misfire', value: j.misfire || 'run_once' },
      h('option', { value: 'run_once', text: 'run once (catch up)' }), h('option', { value: 'skip', text: 'skip' }));
    const fUps = inp('job-upstreams', (j.upstreams || []).join(', '), { list: 'upstream-options', placeholder: 'job_a, job_b', autocomplete: 'off' });
    const upsList = h('datalist', { id: 'upstream-options' });
    const fRetries = inp('job-retries', j.retries ?? 0, { type: 'number', min: 0 });
    const fWait = inp('job-retry-wait', j.retry_wait_s ?? 60, { type: 'number', min: 0 });
    const fTimeout = inp('job-timeout', j.timeout_s ?? 0, { type: 'number', min: 0 });
    const fEnabled = h('input', { id: 'job-enabled', type: 'checkbox', checked: !!j.enabled });
    const fMonitors = inp('job-monitors', (j.monitors || []).join(', '), { placeholder: 'alice, bob' });
    const fFanout = h('select', { id: 'job-fanout', value: j.fanout || 'none' }, FANOUTS.map(([v, t]) => h('option', { value: v, text: t })));
    const fShards = inp('job-shards', j.shards ? j.shards : '', { type: 'number', min: 1, max: 10000, placeholder: 'e.g. 4' });
    const fMinSuccess = inp('job-min-success', j.min_success_pct ?? 100, { type: 'number', min: 1, max: 100 });
    const fReduce = h('input', { id: 'job-reduce', type: 'checkbox', checked: !!j.reduce });
    const fRunner = h('input', { id: 'job-runner', type: 'checkbox', checked: !!j.runner });
    const fAlerts = h('input', { id: 'job-alerts', type: 'checkbox', checked: j.alerts !== false });
    const fExpected = inp('job-expected', j.expected_s ?? 0, { type: 'number', min: 0 });
    const fDeadline = inp('job-deadline', j.deadline || '', { placeholder: 'HH:MM', maxlength: 5, class: 'mono', autocomplete: 'off' });
    const fVars = h('textarea', { id: 'job-variables', rows: 4, class: 'mono', value: varsToText(j.variables), spellcheck: 'false', placeholder: 'NAME=value' });
    const preview = h('ol', { id: 'job-cron-preview', class: 'times' });
    const general = h('div', { class: 'form-error' });
    const save = h('button', { id: 'job-save', type: 'submit', class: 'btn primary', text: job ? 'Save changes' : 'Create job' });

    const cronPanel = h('div', { class: 'form-grid' },
      field('Cron expression', fCron, 'cron', { hint: 'Quartz (6–7 fields) or Unix (5 fields)' }),
      field('Time zone', fTz, 'tz'),
      field('Misfire', fMisfire, 'misfire'),
      h('div', { class: 'field' }, h('label', { text: 'Next 5 fire times' }), preview));
    const upsPanel = h('div', { class: 'form-grid' },
      field('Upstream jobs', fUps, 'upstreams', { cls: 'wide', hint: 'Comma-separated job names; runs when all of them succeeded.' }));
    const syncMode = () => {
      cronPanel.hidden = !mCron.checked;
      upsPanel.hidden = mCron.checked;
    };
    mCron.addEventListener('change', syncMode);
    mUps.addEventListener('change', syncMode);
    syncMode();

    // Fan-out: only the setting of the chosen kind is shown.
    const shardsField = field('Shards', fShards, 'shards', { hint: 'Parts; each gets HERACRON_SHARD_INDEX / _COUNT.' });
    const minField = field('Minimum success (%)', fMinSuccess, 'min_success_pct', { hint: 'Share of workers that must succeed.' });
    const reduceField = h('div', { class: 'field' }, h('label', { text: 'Reduce' }),
      h('label', { class: 'check' }, fReduce, ' reduce step after the map tasks'),
      h('label', { class: 'check' }, fRunner, ' feed tasks to long-lived runners (one item a line on stdin, a status line on fd 3)'),
      h('div', { class: 'field-error', 'data-field': 'reduce' }));
    const syncFanout = () => {
      shardsField.hidden = fFanout.value !== 'shards';
      minField.hidden = fFanout.value !== 'broadcast';
      reduceField.hidden = fFanout.value !== 'map';
    };
    fFanout.addEventListener('change', syncFanout);
    syncFanout();

    const form = h('form', { class: 'card form', novalidate: true },
      h('div', { class: 'card-body' },
        h('h3', { text: 'Job' }),
        h('div', { class: 'form-grid' },
          field('Name', fName, 'name'), field('Owner', fOwner, 'owner'),
          field('Folder', fFolder, 'folder'), field('Host group', fGroup, 'group'),
          field('Type', fType, 'type'),
          h('div', { class: 'field' }, h('label', { text: 'State' }), h('label', { class: 'check' }, fEnabled, ' enabled'),
            h('div', { class: 'field-error', 'data-field': 'enabled' })),
          field('Description', fDesc, 'description', { cls: 'wide' })),
        h('h3', { text: 'Schedule' }),
        h('div', { class: 'radios' },
          h('label', { class: 'check' }, mCron, ' On a cron schedule'),
          h('label', { class: 'check' }, mUps, ' After upstream jobs')),
        cronPanel, upsPanel,
        h('h3', { text: 'Script' }),
        field('Script', fScript, 'script', { cls: 'wide', hint: '${NAME} is replaced by a job or folder variable; hera date macros like ${zdt.format("yyyyMMdd")} work.' }),
        h('h3', { text: 'Execution' }),
        h('div', { class: 'form-grid four' },
          field('Retries', fRetries, 'retries'), field('Retry wait (s)', fWait, 'retry_wait_s'),
          field('Timeout (s, 0 = none)', fTimeout, 'timeout_s'), field('Monitors', fMonitors, 'monitors')),
        field('Variables (NAME=value per line)', fVars, 'variables', { cls: 'wide' }),
        h('h3', { text: 'Fan-out' }),
        h('div', { class: 'form-grid four' },
          field('Fan-out', fFanout, 'fanout'), shardsField, minField, reduceField),
        h('h3', { text: 'Alerts' }),
        h('div', { class: 'form-grid four' },
          h('div', { class: 'field' }, h('label', { text: 'Alerts' }),
            h('label', { class: 'check' }, fAlerts, ' mail owner and monitors on failure'),
            h('div', { class: 'field-error', 'data-field': 'alerts' })),
          field('Expected duration (s, 0 = none)', fExpected, 'expected_s', { hint: 'A longer run is reported.' }),
          field('Deadline (HH:MM)', fDeadline, 'deadline', { hint: 'Local time by which today’s run should have succeeded; empty = none.' })),
        general,
        h('div', { class: 'form-actions sticky' }, save,
          h('a', { class: 'btn ghost', href: job ? `#/job/${enc(job.name)}` : '#/jobs', text: 'Cancel' }))),
      groupList, upsList);
    root.append(pageHeader(job ? h('h1', null, 'Edit ', h('span', { class: 'mono', text: job.name })) : 'New job',
      job ? `revision ${job.revision}` : 'A job runs its script on one worker of its host group.'), form);

    groupOptions(groupList);
    // Upstream suggestions complete the last comma-separated name.
    let allJobs = [];
    get('/api/jobs').then((r) => { allJobs = (r.jobs || []).map((x) => x.name).filter((n) => n !== j.name); fillUps(); }).catch(() => {});
    function fillUps() {
      const parts = fUps.value.split(',');
      const last = parts.pop().trim().toLowerCase();
      const prefix = parts.map((x) => x.trim()).filter(Boolean);
      const opts = allJobs.filter((n) => !prefix.includes(n) && n.toLowerCase().includes(last)).slice(0, 30);
      upsList.replaceChildren(...opts.map((n) => h('option', { value: [...prefix, n].join(', ') })));
    }
    fUps.addEventListener('input', fillUps);

    // Live cron preview (debounced); stale answers are dropped.
    let previewSeq = 0;
    const cronErr = () => form.querySelector('.field-error[data-field="cron"]');
    const updatePreview = debounce(async () => {
      const mySeq = ++previewSeq;
      const expr = fCron.value.trim();
      if (!expr) { preview.replaceChildren(h('li', { class: 'muted', text: 'enter an expression' })); cronErr().textContent = ''; return; }
      try {
        const r = await get(`/api/cron/next${qs({ expr, tz: fTz.value.trim(), count: 5 })}`);
        if (mySeq !== previewSeq || !ctx.alive) return;
        cronErr().textContent = '';
        fCron.classList.remove('invalid');
        preview.replaceChildren(...(r.times || []).map((t) => h('li', { class: 'mono', text: t })));
      } catch (e) {
        if (mySeq !== previewSeq || !ctx.alive || e.status === 401) return;
        preview.replaceChildren();
        if (e.field === 'tz') { const tzErr = form.querySelector('.field-error[data-field="tz"]'); if (tzErr) tzErr.textContent = e.message; }
        else { cronErr().textContent = e.message; fCron.classList.add('invalid'); }
      }
    }, 400);
    fCron.addEventListener('input', updatePreview);
    fTz.addEventListener('input', () => { const t = form.querySelector('.field-error[data-field="tz"]'); if (t) t.textContent = ''; updatePreview(); });
    updatePreview();

    // Collects the form into API fields; throws {field, message} on local errors.
    function collect() {
      const int = (el, fieldName) => {
        const v = el.value.trim();
        if (v === '') return 0;
        if (!/^\d+$/.test(v)) throw new ApiError(400, 'must be a whole number ≥ 0', fieldName);
        return Number(v);
      };
      if (!fName.value.trim()) throw new ApiError(400, 'a job needs a name', 'name');
      let variables;
      try { variables = textToVars(fVars.value); } catch (e) { throw new ApiError(400, e.message, 'variables'); }
      const body = {
        name: fName.value.trim(), owner: fOwner.value.trim(), description: fDesc.value,
        folder: fFolder.value.trim() || '/', group: fGroup.value.trim() || 'default', type: fType.value,
        script: fScript.value, retries: int(fRetries, 'retries'), retry_wait_s: int(fWait, 'retry_wait_s'),
        timeout_s: int(fTimeout, 'timeout_s'), misfire: fMisfire.value, enabled: fEnabled.checked,
        monitors: splitList(fMonitors.value), variables,
      };
      // Fan-out: the settings of other kinds (hidden) keep their value.
      const fanout = fFanout.value;
      body.fanout = fanout;
      if (fanout === 'shards') {
        const n = int(fShards, 'shards');
        if (n < 1) throw new ApiError(400, 'a sharded job needs 1 or more shards', 'shards');
        if (n > 10000) throw new ApiError(400, 'must be 0-10000', 'shards');
        body.shards = n;
      } else body.shards = j.shards ?? 0;
      if (fanout === 'broadcast') {
        const n = fMinSuccess.value.trim() === '' ? 100 : int(fMinSuccess, 'min_success_pct');
        if (n < 1 || n > 100) throw new ApiError(400, 'must be 1-100', 'min_success_pct');
        body.min_success_pct = n;
      } else body.min_success_pct = j.min_success_pct ?? 100;
      body.reduce = fanout === 'map' ? fReduce.checked : !!j.reduce;
      body.runner = fanout === 'map' ? fRunner.checked : !!j.runner;
      body.alerts = fAlerts.checked;
      body.expected_s = int(fExpected, 'expected_s');
      const dl = fDeadline.value.trim();
      if (dl) {
        const m = /^(\d{1,2}):(\d{2})$/.exec(dl);
        if (!m || Number(m[1]) > 23 || Number(m[2]) > 59) throw new ApiError(400, 'must be a local time HH:MM, or empty', 'deadline');
        body.deadline = `${pad(Number(m[1]))}:${m[2]}`;
      } else body.deadline = null;
      if (mCron.checked) {
        if (!fCron.value.trim()) throw new ApiError(400, 'enter a cron expression (or choose upstream jobs)', 'cron');
        body.cron = fCron.value.trim();
        body.tz = fTz.value.trim();
      } else {
        body.upstreams = splitList(fUps.value);
        if (!body.upstreams.length) throw new ApiError(400, 'name at least one upstream job', 'upstreams');
        body.cron = null;
      }
      return body;
    }
    // On edit, send only what changed (cron/upstreams as a pair).
    const DEFAULTS = { variables: {}, monitors: [], fanout: 'none', shards: 0, min_success_pct: 100,
      reduce: false, runner: false, alerts: true, expected_s: 0, deadline: null };
    function changes(body) {
      const out = {};
      for (const [k, v] of Object.entries(body)) {
        if (k === 'cron' || k === 'upstreams' || k === 'tz') continue;
        if (JSON.stringify(v) !== JSON.stringify(job[k] ?? (k in DEFAULTS ? DEFAULTS[k] : ''))) out[k] = v;
      }
      if (body.cron) {
        if (body.cron !== job.cron || body.tz !== (job.tz || '') || (job.upstreams || []).length) { out.cron = body.cron; out.tz = body.tz; }
      } else if (job.cron || JSON.stringify(body.upstreams) !== JSON.stringify(job.upstreams || [])) {
        out.upstreams = body.upstreams;
        out.cron = null;
      }
      return out;
    }

    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearErrors(form);
      save.disabled = true;
      try {
        const body = collect();
        let saved;
        if (job) {
          const diff = changes(body);
          if (!Object.keys(diff).length) { toast('Nothing changed'); location.hash = `#/job/${enc(job.name)}`; return; }
          saved = await put(`/api/jobs/${job.id != null ? job.id : enc(job.name)}`, diff);
        } else {
          saved = await post('/api/jobs', body);
        }
        toast(job ? `Saved ${body.name}` : `Created ${body.name}`, 'ok');
        location.hash = `#/job/${enc((saved && saved.name) || body.name)}`;
      } catch (err) {
        save.disabled = false;
        if (err.status === 401) return;
        // An error about a hidden setting (another fan-out kind's) goes to
        // the general box, naming the field.
        const slot = err.field ? form.querySelector(`.field-error[data-field="${CSS.escape(err.field)}"]`) : null;
        if (slot && slot.closest('[hidden]')) general.textContent = `${err.field}: ${err.message}`;
        else showError(form, err, general);
        if (mCron.checked && err.field !== 'cron') updatePreview(); // keep the cron check visible
      }
    });
    fName.focus();
  }

  // --- Actions ---------------------------------------------------------

  async function renderActions(ctx, m, q) {
    const root = mount(ctx, 'actions', 'Actions');
    const date = h('input', { id: 'actions-date', type: 'date', value: q.get('date') || today() });
    const job = h('input', { id: 'actions-job', type: 'search', placeholder: 'job name', value: q.get('job') || '', class: 'narrow' });
    const status = h('select', { id: 'actions-status', value: q.get('status') || '' },
      h('option', { value: '', text: 'any status' }), ACTION_STATUSES.map((st) => h('option', { value: st, text: st })));
    const summary = h('span', { class: 'muted' });
    const list = h('div', null, loading());
    root.append(pageHeader('Actions', summary,
      btn('◀', () => { date.value = shiftDate(date.value || today(), -1); changed(); }, 'icon-btn', 'actions-prev'),
      date,
      btn('▶', () => { date.value = shiftDate(date.value || today(), 1); changed(); }, 'icon-btn', 'actions-next'),
      btn('Today', () => { date.value = today(); changed(); }, 'ghost'),
      job, status),
    h('div', { class: 'card flush' }, list));

    let data = null;
    function draw() {
      if (!data) return;
      const st = status.value;
      const shown = st ? data.filter((a) => a.status === st) : data;
      summary.textContent = `${shown.length} action${shown.length === 1 ? '' : 's'} on ${date.value}${st ? ` with status ${st}` : ''}`;
      renderInto(list, { shown, data }, () => actionsTable(shown, load));
    }
    async function load() {
      try {
        const r = await get(`/api/actions${qs({ date: date.value, job: job.value.trim() })}`);
        if (!ctx.alive) return;
        data = r.actions || [];
        draw();
      } catch (e) {
        if (!ctx.alive || e.status === 401) return;
        data = null;
        lastSig.delete(list);
        list.replaceChildren(errorBox(e.message));
      }
    }
    function changed() {
      history.replaceState(null, '', `#/actions${qs({ date: date.value, job: job.value.trim(), status: status.value })}`);
      load();
    }
    date.addEventListener('change', changed);
    job.addEventListener('input', debounce(changed, 400));
    status.addEventListener('change', () => { changed(); draw(); });
    await load();
    ctx.every(5000, load);
  }

  // --- Instances -------------------------------------------------------

  async function renderInstances(ctx, m, q) {
    const root = mount(ctx, 'instances', 'Instances');
    const fJob = h('input', { id: 'inst-filter-job', type: 'search', placeholder: 'job', value: q.get('job') || '', list: 'inst-job-options', class: 'narrow' });
    const fStatus = h('select', { id: 'inst-filter-status', value: q.get('status') || '' },
      h('option', { value: '', text: 'any status' }), INSTANCE_STATUSES.map((x) => h('option', { value: x, text: x })));
    const fTrigger = h('select', { id: 'inst-filter-trigger', value: q.get('trigger') || '' },
      h('option', { value: '', text: 'any trigger' }), TRIGGERS.map((x) => h('option', { value: x, text: x })));
    const fWorker = h('input', { id: 'inst-filter-worker', type: 'search', placeholder: 'worker', value: q.get('worker') || '', list: 'inst-worker-options', class: 'narrow' });
    const jobOpts = h('datalist', { id: 'inst-job-options' });
    const workerOpts = h('datalist', { id: 'inst-worker-options' });
    let offset = Math.max(0, parseInt(q.get('offset') || '0', 10) || 0);
    const prev = btn('‹ Prev', () => { offset = Math.max(0, offset - PAGE_SIZE); changed(false); }, '', 'inst-prev');
    const next = btn('Next ›', () => { offset += PAGE_SIZE; changed(false); }, '', 'inst-next');
    const range = h('span', { class: 'muted range' });
    const list = h('div', null, loading());
    root.append(pageHeader('Instances', 'Every run of every job, newest first',
      fJob, fStatus, fTrigger, fWorker,
      btn('Clear', () => { fJob.value = fWorker.value = fStatus.value = fTrigger.value = ''; changed(true); }, 'ghost')),
    h('div', { class: 'card flush' }, list, h('div', { class: 'pager' }, range, prev, next)), jobOpts, workerOpts);

    get('/api/jobs').then((r) => jobOpts.replaceChildren(...(r.jobs || []).map((j) => h('option', { value: j.name })))).catch(() => {});
    get('/api/workers').then((r) => workerOpts.replaceChildren(...(r.workers || []).map((w) => h('option', { value: w.name })))).catch(() => {});

    async function load() {
      const params = { job: fJob.value.trim(), status: fStatus.value, trigger: fTrigger.value, worker: fWorker.value.trim(), limit: PAGE_SIZE, offset };
      try {
        const r = await get(`/api/instances${qs(params)}`);
        if (!ctx.alive) return;
        const rows = r.instances || [];
        const total = typeof r.total === 'number' ? r.total : null;
        range.textContent = rows.length ? `${offset + 1}–${offset + rows.length}${total != null ? ` of ${total}` : ''}` : (total != null ? `0 of ${total}` : '');
        prev.disabled = offset === 0;
        next.disabled = total != null ? offset + rows.length >= total : rows.length < PAGE_SIZE;
        renderInto(list, rows, () => table([
          ['ID', (i) => instLink(i.id)],
          ['Job', (i) => jobLink(i.job)],
          ['Trigger', (i) => h('span', { class: 'small', text: i.trigger })],
          ['Try', (i) => (i.attempt != null ? String(i.attempt) : ''), 'num'],
          ['Status', (i) => pill(i.status)],
          ['Worker', (i) => i.worker],
          ['Exit', (i) => (i.signal ? `sig ${i.signal}` : i.exit_code != null ? String(i.exit_code) : ''), 'num'],
          ['Started', (i) => i.started_at || (i.queued_at ? muted(`queued ${i.queued_at}`) : ''), 'nowrap'],
          ['Ended', (i) => i.ended_at, 'nowrap'],
          ['Took', (i) => duration(i), 'nowrap num'],
          ['Reason', (i) => (i.reason ? h('span', { title: i.reason, text: i.reason }) : ''), 'clip'],
        ], rows, { empty: 'No instances match.' }));
      } catch (e) {
        if (!ctx.alive || e.status === 401) return;
        lastSig.delete(list);
        list.replaceChildren(errorBox(e.message));
      }
    }
    // Filters live in the hash (replaceState: no re-render, focus kept).
    function changed(resetOffset) {
      if (resetOffset) offset = 0;
      history.replaceState(null, '', `#/instances${qs({ job: fJob.value.trim(), status: fStatus.value, trigger: fTrigger.value, worker: fWorker.value.trim(), offset: offset || '' })}`);
      load();
    }
    const typed = debounce(() => changed(true), 400);
    fJob.addEventListener('input', typed);
    fWorker.addEventListener('input', typed);
    fStatus.addEventListener('change', () => changed(true));
    fTrigger.addEventListener('change', () => changed(true));
    await load();
    ctx.every(3000, load);
  }

  // --- Instance page ---------------------------------------------------

  /* A fan-out instance's "parts" ({total, STATUS: n}) as bar counts:
   * done = succeeded + failed (any bad end), running = dispatched or
   * running, rest = queued / waiting. */
  function partCounts(p) {
    let succeeded = 0, failed = 0, running = 0;
    for (const [k, v] of Object.entries(p || {})) {
      const n = Number(v) || 0;
      if (k === 'total') continue;
      if (k === 'SUCCEEDED') succeeded += n;
      else if (ENDED_BAD.has(k)) failed += n;
      else if (k === 'RUNNING' || k === 'DISPATCHED') running += n;
    }
    const total = Math.max(Number(p && p.total) || 0, succeeded + failed + running);
    return { total, succeeded, failed, running, done: succeeded + failed, rest: total - succeeded - failed - running };
  }
  /* A part's label: its shard "i/n" (the worker for a broadcast part), else
   * its task name (root, a map task, reduce), else its worker. */
  function partLabel(x, fanout) {
    if (x.shard_count != null && x.shard_count > 0) {
      const sh = `${x.shard_index ?? '?'}/${x.shard_count}`;
      if (fanout === 'broadcast' && x.worker) return h('span', { title: `part ${sh}`, text: x.worker });
      return h('span', { class: 'mono', title: `shard ${sh} (HERACRON_SHARD_INDEX ${x.shard_index ?? '?'})`, text: sh });
    }
    if (x.task) return h('span', { class: `task${x.task === 'root' || x.task === 'reduce' ? ' task-special' : ''}`, text: x.task });
    return x.worker || '';
  }

  async function renderInstance(ctx, id) {
    const root = mount(ctx, 'instance', `Instance #${id}`);
    root.append(loading());
    let inst = await get(`/api/instances/${id}`);
    if (!ctx.alive) return;

    const statusEl = h('span', { id: 'inst-status' });
    const buttons = h('div', { class: 'toolbar' });
    const details = h('div');
    const sub = h('span');
    const pre = h('pre', { id: 'inst-log', class: 'log', tabindex: 0 });
    const wrap = h('input', { type: 'checkbox', id: 'inst-wrap', checked: true, onchange: () => pre.classList.toggle('nowrap', !wrap.checked) });
    const download = h('a', { id: 'inst-download', class: 'btn small ghost', href: `/api/instances/${id}/log/download${qs({ token: app.token })}`, download: `instance-${id}.log`, text: '⤓ Download' });
    const liveTag = h('span', { class: 'live-tag' });

    // Parts of a fan-out instance (broadcast, shards, map/reduce): shown
    // once the instance has "parts".
    const partsBar = h('div', { id: 'inst-parts-bar', class: 'parts-bar', role: 'progressbar', 'aria-valuemin': 0 });
    const partsText = h('span', { id: 'inst-parts-text', class: 'parts-text' });
    const partsLegend = h('div', { class: 'parts-legend' });
    const partsList = h('div', { class: 'parts-list' }, loading());
    let partsOffset = 0, partsSeq = 0, partsSig = null, jobFanout = null, jobAsked = false;
    const partsPrev = btn('‹ Prev', () => { partsOffset = Math.max(0, partsOffset - PAGE_SIZE); loadParts(); }, 'small', 'inst-parts-prev');
    const partsNext = btn('Next ›', () => { partsOffset += PAGE_SIZE; loadParts(); }, 'small', 'inst-parts-next');
    const partsRange = h('span', { class: 'muted range' });
    const partsCard = h('div', { id: 'inst-parts', class: 'card parts-card', hidden: true },
      h('div', { class: 'card-head' }, h('h2', { text: 'Parts' }), partsText),
      h('div', { class: 'card-body' }, partsBar, partsLegend),
      partsList,
      h('div', { class: 'pager' }, partsRange, partsPrev, partsNext));

    root.replaceChildren(
      h('div', { class: 'page-head' },
        h('div', null, h('div', { class: 'title-row' }, h('h1', { text: `Instance #${id}` }), statusEl), h('div', { class: 'sub' }, sub)),
        buttons),
      h('div', { class: 'cols inst-cols' },
        card('Details', details),
        h('div', { class: 'card log-card' },
          h('div', { class: 'card-head' }, h('h2', { text: 'Output' }), liveTag,
            h('div', { class: 'spacer' }), h('label', { class: 'check small' }, wrap, ' wrap'),
            btn('⇣ Bottom', () => { pre.scrollTop = pre.scrollHeight; }, 'small ghost'), download),
          pre)),
      partsCard);

    const act = async (verb) => {
      try {
        const r = await post(`/api/instances/${id}/${verb}`);
        if (verb === 'retry' && r.instance != null && String(r.instance) !== String(id)) {
          toast(`Retry queued as instance #${r.instance}`, 'ok');
          location.hash = `#/instance/${r.instance}`;
          return;
        }
        toast(verb === 'stop' ? 'Stop requested' : verb === 'cancel' ? 'Canceled' : 'Retry queued', 'ok');
        refresh();
      } catch (e) { if (e.status !== 401) toast(e.message, 'error'); refresh(); }
    };
    // Redraws the progress bar; reloads the parts table when the counts
    // changed or the instance is still active (renderInto: no flicker).
    function drawParts() {
      const p = inst.parts;
      partsCard.hidden = !p;
      pre.classList.toggle('short', !!p); // leave room for the parts
      if (!p) return;
      if (!jobAsked && inst.job) {
        // The job's fan-out tells a broadcast part (labelled by its worker).
        jobAsked = true;
        get(`/api/jobs/${enc(inst.job)}`).then((j) => {
          if (!ctx.alive) return;
          jobFanout = j.fanout || null;
          if (jobFanout === 'broadcast') loadParts();
        }).catch(() => {});
      }
      const sig = JSON.stringify(p);
      if (sig !== partsSig) {
        partsSig = sig;
        const c = partCounts(p);
        const seg = (cls, n, label) => (n > 0 ? h('div', {
          class: `parts-seg ${cls}`, title: `${n} ${label}`,
          style: `width:${((n / c.total) * 100).toFixed(3)}%`,
        }) : null);
        fill(partsBar, c.total ? [seg('succeeded', c.succeeded, 'succeeded'), seg('failed', c.failed, 'failed'),
          seg('running', c.running, 'running')] : null);
        partsBar.setAttribute('aria-valuemax', String(c.total));
        partsBar.setAttribute('aria-valuenow', String(c.done));
        partsText.textContent = `${c.done} of ${c.total} done${c.failed ? ` · ${c.failed} failed` : ''}`;
        partsBar.title = partsText.textContent;
        const dot = (cls, n, label) => h('span', { class: 'parts-key' }, h('span', { class: `parts-dot ${cls}` }), `${n} ${label}`);
        fill(partsLegend,
          dot('succeeded', c.succeeded, 'succeeded'), dot('failed', c.failed, 'failed'),
          dot('running', c.running, 'running'), dot('rest', c.rest, 'queued / waiting'));
        loadParts();
      } else if (ACTIVE.has(inst.status) || inst.status === 'WAITING') {
        loadParts();
      }
    }
    async function loadParts() {
      const mine = ++partsSeq;
      try {
        const r = await get(`/api/instances${qs({ parent: id, limit: PAGE_SIZE, offset: partsOffset })}`);
        if (!ctx.alive || mine !== partsSeq) return;
        const rows = r.instances || [];
        const total = typeof r.total === 'number' ? r.total : null;
        if (!rows.length && partsOffset > 0 && total != null && partsOffset >= total) {
          partsOffset = Math.max(0, Math.floor((total - 1) / PAGE_SIZE) * PAGE_SIZE);
          loadParts();
          return;
        }
        partsRange.textContent = rows.length
          ? `${partsOffset + 1}–${partsOffset + rows.length}${total != null ? ` of ${total}` : ''}`
          : (total != null ? `0 of ${total}` : '');
        partsPrev.disabled = partsOffset === 0;
        partsNext.disabled = total != null ? partsOffset + rows.length >= total : rows.length < PAGE_SIZE;
        renderInto(partsList, { rows, jobFanout }, () => table([
          ['ID', (x) => instLink(x.id)],
          ['Part', (x) => partLabel(x, jobFanout), 'nowrap'],
          ['Attempt', (x) => (x.attempt != null ? String(x.attempt) : ''), 'num'],
          ['Status', (x) => pill(x.status)],
          ['Worker', (x) => x.worker],
          ['Result', (x) => (x.result != null && x.result !== '' ? h('span', { class: 'mono', title: x.result, text: x.result }) : ''), 'clip wide'],
          ['Ended', (x) => x.ended_at, 'nowrap'],
        ], rows, { empty: 'No parts yet.' }));
      } catch (e) {
        if (!ctx.alive || e.status === 401 || mine !== partsSeq) return;
        lastSig.delete(partsList);
        partsList.replaceChildren(errorBox(e.message));
      }
    }
    function draw() {
      statusEl.replaceChildren(pill(inst.status));
      fill(sub, 'job ', jobLink(inst.job), ` · ${inst.trigger || ''} · attempt ${inst.attempt ?? 1}`,
        inst.parent_id != null ? [' · ', h('a', { id: 'inst-parent', href: `#/instance/${inst.parent_id}`, text: `part of instance #${inst.parent_id}` })] : null);
      // Only the buttons that apply to the current status exist.
      fill(buttons,
        inst.status === 'RUNNING' ? btn('■ Stop', () => act('stop'), 'danger', 'inst-stop') : null,
        inst.status === 'WAITING' || inst.status === 'QUEUED' ? btn('Cancel', () => act('cancel'), 'danger-outline', 'inst-cancel') : null,
        ENDED_BAD.has(inst.status) ? btn('↻ Retry', () => act('retry'), 'primary', 'inst-retry') : null,
        inst.job ? h('a', { class: 'btn ghost', href: `#/job/${enc(inst.job)}`, text: 'Job' }) : null);
      renderInto(details, inst, () => kvTable([
        ['Job', jobLink(inst.job)],
        ['Action', inst.action_id != null ? mono(String(inst.action_id)) : ''],
        ['Trigger', inst.trigger],
        ['Attempt', inst.attempt != null ? String(inst.attempt) : ''],
        ['Status', pill(inst.status)],
        inst.parent_id != null ? ['Part of', instLink(inst.parent_id)] : null,
        inst.parent_id != null ? ['Part', partLabel(inst)] : null,
        inst.result != null && inst.result !== '' ? ['Result', h('span', { class: 'mono', text: inst.result })] : null,
        ['Host group', inst.group],
        ['Worker', inst.worker],
        ['Exit code', inst.exit_code != null ? mono(String(inst.exit_code)) : ''],
        ['Signal', inst.signal ? mono(String(inst.signal)) : ''],
        ['Reason', inst.reason ? h('span', { class: 'reason', text: inst.reason }) : ''],
        ['Queued', inst.queued_at],
        ['Started', inst.started_at],
        ['Ended', inst.ended_at],
        ['Duration', duration(inst)],
      ]));
      drawParts();
    }
    async function refresh() {
      try {
        const r = await get(`/api/instances/${id}`);
        if (!ctx.alive) return;
        inst = r;
        draw();
      } catch (e) { /* keep what we show */ }
    }
    draw();
    liveLog(ctx, pre, id, (st) => {
      liveTag.textContent = ACTIVE.has(st) ? '● live' : '';
      if (st !== inst.status) refresh();
    });
    // Details (worker, times) also change while the instance is active.
    ctx.every(2000, async () => { if (ACTIVE.has(inst.status) || inst.status === 'WAITING') await refresh(); });
  }

  // --- Debug console ---------------------------------------------------

  async function renderDebug(ctx) {
    const root = mount(ctx, 'debug', 'Debug console');
    const group = h('input', { id: 'debug-group', list: 'debug-groups', value: localStorage.getItem('heracron.debug.group') || 'default', placeholder: 'host group' });
    const groups = h('datalist', { id: 'debug-groups' });
    const script = h('textarea', { id: 'debug-script', rows: 16, class: 'mono', spellcheck: 'false',
      value: localStorage.getItem('heracron.debug.script') || '', placeholder: 'uname -a\ndf -h /' });
    const run = h('button', { id: 'debug-run', type: 'submit', class: 'btn primary', text: '▶ Run' });
    const general = h('div', { class: 'form-error' });
    const pre = h('pre', { id: 'debug-log', class: 'log' });
    const info = h('div', { class: 'debug-info' }, muted('Output of the run shows here.'));
    const form = h('form', { class: 'card form', novalidate: true },
      h('div', { class: 'card-body' },
        h('p', { class: 'muted', text: 'Runs a throw-away shell script (trigger DEBUG) on one worker of the group and streams its output.' }),
        field('Host group', group, 'group'),
        field('Script', script, 'script', { cls: 'wide' }),
        general,
        h('div', { class: 'form-actions' }, run, h('span', { class: 'muted small', text: 'Ctrl+Enter runs' }))),
      groups);
    root.append(pageHeader('Debug console', 'Try a command on a host group'), h('div', { class: 'cols debug-cols' }, form,
      h('div', { class: 'card log-card' }, h('div', { class: 'card-head' }, h('h2', { text: 'Output' }), info), pre)));
    groupOptions(groups);

    let viewer = null;
    script.addEventListener('keydown', (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); form.requestSubmit(); } });
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearErrors(form);
      if (!group.value.trim()) { showError(form, new ApiError(400, 'enter a host group', 'group')); return; }
      if (!script.value.trim()) { showError(form, new ApiError(400, 'enter a script', 'script')); return; }
      localStorage.setItem('heracron.debug.group', group.value.trim());
      localStorage.setItem('heracron.debug.script', script.value);
      run.disabled = true;
      try {
        const r = await post('/api/debug', { group: group.value.trim(), script: script.value });
        if (!ctx.alive) return;
        if (viewer) viewer.stop();
        pre.replaceChildren();
        const st = h('span', null, pill('QUEUED'));
        info.replaceChildren(h('span', { text: 'instance ' }), instLink(r.instance), st);
        viewer = liveLog(ctx, pre, r.instance, (status) => st.replaceChildren(pill(status)));
      } catch (err) {
        if (err.status !== 401) showError(form, err, general);
      } finally {
        run.disabled = false;
      }
    });
  }

  // --- Workers ---------------------------------------------------------

  async function renderWorkers(ctx) {
    const root = mount(ctx, 'workers', 'Workers');
    const summary = h('span', { class: 'muted' });
    const list = h('div', null, loading());
    root.append(pageHeader('Workers', summary), h('div', { class: 'card flush' }, list));
    const hist = app.workerHistory;

    const load = async () => {
      let r;
      try { r = await get('/api/workers'); } catch (e) {
        if (ctx.alive && e.status !== 401) { lastSig.delete(list); list.replaceChildren(errorBox(e.message)); }
        return;
      }
      if (!ctx.alive) return;
      const workers = (r.workers || []).slice().sort((a, b) => a.name.localeCompare(b.name));
      // Sample the average load of each worker (mean of its cores).
      for (const w of workers) {
        const loads = w.load || [];
        const avg = loads.length ? loads.reduce((a, b) => a + Number(b || 0), 0) / loads.length
          : (w.cores ? Number(w.load_avg || 0) / w.cores : 0);
        const arr = hist.get(w.name) || [];
        arr.push(w.connected ? avg : 0);
        if (arr.length > 60) arr.splice(0, arr.length - 60);
        hist.set(w.name, arr);
      }
      const conn = workers.filter((w) => w.connected).length;
      const running = workers.reduce((a, w) => a + (Number(w.running) || 0), 0);
      const slots = workers.reduce((a, w) => a + (Number(w.max_running) || 0), 0);
      const cores = workers.reduce((a, w) => a + (Number(w.cores) || 0), 0);
      summary.textContent = `${conn} of ${workers.length} connected · ${cores} cores · ${running} / ${slots} running`;
      list.replaceChildren(table([
        ['Worker', (w) => h('div', { class: 'wname' }, h('span', { class: `dot ${w.connected ? 'ok' : 'bad'}`, title: w.connected ? 'connected' : 'disconnected' }),
          h('div', null, h('strong', { text: w.name }), w.master_group ? h('span', { class: 'tag master', text: 'master', title: 'in the master group: can become master' }) : null,
            h('div', { class: 'mono muted small', text: w.address || '' })))],
        ['Groups', (w) => h('div', { class: 'chips' }, (w.groups || []).map((g) => h('span', { class: 'tag', text: g })))],
        ['Cores', (w) => String(w.cores ?? ''), 'num'],
        ['Per-core load', (w) => h('div', { class: 'cores' }, (w.load || []).map((l, i) =>
          h('span', { class: `core ${level(l)}`, title: `core ${i}: ${pct(l)}` }, h('span', { style: `height:${Math.min(100, Math.max(2, l * 100)).toFixed(0)}%` }))))],
        ['Load avg', (w) => (w.load_avg != null ? Number(w.load_avg).toFixed(2) : ''), 'num'],
        ['Load, last 2 min', (w) => { const v = hist.get(w.name) || []; return h('div', { class: 'spark-cell' }, sparkline(v), h('span', { class: 'mono small', text: pct(v[v.length - 1] || 0) })); }],
        ['Memory', (w) => (w.mem_total ? bar(w.mem_used / w.mem_total, `${fmtBytes(w.mem_used)} / ${fmtBytes(w.mem_total)}`) : '')],
        ['Running', (w) => `${w.running ?? 0} / ${w.max_running ?? '—'}`, 'num nowrap'],
        ['Heartbeat', (w) => h('span', { class: w.heartbeat_age_ms > 10000 ? 'stale' : '', title: `last seen ${w.last_seen || '—'}`,
          text: w.heartbeat_age_ms != null ? `${(w.heartbeat_age_ms / 1000).toFixed(1)} s ago` : (w.last_seen || '') }), 'nowrap'],
      ], workers, { empty: 'No workers registered.', rowClass: (w) => (w.connected ? '' : 'offline') }));
    };
    await load();
    ctx.every(2000, load);
  }

  // --- Users (admin) ---------------------------------------------------

  async function renderUsers(ctx) {
    const root = mount(ctx, 'users', 'Users');
    if (!isAdmin()) {
      root.append(pageHeader('Users'), errorBox('Only administrators can manage users.'));
      return;
    }
    const list = h('div', null, loading());
    const name = h('input', { id: 'user-name', autocomplete: 'off' });
    const email = h('input', { id: 'user-email', type: 'email', autocomplete: 'off' });
    const password = h('input', { id: 'user-password', type: 'password', autocomplete: 'new-password' });
    const role = h('select', { id: 'user-role', value: 'user' }, h('option', { value: 'user', text: 'user' }), h('option', { value: 'admin', text: 'admin' }));
    const general = h('div', { class: 'form-error' });
    const form = h('form', { class: 'card form', novalidate: true },
      h('div', { class: 'card-head' }, h('h2', { text: 'Add a user' })),
      h('div', { class: 'card-body' },
        h('div', { class: 'form-grid four' }, field('Name', name, 'name'), field('Email', email, 'email'),
          field('Password', password, 'password'), field('Role', role, 'role')),
        general,
        h('div', { class: 'form-actions' }, h('button', { id: 'user-add', type: 'submit', class: 'btn primary', text: 'Add user' }))));
    root.append(pageHeader('Users', 'Who can sign in to the console and the API'), h('div', { class: 'card flush' }, list), form);

    async function load() {
      try {
        const r = await get('/api/users');
        if (!ctx.alive) return;
        renderInto(list, r.users || [], (users) => table([
          ['Name', (u) => h('strong', { text: u.name })],
          ['Email', (u) => u.email],
          ['Role', (u) => h('span', { class: `role role-${u.role}`, text: u.role })],
          ['Created', (u) => u.created_at, 'nowrap'],
          ['', (u) => (app.me && u.name === app.me.user ? muted('you') : btn('Delete', async () => {
            if (!(await confirmDialog('Delete user', `Delete user "${u.name}"? Their sessions end.`))) return;
            try { await del(`/api/users/${enc(u.name)}`); toast(`Deleted ${u.name}`, 'ok'); load(); } catch (e) { if (e.status !== 401) toast(e.message, 'error'); }
          }, 'tiny danger-outline')), 'right'],
        ], users, { empty: 'No users.' }));
      } catch (e) {
        if (ctx.alive && e.status !== 401) { lastSig.delete(list); list.replaceChildren(errorBox(e.message)); }
      }
    }
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearErrors(form);
      try {
        await post('/api/users', { name: name.value.trim(), email: email.value.trim(), password: password.value, role: role.value });
        toast(`Added ${name.value.trim()}`, 'ok');
        name.value = email.value = password.value = '';
        load();
      } catch (err) { if (err.status !== 401) showError(form, err, general); }
    });
    await load();
  }

  // --- Audit -----------------------------------------------------------

  async function renderAudit(ctx, m, q) {
    const root = mount(ctx, 'audit', 'Audit');
    const limit = h('select', { id: 'audit-limit', value: q.get('limit') || '200' }, ['100', '200', '500', '1000'].map((n) => h('option', { value: n, text: `last ${n}` })));
    const filter = h('input', { id: 'audit-filter', type: 'search', placeholder: 'filter user, path, detail…', class: 'search' });
    const list = h('div', null, loading());
    root.append(pageHeader('Audit', 'Every change made through the API, newest first', filter, limit, btn('Refresh', () => load(), 'ghost')),
      h('div', { class: 'card flush' }, list));
    let rows = [];
    function draw() {
      const needle = filter.value.trim().toLowerCase();
      const shown = needle ? rows.filter((r) => [r.user, r.remote, r.method, r.path, r.detail, String(r.status)]
        .some((x) => x && String(x).toLowerCase().includes(needle))) : rows;
      renderInto(list, shown, () => table([
        ['At', (r) => r.at, 'nowrap'],
        ['User', (r) => r.user],
        ['Remote', (r) => mono(r.remote || '')],
        ['Method', (r) => h('span', { class: `method m-${String(r.method).toLowerCase()}`, text: r.method })],
        ['Path', (r) => mono(r.path || '')],
        ['Status', (r) => h('span', { class: `code c${String(r.status).slice(0, 1)}`, text: String(r.status) }), 'num'],
        ['Detail', (r) => (r.detail ? h('span', { title: r.detail, text: r.detail }) : ''), 'clip wide'],
      ], shown, { empty: 'No audit records.' }));
    }
    async function load() {
      try {
        const r = await get(`/api/audit${qs({ limit: limit.value })}`);
        if (!ctx.alive) return;
        // Newest first, whatever order the server used (stable for ties).
        rows = (r.audit || []).map((x, i) => [x, i]).sort((a, b) => (a[0].at < b[0].at ? 1 : a[0].at > b[0].at ? -1 : a[1] - b[1])).map((x) => x[0]);
        draw();
      } catch (e) {
        if (ctx.alive && e.status !== 401) { lastSig.delete(list); list.replaceChildren(errorBox(e.message)); }
      }
    }
    limit.addEventListener('change', () => { history.replaceState(null, '', `#/audit${qs({ limit: limit.value })}`); load(); });
    filter.addEventListener('input', debounce(draw, 150));
    await load();
    ctx.every(10000, load);
  }

  // ---------------------------------------------------------------------
  // 7. Router and boot
  // ---------------------------------------------------------------------

  const dec = (x) => { try { return decodeURIComponent(x); } catch (e) { return x; } };
  const ROUTES = [
    ['dashboard', /^\/dashboard$/, (c) => renderDashboard(c)],
    ['jobs', /^\/jobs$/, (c, m, q) => renderJobs(c, m, q)],
    ['job-form', /^\/jobs\/new$/, (c, m, q) => renderJobForm(c, null, q)],
    ['job-form', /^\/job\/([^/]+)\/edit$/, (c, m, q) => renderJobForm(c, dec(m[1]), q)],
    ['job', /^\/job\/([^/]+)$/, (c, m) => renderJob(c, dec(m[1]))],
    ['actions', /^\/actions$/, (c, m, q) => renderActions(c, m, q)],
    ['instances', /^\/instances$/, (c, m, q) => renderInstances(c, m, q)],
    ['instance', /^\/instance\/(\d+)$/, (c, m) => renderInstance(c, m[1])],
    ['debug', /^\/debug$/, (c) => renderDebug(c)],
    ['workers', /^\/workers$/, (c) => renderWorkers(c)],
    ['users', /^\/users$/, (c) => renderUsers(c)],
    ['audit', /^\/audit$/, (c, m, q) => renderAudit(c, m, q)],
  ];

  async function route() {
    if (!app.token) { renderLogin(); return; }
    ensureShell();
    if (!app.me) { // pages need the role (Users is admin only)
      await loadMe();
      if (!app.token) return;
    }
    closeModal();
    let hash = location.hash.replace(/^#/, '');
    if (!hash || hash === '/' || hash.startsWith('/login')) {
      history.replaceState(null, '', '#/dashboard');
      hash = '/dashboard';
    }
    const qi = hash.indexOf('?');
    const path = qi < 0 ? hash : hash.slice(0, qi);
    const query = new URLSearchParams(qi < 0 ? '' : hash.slice(qi + 1));
    const ctx = beginPage();
    for (const [name, re, render] of ROUTES) {
      const m = path.match(re);
      if (!m) continue;
      setActiveNav(name);
      try {
        await render(ctx, m, query);
      } catch (e) {
        // A page that could not load its data shows why, in its own root.
        if (!ctx.alive || e.status === 401) return;
        const root = ctx.root || mount(ctx, name, 'Error');
        root.replaceChildren(pageHeader(e.status === 404 ? 'Not found' : 'Could not load this page'), errorBox(e.message),
          h('p', null, link('#/dashboard', '← back to the dashboard')));
      }
      return;
    }
    setActiveNav('');
    const root = mount(ctx, 'notfound', 'Not found');
    root.append(pageHeader('Not found'), errorBox(`No page at #${path}`), h('p', null, link('#/dashboard', '← dashboard')));
  }

  function boot() {
    window.addEventListener('hashchange', route);
    // Another tab signed out (or in): follow it.
    window.addEventListener('storage', (e) => {
      if (e.key !== TOKEN_KEY) return;
      app.token = e.newValue;
      if (!app.token) sessionExpired(); else { loadMe(); route(); }
    });
    route();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
  else boot();
})();
