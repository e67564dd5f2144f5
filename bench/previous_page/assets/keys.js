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
    '?': function () { $('help').open = !$('help').open; },
    x: function () { if (D.not_animal) moveSelectedToName(D.not_animal); }
  };
  var VIEWER_KEYS = {
    ArrowRight: function () { stepViewer(1); }, ArrowLeft: function () { stepViewer(-1); },
    Escape: closeViewer, ' ': closeViewer, m: openMover,
    x: function () { if (D.not_animal) { var i = viewing.i; moveSelectedToName(D.not_animal); openViewer(i); } },
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
