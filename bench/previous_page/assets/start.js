  // ------------------------------------------------------------------ start: replay the saved work, paint
  function placePanel() { $('panel').style.top = document.querySelector('header').offsetHeight + 'px'; }
  window.addEventListener('resize', placePanel);
  if (D.sequence.length) $('burstsBox').hidden = false;
  placePanel();
  replay();
  carried = carryOver();
  derive();
  render();
  noticeEarlierWork();
  $('applyHelp').innerHTML = applyHelp();
  $('applyHelp').hidden = false;
  document.body.setAttribute('data-script-ms', String(Math.round(performance.now() - STARTED)));
  document.body.setAttribute('data-ready', String(Math.round(performance.now())));
