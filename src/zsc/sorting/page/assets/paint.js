  // ------------------------------------------------------------------ painting
  function title(g) {
    if (g === DOUBTFUL) return 'Doubtful';
    if (g.indexOf('fix:') === 0) return 'suggested fix';
    if (g === STRIP) return 'All photos in one similarity order';
    if (g.charAt(0) === 'c' && D.preset[g.slice(1)]) return 'reviewed species, photos assigned this week';
    return g.charAt(0) === 'c' ? 'Cluster ' + g.slice(1) : 'New group ' + g.slice(1);
  }
  function display(g) { return label(g) ? label(g) + ' (' + title(g) + ')' : title(g); }
  function suggestionText(i) {
    if (sugA[i] < 0 || !disagrees(i)) return '';
    return labels[sugA[i]] + ' (est. precision ' + precisionText(sugP[i]) + ')';
  }
  function captionExtra(i, where) {
    var html = '', g = state.group[i];
    if (g === DOUBTFUL || where === STRIP) {
      html += '<span class="hint">now: ' + esc(g === DOUBTFUL ? 'doubtful, own ' + display('c' + D.cluster[i]) : display(g)) + '</span>';
    }
    if (g === DOUBTFUL && D.reasons[i]) html += '<span class="hint">' + esc(D.reasons[i]) + '</span>';
    if (D.support.length && D.support[i] >= 0 && g === 'c' + D.cluster[i]) html += '<span class="hint">assigned, support ' + D.support[i] + '%</span>';
    var burst = burstNote(i);
    if (burst) html += '<span class="hint' + (burst.indexOf('differently') >= 0 ? ' warn' : '') + '">' + esc(burst) + '</span>';
    offers(i).forEach(function (o) {
      html += '<button class="sg" data-to="' + o.l + '" data-i="' + i + '" data-name="' + esc(labels[o.l]) + '" title="' + esc(o.why) + '">→ ' +
        esc(labels[o.l]) + (o.short ? ' ' + esc(o.short) : '') + '</button>';
    });
    return html;
  }
  // Up to three names a photo could move to (never its own): the classifier's two best labels first (the
  // first with its estimated precision), then the named clusters whose centres (full embedding) are
  // nearest to it. One click on either moves it. A photo the reviewer confirmed is offered nothing, a
  // photo never a name it was turned down for.
  function offers(i) {
    var found = [], own = labelOf[i];
    var refused = state.refused[i] || {};
    function offer(l, short, why) {
      if (l < 0 || l === own || found.length >= 3 || refused[canon(labels[l])]) return;
      if (!found.some(function (o) { return o.l === l; })) found.push({l: l, short: short, why: why});
    }
    if (confirmed(i)) return found;
    if (disagrees(i)) offer(sugA[i], sugP[i] < 0 ? '' : precisionText(sugP[i]), 'the classifier on the named photos; estimated precision ' + precisionText(sugP[i]));
    offer(sugB[i], '(2nd)', 'the classifier\'s second choice');
    for (var c = 0; c < CENTRES; c++) {
      var centre = D.centres[CENTRES * i + c], named = centre >= 0 ? label('c' + centre) : '';
      if (named) offer(labelIndex[canon(named)], '(near)', 'the nearest other cluster: ' + display('c' + centre));
    }
    return found;
  }
  function figure(i, where) {
    var thumb = thumbOf(i);
    // a photo in its cluster's core whose neighbours agree shows its alternatives only under the pointer
    if (where.indexOf('fix:') === 0) return fixFigure(i);
    return '<figure draggable="true" data-i="' + i + '" class="' + (selected.has(i) ? 'sel' : '') + (isQuiet(i, where) ? ' quiet' : '') +
      '" title="' + esc(D.ids[i] + (D.reasons[i] ? '\n' + D.reasons[i] : '')) + '">' +
      (thumb ? '<img loading="lazy" decoding="async" src="' + esc(thumb) + '" alt="">' : '<div class="noimg">no preview</div>') +
      '<figcaption>' + esc(caption(i)) + '<span class="extra">' + captionExtra(i, where) + '</span></figcaption></figure>';
  }
  // a photo of the fixes view: a click (un)ticks it; the group's button moves the ticked ones
  function fixFigure(i) {
    var thumb = thumbOf(i);
    return '<figure data-i="' + i + '" data-tick="' + i + '" class="' + (ticked(i) ? 'ticked' : 'unticked') + '" title="' +
      esc(D.ids[i] + '\nclick: ' + (ticked(i) ? 'not this name: leave it where it is' : 'move it too')) + '">' +
      (thumb ? '<img loading="lazy" decoding="async" src="' + esc(thumb) + '" alt="">' : '<div class="noimg">no preview</div>') +
      '<figcaption>' + esc(caption(i)) + '<span class="extra"><span class="hint">' + precisionText(sugP[i]) + '</span></span></figcaption></figure>';
  }
  function isQuiet(i, where) { return isCore(i, state.group[i]) && !disagrees(i) && where !== STRIP; }
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
    if (g.indexOf('fix:') === 0) return fixHeading(fixGroup(g));
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
  function fixHeading(group) {
    var n = group.items.filter(ticked).length, to = labels[group.to];
    return '<span class="title">' + group.items.length + ' in ' + esc(display(group.from)) + ' → ' + esc(to) + '</span>' +
      ' <span class="count">est. precision ' + precisionText(group.precision) + '</span>' +
      ' <button class="fixmove" data-fixmove="' + esc(group.key) + '" data-toname="' + esc(to) + '" data-fromname="' + esc(label(group.from)) + '"' + (n ? '' : ' disabled') + '>move ' + n + ' ticked to ' + esc(to) +
      '</button> <button class="fixkeep" data-fixkeep="' + esc(group.key) + '" title="the suggestion is wrong for all of them">keep all ' +
      group.items.length + ' here</button> <span class="hint">click a photo to (un)tick it; the unticked stay where they are, offered their next suggestion</span>';
  }
  function paintFixButtons() {
    var photos = fixGroups.reduce(function (sum, group) { return sum + group.items.length; }, 0);
    $('fixesBtn').textContent = view === FIXES ? 'back to the groups (f)' : 'fixes (f): ' + photos + ' in ' + fixGroups.length + ' groups';
    var ticks = view === FIXES ? allTicked().length : 0;
    $('moveAllBtn').hidden = !ticks;
    $('moveAllBtn').textContent = 'move all ' + ticks + ' ticked (every group)';
    $('acceptAllBtn').hidden = !acceptable.length;
    $('acceptAllBtn').textContent = 'accept ' + acceptable.length + ' suggestions (est. precision ≥ ' + precisionText(LEVEL) + ')';
    if (view === FIXES && !fixGroups.length) main.innerHTML = '<p class="notice">No suggested fixes: the classifier agrees with every name not confirmed yet.</p>';
  }
  function sectionHtml(g) {
    var list = buckets[g] || [];
    var rows = Math.ceil(Math.min(list.length, shown[g] || PAGE) / perRow());
    var cls = g === DOUBTFUL ? 'doubtful' : g.indexOf('fix:') === 0 ? 'fix' : state.done[g] ? 'done' : '';
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
    if (view === FIXES) return fixGroups.map(function (group) { return group.key; });
    return state.order.filter(function (g) { return (buckets[g] || []).length || (g.charAt(0) === 'g' && g !== DOUBTFUL); });
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
    paintFixButtons();
    updateSelection();
  }
