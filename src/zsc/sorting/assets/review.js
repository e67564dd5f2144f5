// Review page of a sort run: name clusters, move photos (ranges, splits, lasso, neighbour suggestions),
// mark clusters done, undo, keep work in localStorage, export `image_id,label`. No server, no external assets.
// Cost model: every edit repaints only the sections it touched, the side panel (one line per group)
// and the suggestions (linear in photos x neighbours); nothing is quadratic in the number of clusters.
(function () {
  'use strict';
  var STARTED = performance.now();
  var D = JSON.parse(document.getElementById('zsc-data').textContent);
  var N = D.ids.length, K = D.k, PAGE = 120, DOUBTFUL = 'doubtful', SUGGEST = 'suggest', STRIP = 'strip';
  var STORE = 'zsc-review:' + D.run + ':' + D.key;
  // The labels of the latest saved work of this run, whatever its clustering: when a rerun changes the
  // clustering, the steps no longer apply, but the reviewer is told and can export what they had named.
  var SNAPSHOT = 'zsc-review-labels:' + D.run;
  var $ = function (id) { return document.getElementById(id); };
  var main = $('sections');
  var rank = new Int32Array(N);
  D.order.forEach(function (i, r) { rank[i] = r; });
  var VOCAB = {};
  D.vocabulary.forEach(function (name) { VOCAB[canon(name)] = name; });
  var hasVocab = D.vocabulary.length > 0;
  var CENTRES = N ? D.centres.length / N : 0;  // nearest other cluster centres carried per photo

  function canon(text) { return String(text).normalize('NFC').trim().replace(/\s+/g, ' ').toLowerCase(); }
  function esc(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c];
    });
  }
  function thumbOf(i) { return D.thumbs[i] ? D.thumb_prefix + D.thumbs[i] : ''; }
  function baseName(id) { return id.slice(id.lastIndexOf('/') + 1); }

  // ------------------------------------------------------------------ state: initial + replayed steps
  function initialState() {
    var group = new Array(N), order = [], seen = {};
    for (var i = 0; i < N; i++) group[i] = D.doubtful[i] ? DOUBTFUL : 'c' + D.cluster[i];
    D.order.forEach(function (i) {  // clusters in the order of the similarity path: lookalike clusters adjacent
      if (!seen[group[i]] && group[i] !== DOUBTFUL) { seen[group[i]] = 1; order.push(group[i]); }
    });
    var names = {};  // a week's page: the groups of photos assigned to reviewed species carry their names
    Object.keys(D.preset).forEach(function (c) { names['c' + c] = D.preset[c]; if (!seen['c' + c]) order.push('c' + c); });
    order.push(DOUBTFUL);
    return {group: group, names: names, order: order, done: {}, kept: {}, created: 0};
  }
  function insertAfter(s, after, g) {
    var at = s.order.indexOf(after);
    s.order.splice(at < 0 ? s.order.length - 1 : at + 1, 0, g);
  }
  // Every change is a step (a list of ops); the state is the initial one with the steps replayed.
  var OPS = {
    name: function (s, op) { s.names[op.g] = op.label; },
    create: function (s, op) { s.created += 1; insertAfter(s, op.after, op.g); s.names[op.g] = op.label || ''; },
    move: function (s, op) { op.moves.forEach(function (m) { s.group[m[0]] = m[1]; }); },
    done: function (s, op) { s.done[op.g] = op.value; },
    keep: function (s, op) { op.items.forEach(function (i) { s.kept[i] = 1; }); }
  };
  function touched(op) {  // the groups an op changes (their sections repaint)
    if (op.op === 'move') {
      var gs = {};
      op.moves.forEach(function (m) { gs[m[1]] = 1; gs[state.group[m[0]]] = 1; });
      return Object.keys(gs);
    }
    if (op.op === 'keep') return op.items.map(function (i) { return state.group[i]; });
    return [op.g];
  }

  var steps = load(), state, selected = new Set(), lastClicked = null, shown = {}, buckets = {};
  var labelOf = new Int32Array(N), labels = [], labelIndex = {}, homeOf = {};
  var sugA = new Int32Array(N).fill(-1), sugAn = new Int8Array(N), sugB = new Int32Array(N).fill(-1), sugBn = new Int8Array(N);
  var threshold = Math.max(1, Math.ceil(K * 0.6)), view = 'groups';

  function load() {
    try { var saved = JSON.parse(localStorage.getItem(STORE) || '[]'); return Array.isArray(saved) ? saved : []; }
    catch (e) { return []; }
  }
  // Saving serialises every photo's label (megabytes for a season): done when the browser is idle,
  // after the edit has painted, and at the latest when the page is left.
  var saveTimer = null;
  function save() {
    $('saved').textContent = 'saving…';
    if (saveTimer) clearTimeout(saveTimer);
    saveTimer = setTimeout(saveNow, 400);
  }
  window.addEventListener('pagehide', function () { if (saveTimer) saveNow(); });
  document.addEventListener('visibilitychange', function () { if (document.hidden && saveTimer) saveNow(); });
  function saveNow() {
    saveTimer = null;
    try {
      localStorage.setItem(STORE, JSON.stringify(steps));
      var named = {}, hashes = {};
      for (var i = 0; i < N; i++) {
        var l = label(state.group[i]);
        if (l) { named[D.ids[i]] = l; if (D.hashes.length) hashes[D.ids[i]] = D.hashes[i]; }
      }
      localStorage.setItem(SNAPSHOT, JSON.stringify({key: D.key, saved: new Date().toISOString(), labels: named, hashes: hashes}));
      $('saved').textContent = 'saved in this browser';
    }
    catch (e) { $('saved').textContent = 'not saved (browser storage unavailable): export before closing'; }
  }
  function replay() {
    state = initialState();
    steps.forEach(function (step) { step.forEach(function (op) { if (OPS[op.op]) OPS[op.op](state, op); }); });
  }

  // ------------------------------------------------------------------ derived: members, labels, suggestions
  // A section's photos: its cluster's core first, each part in similarity order; on a camera-trap page a
  // burst's crops side by side, at the place of its first crop in that order.
  function sortBucket(g) {
    var home = g.charAt(0) === 'c' ? +g.slice(1) : null, lead = {};
    function part(i) { return home !== null && D.cluster[i] === home && D.core[i] ? 0 : 1; }
    function burstKey(i) { return D.sequence.length && D.sequence[i] >= 0 ? part(i) + ':' + D.sequence[i] : null; }
    buckets[g].forEach(function (i) {
      var key = burstKey(i);
      if (key !== null && !(key in lead && lead[key] <= rank[i])) lead[key] = rank[i];
    });
    function place(i) { var key = burstKey(i); return key === null ? rank[i] : lead[key]; }
    buckets[g].sort(function (a, b) { return part(a) - part(b) || place(a) - place(b) || rank[a] - rank[b]; });
  }
  function rebuildBuckets(only) {
    var gs = only || state.order;
    gs.forEach(function (g) { buckets[g] = []; });
    var wanted = only ? new Set(only) : null;
    for (var i = 0; i < N; i++) {
      var g = state.group[i];
      if (!wanted || wanted.has(g)) (buckets[g] = buckets[g] || []).push(i);
    }
    gs.forEach(sortBucket);
  }
  function label(g) { return state.names[g] || ''; }
  function rebuildLabels() {
    labels = []; labelIndex = {}; homeOf = {};
    state.order.forEach(function (g) {
      var l = label(g);
      if (!l) return;
      var c = canon(l);
      if (!(c in labelIndex)) { labelIndex[c] = labels.length; labels.push(l); homeOf[c] = g; }
    });
    var gl = {};
    state.order.forEach(function (g) { var l = label(g); gl[g] = l ? labelIndex[canon(l)] : -1; });
    for (var i = 0; i < N; i++) labelOf[i] = gl[state.group[i]];
  }
  // A photo's suggestion: the label most of its named neighbours carry, with how many (of K) carry it.
  function rebuildSuggestions() {
    var tallyL = new Int32Array(K), tallyN = new Int8Array(K);
    for (var i = 0; i < N; i++) {
      var used = 0;
      for (var j = 0; j < K; j++) {
        var l = labelOf[D.neighbours[i * K + j]];
        if (l < 0) continue;
        var t = 0;
        while (t < used && tallyL[t] !== l) t++;
        if (t === used) { tallyL[used] = l; tallyN[used] = 0; used++; }
        tallyN[t]++;
      }
      var a = -1, an = 0, b = -1, bn = 0;
      for (var t2 = 0; t2 < used; t2++) {
        var n = tallyN[t2], l2 = tallyL[t2];
        if (n > an || (n === an && l2 < a)) { b = a; bn = an; a = l2; an = n; }
        else if (n > bn || (n === bn && l2 < b)) { b = l2; bn = n; }
      }
      sugA[i] = a; sugAn[i] = an; sugB[i] = b; sugBn[i] = bn;
    }
  }
  function disagrees(i) { return sugA[i] >= 0 && sugA[i] !== labelOf[i]; }
  function candidates() {  // what "accept all" would move: checked by the reviewer in the suggestions section
    var list = [];
    for (var i = 0; i < N; i++) {
      if (disagrees(i) && sugAn[i] >= threshold && !state.kept[i] && !state.done[state.group[i]]) list.push(i);
    }
    return list.sort(function (a, b) { return sugAn[b] - sugAn[a] || rank[a] - rank[b]; });
  }
  function derive(only) {
    rebuildBuckets(only);
    rebuildLabels();
    if (K) rebuildSuggestions();
    buckets[SUGGEST] = K ? candidates() : [];
    buckets[STRIP] = D.order;
  }

  // ------------------------------------------------------------------ committing, undo
  // Apply a change to the state, then repaint the groups the step touched before and after it.
  function refresh(step, change) {
    var dirty = new Set([SUGGEST]);
    function mark() { step.forEach(function (op) { touched(op).forEach(function (g) { dirty.add(g); }); }); }
    mark();
    change();
    mark();
    save();
    derive(Array.from(dirty).filter(function (g) { return g !== SUGGEST && g !== STRIP; }));
    repaint(dirty);
  }
  function commit(step) {
    if (!step.length) return;
    refresh(step, function () {
      steps.push(step);
      step.forEach(function (op) { OPS[op.op](state, op); });
    });
  }
  function undo() {
    if (!steps.length) return;
    var step = steps.pop();
    refresh(step, replay);
  }

  // ------------------------------------------------------------------ painting
  function title(g) {
    if (g === DOUBTFUL) return 'Doubtful';
    if (g === SUGGEST) return 'Neighbours suggest another name';
    if (g === STRIP) return 'All photos in one similarity order';
    if (g.charAt(0) === 'c' && D.preset[g.slice(1)]) return 'reviewed species, photos assigned this week';
    return g.charAt(0) === 'c' ? 'Cluster ' + g.slice(1) : 'New group ' + g.slice(1);
  }
  function display(g) { return label(g) ? label(g) + ' (' + title(g) + ')' : title(g); }
  function suggestionText(i) {
    if (!K || sugA[i] < 0) return '';
    return sugAn[i] + ' of ' + K + ' neighbours: ' + labels[sugA[i]];
  }
  function captionExtra(i, where) {
    var html = '', g = state.group[i];
    if (g === DOUBTFUL || where === SUGGEST || where === STRIP) {
      html += '<span class="hint">now: ' + esc(g === DOUBTFUL ? 'doubtful, own ' + display('c' + D.cluster[i]) : display(g)) + '</span>';
    }
    if (g === DOUBTFUL && D.reasons[i]) html += '<span class="hint">' + esc(D.reasons[i]) + '</span>';
    if (D.support.length && D.support[i] >= 0 && g === 'c' + D.cluster[i]) html += '<span class="hint">assigned, support ' + D.support[i] + '%</span>';
    var burst = burstNote(i);
    if (burst) html += '<span class="hint' + (burst.indexOf('differently') >= 0 ? ' warn' : '') + '">' + esc(burst) + '</span>';
    offers(i).forEach(function (o) {
      html += '<button class="sg" data-to="' + o.l + '" data-i="' + i + '" data-name="' + esc(labels[o.l]) + '" title="' + esc(o.why) + '">→ ' +
        esc(labels[o.l]) + ' ' + esc(o.short) + '</button>';
    });
    if (where === SUGGEST && disagrees(i)) html += '<button class="keep" data-keep="' + i + '" title="wrong suggestion: keep it where it is">✗ keep</button>';
    return html;
  }
  // Up to three names a photo could move to (never its own): its neighbours' vote first, then the named
  // clusters whose centres (full embedding) are nearest to it. One click on either moves it.
  function offers(i) {
    var found = [], own = labelOf[i];
    function offer(l, short, why) {
      if (l >= 0 && l !== own && found.length < 3 && !found.some(function (o) { return o.l === l; })) found.push({l: l, short: short, why: why});
    }
    if (!state.kept[i] || own < 0) {
      offer(sugA[i], sugAn[i] + '/' + K, sugAn[i] + ' of ' + K + ' nearest photos are named so');
      offer(sugB[i], sugBn[i] + '/' + K, sugBn[i] + ' of ' + K + ' nearest photos are named so');
    }
    for (var c = 0; c < CENTRES; c++) {
      var centre = D.centres[CENTRES * i + c], named = centre >= 0 ? label('c' + centre) : '';
      if (named) offer(labelIndex[canon(named)], '(near)', 'the nearest other cluster: ' + display('c' + centre));
    }
    return found;
  }
  function figure(i, where) {
    var thumb = thumbOf(i);
    // a photo in its cluster's core whose neighbours agree shows its alternatives only under the pointer
    return '<figure draggable="true" data-i="' + i + '" class="' + (selected.has(i) ? 'sel' : '') + (isQuiet(i, where) ? ' quiet' : '') +
      '" title="' + esc(D.ids[i] + (D.reasons[i] ? '\n' + D.reasons[i] : '')) + '">' +
      (thumb ? '<img loading="lazy" decoding="async" src="' + esc(thumb) + '" alt="">' : '<div class="noimg">no preview</div>') +
      '<figcaption>' + esc(baseName(D.ids[i])) + '<span class="extra">' + captionExtra(i, where) + '</span></figcaption></figure>';
  }
  function isQuiet(i, where) { return isCore(i, state.group[i]) && !disagrees(i) && where !== SUGGEST && where !== STRIP; }
  function isCore(i, g) { return g.charAt(0) === 'c' && D.cluster[i] === +g.slice(1) && D.core[i]; }

  var observer = new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) { if (entry.isIntersecting) fill(entry.target); });
  }, {rootMargin: '800px 0px'});

  function fill(body) {
    if (body.dataset.filled) return;
    var g = body.dataset.g, list = buckets[g] || [], limit = shown[g] || PAGE, html = [];
    var marked = g.charAt(0) !== 'c';
    for (var k = 0; k < Math.min(limit, list.length); k++) {
      if (!marked && k > 0 && !isCore(list[k], g) && isCore(list[k - 1], g)) {
        html.push('<div class="coreend">below: photos whose nearest neighbours lie mostly in other clusters</div>');
        marked = true;
      }
      html.push(figure(list[k], g));
    }
    if (list.length > limit) {
      html.push('<button class="more" data-more="' + esc(g) + '">show ' + Math.min(PAGE, list.length - limit) +
                ' more of ' + (list.length - limit) + '</button>');
    }
    body.innerHTML = html.join('');
    body.style.minHeight = '';
    body.dataset.filled = '1';
  }
  // photos per row, for the placeholder height of a section not filled yet (measured once per render:
  // reading a width forces a layout of the whole page)
  var photosPerRow = 6;
  function perRow() { return photosPerRow; }
  function measureRow() { photosPerRow = Math.max(1, Math.floor((main.clientWidth || 1000) / 174)); }
  function heading(g) {
    var list = buckets[g] || [], l = label(g), html = '';
    if (g === SUGGEST) {
      return '<span class="title">' + esc(title(g)) + '</span> <span class="count">' + list.length + ' photos with ≥ ' +
        threshold + ' of ' + K + ' neighbours agreeing</span> <button id=acceptShown>accept all ' + list.length +
        '</button> <span class="hint">a wrong one: click its ✗ keep first</span>';
    }
    if (g === STRIP) return '<span class="title">' + esc(title(g)) + '</span> <span class="hint">select a run (click, shift-click), then name it with m</span>';
    html += '<span class="title">' + esc(l || title(g)) + '</span>' + (l ? ' <span class="sub">' + esc(title(g)) + '</span>' : '') +
      ' <span class="count">' + list.length + ' photos</span>';
    if (g === DOUBTFUL) return html + ' <span class="hint">use a photo\'s → button, or select and press m</span> ' +
      '<button class="selall" data-selall="' + esc(g) + '">select all</button>';
    html += ' <input class="name" data-name="' + esc(g) + '" list="names" placeholder="species name" value="' + esc(l) + '">';
    if (l && hasVocab && !(canon(l) in VOCAB)) html += ' <span class="warn">not in the species list</span>';
    var parts = splitParts(g);
    if (parts) html += ' <button class="split" data-split="' + esc(g) + '" title="the sub-groups its embeddings form">split into ' + parts + '</button>';
    html += ' <button class="selall" data-selall="' + esc(g) + '">select all</button>' +
      ' <label><input type="checkbox" data-done="' + esc(g) + '"' + (state.done[g] ? ' checked' : '') + '> done</label>';
    return html;
  }
  function sectionHtml(g) {
    var list = buckets[g] || [];
    var rows = Math.ceil(Math.min(list.length, shown[g] || PAGE) / perRow());
    var cls = g === DOUBTFUL ? 'doubtful' : g === SUGGEST ? 'suggest' : state.done[g] ? 'done' : '';
    return '<section data-g="' + esc(g) + '" class="' + cls + '"><h2>' + heading(g) + '</h2>' + examplesHtml(g) +
      '<div class="grid" data-g="' + esc(g) + '" style="min-height:' + rows * 190 + 'px"></div></section>';
  }
  function examplesHtml(g) {  // a reviewed species' typical photos, for reference (not work, not selectable)
    var list = g.charAt(0) === 'c' ? D.examples[g.slice(1)] : null;
    if (!list || !list.length) return '';
    return '<div class="examples">reviewed before: ' + list.map(function (e) {
      return e[1] ? '<img loading="lazy" src="' + esc(e[1]) + '" title="' + esc(e[0]) + '" alt="">' : '';
    }).join('') + '</div>';
  }
  function visibleGroups() {
    if (view === STRIP) return [STRIP];
    var gs = state.order.filter(function (g) { return (buckets[g] || []).length || (g.charAt(0) === 'g' && g !== DOUBTFUL); });
    return buckets[SUGGEST].length ? [SUGGEST].concat(gs) : gs;
  }
  function observeAll(bodies) {  // sections new to the page are small (a new group, a split part): filled now
    bodies.forEach(function (body) { fill(body); observer.observe(body); });
  }
  function render() {
    measureRow();
    observer.disconnect();
    main.innerHTML = visibleGroups().map(sectionHtml).join('');
    // the first sections now, the rest when they come near the screen (no layout of a whole season)
    var bodies = main.querySelectorAll('.grid');
    for (var k = 0; k < bodies.length; k++) {
      if (k < 3) fill(bodies[k]);
      observer.observe(bodies[k]);
    }
    paintChrome();
  }
  function sectionElement(g) { return main.querySelector('section[data-g="' + cssEsc(g) + '"]'); }
  function cssEsc(text) { return window.CSS && CSS.escape ? CSS.escape(text) : text; }
  // Repaint the touched sections (heading and body), the captions of other shown photos whose suggestion
  // changed, the suggestions section, the panel and the counts.
  function repaint(dirty) {
    var fresh = [];
    var wanted = visibleGroups(), present = {}, wantedSet = new Set(wanted);
    Array.prototype.forEach.call(main.children, function (s) { present[s.dataset.g] = s; });
    Object.keys(present).forEach(function (g) {  // sections emptied or undone: removed
      if (!wantedSet.has(g)) { observer.unobserve(present[g].querySelector('.grid')); present[g].remove(); delete present[g]; }
    });
    var previous = null;
    wanted.forEach(function (g) {  // sections new to the page (a new group, the suggestions): inserted in place
      if (!present[g]) {
        var holder = document.createElement('div');
        holder.innerHTML = sectionHtml(g);
        var section = holder.firstChild;
        if (previous) previous.after(section); else main.prepend(section);
        present[g] = section;
        fresh.push(section.querySelector('.grid'));
        dirty.delete(g);
      }
      previous = present[g];
    });
    dirty.forEach(function (g) {
      var s = present[g];
      if (!s) return;
      var wasFilled = s.querySelector('.grid').dataset.filled;
      var holder = document.createElement('div');
      holder.innerHTML = sectionHtml(g);
      var replacement = holder.firstChild;
      observer.unobserve(s.querySelector('.grid'));
      s.replaceWith(replacement);
      var body = replacement.querySelector('.grid');
      if (wasFilled) fill(body);
      fresh.push(body);
    });
    observeAll(fresh);
    Array.prototype.forEach.call(main.querySelectorAll('.grid[data-filled] figure'), function (f) {
      var i = +f.dataset.i, where = f.parentNode.dataset.g, html = captionExtra(i, where), span = f.querySelector('.extra');
      if (span.innerHTML !== html) span.innerHTML = html;
      f.classList.toggle('sel', selected.has(i));
      f.classList.toggle('quiet', isQuiet(i, where));
    });
    paintChrome();
  }
  function paintChrome() {
    paintPanel();
    namesPainted = false;  // the type-ahead list: rebuilt when a name box or the move box is used
    var named = 0, doubtful = (buckets[DOUBTFUL] || []).length, done = 0;
    for (var i = 0; i < N; i++) if (labelOf[i] >= 0) named++;
    state.order.forEach(function (g) { if (state.done[g] && (buckets[g] || []).length) done++; });
    $('progress').textContent = named + ' / ' + N + ' photos named · ' + doubtful + ' doubtful · ' + done + ' groups done';
    $('progress').dataset.named = named;
    $('candidates').textContent = buckets[SUGGEST].length;
    $('kcount').textContent = K;
    updateSelection();
  }

  // ------------------------------------------------------------------ side panel: every group, searchable
  function panelEntries() {
    var named = {}, unnamed = [];
    state.order.forEach(function (g) {
      var n = (buckets[g] || []).length, l = label(g);
      if (g === DOUBTFUL) return;
      if (!l) { if (n) unnamed.push({g: g, text: title(g), n: n, done: state.done[g]}); return; }
      var c = canon(l), entry = named[c] || (named[c] = {g: homeOf[c], text: labels[labelIndex[c]], n: 0, done: true});
      entry.n += n;
      entry.done = entry.done && !!state.done[g];
    });
    var list = Object.keys(named).map(function (c) { return named[c]; });
    list.sort(function (a, b) { return a.text.localeCompare(b.text); });
    return list.concat(unnamed, unusedSpecies());
  }
  // The species list's names no group carries yet, alphabetical: a drop or click moves the selection
  // to a new group of that name (one step instead of m, the name, Enter).
  var VOCAB_TARGET = 'species:';
  var VOCAB_SORTED = D.vocabulary.map(function (name, k) { return {name: name, k: k}; })
    .sort(function (a, b) { return a.name.localeCompare(b.name); });
  function unusedSpecies() {
    return VOCAB_SORTED.filter(function (v) { return !(canon(v.name) in labelIndex); })
      .map(function (v) { return {g: VOCAB_TARGET + v.k, text: v.name, n: 0, done: false, vocab: true}; });
  }
  function vocabName(target) {
    return target.indexOf(VOCAB_TARGET) === 0 ? D.vocabulary[+target.slice(VOCAB_TARGET.length)] : null;
  }
  // One line per group; an edit rewrites only the lines that changed (the list is rebuilt only when
  // its order changes: a new name, a search). A long list (a season's clusters) shows only the lines
  // near its scroll position, so a rebuild costs the same for 40 groups or 4,000.
  var panelKeys = '', panelLines = [], ROW = 21, FULL_PANEL = 300, panelWindow = [0, 0];
  function lineHtml(l) {
    var tip = l.attrs.indexOf('data-vocab') >= 0 ? 'from the species list: click or drop to move the selection to a new group of this name'
      : 'click: move the selection here (or go to it)';
    return '<div ' + l.attrs + ' title="' + tip + '">' + l.inner + '</div>';
  }
  function paintPanel() {
    var query = canon($('search').value), lines = [];
    panelEntries().forEach(function (e) {
      if (query && canon(e.text).indexOf(query) < 0) return;
      var unnamedClass = e.vocab ? ' class="vocab"' : label(e.g) ? '' : ' class="unnamed"';
      var attrs = 'data-target="' + esc(e.g) + '" data-label="' + esc(e.vocab ? e.text : label(e.g)) + '"';
      lines.push({g: e.g, attrs: attrs + (e.vocab ? ' data-vocab="1"' : ''),
        inner: (e.done ? '<span class="done">✓</span>' : '') + '<span' + unnamedClass + '>' + esc(e.text) + '</span>' +
        '<span class="n">' + (e.vocab ? 'list' : e.n) + '</span>'});
    });
    if ((buckets[DOUBTFUL] || []).length && !query) {
      lines.push({g: DOUBTFUL, attrs: 'data-target="' + DOUBTFUL + '" data-label=""',
        inner: '<span class="unnamed">doubtful</span><span class="n">' + buckets[DOUBTFUL].length + '</span>'});
    }
    var keys = lines.map(function (l) { return l.attrs; }).join('\n'), box = $('entries');
    var range = panelRange(lines.length);
    if (keys !== panelKeys || range[0] !== panelWindow[0] || range[1] !== panelWindow[1]) {
      box.style.paddingTop = range[0] * ROW + 'px';
      box.style.paddingBottom = (lines.length - range[1]) * ROW + 'px';
      box.innerHTML = lines.slice(range[0], range[1]).map(lineHtml).join('');
    } else {
      var children = box.children;
      for (var k = range[0]; k < range[1]; k++) {
        if (panelLines[k].inner !== lines[k].inner) children[k - range[0]].innerHTML = lines[k].inner;
      }
    }
    panelKeys = keys;
    panelLines = lines;
    panelWindow = range;
  }
  var panelScroll = 0;  // kept from the scroll event: reading it during an edit would force a layout
  function panelRange(count) {
    if (count <= FULL_PANEL) return [0, count];
    var first = Math.max(0, Math.floor((panelScroll - 60) / ROW) - 40);
    return [first, Math.min(count, first + Math.ceil(window.innerHeight / ROW) + 80)];
  }
  $('panel').addEventListener('scroll', function () {
    panelScroll = $('panel').scrollTop;
    if (panelLines.length > FULL_PANEL) {
      var range = panelRange(panelLines.length);
      if (Math.abs(range[0] - panelWindow[0]) > 20) { panelKeys = ''; paintPanel(); }
    }
  });
  var namesPainted = false;
  document.addEventListener('focusin', function (event) {
    if (event.target.getAttribute && event.target.getAttribute('list') === 'names' && !namesPainted) paintNames();
  });
  function paintNames() {  // the type-ahead list of names: given ones and the species list, alphabetical
    namesPainted = true;
    var seen = {}, names = [];
    labels.concat(D.vocabulary).forEach(function (l) { var c = canon(l); if (!seen[c]) { seen[c] = 1; names.push(l); } });
    names.sort(function (a, b) { return a.localeCompare(b); });
    var html = names.map(function (l) { return '<option value="' + esc(l) + '">'; }).join('');
    if ($('names').innerHTML !== html) $('names').innerHTML = html;
  }
  function updateSelection() {
    $('selection').textContent = selected.size ? selected.size + ' selected' : '';
    Array.prototype.forEach.call(main.querySelectorAll('figure.sel'), function (f) {
      if (!selected.has(+f.dataset.i)) f.classList.remove('sel');
    });
    selected.forEach(function (i) {
      Array.prototype.forEach.call(main.querySelectorAll('figure[data-i="' + i + '"]'), function (f) { f.classList.add('sel'); });
    });
  }

  // ------------------------------------------------------------------ actions
  function notice(html) { var box = $('notice'); box.innerHTML = html; box.hidden = false; }
  // The spelling a name is kept under: an existing label equal after NFC + case folding, or the species list's.
  function spelling(name) {
    var c = canon(name);
    if (c in labelIndex) return labels[labelIndex[c]];
    if (c in VOCAB) return VOCAB[c];
    return name.normalize('NFC').trim().replace(/\s+/g, ' ');
  }
  function nameGroup(g, typed) {
    var l = typed ? spelling(typed) : '';
    if (typed && l !== typed.trim()) notice('“' + esc(typed.trim()) + '” is the same name as “' + esc(l) + '”: kept “' + esc(l) + '”.');
    if (l !== label(g)) commit([{op: 'name', g: g, label: l}]);
  }
  // A camera-trap page: the crops of one burst (sequence) move together: moving one crop takes the
  // burst's other crops that sit in the same group with it (a crop already moved elsewhere stays).
  var BURST = {};
  if (D.sequence.length) D.sequence.forEach(function (q, i) { if (q >= 0) (BURST[q] = BURST[q] || []).push(i); });
  function withBursts(indices) {
    if (!D.sequence.length || !$('bursts').checked) return indices;
    var seen = new Set(indices);
    indices.forEach(function (i) {
      (BURST[D.sequence[i]] || []).forEach(function (j) { if (!seen.has(j) && state.group[j] === state.group[i]) seen.add(j); });
    });
    return Array.from(seen);
  }
  function burstNote(i) {  // the burst's crops under other names: the burst disagrees
    if (!D.sequence.length || D.sequence[i] < 0) return '';
    var members = BURST[D.sequence[i]] || [], names = new Set();
    members.forEach(function (j) { names.add(labelOf[j]); });
    if (members.length < 2) return '';
    return names.size > 1 ? 'burst of ' + members.length + ': its crops are named differently' : 'burst of ' + members.length;
  }
  function moveTo(indices, target) {
    var moves = [];
    withBursts(indices).forEach(function (i) { if (state.group[i] !== target) moves.push([i, target]); });
    return moves.length ? [{op: 'move', moves: moves}] : [];
  }
  // Move the selection to a name: the group already carrying it, or a new group with that name.
  function moveSelectedToName(typed) {
    if (!selected.size || !typed.trim()) return;
    var l = spelling(typed), c = canon(l), items = Array.from(selected), step;
    if (homeOf[c]) step = moveTo(items, homeOf[c]);
    else {
      var g = 'g' + (state.created + 1);
      step = [{op: 'create', g: g, label: l, after: state.group[items[0]]}].concat(moveTo(items, g));
    }
    selected.clear();
    commit(step);
  }
  function moveSelectedToGroup(g) {
    if (!selected.size) return;
    if (vocabName(g) !== null) { moveSelectedToName(vocabName(g)); return; }
    var items = Array.from(selected);
    selected.clear();
    commit(moveTo(items, g));
  }
  function acceptSuggestions(indices) {
    var moves = [];
    indices.forEach(function (i) {
      if (disagrees(i)) moves.push([i, homeOf[canon(labels[sugA[i]])]]);
      selected.delete(i);
    });
    if (moves.length) commit([{op: 'move', moves: moves}]);
  }
  function splitParts(g) {
    if (g.charAt(0) !== 'c') return 0;
    var home = +g.slice(1), parts = {};
    (buckets[g] || []).forEach(function (i) { if (D.cluster[i] === home && D.sub[i] >= 0) parts[D.sub[i]] = 1; });
    var n = Object.keys(parts).length;
    return n >= 2 ? n : 0;
  }
  function split(g) {
    var home = +g.slice(1), byPart = {}, step = [], after = g;
    buckets[g].forEach(function (i) {
      if (D.cluster[i] === home && D.sub[i] > 0) (byPart[D.sub[i]] = byPart[D.sub[i]] || []).push(i);
    });
    var created = state.created;
    Object.keys(byPart).sort().forEach(function (part) {
      var ng = 'g' + (++created);
      step.push({op: 'create', g: ng, label: '', after: after});
      step = step.concat(moveTo(byPart[part], ng));
      after = ng;
    });
    commit(step);
  }
  function setDone(g, value) { if (!!state.done[g] !== value) commit([{op: 'done', g: g, value: value}]); }

  // ------------------------------------------------------------------ export and how to apply it
  function csvField(text) { return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text; }
  function download(lines, name) {
    var link = document.createElement('a');
    link.href = URL.createObjectURL(new Blob([lines.join('\n') + '\n'], {type: 'text/csv'}));
    link.download = name;
    document.body.appendChild(link);
    link.click();
    link.remove();
  }
  function applyHelp() {
    var a = D.apply || {};
    if (!a.csv) return 'Set sort.' + esc(D.run) + '.review to the exported file and rerun Snakemake.';
    return 'Save the export as <code>' + esc(a.csv) + '</code> in the project folder <code>' + esc(a.project || '') +
      '</code> (your browser put it in its downloads folder as <code>' + esc(a.file) + '</code>), then run ' +
      '<code>' + esc(a.command) + '</code> there: the next run picks it up, no config edit needed.';
  }
  // content: which bytes were reviewed (a photo overwritten in place later is not filed under this label)
  function content(hash) { return hash ? 'sha256:' + hash : ''; }
  function exportCsv() {
    var lines = ['image_id,label,content'];
    for (var i = 0; i < N; i++) lines.push(csvField(D.ids[i]) + ',' + csvField(label(state.group[i])) + ',' + content(D.hashes[i]));
    // the photos reviewed before: the export is the whole season's labels, saved over last week's file
    for (var k = 0; k < D.known.ids.length; k++) {
      lines.push(csvField(D.known.ids[k]) + ',' + csvField(D.known.names[D.known.codes[k]]) + ',' + content((D.known.hashes || [])[k]));
    }
    download(lines, (D.apply && D.apply.file) || 'review-' + D.run + '.csv');
    $('applyHelp').innerHTML = 'Exported. ' + applyHelp();
    $('applyHelp').hidden = false;
  }
  function earlierWork() {
    try {
      var snap = JSON.parse(localStorage.getItem(SNAPSHOT) || 'null');
      if (!snap || snap.key === D.key || !snap.labels || !Object.keys(snap.labels).length) return null;
      return snap;
    } catch (e) { return null; }
  }
  // Saved work of an earlier page of this run (photos added, a rerun) is carried over photo by photo: a
  // photo still on the page with the same content gets the name it had, in one step (undo reverts it).
  function carryStep(snap) {
    var byLabel = {}, step = [], made = {};
    for (var i = 0; i < N; i++) {
      var l = snap.labels[D.ids[i]], h = snap.hashes && snap.hashes[D.ids[i]];
      if (!l || (h && D.hashes.length && h !== D.hashes[i]) || canon(label(state.group[i])) === canon(l)) continue;
      (byLabel[l] = byLabel[l] || []).push(i);
    }
    rebuildLabels();
    Object.keys(byLabel).sort().forEach(function (l) {
      var target = homeOf[canon(l)] || made[canon(l)];
      if (!target) {
        target = made[canon(l)] = 'g' + (state.created + Object.keys(made).length + 1);
        step.push({op: 'create', g: target, label: l, after: state.group[byLabel[l][0]]});
      }
      byLabel[l].forEach(function (i) { step.push({op: 'move', moves: [[i, target]]}); });
    });
    return step;
  }
  function carryOver() {
    var snap = earlierWork();
    if (!snap || steps.length) return 0;
    var step = carryStep(snap), moved = step.filter(function (op) { return op.op === 'move'; }).length;
    if (!moved) return 0;
    steps.push(step);
    replay();
    save();
    return moved;
  }
  var carried = 0;
  function noticeEarlierWork() {
    var snap = earlierWork();
    if (!snap || (steps.length && !carried)) return;
    var n = Object.keys(snap.labels).length;
    notice((carried ? 'Saved review work of an earlier version of this run (' + n + ' photos named, saved ' +
      esc(snap.saved.slice(0, 16).replace('T', ' ')) + ') was carried over photo by photo: ' + carried + ' photo(s) ' +
      'on this page took their saved names (<kbd>u</kbd> undoes it). '
      : 'Saved review work of an earlier clustering of this run (' + n + ' photos named, saved ' +
      esc(snap.saved.slice(0, 16).replace('T', ' ')) + ') names none of the photos on this page. ') +
      '<button id=exportEarlier>export earlier work (CSV)</button> <button id=dismissEarlier>dismiss</button>');
    $('exportEarlier').addEventListener('click', function () {
      var lines = ['image_id,label'];
      Object.keys(snap.labels).sort().forEach(function (id) { lines.push(csvField(id) + ',' + csvField(snap.labels[id])); });
      download(lines, 'review-' + D.run + '-earlier.csv');
    });
    $('dismissEarlier').addEventListener('click', function () { $('notice').hidden = true; });
  }

  // ------------------------------------------------------------------ large view
  var viewing = null;
  function listAround(i) {
    var g = viewing && viewing.where ? viewing.where : state.group[i];
    return buckets[g] && buckets[g].indexOf(i) >= 0 ? buckets[g] : buckets[state.group[i]];
  }
  function openViewer(i, where) {
    viewing = {i: i, where: where || state.group[i]};
    selected.clear(); selected.add(i); lastClicked = i; updateSelection();
    var src = D.previews[i] ? D.preview_prefix + D.previews[i] : thumbOf(i), g = state.group[i], list = listAround(i), at = list.indexOf(i);
    var strip = [];
    for (var j = 0; j < K; j++) {
      var n = D.neighbours[i * K + j];
      strip.push('<img data-open="' + n + '" src="' + esc(thumbOf(n)) + '" title="' + esc(D.ids[n] + ' · ' + display(state.group[n])) + '">');
    }
    $('viewer').innerHTML = (src ? '<img class="big" src="' + esc(src) + '" alt="">' : '<div class="noimg">no preview</div>') +
      '<div class="facts"><strong>' + esc(D.ids[i]) + '</strong><br>in ' + esc(display(g)) +
      (g === DOUBTFUL ? ' (own ' + esc(display('c' + D.cluster[i])) + ')' : '') +
      (suggestionText(i) ? ' · suggested: ' + esc(suggestionText(i)) : '') +
      ' · photo ' + (at + 1) + ' of ' + list.length + ' · <kbd>←</kbd>/<kbd>→</kbd> step · <kbd>m</kbd> move · ' +
      '<kbd>a</kbd> accept the suggestion · <kbd>Esc</kbd> close</div>' +
      (K ? '<div>nearest photos:</div><div class="strip">' + strip.join('') + '</div>' : '');
    $('viewer').hidden = false;
  }
  function stepViewer(direction) {
    var list = listAround(viewing.i), at = list.indexOf(viewing.i);
    var next = list[Math.max(0, Math.min(list.length - 1, at + direction))];
    if (next !== undefined) openViewer(next, viewing.where);
  }
  function closeViewer() { $('viewer').hidden = true; viewing = null; }
  $('viewer').addEventListener('click', function (event) {
    if (event.target.dataset.open) openViewer(+event.target.dataset.open);
    else if (event.target === $('viewer')) closeViewer();
  });

  // ------------------------------------------------------------------ map with lasso
  var mapState = null;
  function rgbColour(l) {  // unnamed grey; named: hues spread by the golden angle (hsl(h, 70%, 45%))
    if (l < 0) return [187, 187, 187];
    var h = (l * 137.508) % 360 / 60, c = 0.63, x = c * (1 - Math.abs(h % 2 - 1)), m = 0.135;
    var rgb = h < 1 ? [c, x, 0] : h < 2 ? [x, c, 0] : h < 3 ? [0, c, x] : h < 4 ? [0, x, c] : h < 5 ? [x, 0, c] : [c, 0, x];
    return rgb.map(function (v) { return Math.round((v + m) * 255); });
  }
  function openMap() {
    if (!D.map.length) { notice('This run has no 2-D map.'); return; }
    var box = $('mapbox');
    box.innerHTML = '<div>Drag to draw a lasso around photos: they become the selection (<kbd>shift</kbd>+drag adds to it; ' +
      'then <kbd>m</kbd> to move or name them). <kbd>Esc</kbd> or <kbd>p</kbd> closes. <span id=mapSel></span></div><canvas id=mapCanvas></canvas>';
    box.hidden = false;
    var canvas = $('mapCanvas'), size = Math.min(window.innerWidth - 40, window.innerHeight - 90);
    canvas.width = canvas.height = size;
    mapState = {canvas: canvas, size: size, lasso: null, grid: null};
    drawMap();
  }
  function mapGrid() {  // points by 12-px cell, for hovering: built on the first hover
    if (!mapState.grid) {
      mapState.grid = {};
      for (var i = 0; i < N; i++) {
        var cell = Math.floor(px(i, 0) / 12) * 4096 + Math.floor(px(i, 1) / 12);
        (mapState.grid[cell] = mapState.grid[cell] || []).push(i);
      }
    }
    return mapState.grid;
  }
  function px(i, axis) { return 8 + D.map[2 * i + axis] / 10000 * (mapState.size - 16); }
  function drawMap() {
    var ctx = mapState.canvas.getContext('2d');
    ctx.clearRect(0, 0, mapState.size, mapState.size);
    // pixels written straight into one image: 100,000 points draw in milliseconds
    var size = mapState.size, image = ctx.createImageData(size, size), pixels = image.data, rgbOf = {};
    for (var i = 0; i < N; i++) {
      var key = selected.has(i) ? -2 : labelOf[i], rgb = rgbOf[key] || (rgbOf[key] = key === -2 ? [0, 0, 0] : rgbColour(key));
      var x0 = Math.round(px(i, 0)) - 1, y0 = Math.round(px(i, 1)) - 1;
      for (var y = y0; y < y0 + 3; y++) for (var x = x0; x < x0 + 3; x++) {
        if (x < 0 || y < 0 || x >= size || y >= size) continue;
        var at = (y * size + x) * 4;
        pixels[at] = rgb[0]; pixels[at + 1] = rgb[1]; pixels[at + 2] = rgb[2]; pixels[at + 3] = 255;
      }
    }
    ctx.putImageData(image, 0, 0);
    var lasso = mapState.lasso;
    if (lasso && lasso.length > 1) {
      ctx.strokeStyle = '#1769e0'; ctx.lineWidth = 2; ctx.beginPath();
      ctx.moveTo(lasso[0][0], lasso[0][1]);
      lasso.forEach(function (p) { ctx.lineTo(p[0], p[1]); });
      ctx.closePath(); ctx.stroke();
    }
  }
  function inside(point, polygon) {
    var x = point[0], y = point[1], hit = false;
    for (var a = 0, b = polygon.length - 1; a < polygon.length; b = a++) {
      var xa = polygon[a][0], ya = polygon[a][1], xb = polygon[b][0], yb = polygon[b][1];
      if ((ya > y) !== (yb > y) && x < (xb - xa) * (y - ya) / (yb - ya) + xa) hit = !hit;
    }
    return hit;
  }
  function mapPoint(event) {
    var r = mapState.canvas.getBoundingClientRect();
    return [event.clientX - r.left, event.clientY - r.top];
  }
  $('mapbox').addEventListener('pointerdown', function (event) {
    if (event.target.id !== 'mapCanvas') return;
    mapState.lasso = [mapPoint(event)];
  });
  $('mapbox').addEventListener('pointermove', function (event) {
    if (!mapState || event.target.id !== 'mapCanvas') return;
    var p = mapPoint(event), tip = $('maptip');
    if (mapState.lasso) { mapState.lasso.push(p); drawMap(); tip.innerHTML = ''; return; }
    var near = null, best = 36;
    var cx = Math.floor(p[0] / 12), cy = Math.floor(p[1] / 12);
    for (var dx = -1; dx <= 1; dx++) for (var dy = -1; dy <= 1; dy++) {
      (mapGrid()[(cx + dx) * 4096 + cy + dy] || []).forEach(function (i) {
        var d = Math.pow(px(i, 0) - p[0], 2) + Math.pow(px(i, 1) - p[1], 2);
        if (d < best) { best = d; near = i; }
      });
    }
    tip.innerHTML = near === null ? '' : '<img src="' + esc(thumbOf(near)) + '"><div>' + esc(D.ids[near] + ' · ' + display(state.group[near])) + '</div>';
    tip.style.left = (event.clientX + 14) + 'px'; tip.style.top = (event.clientY + 14) + 'px';
  });
  $('mapbox').addEventListener('pointerup', function (event) {
    if (!mapState || !mapState.lasso) return;
    var polygon = mapState.lasso;
    mapState.lasso = null;
    if (polygon.length > 2) {
      if (!event.shiftKey) selected.clear();  // shift: the lasso adds to the selection
      for (var i = 0; i < N; i++) if (inside([px(i, 0), px(i, 1)], polygon)) selected.add(i);
    }
    $('mapSel').textContent = selected.size + ' selected';
    drawMap();
    updateSelection();
  });
  function closeMap() { $('mapbox').hidden = true; $('maptip').innerHTML = ''; mapState = null; }

  // ------------------------------------------------------------------ the move box (m): type-ahead names
  function openMover() {
    if (!selected.size) { notice('Select photos first (click, shift-click, select all, or lasso on the map).'); return; }
    $('moverCount').textContent = selected.size + ' photo' + (selected.size > 1 ? 's' : '');
    $('moveName').value = '';
    $('moverWarn').textContent = '';
    $('mover').hidden = false;
    $('moveName').focus();
  }
  function closeMover() { $('mover').hidden = true; $('moveName').blur(); }
  $('moveName').addEventListener('input', function () {
    var c = canon($('moveName').value);
    $('moverWarn').textContent = c && hasVocab && !(c in VOCAB) && !(c in labelIndex) ? 'not in the species list' : '';
  });
  $('moveName').addEventListener('keydown', function (event) {
    if (event.key === 'Enter') { event.preventDefault(); var typed = $('moveName').value; closeMover(); moveSelectedToName(typed); if (viewing) closeViewer(); }
    else if (event.key === 'Escape') { event.preventDefault(); closeMover(); }
  });

  // ------------------------------------------------------------------ events
  function sectionOf(element) { var s = element.closest('section'); return s ? s.dataset.g : null; }
  function focusNextName(after) {
    var inputs = Array.prototype.slice.call(main.querySelectorAll('input.name'));
    var at = inputs.findIndex(function (x) { return x.dataset.name === after; });
    var next = inputs.slice(at + 1).concat(inputs.slice(0, at + 1)).find(function (x) { return !x.value; });
    if (next) { next.scrollIntoView({block: 'center'}); next.focus(); }
  }
  main.addEventListener('click', function (event) {
    var t = event.target;
    if (t.dataset.to !== undefined && t.classList.contains('sg')) {
      var target = homeOf[canon(labels[+t.dataset.to])];
      selected.delete(+t.dataset.i);
      commit(moveTo([+t.dataset.i], target));
      return;
    }
    if (t.dataset.keep) { commit([{op: 'keep', items: [+t.dataset.keep]}]); return; }
    if (t.id === 'acceptShown') { acceptSuggestions(buckets[SUGGEST].slice()); return; }
    if (t.dataset.split) { split(t.dataset.split); return; }
    if (t.dataset.more) {
      shown[t.dataset.more] = (shown[t.dataset.more] || PAGE) + PAGE;
      var body = t.parentNode;
      delete body.dataset.filled;
      fill(body);
      return;
    }
    if (t.dataset.selall) { buckets[t.dataset.selall].forEach(function (i) { selected.add(i); }); updateSelection(); return; }
    var f = t.closest('figure');
    if (!f) return;
    var i = +f.dataset.i, where = sectionOf(f);
    if (event.shiftKey && lastClicked !== null && buckets[where].indexOf(lastClicked) >= 0) {
      var list = buckets[where], a = list.indexOf(lastClicked), b = list.indexOf(i);
      list.slice(Math.min(a, b), Math.max(a, b) + 1).forEach(function (j) { selected.add(j); });
    } else if (selected.has(i)) selected.delete(i);
    else selected.add(i);
    lastClicked = i;
    updateSelection();
  });
  main.addEventListener('dblclick', function (event) {
    var f = event.target.closest('figure');
    if (f) openViewer(+f.dataset.i, sectionOf(f));
  });
  main.addEventListener('change', function (event) {
    var t = event.target;
    if (t.dataset.name !== undefined) nameGroup(t.dataset.name, t.value);
    else if (t.dataset.done !== undefined) setDone(t.dataset.done, t.checked);
  });
  main.addEventListener('keydown', function (event) {
    var t = event.target;
    if (event.key === 'Enter' && t.dataset.name !== undefined) {
      event.preventDefault();
      var g = t.dataset.name;
      nameGroup(g, t.value);
      focusNextName(g);
    }
  });
  main.addEventListener('dragstart', function (event) {
    var f = event.target.closest && event.target.closest('figure');
    if (!f) return;
    if (!selected.has(+f.dataset.i)) { selected.clear(); selected.add(+f.dataset.i); updateSelection(); }
    event.dataTransfer.setData('text/plain', 'zsc-images');
    event.dataTransfer.effectAllowed = 'move';
  });
  function dropTarget(element) {
    var entry = element.closest && element.closest('#entries div');
    if (entry) return entry.dataset.target;
    var g = sectionOf(element);
    return g && g !== SUGGEST && g !== STRIP ? g : null;
  }
  [main, $('entries')].forEach(function (area) {
    area.addEventListener('dragover', function (event) { if (dropTarget(event.target)) event.preventDefault(); });
    area.addEventListener('drop', function (event) {
      var g = dropTarget(event.target);
      if (!g) return;
      event.preventDefault();
      moveSelectedToGroup(g);
    });
  });
  $('entries').addEventListener('click', function (event) {
    var entry = event.target.closest('#entries div');
    if (!entry) return;
    if (selected.size) { moveSelectedToGroup(entry.dataset.target); return; }
    var s = sectionElement(entry.dataset.target);
    if (s) s.scrollIntoView({block: 'start'});
  });
  $('search').addEventListener('input', paintPanel);
  $('search').addEventListener('keydown', function (event) {
    if (event.key !== 'Enter') return;
    var first = $('entries').querySelector('div');
    if (first) first.click();
  });
  $('threshold').value = threshold;
  $('threshold').addEventListener('change', function () {
    threshold = Math.max(1, Math.min(K || 1, +$('threshold').value || 1));
    buckets[SUGGEST] = K ? candidates() : [];
    render();
  });
  $('acceptAllBtn').addEventListener('click', function () { acceptSuggestions(buckets[SUGGEST].slice()); });
  $('undoBtn').addEventListener('click', undo);
  $('exportBtn').addEventListener('click', exportCsv);
  $('hideDone').addEventListener('change', function () { document.body.classList.toggle('hidedone', $('hideDone').checked); });
  $('stripBtn').addEventListener('click', function () { toggleStrip(); });
  $('mapBtn').addEventListener('click', function () { openMap(); });
  function toggleStrip() { view = view === STRIP ? 'groups' : STRIP; render(); }

  function currentGroup() {
    if (lastClicked !== null) return state.group[lastClicked];
    var s = Array.prototype.find.call(main.querySelectorAll('section'), function (x) { return x.getBoundingClientRect().bottom > 60; });
    return s ? s.dataset.g : null;
  }
  function focusName() {
    var g = currentGroup();
    var input = g && main.querySelector('input[data-name="' + cssEsc(g) + '"]');
    if (!input) input = Array.prototype.find.call(main.querySelectorAll('input.name'), function (x) { return !x.value; });
    if (input) { input.scrollIntoView({block: 'center'}); input.focus(); }
  }
  function jump(direction) {
    var sections = Array.prototype.slice.call(main.querySelectorAll('section'));
    var current = sections.findIndex(function (s) { return s.getBoundingClientRect().top > 60; });
    var index = current < 0 ? sections.length - 1 : current + (direction > 0 ? 0 : -2);
    var s = sections[Math.max(0, Math.min(sections.length - 1, index))];
    if (s) s.scrollIntoView({block: 'start'});
  }
  var KEYS = {
    u: undo, e: exportCsv, n: focusName, m: openMover, v: toggleStrip, p: openMap,
    a: function () { acceptSuggestions(Array.from(selected)); },
    d: function () { var g = currentGroup(); if (g && g !== DOUBTFUL) setDone(g, !state.done[g]); },
    ' ': function () { if (lastClicked !== null) openViewer(lastClicked); },
    j: function () { jump(1); }, k: function () { jump(-1); },
    Escape: function () { selected.clear(); updateSelection(); },
    '?': function () { $('help').open = !$('help').open; }
  };
  var VIEWER_KEYS = {
    ArrowRight: function () { stepViewer(1); }, ArrowLeft: function () { stepViewer(-1); },
    Escape: closeViewer, ' ': closeViewer, m: openMover,
    a: function () { var i = viewing.i; acceptSuggestions([i]); openViewer(i); }
  };
  document.addEventListener('keydown', function (event) {
    var tag = event.target.tagName;
    if (tag === 'INPUT' || tag === 'SELECT' || tag === 'TEXTAREA') {
      if (event.key === 'Escape') event.target.blur();
      return;
    }
    if (event.ctrlKey || event.metaKey) {
      if (event.key === 'z') { event.preventDefault(); undo(); }
      return;
    }
    if (event.altKey) return;
    if (mapState && (event.key === 'Escape' || event.key === 'p')) { event.preventDefault(); closeMap(); return; }
    if (mapState && event.key === 'm') { event.preventDefault(); closeMap(); openMover(); return; }
    if (viewing && VIEWER_KEYS[event.key]) { event.preventDefault(); VIEWER_KEYS[event.key](); return; }
    if (KEYS[event.key]) { event.preventDefault(); KEYS[event.key](); }
  });

  function placePanel() { $('panel').style.top = document.querySelector('header').offsetHeight + 'px'; }
  window.addEventListener('resize', placePanel);
  if (D.sequence.length) $('burstsBox').hidden = false;
  placePanel();
  replay();
  carried = carryOver();
  derive();
  render();
  noticeEarlierWork();
  $('applyHelp').innerHTML = applyHelp();
  $('applyHelp').hidden = false;
  document.body.setAttribute('data-script-ms', String(Math.round(performance.now() - STARTED)));
  document.body.setAttribute('data-ready', String(Math.round(performance.now())));
})();
