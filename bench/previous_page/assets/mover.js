  // ------------------------------------------------------------------ the move box (m): type-ahead names
  function openMover() {
    if (!selected.size) { notice('Select photos first (click, shift-click, select all, or lasso on the map).'); return; }
    $('moverCount').textContent = selected.size + ' photo' + (selected.size > 1 ? 's' : '');
    $('moveName').value = '';
    $('moverWarn').textContent = '';
    $('mover').hidden = false;
    $('moveName').focus();
  }
  function closeMover() { $('mover').hidden = true; $('moveName').blur(); }
  $('moveName').addEventListener('input', function () {
    var c = canon($('moveName').value);
    $('moverWarn').textContent = c && hasVocab && !(c in VOCAB) && !(c in labelIndex) ? 'not in the species list' : '';
  });
  $('moveName').addEventListener('keydown', function (event) {
    if (event.key === 'Enter') { event.preventDefault(); var typed = $('moveName').value; closeMover(); moveSelectedToName(typed); if (viewing) closeViewer(); }
    else if (event.key === 'Escape') { event.preventDefault(); closeMover(); }
  });
