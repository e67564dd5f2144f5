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
    $('viewer').innerHTML = (src ? bigImage(i, src) : '<div class="noimg">no preview</div>') +
      '<div class="facts"><strong>' + esc(D.ids[i]) + '</strong><br>in ' + esc(display(g)) +
      (g === DOUBTFUL ? ' (own ' + esc(display('c' + D.cluster[i])) + ')' : '') +
      (suggestionText(i) ? ' · suggested: ' + esc(suggestionText(i)) : '') +
      ' · photo ' + (at + 1) + ' of ' + list.length + ' · <kbd>←</kbd>/<kbd>→</kbd> step · <kbd>m</kbd> move · ' +
      '<kbd>a</kbd> accept the suggestion · <kbd>Esc</kbd> close</div>' +
      (K ? '<div>nearest photos:</div><div class="strip">' + strip.join('') + '</div>' : '');
    $('viewer').hidden = false;
  }
  // the large image; on a crop page the whole frame with the crop's box drawn on it
  function bigImage(i, src) {
    var img = '<img class="big" src="' + esc(src) + '" alt="">';
    if (!D.boxes.length) return img;
    var b = D.boxes.slice(4 * i, 4 * i + 4).map(function (v) { return v / 100 + '%'; });
    return '<div class="framed">' + img + '<div class="box" style="left:' + b[0] + ';top:' + b[1] + ';width:' + b[2] +
      ';height:' + b[3] + '"></div></div>';
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
