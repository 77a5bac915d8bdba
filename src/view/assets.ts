// The viewer's only static files, compiled into the package so nothing is
// fetched from a CDN or the network. Styles follow report.html (same font,
// table borders, tag chips) in a denser layout.
import crypto from 'node:crypto';

export const VIEW_CSS = `body{font-family:system-ui,sans-serif;margin:12px 16px;color:#222;font-size:14px}
h1{font-size:20px;margin:6px 0}h2{font-size:16px;margin:14px 0 6px}h3{font-size:14px;margin:8px 0 4px}
a{color:#2a5db0;text-decoration:none}a:hover{text-decoration:underline}
.crumbs{font-size:13px;color:#666;margin-bottom:6px}.crumbs .sep{color:#aaa}
.banner{padding:8px 10px;border-radius:6px;background:#e7f1ff;font-weight:600;margin:4px 0 10px}.banner.synthetic{background:#fff3cd}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right;vertical-align:top}
td:first-child,th:first-child,td.l,th.l{text-align:left}th{background:#f6f8fa;white-space:nowrap}tr:hover td{background:#fafbfc}
small,.muted{color:#666}td.tools code{font-size:11px}.tag{background:#eee;border-radius:4px;padding:0 4px;font-size:11px;margin-right:2px;white-space:nowrap}
.flip-saved{color:#1a7f37;font-weight:600}.flip-broke{color:#c62828;font-weight:600}.flip-stayed_wrong{color:#9a6700}.flip-stayed_correct{color:#555}
.ok{color:#1a7f37}.bad{color:#c62828}.ctl{background:#fde2e1;color:#c62828;font-family:monospace;font-size:11px}
form.filters{display:flex;flex-wrap:wrap;gap:6px 12px;align-items:end;background:#f6f8fa;padding:6px 8px;border-radius:6px;margin:6px 0}
form.filters label{display:flex;flex-direction:column;font-size:11px;color:#555}form.filters select,form.filters input{font-size:13px}
.pager{margin:6px 0;font-size:13px}.pager a,.pager span{margin-right:8px}
.sample-head{display:flex;gap:16px;align-items:flex-start;flex-wrap:wrap}.sample-head img{width:320px;height:auto;image-rendering:pixelated;border:1px solid #ccc}
.cols{display:flex;gap:10px;overflow-x:auto;align-items:flex-start;padding-bottom:8px}
.col{flex:0 0 430px;max-width:430px;min-width:0;overflow-wrap:anywhere;border:1px solid #ddd;border-radius:6px;padding:6px 8px;background:#fff}.col.current{border-color:#4e79a7;box-shadow:0 0 0 1px #4e79a7}
.col h3 a{color:inherit}.kv{font-size:12px;margin:2px 0}.turn{border-top:1px dashed #ccc;margin-top:6px;padding-top:4px}
.turn-head{font-size:12px;color:#444}pre{white-space:pre-wrap;word-break:break-word;background:#f6f8fa;padding:6px;font-size:12px;margin:4px 0;max-height:420px;overflow:auto}
pre mark{background:#ffe08a;border-radius:2px}.msg-role{font-size:11px;font-weight:600;color:#555;text-transform:uppercase}
.call{border-left:3px solid #ffb000;padding:2px 6px;margin:4px 0;background:#fffbeb;font-size:12px}.call.invalid{border-left-color:#c62828;background:#fff1f0}
.call code{font-weight:600}details>summary{cursor:pointer;font-size:12px;color:#444}.prevnext{margin:6px 0}.prevnext a,.prevnext span{margin-right:12px}
.final{font-weight:600}`;

// Progressive enhancement only: the pages work without it.
export const VIEW_JS = `'use strict';
document.addEventListener('DOMContentLoaded', function () {
  var form = document.querySelector('form.filters');
  if (form) {
    form.querySelectorAll('select').forEach(function (s) {
      s.addEventListener('change', function () { var p = form.querySelector('input[name=page]'); if (p) p.value = ''; form.submit(); });
    });
  }
  document.addEventListener('keydown', function (e) {
    if (e.target && /^(INPUT|SELECT|TEXTAREA)$/.test(e.target.tagName)) return;
    var rel = e.key === 'j' || e.key === 'ArrowRight' ? 'next' : e.key === 'k' || e.key === 'ArrowLeft' ? 'prev' : null;
    var a = rel && document.querySelector('a[rel=' + rel + ']');
    if (a) window.location.href = a.href;
  });
});
`;

/** Cache-busting suffix for the static URLs. */
export const STATIC_VERSION = crypto.createHash('sha256').update(VIEW_CSS).update(VIEW_JS).digest('hex').slice(0, 10);
