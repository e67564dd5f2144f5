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
