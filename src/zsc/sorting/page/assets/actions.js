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
    var frames = D.frame.length ? new Set(members.map(function (j) { return D.frame[j]; })).size : members.length;
    var what = 'burst of ' + frames + (frames === 1 ? ' frame' : ' frames');
    return names.size > 1 ? what + ': its crops are named differently' : what;
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
  function acceptAll() { acceptSuggestions(acceptable.slice()); }
  // groups of the fixes view: their ticked photos to the suggested names; for the unticked ones that
  // suggestion is turned down (they stay, and get their next suggestion, if any)
  function moveTicked(groups) {
    var moves = [], refused = [];
    groups.forEach(function (group) {
      var target = homeOf[canon(labels[group.to])];
      group.items.forEach(function (i) { if (ticked(i)) moves.push([i, target]); else refused.push([i, labels[group.to]]); });
    });
    var step = [];
    if (moves.length) step.push({op: 'move', moves: moves});
    if (refused.length) step.push({op: 'refuse', items: refused});
    commit(step);
  }
  function allTicked() {
    var found = [];
    fixGroups.forEach(function (group) { group.items.forEach(function (i) { if (ticked(i)) found.push(i); }); });
    return found;
  }
  function keepGroup(key) {
    var group = fixGroup(key);
    if (group) commit([{op: 'keep', items: group.items.slice()}]);
  }
  function toggleTick(i, figure) {
    if (flipped.has(i)) flipped.delete(i); else flipped.add(i);
    figure.className = ticked(i) ? 'ticked' : 'unticked';
    var section = figure.closest('section');
    section.querySelector('h2').innerHTML = fixHeading(fixGroup(section.dataset.g));
    paintFixButtons();
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
