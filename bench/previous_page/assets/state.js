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
