// The live page: one snapshot a second from /api/v1/events (server-sent events); rates are computed
// here from the counters' differences and drawn as SVG lines; the forms and buttons call the REST API.
'use strict';
const HISTORY = 60;
const state = {};          // "switch/port" -> {last, rx: [], tx: [], drop: []}
let lastSnapshot = null;

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v; else if (k.startsWith('on')) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function fmt(n) {
  if (n >= 1e9) return (n / 1e9).toFixed(2) + ' G';
  if (n >= 1e6) return (n / 1e6).toFixed(2) + ' M';
  if (n >= 1e3) return (n / 1e3).toFixed(1) + ' k';
  return Math.round(n).toString();
}

function sumDrops(d) { return Object.values(d).reduce((a, b) => a + b, 0); }

function chart(h) {
  const W = 240, H = 48;
  const max = Math.max(1, ...h.rx, ...h.tx, ...h.drop);
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('class', 'chart');
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  for (const k of ['rx', 'tx', 'drop']) {
    const pts = h[k].map((v, i) => `${(W * (i + HISTORY - h[k].length) / (HISTORY - 1)).toFixed(1)},${(H - 2 - (H - 4) * v / max).toFixed(1)}`);
    if (pts.length > 1) {
      const pl = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
      pl.setAttribute('class', k);
      pl.setAttribute('points', pts.join(' '));
      svg.append(pl);
    }
  }
  return svg;
}

async function call(method, path, body) {
  const headers = {'Content-Type': 'application/json'};
  const token = document.getElementById('token').value;
  if (token) headers['Authorization'] = 'Bearer ' + token;
  const r = await fetch(path, {method, headers, body: body === undefined ? undefined : JSON.stringify(body)});
  const j = await r.json();
  document.getElementById('message').textContent = r.ok ? '' : j.error;
  return j;
}

