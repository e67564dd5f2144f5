  // ------------------------------------------------------------------ suggestions: a classifier on the named photos
  // Refit after every step: each label's centre (the mean of its photos' principal components, confirmed
  // and core photos weighted 1, the others 0.3), each photo scored against every centre with its own
  // vote left out; its suggestion is the best-scoring label, its confidence the margin over the second.
  // Its precision is measured, not assumed: every suggestion the reviewer has judged (moved where it
  // pointed: right; kept, or moved elsewhere: wrong) is recorded with its confidence, and a suggestion's
  // estimate is the share right among the MEASURE judged suggestions nearest to it in confidence (with
  // half a right and half a wrong added). Until MEASURE suggestions are judged there is no estimate and
  // no accept in one click; the accept takes a bound besides (acceptThreshold). Photos the reviewer
  // confirmed (kept, moved under a name, in a group marked done) are never suggested away; photos
  // without a name get offers, never an accept (they may be a species nobody named yet).
  var F = D.feature_dims, FEAT = decodeFeatures(), LEVEL = D.accept_precision, FIXES = 'fixes', MEASURE = 20;
  var sugA = new Int32Array(N).fill(-1), sugB = new Int32Array(N).fill(-1);
  var sugConf = new Float32Array(N), sugP = new Float32Array(N).fill(-1);  // margin; estimated precision (-1: none)
  var fixGroups = [], acceptable = [], flipped = new Set();  // flipped: ticks the reviewer changed
  var acceptFrom = Infinity;  // the one-click accept's confidence threshold (thousandths), see acceptThreshold

  function decodeFeatures() {
    if (!F || !D.features) return null;
    var bytes = atob(D.features), x = new Float32Array(N * F);
    for (var i = 0; i < N; i++) {
      var norm = 0, d;
      for (d = 0; d < F; d++) { var v = (bytes.charCodeAt(i * F + d) << 24) >> 24; x[i * F + d] = v; norm += v * v; }
      norm = Math.sqrt(norm) || 1;
      for (d = 0; d < F; d++) x[i * F + d] /= norm;
    }
    return x;
  }
  function confirmed(i) { return !!(state.kept[i] || (state.moved[i] && labelOf[i] >= 0) || state.done[state.group[i]]); }
  function trusted(i) { return labelOf[i] >= 0 && (confirmed(i) || isCore(i, state.group[i])); }
  function disagrees(i) { return sugA[i] >= 0 && sugA[i] !== labelOf[i] && !confirmed(i); }

  // The centres are kept by name (a key per canonical name, never reused): after an edit only the names
  // whose centre changed are scored again, and only the photos whose best two were among them are
  // scored against every name, so an edit costs photos x (changed names) instead of photos x names.
  var keyOf = {}, keyName = [], keyCount = 0, fitted = null;  // fitted: the last fit's centres and each photo's best two
  // A week's page: the reviewed photos of each species weigh in its centre (their count and feature sum;
  // reviewed labels are confirmed ones), so a week's suggestions rest on the season's labels.
  var REVIEWED = {};
  Object.keys(D.reviewed_centres || {}).forEach(function (name) { REVIEWED[canon(name)] = D.reviewed_centres[name]; });

  function rebuildSuggestions() {
    sugConf.fill(0); sugP.fill(-1); acceptFrom = Infinity;
    sugA.fill(-1); sugB.fill(-1);
    if (FEAT && labels.length) { fitCentres(); calibrate(); }
    groupFixes();
  }
  function centresNow() {
    var keys = labels.map(function (l) { var c = canon(l); if (!(c in keyOf)) { keyOf[c] = keyCount++; keyName.push(c); } return keyOf[c]; });
    var K2 = keyCount, sums = new Float64Array(K2 * F), mass = new Float64Array(K2), weight = new Float32Array(N);
    var photoKey = new Int32Array(N).fill(-1), i, d;
    for (i = 0; i < N; i++) {
      if (labelOf[i] < 0) continue;
      var k = photoKey[i] = keys[labelOf[i]];
      weight[i] = trusted(i) ? 1 : 0.3;
      mass[k] += weight[i];
      for (d = 0; d < F; d++) sums[k * F + d] += weight[i] * FEAT[i * F + d];
    }
    keyName.forEach(function (name, key) {
      var ref = REVIEWED[name];
      if (!ref || ref.sum.length !== F) return;
      mass[key] += ref.n;
      for (d = 0; d < F; d++) sums[key * F + d] += ref.sum[d];
    });
    var square = new Float64Array(K2);
    for (k = 0; k < K2; k++) for (d = 0; d < F; d++) square[k] += sums[k * F + d] * sums[k * F + d];
    return {keys: keys, sums: sums, mass: mass, square: square, weight: weight, photoKey: photoKey,
            best: new Int32Array(N).fill(-1), second: new Int32Array(N).fill(-1),
            bestScore: new Float64Array(N), secondScore: new Float64Array(N)};
  }
  // photo i's score against the centre of key k, its own vote left out: |S - w x|^2 = |S|^2 - 2 w S.x + w^2
  function score(c, i, k) {
    var dot = 0, base = k * F, at = i * F, norm = c.square[k], left = c.mass[k];
    for (var d = 0; d < F; d++) dot += c.sums[base + d] * FEAT[at + d];
    if (c.photoKey[i] === k) {
      var w = c.weight[i];
      norm = norm - 2 * w * dot + w * w;
      dot -= w;
      left -= w;
    }
    return left <= 1e-6 || norm <= 1e-12 ? -Infinity : dot / Math.sqrt(norm);
  }
  function offerBest(c, i, k, value) {
    if (value === -Infinity || k === c.best[i] || k === c.second[i]) return;
    if (state.refused[i] && state.refused[i][keyName[k]] && k !== c.photoKey[i]) return;  // turned down for it
    if (value > c.bestScore[i] || c.best[i] < 0) {
      c.second[i] = c.best[i]; c.secondScore[i] = c.bestScore[i]; c.best[i] = k; c.bestScore[i] = value;
    } else if (value > c.secondScore[i] || c.second[i] < 0) { c.second[i] = k; c.secondScore[i] = value; }
  }
  function changedKeys(c, old) {
    var changed = [];
    for (var k = 0; k < keyCount; k++) {
      var same = old && k < old.mass.length && old.mass[k] === c.mass[k];
      for (var d = 0; same && d < F; d++) same = old.sums[k * F + d] === c.sums[k * F + d];
      if (!same) changed.push(k);
    }
    return changed;
  }
  function fitCentres() {
    var c = centresNow(), live = {}, i, k;
    c.keys.forEach(function (key) { live[key] = 1; });
    var changed = changedKeys(c, fitted), isChanged = new Uint8Array(keyCount);
    changed.forEach(function (key) { isChanged[key] = 1; });
    var full = !fitted || changed.length * 4 > c.keys.length;
    for (i = 0; i < N; i++) {
      var rescan = full || state.refused[i] || (fitted.best[i] >= 0 && isChanged[fitted.best[i]]) ||
        (fitted.second[i] >= 0 && isChanged[fitted.second[i]]);
      if (rescan) {
        c.best[i] = c.second[i] = -1;
        c.keys.forEach(function (key) { offerBest(c, i, key, score(c, i, key)); });
      } else {
        c.best[i] = fitted.best[i]; c.bestScore[i] = fitted.bestScore[i];
        c.second[i] = fitted.second[i]; c.secondScore[i] = fitted.secondScore[i];
        changed.forEach(function (key) { if (live[key]) offerBest(c, i, key, score(c, i, key)); });
      }
    }
    fitted = c;
    var labelOfKey = {};
    c.keys.forEach(function (key, l) { labelOfKey[key] = l; });
    for (i = 0; i < N; i++) {
      k = c.best[i];
      sugA[i] = k >= 0 ? labelOfKey[k] : -1;
      sugB[i] = c.second[i] >= 0 ? labelOfKey[c.second[i]] : -1;
      sugConf[i] = k < 0 ? 0 : c.second[i] < 0 ? 1 : c.bestScore[i] - c.secondScore[i];
    }
  }
  // Wilson's lower bound (one-sided 95 %) of a share measured as right of n.
  function wilsonLow(right, n) {
    var z2 = 1.645 * 1.645, p = right / n;
    return (p + z2 / (2 * n) - Math.sqrt(z2) * Math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))) / (1 + z2 / n);
  }
  // The one-click accept's threshold: the lowest confidence c such that, of the judged suggestions at
  // least as confident as c, the share right is at least LEVEL with 95 % confidence (all right: 52
  // judged). A bound, not the share itself: the suggestions a reviewer judges are those worth acting
  // on, and on a week's page their share right overstated the rest's (accepts offered at an estimated
  // 95 % were mostly wrong).
  function acceptThreshold(judged) {
    var right = 0, from = Infinity;
    for (var k = judged.length - 1; k >= 0; k--) {  // judged: ascending confidence
      right += judged[k][1];
      if ((k === 0 || judged[k - 1][0] < judged[k][0]) && wilsonLow(right, judged.length - k) >= LEVEL) from = judged[k][0];
    }
    return from;
  }
  function calibrate() {
    var judged = state.judged.slice().sort(function (x, y) { return x[0] - y[0]; });
    acceptFrom = acceptThreshold(judged);
    if (judged.length < MEASURE) return;
    var confs = judged.map(function (j) { return j[0]; });
    for (var i = 0; i < N; i++) {
      if (labelOf[i] < 0 || !disagrees(i)) continue;
      var c = Math.round(sugConf[i] * 1000), low = 0, high = confs.length;
      while (low < high) { var mid = (low + high) >> 1; if (confs[mid] < c) low = mid + 1; else high = mid; }
      var from = low, to = low, right = 0;  // the MEASURE judged nearest in confidence: [from, to)
      while (to - from < MEASURE) {
        if (from > 0 && (to >= confs.length || c - confs[from - 1] <= confs[to] - c)) from--; else to++;
      }
      for (var k = from; k < to; k++) right += judged[k][1];
      sugP[i] = (right + 0.5) / (MEASURE + 1);
    }
  }
  // What a step tells of the suggestions it settles: each named photo with a suggestion that is moved
  // (right if to the suggested name) or kept (wrong), with its confidence in thousandths.
  function judgements(step) {
    var outcomes = [], nameOf = {};
    step.forEach(function (op) { if (op.op === 'create') nameOf[op.g] = op.label; });
    step.forEach(function (op) {
      if (op.op === 'move') op.moves.forEach(function (m) {
        var i = m[0], to = m[1] in nameOf ? nameOf[m[1]] : label(m[1]);
        if (labelOf[i] >= 0 && disagrees(i) && to) outcomes.push([Math.round(sugConf[i] * 1000), canon(to) === canon(labels[sugA[i]]) ? 1 : 0]);
      });
      if (op.op === 'keep') op.items.forEach(function (i) {
        if (labelOf[i] >= 0 && disagrees(i)) outcomes.push([Math.round(sugConf[i] * 1000), 0]);
      });
      if (op.op === 'refuse') op.items.forEach(function (r) {
        if (labelOf[r[0]] >= 0 && disagrees(r[0])) outcomes.push([Math.round(sugConf[r[0]] * 1000), 0]);
      });
    });
    return outcomes.length ? [{op: 'judge', outcomes: outcomes}] : [];
  }
  // The disagreements, grouped "now in A -> suggested B", ordered by the photos
  // they are expected to set right; each group's photos in similarity order.
  function groupFixes() {
    var byKey = {};
    acceptable = [];
    for (var i = 0; i < N; i++) {  // named photos, and the doubtful ones (grouped, never accepted in bulk)
      if (!disagrees(i) || (labelOf[i] < 0 && state.group[i] !== DOUBTFUL)) continue;
      var key = 'fix:' + state.group[i] + '>' + sugA[i];
      (byKey[key] = byKey[key] || {key: key, from: state.group[i], to: sugA[i], items: [], gain: 0}).items.push(i);
      byKey[key].gain += sugP[i] < 0 ? 0.5 : sugP[i];
      if (labelOf[i] >= 0 && sugP[i] >= LEVEL && Math.round(sugConf[i] * 1000) >= acceptFrom) acceptable.push(i);
    }
    fixGroups = Object.keys(byKey).map(function (k) { return byKey[k]; });
    fixGroups.sort(function (x, y) { return y.gain - x.gain || x.key.localeCompare(y.key); });
    fixGroups.forEach(function (group) {
      group.items.sort(function (x, y) { return rank[x] - rank[y]; });
      group.precision = group.items.every(function (i) { return sugP[i] >= 0; }) ? group.gain / group.items.length : -1;
      buckets[group.key] = group.items;
    });
  }
  function fixGroup(key) { return fixGroups.find(function (group) { return group.key === key; }); }
  // ticked by default where the suggestion is more likely right than wrong; a click flips it
  function ticked(i) { return (sugP[i] < 0 || sugP[i] >= 0.5) !== flipped.has(i); }
  function precisionText(p) { return p < 0 ? 'not measured yet' : Math.round(p * 100) + '%'; }
