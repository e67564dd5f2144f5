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
    return {group: group, names: names, order: order, done: {}, kept: {}, moved: {}, refused: {}, judged: [], created: 0};
  }
  function insertAfter(s, after, g) {
    var at = s.order.indexOf(after);
    s.order.splice(at < 0 ? s.order.length - 1 : at + 1, 0, g);
  }
  // Every change is a step (a list of ops); the state is the initial one with the steps replayed.
  var OPS = {
    name: function (s, op) { s.names[op.g] = op.label; },
    create: function (s, op) { s.created += 1; insertAfter(s, op.after, op.g); s.names[op.g] = op.label || ''; },
    // a photo moved under a name the group had then is confirmed by the reviewer (a split is not)
    move: function (s, op) { op.moves.forEach(function (m) { s.group[m[0]] = m[1]; if (s.names[m[1]]) s.moved[m[0]] = 1; }); },
    done: function (s, op) { s.done[op.g] = op.value; },
    keep: function (s, op) { op.items.forEach(function (i) { s.kept[i] = 1; }); },
    judge: function (s, op) { op.outcomes.forEach(function (o) { s.judged.push(o); }); },
    // a suggestion turned down (unticked in the fixes view): that name is not suggested for it again
    refuse: function (s, op) { op.items.forEach(function (r) { (s.refused[r[0]] = s.refused[r[0]] || {})[canon(r[1])] = 1; }); }
  };
  function touched(op) {  // the groups an op changes (their sections repaint)
    if (op.op === 'move') {
      var gs = {};
      op.moves.forEach(function (m) { gs[m[1]] = 1; gs[state.group[m[0]]] = 1; });
      return Object.keys(gs);
    }
    if (op.op === 'keep') return op.items.map(function (i) { return state.group[i]; });
    if (op.op === 'judge') return [];
    if (op.op === 'refuse') return op.items.map(function (r) { return state.group[r[0]]; });
    return [op.g];
  }

  var steps = load(), state, selected = new Set(), lastClicked = null, shown = {}, buckets = {};
  var labelOf = new Int32Array(N), labels = [], labelIndex = {}, homeOf = {};
  var view = 'groups';

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
  function derive(only) {
    rebuildBuckets(only);
    rebuildLabels();
    rebuildSuggestions();
    buckets[STRIP] = D.order;
  }

  // ------------------------------------------------------------------ committing, undo
  // Apply a change to the state, then repaint the groups the step touched before and after it.
  function refresh(step, change) {
    var dirty = new Set();
    function mark() { step.forEach(function (op) { touched(op).forEach(function (g) { dirty.add(g); }); }); }
    mark();
    change();
    mark();
    save();
    derive(Array.from(dirty).filter(function (g) { return g !== STRIP; }));
    flipped.clear();
    if (view === FIXES) render(); else repaint(dirty);
  }
  function commit(step) {
    if (!step.length) return;
    step = step.concat(judgements(step));
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
