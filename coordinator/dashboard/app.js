/*
 * The coordinator's dashboard: jobs (with the job graph and per-task
 * rows), workers and cluster events, refreshed every second from the
 * coordinator's JSON (/api/jobs, /api/tasks, /api/workers, /api/events,
 * /api/jobs/NAME/graph) without reloading the page. Routes live in the
 * URL's fragment: #/, #/jobs/NAME[/tasks/S_P], #/workers, #/events.
 * With --token the page is opened as /?token=T and sends the token on.
 */
'use strict';
(function () {
  var REFRESH_MS = 1000, HISTORY = 90;
  var token = new URLSearchParams(location.search).get('token');
  var data = { jobs: [], tasks: [], workers: [], events: [] };
  var graphs = {};   /* job name -> {key, svg} */
  var history = {};  /* "job/S_P" -> [records_in_rate...] */
  var main = document.getElementById('main');
  var detail = document.getElementById('detail');

  function h(tag, attrs) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) {
      if (k === 'text') e.textContent = attrs[k];
      else if (k === 'onclick') e.onclick = attrs[k];
      else e.setAttribute(k, attrs[k]);
    }
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === null || c === undefined) continue;
      e.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
    }
    return e;
  }

  function get(path) {
    var headers = token ? { 'X-Weir-Token': token } : {};
    return fetch(path, { headers: headers, cache: 'no-store' }).then(function (r) {
      if (!r.ok) throw new Error(path + ': HTTP ' + r.status);
      return r.json();
    });
  }

  /* ------------------------------------------------------------ formats */
  function num(v) {
    if (v === null || v === undefined) return '–';
    if (Math.abs(v) >= 1e6) return (v / 1e6).toFixed(1) + 'M';
    if (Math.abs(v) >= 1e4) return (v / 1e3).toFixed(1) + 'k';
    return String(Math.round(v * 10) / 10);
  }
  function rate(v) { return v === null || v === undefined ? '–' : num(v) + '/s'; }
  function ms(v) {
    if (v === null || v === undefined) return '–';
    if (v >= 60000) return (v / 60000).toFixed(1) + ' min';
    if (v >= 1000) return (v / 1000).toFixed(1) + ' s';
    return Math.round(v) + ' ms';
  }
  function clock(wall) { return new Date(wall).toLocaleTimeString(); }
  function badge(s) { return h('span', { 'class': 'badge ' + s }, s); }
  function taskName(t) { return t.subtopology + '_' + t.partition; }
  function progress(p) {
    if (p === null || p === undefined) return '–';
    var bar = h('span', { 'class': 'bar' }, h('span', { style: 'width:' + Math.round(p * 100) + '%' }));
    return h('span', {}, bar, Math.round(p * 100) + '%');
  }
  function standbys(t) {
    if (!t.standby_status || !t.standby_status.length) return '–';
    return t.standby_status.map(function (s) { return s.worker + ' (' + s.state + ')'; }).join(', ');
  }

  /* -------------------------------------------------------------- routes */
  function route() {
    var parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
    if (parts[0] === 'jobs' && parts[1]) return { page: 'job', job: parts[1], task: parts[2] === 'tasks' ? parts[3] : null };
    if (parts[0] === 'workers') return { page: 'workers' };
    if (parts[0] === 'events') return { page: 'events' };
    return { page: 'jobs' };
  }

  function table(cols, rows, rowAttrs) {
    var head = h('tr', {});
    cols.forEach(function (c) { head.appendChild(h('th', { 'class': c.num ? 'num' : '' }, c.title)); });
    var body = h('tbody', {});
    rows.forEach(function (r) {
      var tr = h('tr', rowAttrs ? rowAttrs(r) : {});
      cols.forEach(function (c) {
        var v = c.value(r);
        tr.appendChild(h('td', { 'class': (c.num ? 'num ' : '') + (c.cls || '') }, v));
      });
      body.appendChild(tr);
    });
    return h('table', {}, h('thead', {}, head), body);
  }

  function stat(k, v) { return h('div', { 'class': 'stat' }, h('div', { 'class': 'v' }, v), h('div', { 'class': 'k' }, k)); }

  /* ---------------------------------------------------------------- jobs */
  function jobsPage() {
    var rows = data.jobs.filter(function (j) { return j.state !== 'cancelled'; })
      .concat(data.jobs.filter(function (j) { return j.state === 'cancelled'; }));
    var tasksOf = function (j) { return data.tasks.filter(function (t) { return t.job === j.name; }); };
    var sum = function (ts, f) { return ts.reduce(function (a, t) { return a + (t[f] || 0); }, 0); };
    return h('div', {}, h('h1', {}, 'Jobs'),
      h('div', { 'class': 'card' }, rows.length ? table([
        { title: 'job', value: function (j) { return h('a', { 'class': 'job', href: '#/jobs/' + encodeURIComponent(j.name) }, j.name); } },
        { title: 'state', value: function (j) { return badge(j.state); } },
        { title: 'guarantee', value: function (j) { return j.guarantee.replace(/_/g, '-'); } },
        { title: 'tasks running', num: true, value: function (j) { return j.running_tasks + ' / ' + j.tasks; } },
        { title: 'in', num: true, value: function (j) { return rate(sum(tasksOf(j), 'in_rate')); } },
        { title: 'out', num: true, value: function (j) { return rate(sum(tasksOf(j), 'out_rate')); } },
        { title: 'lag', num: true, value: function (j) { return num(sum(tasksOf(j), 'lag')); } },
        { title: 'dead-lettered', num: true, value: function (j) { return num(j.dead_lettered); } },
        { title: 'submitted', value: function (j) { return j.submitted_at_ms ? new Date(j.submitted_at_ms).toLocaleString() : '–'; } }
      ], rows) : h('div', { 'class': 'empty' }, 'No jobs. Submit one with weirctl submit JOB.yaml.')));
  }

  function jobPage(r) {
    var job = data.jobs.filter(function (j) { return j.name === r.job; })[0];
    if (!job) return h('div', { 'class': 'empty' }, 'No job ' + r.job + '.');
    var ts = data.tasks.filter(function (t) { return t.job === job.name; });
    var sum = function (f) { return ts.reduce(function (a, t) { return a + (t[f] || 0); }, 0); };
    var g = graphs[job.name];
    var graphCard = h('div', { 'class': 'card graph', id: 'graph' }, h('h2', {}, 'Job graph'),
      g && g.svg ? g.svg : h('div', { 'class': 'empty' }, 'loading the graph…'));
    if (g && g.svg) {
      var per = {};
      ts.forEach(function (t) {
        var s = per[t.subtopology] = per[t.subtopology] || { in_: 0, out: 0 };
        s.in_ += t.in_rate || 0; s.out += t.out_rate || 0;
      });
      var labels = {};
      Object.keys(per).forEach(function (s) { labels[s] = rate(per[s].in_) + ' in, ' + rate(per[s].out) + ' out'; });
      WeirGraph.update(g.svg, labels);
    }
    var cols = [
      { title: 'task', value: function (t) { return taskName(t); } },
      { title: 'state', value: function (t) { return badge(t.state); } },
      { title: 'owner', value: function (t) { return t.owner || '–'; } },
      { title: 'standbys', value: standbys },
      { title: 'in', num: true, cls: 'in-rate', value: function (t) { return rate(t.in_rate); } },
      { title: 'out', num: true, value: function (t) { return rate(t.out_rate); } },
      { title: 'records in', num: true, cls: 'records-in', value: function (t) { return String(t.records_in); } },
      { title: 'records out', num: true, value: function (t) { return String(t.records_out); } },
      { title: 'lag', num: true, value: function (t) { return num(t.lag); } },
      { title: 'last commit', num: true, value: function (t) { return t.last_commit_age_ms === null ? '–' : ms(t.last_commit_age_ms) + ' ago'; } },
      { title: 'commit p50 / p99', num: true, value: function (t) { return ms(t.commit_latency_p50_ms) + ' / ' + ms(t.commit_latency_p99_ms); } },
      { title: 'restore', value: function (t) { return progress(t.restore_progress); } }
    ];
    var rows = table(cols, ts, function (t) {
      return { 'class': 'click task' + (r.task === taskName(t) ? ' selected' : ''), 'data-task': taskName(t),
        onclick: function () { location.hash = '#/jobs/' + encodeURIComponent(job.name) + '/tasks/' + taskName(t); } };
    });
    return h('div', {},
      h('h1', {}, job.name, ' ', badge(job.state)),
      h('div', { 'class': 'sub' }, job.guarantee.replace(/_/g, '-') + ' · submitted ' +
        (job.submitted_at_ms ? new Date(job.submitted_at_ms).toLocaleString() : '–')),
      h('div', { 'class': 'stats' },
        stat('tasks running', job.running_tasks + ' / ' + job.tasks),
        stat('records in', rate(sum('in_rate'))), stat('records out', rate(sum('out_rate'))),
        stat('lag', num(sum('lag'))), stat('dead-lettered', num(job.dead_lettered)),
        stat('skipped / late', num(job.skipped) + ' / ' + num(job.late))),
      graphCard,
      h('div', { 'class': 'card' }, h('h2', {}, 'Tasks'), ts.length ? rows : h('div', { 'class': 'empty' }, 'No tasks.')));
  }

  function spark(values) {
    var max = Math.max.apply(null, values.concat([1]));
    var pts = values.map(function (v, i) {
      return (i * 300 / Math.max(1, HISTORY - 1)).toFixed(1) + ',' + (58 - v / max * 54).toFixed(1);
    }).join(' ');
    var svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    svg.setAttribute('viewBox', '0 0 300 60');
    svg.setAttribute('preserveAspectRatio', 'none');
    svg.setAttribute('class', 'spark');
    var line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
    line.setAttribute('points', pts);
    svg.appendChild(line);
    return svg;
  }

  function hideDetail() {
    detail.hidden = true;
    document.body.classList.remove('with-detail');
  }

  function taskDetail(r) {
    var t = data.tasks.filter(function (t) { return t.job === r.job && taskName(t) === r.task; })[0];
    if (!r.task || !t) { hideDetail(); return; }
    var dl = h('dl', {});
    function row(k, v) { dl.appendChild(h('dt', {}, k)); dl.appendChild(h('dd', {}, v)); }
    row('state', badge(t.state));
    row('owner', t.owner || '–');
    row('target', t.target || '–');
    row('records in', String(t.records_in) + ' (' + rate(t.in_rate) + ')');
    row('records out', String(t.records_out) + ' (' + rate(t.out_rate) + ')');
    row('lag', num(t.lag));
    row('commits', String(t.commits) + ' (' + rate(t.commit_rate) + ')');
    row('last commit', t.last_commit_age_ms === null ? '–' : ms(t.last_commit_age_ms) + ' ago');
    row('commit latency p50', ms(t.commit_latency_p50_ms));
    row('commit latency p99', ms(t.commit_latency_p99_ms));
    row('restore', progress(t.restore_progress));
    row('restored records', String(t.restored_records));
    row('dead-lettered', String(t.dead_lettered));
    row('skipped / late', t.skipped + ' / ' + t.late);
    row('last report', ms(t.report_age_ms) + ' ago');
    row('stuck', t.stuck ? 'yes' : 'no');
    var sb = t.standby_status.length ? table([
      { title: 'standby', value: function (s) { return s.worker; } },
      { title: 'state', value: function (s) { return badge(s.state); } },
      { title: 'lag', num: true, value: function (s) { return num(s.lag); } },
      { title: 'restored', num: true, value: function (s) { return num(s.restored_records); } }
    ], t.standby_status) : h('div', { 'class': 'sub' }, 'no standbys');
    var close = h('button', { 'class': 'close', title: 'close', onclick: function () {
      location.hash = '#/jobs/' + encodeURIComponent(r.job);
    } }, '×');
    detail.replaceChildren(close, h('h3', { id: 'task-title' }, 'task ' + t.job + ' ' + taskName(t)),
      h('div', { 'class': 'sub' }, 'subtopology ' + t.subtopology + ', partition ' + t.partition),
      dl, h('h2', {}, 'records in per second'), spark(history[t.job + '/' + taskName(t)] || []),
      h('h2', { style: 'margin-top:16px' }, 'Standbys'), sb,
      h('p', { 'class': 'error' }, t.error || ''));
    detail.hidden = false;
    document.body.classList.add('with-detail');
  }

  /* ------------------------------------------------------------- workers */
  function workersPage() {
    return h('div', {}, h('h1', {}, 'Workers'), h('div', { 'class': 'card' }, data.workers.length ? table([
      { title: 'worker', value: function (w) { return w.worker_id; } },
      { title: 'state', value: function (w) { return badge(w.state); } },
      { title: 'address', value: function (w) { return w.address || '–'; } },
      { title: 'capacity', num: true, value: function (w) { return String(w.capacity); } },
      { title: 'tasks (active + standby)', value: function (w) {
        var used = w.capacity ? Math.min(1, w.active_tasks / w.capacity) : 0;
        return h('span', {}, h('span', { 'class': 'bar' }, h('span', { style: 'width:' + Math.round(used * 100) + '%' })),
          w.active_tasks + ' + ' + w.standby_tasks);
      } },
      { title: 'heartbeat', num: true, value: function (w) { return ms(w.last_heartbeat_ms_ago) + ' ago'; } },
      { title: 'kafka', value: function (w) { return badge(w.kafka); } },
      { title: 'epoch', num: true, value: function (w) { return String(w.member_epoch); } },
      { title: 'generation', num: true, value: function (w) { return String(w.known_generation); } }
    ], data.workers, function (w) { return { 'data-worker': w.worker_id }; }) : h('div', { 'class': 'empty' }, 'No workers have said hello.')));
  }

  /* -------------------------------------------------------------- events */
  function eventsPage() {
    return h('div', {}, h('h1', {}, 'Events'),
      h('div', { 'class': 'sub' }, 'Rebalances, fencing, failovers, joins and leaves, drains, jobs submitted and cancelled, dead-lettered records (newest first, the last 200).'),
      h('div', { 'class': 'card events' }, data.events.length ? table([
        { title: 'time', value: function (e) { return clock(e.wall_ms); } },
        { title: 'kind', value: function (e) { return badge(e.kind); } },
        { title: 'count', num: true, value: function (e) { return String(e.count); } },
        { title: 'what', cls: 'text', value: function (e) { return e.text; } }
      ], data.events, function (e) { return { 'data-event': e.kind }; }) : h('div', { 'class': 'empty' }, 'No events yet.')));
  }

  /* ------------------------------------------------------------- refresh */
  function summary() {
    var alive = data.workers.filter(function (w) { return w.state !== 'dead'; }).length;
    var running = data.tasks.filter(function (t) { return t.state === 'RUNNING'; }).length;
    var reb = data.events.filter(function (e) { return e.kind === 'rebalance'; })[0];
    document.getElementById('summary').textContent = alive + ' workers · ' +
      data.jobs.filter(function (j) { return j.state !== 'cancelled'; }).length + ' jobs · ' +
      running + '/' + data.tasks.length + ' tasks running' + (reb ? ' · last rebalance ' + clock(reb.wall_ms) : '');
  }

  function ensureGraph(name, job) {
    var key = name + '@' + job.submitted_at_ms;
    if (graphs[name] && graphs[name].key === key) return;
    graphs[name] = { key: key, svg: null };
    get('/api/jobs/' + encodeURIComponent(name) + '/graph').then(function (g) {
      if (graphs[name].key === key) { graphs[name].svg = WeirGraph.draw(g); render(); }
    }).catch(function () { delete graphs[name]; });
  }

  function render() {
    var r = route();
    document.querySelectorAll('nav a').forEach(function (a) {
      a.classList.toggle('active', a.getAttribute('data-nav') === (r.page === 'job' ? 'jobs' : r.page));
    });
    if (r.page === 'job') {
      var job = data.jobs.filter(function (j) { return j.name === r.job; })[0];
      if (job) ensureGraph(r.job, job);
    }
    var scroll = window.scrollY;
    var page = r.page === 'job' ? jobPage(r) : r.page === 'workers' ? workersPage()
      : r.page === 'events' ? eventsPage() : jobsPage();
    main.replaceChildren(page);
    window.scrollTo(0, scroll);
    if (r.page === 'job') taskDetail(r); else hideDetail();
    summary();
  }

  function refresh() {
    Promise.all([get('/api/jobs'), get('/api/tasks'), get('/api/workers'), get('/api/events')])
      .then(function (all) {
        data = { jobs: all[0], tasks: all[1], workers: all[2], events: all[3] };
        data.tasks.forEach(function (t) {
          var k = t.job + '/' + taskName(t), hs = history[k] = history[k] || [];
          hs.push(t.in_rate || 0);
          if (hs.length > HISTORY) hs.shift();
        });
        document.getElementById('status').className = 'status ok';
        document.getElementById('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
        render();
      })
      .catch(function (e) {
        document.getElementById('status').className = 'status err';
        document.getElementById('updated').textContent = String(e.message || e);
      });
  }

  window.addEventListener('hashchange', render);
  refresh();
  setInterval(refresh, REFRESH_MS);
})();
