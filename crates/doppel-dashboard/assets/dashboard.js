// doppel dashboard: the only script (the Content-Security-Policy allows no other).
// - <pre data-stream="URL">: follows a server-sent event stream; each `line` event is
//   appended as text (never markup); `end` closes it (and, with data-reload, refreshes).
//   A reconnect resumes a stream with event ids and starts one without them over; a stream
//   the browser gave up on is opened again a few times.
// - <body data-live="URL">: a `changed` event refreshes <main> in place (a change during a
//   refresh brings one more).
// - <form data-confirm="question">: asks before posting.
(function () {
  'use strict';

  var MAX_LINES = 5000;
  var open = [];

  function follow(pre, tries) {
    tries = tries || 0;
    var source = new EventSource(pre.getAttribute('data-stream'));
    var opened = false;
    var resumable = false;
    open.push(source);
    pre.setAttribute('aria-busy', 'true');
    // A stream without event ids starts over when the browser reconnects: start the text over.
    source.addEventListener('open', function () {
      if (opened && !resumable) {
        pre.textContent = '';
      }
      opened = true;
    });
    source.addEventListener('line', function (e) {
      resumable = resumable || e.lastEventId !== '';
      var stick = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 8;
      pre.appendChild(document.createTextNode(e.data + '\n'));
      while (pre.childNodes.length > MAX_LINES) {
        pre.removeChild(pre.firstChild);
      }
      if (stick) {
        pre.scrollTop = pre.scrollHeight;
      }
    });
    // A stream the browser gave up on (not one that ended) is opened again from its start,
    // a few times, while the page still shows it.
    source.addEventListener('error', function () {
      if (source.readyState !== EventSource.CLOSED || tries >= 5 || leaving) {
        return;
      }
      setTimeout(function () {
        if (document.contains(pre) && pre.getAttribute('data-ended') !== 'true') {
          pre.textContent = '';
          follow(pre, tries + 1);
        }
      }, 3000);
    });
    source.addEventListener('end', function () {
      source.close();
      pre.setAttribute('aria-busy', 'false');
      pre.setAttribute('data-ended', 'true');
      if (pre.hasAttribute('data-reload')) {
        refresh();
      }
    });
  }

  function start(root) {
    var streams = root.querySelectorAll('pre[data-stream]');
    for (var i = 0; i < streams.length; i++) {
      follow(streams[i]);
    }
  }

  function busy() {
    var el = document.activeElement;
    return el && /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName) && el.value !== '';
  }

  var refreshing = false;
  // A change announced while a refresh is under way: that refresh may have been rendered
  // before it, so one more follows.
  var again = false;
  var leaving = false;
  var failures = 0;
  function refresh() {
    if (leaving) {
      return;
    }
    if (refreshing) {
      again = true;
      return;
    }
    if (busy()) {
      setTimeout(refresh, 2000);
      return;
    }
    refreshing = true;
    again = false;
    fetch(window.location.href, {
      credentials: 'same-origin',
      headers: { 'X-Doppel-Refresh': '1' }
    })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        refreshing = false;
        failures = 0;
        if (again) {
          setTimeout(refresh, 0);
        }
        if (!html) {
          return;
        }
        var fresh = new DOMParser().parseFromString(html, 'text/html').querySelector('main');
        var current = document.querySelector('main');
        if (!fresh || !current) {
          return;
        }
        for (var i = 0; i < open.length; i++) {
          open[i].close();
        }
        open = [];
        current.replaceWith(document.adoptNode(fresh));
        start(fresh);
      })
      .catch(function () {
        // A fetch the network dropped (interfaces changing): try again, a few times.
        refreshing = false;
        failures += 1;
        if (failures < 10) {
          setTimeout(refresh, 1000 * failures);
        }
      });
  }

  document.addEventListener('submit', function (e) {
    var question = e.target.getAttribute('data-confirm');
    if (question && !window.confirm(question)) {
      e.preventDefault();
      return;
    }
    // The page is being left for the form's answer: no more refreshes in place.
    leaving = true;
  });

  document.addEventListener('DOMContentLoaded', function () {
    start(document);
    var live = document.body.getAttribute('data-live');
    if (live) {
      watch(live);
    }
  });

  // Follows the page's change stream. The browser reconnects by itself after a dropped
  // connection; one it gave up on (closed) is opened again a little later, up to 10 times in
  // a row (a signed-out session is refused every time). Changes missed while away are
  // announced by the server at once (it compares with the first render).
  function watch(url, tries) {
    tries = tries || 0;
    var source = new EventSource(url);
    source.addEventListener('open', function () { tries = 0; });
    source.addEventListener('changed', refresh);
    source.addEventListener('error', function () {
      if (source.readyState === EventSource.CLOSED && !leaving && tries < 10) {
        setTimeout(function () { watch(url, tries + 1); }, 3000);
      }
    });
  }
})();