function update(snap) {
  const dt = lastSnapshot ? (snap.time - lastSnapshot.time) / 1000 : 0;
  const main = document.getElementById('switches');
  const kept = {};  // what the user was typing survives the redraw
  let focused = null;
  for (const i of main.querySelectorAll('form input')) {
    const k = i.closest('section').dataset.switch + '/' + i.className;
    kept[k] = i.value;
    if (i === document.activeElement) focused = k;
  }
  main.replaceChildren();
  for (const sw of snap.switches) {
    const rows = [];
    for (const p of sw.ports) {
      const key = sw.name + '/' + p.name;
      const h = state[key] || (state[key] = {last: null, rx: [], tx: [], drop: []});
      const drops = sumDrops(p.drops);
      let rate = {rx: 0, tx: 0, drop: 0};
      if (h.last && dt > 0) {
        rate = {rx: Math.max(0, (p.rxPackets - h.last.rxPackets) / dt), tx: Math.max(0, (p.txPackets - h.last.txPackets) / dt),
                drop: Math.max(0, (drops - h.last.drops) / dt)};
        for (const k of ['rx', 'tx', 'drop']) { h[k].push(rate[k]); if (h[k].length > HISTORY) h[k].shift(); }
      }
      h.last = {rxPackets: p.rxPackets, txPackets: p.txPackets, drops};
      const causes = Object.entries(p.drops).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${fmt(v)}`).join(', ');
      rows.push(el('tr', {'data-port': p.name},
        el('td', {}, p.name), el('td', {}, p.kind + ' / ' + p.backend),
        el('td', {class: 'num rate-rx', 'data-rate': rate.rx.toFixed(1)}, fmt(rate.rx)),
        el('td', {class: 'num rate-tx', 'data-rate': rate.tx.toFixed(1)}, fmt(rate.tx)),
        el('td', {class: 'num rate-drop', 'data-rate': rate.drop.toFixed(1)}, fmt(rate.drop)),
        el('td', {}, chart(h)),
        el('td', {class: 'drops'}, causes || '–'),
        el('td', {class: 'num ring', title: 'receive ring: packets waiting / room'}, `${p.ringUsed} / ${p.ringSize}`),
        el('td', {}, el('label', {}, el('input', {type: 'checkbox', class: 'bp', ...(p.backPressure ? {checked: ''} : {}),
            onchange: e => call('PUT', `/api/v1/switches/${sw.name}/ports/${encodeURIComponent(p.name)}/backpressure`, {enabled: e.target.checked})}), ' bp')),
        el('td', {}, el('button', {class: 'detach', onclick: () => call('DELETE', `/api/v1/switches/${sw.name}/ports/${encodeURIComponent(p.name)}`)},
            p.kind === 'attached' ? 'detach' : 'remove'))));
    }
    const attachName = el('input', {class: 'attach-name', placeholder: 'name'});
    const attachSpec = el('input', {class: 'attach-spec', placeholder: 'netmap:eth1, pipe{1 …'});
    const newName = el('input', {class: 'new-name', placeholder: 'name'});
    const mac = sw.macTable;
    main.append(el('section', {class: 'switch', 'data-switch': sw.name},
      el('h2', {}, sw.name + ' ', el('small', {}, `lookup ${sw.lookup.module}${sw.lookup.flowCache ? ' + flow cache' : ''}, ${sw.ports.length} ports`),
        el('button', {class: 'remove-switch', onclick: () => call('DELETE', `/api/v1/switches/${sw.name}`)}, 'remove switch')),
      el('div', {class: 'legend'}, el('span', {class: 'rx'}, '— received pkt/s'), el('span', {class: 'tx'}, '— sent pkt/s'), el('span', {class: 'drop'}, '— dropped pkt/s')),
      el('table', {}, el('thead', {}, el('tr', {}, ...['port', 'kind / backend', 'rx pkt/s', 'tx pkt/s', 'drop pkt/s', 'last 60 s', 'drops by cause', 'rx ring', '', ''].map(t => el('th', {}, t)))),
        el('tbody', {}, ...rows)),
      el('form', {class: 'attach', onsubmit: e => { e.preventDefault(); call('POST', `/api/v1/switches/${sw.name}/ports`, {name: attachName.value, attach: attachSpec.value}); }},
        'attach', attachName, attachSpec, el('button', {type: 'submit'}, 'attach')),
      el('form', {class: 'create', onsubmit: e => { e.preventDefault(); call('POST', `/api/v1/switches/${sw.name}/ports`, {name: newName.value}); }},
        'persistent port', newName, el('button', {type: 'submit'}, 'create')),
      mac ? el('details', {class: 'mac'}, el('summary', {}, `learning table: ${mac.size} addresses (aging ${mac.agingSeconds} s)`),
        el('table', {}, el('tbody', {}, ...mac.entries.map(m => el('tr', {}, el('td', {}, m.mac), el('td', {}, m.port), el('td', {class: 'num'}, m.idleSeconds + ' s idle'))))),
        el('button', {onclick: () => call('DELETE', `/api/v1/switches/${sw.name}/mac-table`)}, 'flush')) : ''));
  }
  for (const i of main.querySelectorAll('form input')) {
    const k = i.closest('section').dataset.switch + '/' + i.className;
    if (kept[k] !== undefined) i.value = kept[k];
    if (k === focused) i.focus();
  }
  lastSnapshot = snap;
}

document.getElementById('new-switch').addEventListener('submit', e => {
  e.preventDefault();
  call('POST', '/api/v1/switches', {name: document.getElementById('new-switch-name').value,
                                    lookup: document.getElementById('new-switch-lookup').value});
});

function connect() {
  const es = new EventSource('/api/v1/events');
  const status = document.getElementById('status');
  es.onopen = () => { status.textContent = 'live'; };
  es.onmessage = e => { update(JSON.parse(e.data)); status.textContent = 'live, ' + new Date().toLocaleTimeString(); };
  es.onerror = () => { status.textContent = 'reconnecting…'; };
}
connect();
