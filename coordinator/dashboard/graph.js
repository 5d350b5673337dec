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
  var W = 190, GAP_X = 56, GAP_Y = 22, PAD = 28, LINE = 14;

  function el(tag, attrs, text) {
    var e = document.createElementNS(NS, tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function cut(s, n) { return s.length > n ? s.slice(0, n - 1) + '…' : s; }

  /* Longest path from a node without inputs; a cycle (never compiled)
   * stops after as many rounds as nodes. */
  function ranks(nodes, edges) {
    var rank = {};
    nodes.forEach(function (n) { rank[n.id] = 0; });
    for (var round = 0; round < nodes.length; round++) {
      var changed = false;
      edges.forEach(function (e) {
        if (rank[e.to] < rank[e.from] + 1) { rank[e.to] = rank[e.from] + 1; changed = true; }
      });
      if (!changed) break;
    }
    /* changelog topics sit beside their store, not after everything */
    return rank;
  }

  function height(n) { return 40 + Math.min(n.detail.length, 2) * LINE; }

  function draw(g) {
    var rank = ranks(g.nodes, g.edges);
    var cols = [];
    g.nodes.forEach(function (n) {
      var r = rank[n.id];
      (cols[r] = cols[r] || []).push(n);
    });
    var pos = {}, maxY = 0, subTop = 34;
    cols.forEach(function (col, r) {
      col.sort(function (a, b) {
        var sa = a.subtopology < 0 ? 1e9 : a.subtopology, sb = b.subtopology < 0 ? 1e9 : b.subtopology;
        return sa - sb;
      });
      var y = PAD + subTop;
      col.forEach(function (n) {
        var h = height(n);
        pos[n.id] = { x: PAD + r * (W + GAP_X), y: y, w: W, h: h };
        y += h + GAP_Y;
      });
      maxY = Math.max(maxY, y);
    });
    var width = PAD * 2 + cols.length * (W + GAP_X) - GAP_X;
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
      var dx = Math.max(30, (x2 - x1) / 2);
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
      node.appendChild(el('text', { 'class': 'name', x: 10, y: 31 }, cut(n.name, 27)));
      n.detail.slice(0, 2).forEach(function (line, i) {
        node.appendChild(el('text', { 'class': 'detail', x: 10, y: 47 + i * LINE }, cut(line, 30)));
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
