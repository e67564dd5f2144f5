// Review page of a sort run: name clusters, merge, split, move images, accept doubtful ones,
// undo, keep work in localStorage and export `image_id,label` as CSV. No server, no external assets.
(function () {
  'use strict';
  var DATA = JSON.parse(document.getElementById('zsc-data').textContent);
  var IMAGES = DATA.images;            // rows: [image_id, thumbnail, cluster, doubtful, nearest, distance, reason]
  var N = IMAGES.length, PAGE = 120, DOUBTFUL = 'doubtful';
  var STORE = 'zsc-review:' + DATA.run + ':' + DATA.key;
  // The labels of the latest saved work of this run, whatever its clustering: when a rerun changes the
  // clustering, the steps no longer apply, but the reviewer is told and can export what they had named.
  var SNAPSHOT = 'zsc-review-labels:' + DATA.run;
  var $ = function (id) { return document.getElementById(id); };
  var main = $('sections');

  function initialState() {
    var group = new Array(N);
    for (var i = 0; i < N; i++) group[i] = IMAGES[i][3] ? DOUBTFUL : 'c' + IMAGES[i][2];
    var order = DATA.clusters.map(function (c) { return 'c' + c; });
    order.push(DOUBTFUL);
    return {group: group, names: {}, order: order, mergedInto: {}, created: 0};
  }

  // Every change is a step (a list of ops); the state is the initial one with the steps replayed.
  var OPS = {
    name: function (s, op) { s.names[op.g] = op.label; },
    create: function (s, op) {
      s.created += 1;
      s.order.splice(s.order.length - 1, 0, op.g);
      s.names[op.g] = op.label;
    },
    merge: function (s, op) {
      for (var i = 0; i < N; i++) if (s.group[i] === op.from) s.group[i] = op.into;
      if (!s.names[op.into] && s.names[op.from]) s.names[op.into] = s.names[op.from];
      s.mergedInto[op.from] = op.into;
      s.order = s.order.filter(function (g) { return g !== op.from; });
    },
    move: function (s, op) { op.moves.forEach(function (m) { s.group[m[0]] = m[1]; }); }
  };

  var steps = load(), state, selected = new Set(), lastClicked = null, shown = {};

  function load() {
    try { var saved = JSON.parse(localStorage.getItem(STORE) || '[]'); return Array.isArray(saved) ? saved : []; }
    catch (e) { return []; }
  }
  function save() {
    try {
      localStorage.setItem(STORE, JSON.stringify(steps));
      var named = {};
      for (var i = 0; i < N; i++) { var l = label(state.group[i]); if (l) named[IMAGES[i][0]] = l; }
      localStorage.setItem(SNAPSHOT, JSON.stringify({key: DATA.key, saved: new Date().toISOString(), labels: named}));
      $('saved').textContent = 'saved in this browser';
    }
    catch (e) { $('saved').textContent = 'not saved (browser storage unavailable): export before closing'; }
  }
  function earlierWork() {
    try {
      var snap = JSON.parse(localStorage.getItem(SNAPSHOT) || 'null');
      if (!snap || snap.key === DATA.key || !snap.labels || !Object.keys(snap.labels).length) return null;
      return snap;
    } catch (e) { return null; }
  }
  function noticeEarlierWork() {
    var snap = earlierWork();
    if (!snap || steps.length) return;
    var n = Object.keys(snap.labels).length, box = $('notice');
    box.innerHTML = 'Saved review work of an earlier clustering of this run (' + n + ' photos named, saved ' +
      esc(snap.saved.slice(0, 16).replace('T', ' ')) + ') does not apply to this clustering, so this page starts ' +
      'empty. <button id=exportEarlier>export earlier work (CSV)</button> <button id=dismissEarlier>dismiss</button>';
    box.hidden = false;
    $('exportEarlier').addEventListener('click', function () {
      var lines = ['image_id,label'];
      Object.keys(snap.labels).sort().forEach(function (id) { lines.push(csvField(id) + ',' + csvField(snap.labels[id])); });
      download(lines, 'review-' + DATA.run + '-earlier.csv');
    });
    $('dismissEarlier').addEventListener('click', function () { box.hidden = true; });
  }
  function replay() {
    state = initialState();
    steps.forEach(function (step) { step.forEach(function (op) { if (OPS[op.op]) OPS[op.op](state, op); }); });
  }
  function commit(step) {
    if (!step.length) return;
    steps.push(step);
    step.forEach(function (op) { OPS[op.op](state, op); });
    save();
    render();
  }
  function undo() {
    if (!steps.length) return;
    steps.pop();
    save();
    replay();
    render();
  }

  function resolve(g) { while (state.mergedInto[g]) g = state.mergedInto[g]; return g; }
  function title(g) {
    if (g === DOUBTFUL) return 'Doubtful (farthest first)';
    return g.charAt(0) === 'c' ? 'Cluster ' + g.slice(1) : 'New group ' + g.slice(1);
  }
  function label(g) { return state.names[g] || ''; }
  function display(g) { return label(g) ? label(g) + ' (' + title(g) + ')' : title(g); }
  function members() {
    var buckets = {};
    state.order.forEach(function (g) { buckets[g] = []; });
    for (var i = 0; i < N; i++) buckets[state.group[i]].push(i);
    buckets[DOUBTFUL].sort(function (a, b) { return IMAGES[b][5] - IMAGES[a][5]; });
    return buckets;
  }
  function esc(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c];
    });
  }
  function baseName(id) { return id.slice(id.lastIndexOf('/') + 1); }

  var buckets = {};
  var observer = new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) { if (entry.isIntersecting) fill(entry.target); });
  }, {rootMargin: '800px 0px'});

  function figure(i) {
    var row = IMAGES[i], doubtful = state.group[i] === DOUBTFUL;
    var extra = '';
    if (doubtful) {
      var target = resolve('c' + row[4]);
      extra = '<span class="hint">near ' + esc(display(target)) + '</span>' +
              '<button class="accept" data-accept="' + i + '" title="accept: move to ' + esc(display(target)) + '">accept</button>';
    }
    return '<figure draggable="true" data-i="' + i + '" class="' + (selected.has(i) ? 'sel' : '') +
      '" title="' + esc(row[0] + (row[6] ? '\n' + row[6] : '')) + '">' +
      (row[1] ? '<img loading="lazy" decoding="async" src="' + esc(row[1]) + '" alt="">' : '<div class="noimg">no preview</div>') +
      '<figcaption>' + esc(baseName(row[0])) + extra + '</figcaption></figure>';
  }

  function fill(body) {
    if (body.dataset.filled) return;
    var g = body.dataset.g, list = buckets[g] || [], limit = shown[g] || PAGE;
    var html = [];
    for (var k = 0; k < Math.min(limit, list.length); k++) html.push(figure(list[k]));
    if (list.length > limit) {
      html.push('<button class="more" data-more="' + esc(g) + '">show ' + Math.min(PAGE, list.length - limit) +
                ' more of ' + (list.length - limit) + '</button>');
    }
    body.innerHTML = html.join('');
    body.style.minHeight = '';
    body.dataset.filled = '1';
  }

  function options(except) {
    return state.order.filter(function (g) { return g !== except && g !== DOUBTFUL; }).map(function (g) {
      return '<option value="' + esc(g) + '">' + esc(display(g)) + ' [' + buckets[g].length + ']</option>';
    }).join('');
  }

  function render() {
    buckets = members();
    var perRow = Math.max(1, Math.floor((main.clientWidth || 1000) / 174));
    var html = [];
    state.order.forEach(function (g) {
      var list = buckets[g];
      if (!list.length && g !== DOUBTFUL) return;
      var rows = Math.ceil(Math.min(list.length, shown[g] || PAGE) / perRow);
      html.push('<section data-g="' + esc(g) + '" class="' + (g === DOUBTFUL ? 'doubtful' : '') + '">' +
        '<h2><span class="title">' + esc(title(g)) + '</span> <span class="count">' + list.length + ' photos</span>' +
        (g === DOUBTFUL ? ' <span class="hint">accept one (its button), or select and press a / m</span>'
          : ' <input class="name" data-name="' + esc(g) + '" placeholder="species name" value="' + esc(label(g)) + '">' +
            ' <select class="merge" data-merge="' + esc(g) + '"><option value="">merge into…</option>' + options(g) + '</select>') +
        ' <button class="selall" data-selall="' + esc(g) + '">select all</button></h2>' +
        '<div class="grid" data-g="' + esc(g) + '" style="min-height:' + rows * 190 + 'px"></div></section>');
    });
    observer.disconnect();
    main.innerHTML = html.join('');
    // sections on screen are filled now (no flash after an edit); the rest as they scroll into view
    var bodies = Array.prototype.slice.call(main.querySelectorAll('.grid'));
    var rects = bodies.map(function (body) { return body.getBoundingClientRect(); });
    bodies.forEach(function (body, k) {
      if (rects[k].top < window.innerHeight + 800 && rects[k].bottom > -800) fill(body);
      observer.observe(body);
    });
    $('moveTo').innerHTML = options(null) + '<option value="__new">new group…</option>';
    var named = 0, doubtful = buckets[DOUBTFUL].length;
    for (var i = 0; i < N; i++) if (state.names[state.group[i]]) named++;
    $('progress').textContent = named + ' / ' + N + ' photos named · ' + doubtful + ' doubtful';
    $('progress').dataset.named = named;
    updateSelection();
  }

  function updateSelection() {
    $('selection').textContent = selected.size ? selected.size + ' selected' : '';
    Array.prototype.forEach.call(main.querySelectorAll('figure'), function (f) {
      f.classList.toggle('sel', selected.has(+f.dataset.i));
    });
  }

  function moveSelected(target, newName) {
    if (!selected.size) return;
    var step = [];
    if (target === '__new') {
      target = 'g' + (state.created + 1);
      step.push({op: 'create', g: target, label: newName || ''});
    }
    var moves = [];
    selected.forEach(function (i) { if (state.group[i] !== target) moves.push([i, target]); });
    if (moves.length) step.push({op: 'move', moves: moves});
    selected.clear();
    commit(moves.length ? step : []);
  }

  function accept(indices) {
    var moves = indices.filter(function (i) { return state.group[i] === DOUBTFUL; }).map(function (i) {
      return [i, resolve('c' + IMAGES[i][4])];
    });
    indices.forEach(function (i) { selected.delete(i); });
    if (moves.length) commit([{op: 'move', moves: moves}]);
  }

  function csvField(text) { return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text; }
  function download(lines, name) {
    var link = document.createElement('a');
    link.href = URL.createObjectURL(new Blob([lines.join('\n') + '\n'], {type: 'text/csv'}));
    link.download = name;
    document.body.appendChild(link);
    link.click();
    link.remove();
  }
  function exportCsv() {
    var lines = ['image_id,label'];
    for (var i = 0; i < N; i++) lines.push(csvField(IMAGES[i][0]) + ',' + csvField(label(state.group[i])));
    download(lines, 'review-' + DATA.run + '.csv');
  }

  function sectionOf(element) { var s = element.closest('section'); return s ? s.dataset.g : null; }

  main.addEventListener('click', function (event) {
    var t = event.target;
    if (t.dataset.accept) { accept([+t.dataset.accept]); return; }
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
    var i = +f.dataset.i;
    if (event.shiftKey && lastClicked !== null && state.group[lastClicked] === state.group[i]) {
      var list = buckets[state.group[i]], a = list.indexOf(lastClicked), b = list.indexOf(i);
      list.slice(Math.min(a, b), Math.max(a, b) + 1).forEach(function (j) { selected.add(j); });
    } else if (selected.has(i)) selected.delete(i);
    else selected.add(i);
    lastClicked = i;
    updateSelection();
  });
  main.addEventListener('change', function (event) {
    var t = event.target;
    if (t.dataset.name !== undefined && t.value.trim() !== label(t.dataset.name)) {
      commit([{op: 'name', g: t.dataset.name, label: t.value.trim()}]);
    } else if (t.dataset.merge && t.value) {
      t.blur();
      commit([{op: 'merge', from: t.dataset.merge, into: t.value}]);
    }
  });
  main.addEventListener('keydown', function (event) {
    if (event.key === 'Enter' && event.target.dataset.name !== undefined) event.target.blur();
  });
  main.addEventListener('dragstart', function (event) {
    var f = event.target.closest && event.target.closest('figure');
    if (!f) return;
    if (!selected.has(+f.dataset.i)) { selected.clear(); selected.add(+f.dataset.i); updateSelection(); }
    event.dataTransfer.setData('text/plain', 'zsc-images');
    event.dataTransfer.effectAllowed = 'move';
  });
  main.addEventListener('dragover', function (event) {
    var g = sectionOf(event.target);
    if (g && g !== DOUBTFUL) event.preventDefault();
  });
  main.addEventListener('drop', function (event) {
    var g = sectionOf(event.target);
    if (!g || g === DOUBTFUL) return;
    event.preventDefault();
    moveSelected(g);
  });

  $('moveBtn').addEventListener('click', function () { moveSelected($('moveTo').value, $('newName').value.trim()); });
  $('acceptBtn').addEventListener('click', function () { accept(Array.from(selected)); });
  $('undoBtn').addEventListener('click', undo);
  $('exportBtn').addEventListener('click', exportCsv);
  $('moveTo').addEventListener('change', function () { $('newName').hidden = $('moveTo').value !== '__new'; });
  ['moveTo', 'newName'].forEach(function (id) {
    $(id).addEventListener('keydown', function (event) {
      if (event.key !== 'Enter') return;
      event.preventDefault();
      event.target.blur();  // back to the page's shortcuts
      moveSelected($('moveTo').value, $('newName').value.trim());
    });
  });

  function focusName() {
    var g = lastClicked !== null ? state.group[lastClicked] : null;
    var input = g && main.querySelector('input[data-name="' + g + '"]');
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
    u: undo, e: exportCsv, n: focusName,
    a: function () { accept(Array.from(selected)); },
    m: function () { $('moveTo').focus(); },
    j: function () { jump(1); }, k: function () { jump(-1); },
    Escape: function () { selected.clear(); updateSelection(); },
    '?': function () { $('help').open = !$('help').open; }
  };
  document.addEventListener('keydown', function (event) {
    var tag = event.target.tagName;
    if (tag === 'INPUT' || tag === 'SELECT' || tag === 'TEXTAREA') {
      if (event.key === 'Escape') event.target.blur();
      return;
    }
    if ((event.ctrlKey || event.metaKey) && event.key === 'z') { event.preventDefault(); undo(); return; }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (KEYS[event.key]) { event.preventDefault(); KEYS[event.key](); }
  });

  replay();
  render();
  noticeEarlierWork();
  document.body.setAttribute('data-ready', String(Math.round(performance.now())));
})();
