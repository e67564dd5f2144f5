  // ------------------------------------------------------------------ map with lasso
  var mapState = null;
  function rgbColour(l) {  // unnamed grey; named: hues spread by the golden angle (hsl(h, 70%, 45%))
    if (l < 0) return [187, 187, 187];
    var h = (l * 137.508) % 360 / 60, c = 0.63, x = c * (1 - Math.abs(h % 2 - 1)), m = 0.135;
    var rgb = h < 1 ? [c, x, 0] : h < 2 ? [x, c, 0] : h < 3 ? [0, c, x] : h < 4 ? [0, x, c] : h < 5 ? [x, 0, c] : [c, 0, x];
    return rgb.map(function (v) { return Math.round((v + m) * 255); });
  }
  function openMap() {
    if (!D.map.length) { notice('This run has no 2-D map.'); return; }
    var box = $('mapbox');
    box.innerHTML = '<div>Drag to draw a lasso around photos: they become the selection (<kbd>shift</kbd>+drag adds to it; ' +
      'then <kbd>m</kbd> to move or name them). <kbd>Esc</kbd> or <kbd>p</kbd> closes. <span id=mapSel></span></div><canvas id=mapCanvas></canvas>';
    box.hidden = false;
    var canvas = $('mapCanvas'), size = Math.min(window.innerWidth - 40, window.innerHeight - 90);
    canvas.width = canvas.height = size;
    mapState = {canvas: canvas, size: size, lasso: null, grid: null};
    drawMap();
  }
  function mapGrid() {  // points by 12-px cell, for hovering: built on the first hover
    if (!mapState.grid) {
      mapState.grid = {};
      for (var i = 0; i < N; i++) {
        var cell = Math.floor(px(i, 0) / 12) * 4096 + Math.floor(px(i, 1) / 12);
        (mapState.grid[cell] = mapState.grid[cell] || []).push(i);
      }
    }
    return mapState.grid;
  }
  function px(i, axis) { return 8 + D.map[2 * i + axis] / 10000 * (mapState.size - 16); }
  function drawMap() {
    var ctx = mapState.canvas.getContext('2d');
    ctx.clearRect(0, 0, mapState.size, mapState.size);
    // pixels written straight into one image: 100,000 points draw in milliseconds
    var size = mapState.size, image = ctx.createImageData(size, size), pixels = image.data, rgbOf = {};
    for (var i = 0; i < N; i++) {
      var key = selected.has(i) ? -2 : labelOf[i], rgb = rgbOf[key] || (rgbOf[key] = key === -2 ? [0, 0, 0] : rgbColour(key));
      var x0 = Math.round(px(i, 0)) - 1, y0 = Math.round(px(i, 1)) - 1;
      for (var y = y0; y < y0 + 3; y++) for (var x = x0; x < x0 + 3; x++) {
        if (x < 0 || y < 0 || x >= size || y >= size) continue;
        var at = (y * size + x) * 4;
        pixels[at] = rgb[0]; pixels[at + 1] = rgb[1]; pixels[at + 2] = rgb[2]; pixels[at + 3] = 255;
      }
    }
    ctx.putImageData(image, 0, 0);
    var lasso = mapState.lasso;
    if (lasso && lasso.length > 1) {
      ctx.strokeStyle = '#1769e0'; ctx.lineWidth = 2; ctx.beginPath();
      ctx.moveTo(lasso[0][0], lasso[0][1]);
      lasso.forEach(function (p) { ctx.lineTo(p[0], p[1]); });
      ctx.closePath(); ctx.stroke();
    }
  }
  function inside(point, polygon) {
    var x = point[0], y = point[1], hit = false;
    for (var a = 0, b = polygon.length - 1; a < polygon.length; b = a++) {
      var xa = polygon[a][0], ya = polygon[a][1], xb = polygon[b][0], yb = polygon[b][1];
      if ((ya > y) !== (yb > y) && x < (xb - xa) * (y - ya) / (yb - ya) + xa) hit = !hit;
    }
    return hit;
  }
  function mapPoint(event) {
    var r = mapState.canvas.getBoundingClientRect();
    return [event.clientX - r.left, event.clientY - r.top];
  }
  $('mapbox').addEventListener('pointerdown', function (event) {
    if (event.target.id !== 'mapCanvas') return;
    mapState.lasso = [mapPoint(event)];
  });
  $('mapbox').addEventListener('pointermove', function (event) {
    if (!mapState || event.target.id !== 'mapCanvas') return;
    var p = mapPoint(event), tip = $('maptip');
    if (mapState.lasso) { mapState.lasso.push(p); drawMap(); tip.innerHTML = ''; return; }
    var near = null, best = 36;
    var cx = Math.floor(p[0] / 12), cy = Math.floor(p[1] / 12);
    for (var dx = -1; dx <= 1; dx++) for (var dy = -1; dy <= 1; dy++) {
      (mapGrid()[(cx + dx) * 4096 + cy + dy] || []).forEach(function (i) {
        var d = Math.pow(px(i, 0) - p[0], 2) + Math.pow(px(i, 1) - p[1], 2);
        if (d < best) { best = d; near = i; }
      });
    }
    tip.innerHTML = near === null ? '' : '<img src="' + esc(thumbOf(near)) + '"><div>' + esc(D.ids[near] + ' · ' + display(state.group[near])) + '</div>';
    tip.style.left = (event.clientX + 14) + 'px'; tip.style.top = (event.clientY + 14) + 'px';
  });
  $('mapbox').addEventListener('pointerup', function (event) {
    if (!mapState || !mapState.lasso) return;
    var polygon = mapState.lasso;
    mapState.lasso = null;
    if (polygon.length > 2) {
      if (!event.shiftKey) selected.clear();  // shift: the lasso adds to the selection
      for (var i = 0; i < N; i++) if (inside([px(i, 0), px(i, 1)], polygon)) selected.add(i);
    }
    $('mapSel').textContent = selected.size + ' selected';
    drawMap();
    updateSelection();
  });
  function closeMap() { $('mapbox').hidden = true; $('maptip').innerHTML = ''; mapState = null; }
