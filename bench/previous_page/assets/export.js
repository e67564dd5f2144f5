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
