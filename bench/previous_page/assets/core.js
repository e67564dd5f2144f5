  var STARTED = performance.now();
  var D = JSON.parse(document.getElementById('zsc-data').textContent);
  // a camera-trap page offers 'not an animal' beside the species (side panel, type-ahead, key x)
  if (D.not_animal && D.vocabulary.indexOf(D.not_animal) < 0) D.vocabulary.push(D.not_animal);
  var N = D.ids.length, K = D.k, PAGE = 120, DOUBTFUL = 'doubtful', SUGGEST = 'suggest', STRIP = 'strip';
  var STORE = 'zsc-review:' + D.run + ':' + D.key;
  // The labels of the latest saved work of this run, whatever its clustering: when a rerun changes the
  // clustering, the steps no longer apply, but the reviewer is told and can export what they had named.
  var SNAPSHOT = 'zsc-review-labels:' + D.run;
  var $ = function (id) { return document.getElementById(id); };
  var main = $('sections');
  var rank = new Int32Array(N);
  D.order.forEach(function (i, r) { rank[i] = r; });
  var VOCAB = {};
  D.vocabulary.forEach(function (name) { VOCAB[canon(name)] = name; });
  var hasVocab = D.vocabulary.length > 0;
  var CENTRES = N ? D.centres.length / N : 0;  // nearest other cluster centres carried per photo

  function canon(text) { return String(text).normalize('NFC').trim().replace(/\s+/g, ' ').toLowerCase(); }
  function esc(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c];
    });
  }
  function thumbOf(i) { return D.thumbs[i] ? D.thumb_prefix + D.thumbs[i] : ''; }
  function baseName(id) { return id.slice(id.lastIndexOf('/') + 1); }
  // a caption: the file's name; on a crop page its camera too (several cameras have IMG_0001.JPG)
  function caption(i) {
    var name = baseName(D.ids[i]).replace(/~d\d+\.jpg$/, '');
    return D.camera.length ? D.cameras[D.camera[i]] + ' · ' + name : name;
  }
