/*
 * Draws a job graph (/api/jobs/NAME/graph: the same graph as
 * `weirctl topology --dot`) as SVG: nodes in columns by their longest path
 * from a source, subtopologies boxed, changelog writes dashed.
 * WeirGraph.draw(graph) returns the <svg>; WeirGraph.update(svg, stats)
 * refreshes the live labels of the subtopology boxes.
 */
'use strict';
var WeirGraph = (function () {
  var NS = 'http://www.w3.org/2000/svg';
  var W = 172, GAP_X = 44, GAP_Y = 22, PAD = 28, LINE = 14;

  function el(tag, attrs, text) {
    var e = document.createElementNS(NS, tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function cut(s, n) { return s.length > n ? s.slice(0, n - 1) + '…' : s; }

  /* Which row a node goes in: an operator in its subtopology's, a topic in
   * the row of the first subtopology reading it, else of the first writing
   * it; a topic no operator touches (the DLQ) in the first row. */
  function rows(g) {
    var row = {}, order = g.subtopologies.map(function (s) { return s.id; });
    var index = function (sub) { return Math.max(0, order.indexOf(sub)); };
    var sub = {};
    g.nodes.forEach(function (n) { sub[n.id] = n.subtopology; });
    g.nodes.forEach(function (n) { if (n.type !== 'topic') row[n.id] = index(n.subtopology); });
    g.nodes.forEach(function (n) {
      if (n.type !== 'topic') return;
      var readers = g.edges.filter(function (e) { return e.from === n.id; });
      var writers = g.edges.filter(function (e) { return e.to === n.id; });
      row[n.id] = readers.length ? index(sub[readers[0].to])
        : writers.length ? index(sub[writers[0].from]) : 0;
    });
    return row;
  }

  /* Columns within each row: the longest path from a node without inputs
   * over the row's own edges; a cycle (never compiled) stops after as
   * many rounds as nodes. */
  function ranks(nodes, edges, row) {
    var rank = {};
    nodes.forEach(function (n) { rank[n.id] = 0; });
    var local = edges.filter(function (e) { return row[e.from] === row[e.to]; });
    for (var round = 0; round < nodes.length; round++) {
      var changed = false;
      local.forEach(function (e) {
        if (rank[e.to] < rank[e.from] + 1) { rank[e.to] = rank[e.from] + 1; changed = true; }
      });
      if (!changed) break;
    }
    return rank;
  }

  function height(n) { return 40 + Math.min(n.detail.length, 2) * LINE; }

  function draw(g) {
    var row = rows(g), rank = ranks(g.nodes, g.edges, row);
    var grid = [], ncols = 0;
    g.nodes.forEach(function (n) {
      var r = grid[row[n.id]] = grid[row[n.id]] || [];
      (r[rank[n.id]] = r[rank[n.id]] || []).push(n);
      ncols = Math.max(ncols, rank[n.id] + 1);
    });
    var pos = {}, y0 = PAD, maxY = 0, ROW_GAP = 44, subTop = 30;
    grid.forEach(function (cols) {
      var bottom = y0;
      (cols || []).forEach(function (col, c) {
        var y = y0 + subTop;
        (col || []).forEach(function (n) {
          var h = height(n);
          pos[n.id] = { x: PAD + c * (W + GAP_X), y: y, w: W, h: h };
          y += h + GAP_Y;
        });
        bottom = Math.max(bottom, y - GAP_Y);
      });
      maxY = bottom;
      y0 = bottom + ROW_GAP;
    });
    var width = PAD * 2 + ncols * (W + GAP_X) - GAP_X;
    var svg = el('svg', { viewBox: '0 0 ' + width + ' ' + (maxY + PAD),
      width: width, height: maxY + PAD, 'class': 'job-graph', role: 'img',
      'aria-label': 'job graph of ' + g.job });
    var defs = el('defs', {});
    var marker = el('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5,
      markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
    marker.appendChild(el('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#718096' }));
    defs.appendChild(marker);
    svg.appendChild(defs);
    /* subtopology boxes under everything */
    g.subtopologies.forEach(function (s) {
      var mine = g.nodes.filter(function (n) { return n.subtopology === s.id; });
      if (!mine.length) return;
      var x0 = 1e9, y0 = 1e9, x1 = 0, y1 = 0;
      mine.forEach(function (n) {
        var p = pos[n.id];
        x0 = Math.min(x0, p.x); y0 = Math.min(y0, p.y);
        x1 = Math.max(x1, p.x + p.w); y1 = Math.max(y1, p.y + p.h);
      });
      var box = el('g', { 'class': 'subtopology', 'data-subtopology': s.id });
      box.appendChild(el('rect', { 'class': 'sub-box', x: x0 - 12, y: y0 - 30,
        width: x1 - x0 + 24, height: y1 - y0 + 42, rx: 8 }));
      box.appendChild(el('text', { 'class': 'sub-label', x: x0 - 4, y: y0 - 12 },
        'subtopology ' + s.id + ' · ' + s.tasks + ' task' + (s.tasks === 1 ? '' : 's')));
      svg.appendChild(box);
    });
    g.edges.forEach(function (e) {
      var a = pos[e.from], b = pos[e.to];
      if (!a || !b) return;
      var x1 = a.x + a.w, y1 = a.y + a.h / 2, x2 = b.x - 2, y2 = b.y + b.h / 2;
      /* forwards: an S between columns; backwards (to the next row):
       * out to the right, over, and in from the left */
      var dx = x2 > x1 ? Math.max(30, (x2 - x1) / 2) : 70;
      svg.appendChild(el('path', { 'class': 'edge ' + e.type, 'marker-end': 'url(#arrow)',
        'data-from': e.from, 'data-to': e.to,
        d: 'M' + x1 + ',' + y1 + ' C' + (x1 + dx) + ',' + y1 + ' ' + (x2 - dx) + ',' + y2 + ' ' + x2 + ',' + y2 }));
    });
    g.nodes.forEach(function (n) {
      var p = pos[n.id];
      var node = el('g', { 'class': 'node ' + (n.type === 'topic' ? 'topic ' : 'op ') + n.kind,
        'data-node-id': n.id, transform: 'translate(' + p.x + ',' + p.y + ')' });
      node.appendChild(el('title', {}, n.name + (n.detail.length ? '\n' + n.detail.join('\n') : '')));
      node.appendChild(el('rect', { width: p.w, height: p.h, rx: n.type === 'topic' ? 18 : 5 }));
      node.appendChild(el('text', { 'class': 'kind', x: 10, y: 15 },
        n.type === 'topic' ? n.kind + ' topic' : n.kind.replace(/_/g, ' ')));
      node.appendChild(el('text', { 'class': 'name', x: 10, y: 31 }, cut(n.name, 24)));
      n.detail.slice(0, 2).forEach(function (line, i) {
        node.appendChild(el('text', { 'class': 'detail', x: 10, y: 47 + i * LINE }, cut(line, 27)));
      });
      svg.appendChild(node);
    });
    return svg;
  }

  /* stats: {subtopology id: text} shown after each box's label. */
  function update(svg, stats) {
    svg.querySelectorAll('g.subtopology').forEach(function (box) {
      var label = box.querySelector('text.sub-label');
      var base = label.getAttribute('data-base') || label.textContent;
      label.setAttribute('data-base', base);
      var extra = stats[box.getAttribute('data-subtopology')];
      label.textContent = extra ? base + ' · ' + extra : base;
    });
  }

  return { draw: draw, update: update };
})();
