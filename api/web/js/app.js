// The web app's pages, filled in from the API's JSON routes (same origin, the user's session).
import { encodeFunctionData, formatEther, parseEther } from 'viem';
import * as wallet from './wallet.js';

const M = JSON.parse(document.getElementById('messages').textContent);
const page = document.body.dataset.page;
const $ = (id) => document.getElementById(id);

function t(key, vars = {}) {
  return (M[key] || key).replace(/\{(\w+)\}/g, (_, k) => (k in vars ? String(vars[k]) : `{${k}}`));
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') node.textContent = v;
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function notice(text, error = false) {
  const box = $('notice');
  box.textContent = text;
  box.classList.toggle('error', error);
}

class ApiProblem extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

async function api(method, path, body, { form = false } = {}) {
  const headers = { Accept: 'application/json' };
  const token = wallet.token();
  if (token) headers.Authorization = `Bearer ${token}`;
  let payload;
  if (body !== undefined) {
    if (form) payload = body;
    else {
      headers['Content-Type'] = 'application/json';
      payload = JSON.stringify(body);
    }
  }
  const r = await fetch(path, { method, headers, body: payload, credentials: 'same-origin' });
  const text = await r.text();
  const data = text ? JSON.parse(text) : null;
  if (!r.ok) {
    if (r.status === 401 && token) {
      wallet.forget();
      header();
    }
    throw new ApiProblem(r.status, data || {});
  }
  return data;
}

/** Show what went wrong in words; a wallet rejection says that nothing happened. */
function fail(err) {
  if (wallet.isRejection(err)) notice(t('wallet.rejected'), true);
  else if (err instanceof wallet.SiweDomainError) {
    notice(t('wallet.wrong_domain', { domain: err.domain, host: window.location.host }), true);
  } else if (err instanceof ApiProblem && M[`error.status.${err.status}`]) {
    notice(t(`error.status.${err.status}`, { detail: err.message }), true);
  } else notice(t('error.generic', { detail: err.shortMessage || err.message }), true);
}

/** Run a button's action with the button disabled meanwhile; errors become notices. */
function action(button, fn) {
  button.addEventListener('click', async (ev) => {
    ev.preventDefault();
    button.disabled = true;
    notice('');
    try {
      await fn(ev);
    } catch (err) {
      fail(err);
    } finally {
      button.disabled = false;
    }
  });
}

function submitting(form, fn) {
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const button = form.querySelector('button[type=submit]');
    if (button) button.disabled = true;
    notice('');
    try {
      await fn(ev);
    } catch (err) {
      fail(err);
    } finally {
      if (button) button.disabled = false;
    }
  });
}

const short = (a) => (a ? `${a.slice(0, 6)}…${a.slice(-4)}` : '');
const eth = (wei) => formatEther(BigInt(wei));
const pct = (bps) => (Number(bps) / 100).toString();

// ---------------------------------------------------------------- header: wallet and session

function header() {
  const address = wallet.address();
  const signedIn = Boolean(wallet.token());
  $('connect').hidden = Boolean(address && wallet.current());
  $('signin').hidden = !(address && wallet.current()) || signedIn;
  $('signout').hidden = !signedIn;
  $('wallet-state').textContent = signedIn ? t('wallet.signed_in', { address: short(address) })
    : address && wallet.current() ? t('wallet.connected', { address: short(address) }) : '';
}

async function chooseWallet() {
  const found = await wallet.discover();
  if (found.length === 0) throw new Error(t('wallet.none'));
  if (found.length === 1) return found[0];
  return new Promise((resolve) => {
    const box = $('notice');
    box.textContent = `${t('wallet.pick')}: `;
    for (const detail of found) {
      const b = el('button', { type: 'button', text: detail.info.name });
      b.addEventListener('click', () => { box.textContent = ''; resolve(detail); });
      box.append(b, ' ');
    }
  });
}

function accountChanged(next, previousToken) {
  if (previousToken) {  // the old account's session ends at the API too
    fetch('/auth/logout', { method: 'POST', headers: { Authorization: `Bearer ${previousToken}` } }).catch(() => {});
  }
  header();
  notice(t('wallet.changed'));
}

// "Signing you can read": the words the page states before each wallet prompt (wallet.js refuses a
// prompt without them), in #signing, a live region next to the notices.
wallet.onExplain((words) => {
  const box = $('signing');
  box.replaceChildren(el('strong', { text: `${t('sign.before')} ` }), words);
  box.hidden = false;
}, () => { $('signing').hidden = true; });

const CONNECT_WORDS = () => t('sign.connect', { site: window.location.host });
const SIWE_WORDS = (parsed) => t('sign.siwe', {
  domain: parsed.domain, address: parsed.address, chain: parsed.chainId,
  until: parsed.expirationTime ? new Date(parsed.expirationTime).toISOString() : '—',
});

async function connectWallet() {
  if (!wallet.current()) wallet.use(await chooseWallet(), accountChanged);
  await wallet.connect(CONNECT_WORDS());
  header();
  window.dispatchEvent(new Event('chainright:wallet'));
}

const signIn = () => wallet.signIn(api, SIWE_WORDS, CONNECT_WORDS());

async function requireSession() {
  if (!wallet.current()) await connectWallet();
  if (!wallet.token()) {
    await signIn();
    header();
  }
}

async function restoreWallet() {
  // A page load keeps the session (sessionStorage); the wallet is found again without a prompt.
  if (!wallet.address()) return;
  const found = wallet.previous(await wallet.discover(300));
  if (found) wallet.use(found, accountChanged);
}

function setupHeader() {
  action($('connect'), connectWallet);
  action($('signin'), async () => {
    await signIn();
    header();
    notice(t('wallet.signed_in', { address: short(wallet.address()) }));
    window.dispatchEvent(new Event('chainright:session'));
  });
  action($('signout'), async () => {
    try { await api('POST', '/auth/logout'); } finally { wallet.forget(); header(); }
  });
}

let platformPromise = null;
const platform = () => { platformPromise ||= api('GET', '/catalog/platform'); return platformPromise; };

/** Sign-in messages name one origin: elsewhere, say where sign-in works (with a link). */
async function checkOrigin() {
  const { sign_in_origin: origin, sign_in_origins: origins } = await platform();
  if ((origins || [origin]).includes(window.location.origin)) return;
  const box = $('notice');
  box.replaceChildren(t('wallet.other_origin', { origin, here: window.location.origin }), ' ',
    el('a', { href: origin + window.location.pathname + window.location.search, text: t('wallet.go') }));
}

// ---------------------------------------------------------------- works

const workCache = new Map();
function loadWork(chain, collection, tokenId) {
  const key = `${chain}/${collection}/${tokenId}`;
  if (!workCache.has(key)) workCache.set(key, api('GET', `/catalog/works/${key}`));
  return workCache.get(key);
}

async function sha256Hex(buffer) {
  const digest = await crypto.subtle.digest('SHA-256', buffer);
  return `0x${[...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** The SHA-256 digest a CIDv1 names when it is a raw block (one chunk: base32 "bafkrei..."), else null. */
function rawCidDigest(cid) {
  if (!cid.startsWith('b')) return null;
  const out = [];
  let value = 0;
  let bits = 0;
  for (const c of cid.slice(1)) {
    const i = BASE32.indexOf(c);
    if (i < 0) return null;
    value = ((value << 5) | i) & 0x1fff;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  // version 1, codec raw (0x55), multihash sha2-256 (0x12), 32 bytes
  if (out.length !== 36 || out[0] !== 1 || out[1] !== 0x55 || out[2] !== 0x12 || out[3] !== 0x20) return null;
  return `0x${out.slice(4).map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** The work's bytes from the API, shown only when their SHA-256 is the content hash the chain's rights
 * record binds to this token (and, for a one-block work, the digest its CID names). */
async function verifiedMedia(work) {
  if (!work.rights || !work.rights.bound) return { state: 'none' };
  const r = await fetch(`/assets/${work.cid}/content`);
  if (!r.ok) return { state: 'none' };
  const bytes = await r.arrayBuffer();
  const hash = await sha256Hex(bytes);
  const cidDigest = rawCidDigest(work.cid);
  if (hash !== work.rights.content_hash.toLowerCase() || (cidDigest && cidDigest !== hash)) return { state: 'mismatch' };
  const type = work.media_type || 'application/octet-stream';
  return { state: 'ok', hash, cidChecked: Boolean(cidDigest), url: URL.createObjectURL(new Blob([bytes], { type })), type };
}

function mediaNode(media, alt) {
  if (media.type.startsWith('image/')) return el('img', { src: media.url, alt });
  if (media.type.startsWith('audio/')) return el('audio', { src: media.url, controls: true });
  if (media.type.startsWith('video/')) return el('video', { src: media.url, controls: true });
  return el('a', { href: media.url, download: alt, text: alt });
}

const workTitle = (w) => w.title || `${w.collection_name || short(w.collection)} #${w.token_id}`;

// ---------------------------------------------------------------- explore

/** The filters as GET /works reads them, from the page's address (so a search can be linked to). */
function searchFromUrl() {
  const u = new URLSearchParams(window.location.search);
  return {
    q: u.get('q') || '', tags: u.getAll('tag'), chain: u.get('chain_id') || '', media: u.get('media_type') || '',
    listed: u.get('listed') !== '0', min: u.get('min') || '', max: u.get('max') || '', sort: u.get('sort') || 'newest',
    currency: u.get('currency') || '', license: u.get('license') || '', jurisdiction: u.get('jurisdiction') || '',
    limit: Math.min(100, Math.max(1, Number(u.get('limit')) || 12)),
  };
}

function searchToUrl(s) {
  const u = new URLSearchParams();
  if (s.q) u.set('q', s.q);
  for (const tag of s.tags) u.append('tag', tag);
  if (s.chain) u.set('chain_id', s.chain);
  if (s.media) u.set('media_type', s.media);
  if (!s.listed) u.set('listed', '0');
  if (s.min) u.set('min', s.min);
  if (s.max) u.set('max', s.max);
  if (s.sort !== 'newest') u.set('sort', s.sort);
  for (const name of ['currency', 'license', 'jurisdiction']) if (s[name]) u.set(name, s[name]);
  if (s.limit !== 12) u.set('limit', String(s.limit));
  return u;
}

/** The API's query for a search (amounts typed in ETH become wei; a bad amount is refused in words). */
function worksQuery(s, cursor) {
  const u = new URLSearchParams({ limit: String(s.limit), sort: s.sort });
  if (s.q) u.set('q', s.q);
  for (const tag of s.tags) u.append('tag', tag);
  if (s.chain) u.set('chain_id', s.chain);
  if (s.media) u.set('media_type', s.media);
  if (s.listed) u.set('listed', 'true');
  if (s.min) u.set('min_price_wei', weiOf(s.min).toString());
  if (s.max) u.set('max_price_wei', weiOf(s.max).toString());
  for (const name of ['currency', 'license', 'jurisdiction']) if (s[name]) u.set(name, s[name]);
  if (cursor) u.set('cursor', cursor);
  return `/works?${u}`;
}

/** A catalogue card's bytes, shown only when their SHA-256 is the card's registered content hash. */
const cardMedia = (card) => verifiedMedia({ rights: { bound: Boolean(card.cid), content_hash: card.content_hash },
  cid: card.cid, media_type: card.media_type });

/** A card's price: ETH with wei, or a token's smallest units with the token named. */
function cardPrice(card) {
  if (!card.price) return t('explore.notforsale');
  if (!card.price_currency || BigInt(card.price_currency) === 0n) return ethWei(card.price.wei);
  return t('explore.price_token', { amount: card.price.wei, token: short(card.price_currency) });
}

function workCard(card, addTag) {
  const href = `/work/${card.chain_id}/${card.collection}/${card.token_id}`;
  const thumb = el('div', { class: 'thumb' });
  const title = card.title || `${card.collection_name || short(card.collection)} #${card.token_id}`;
  const tags = el('ul', { class: 'chips', 'aria-label': t('explore.tags') });
  for (const tag of card.tags) {
    const chip = el('button', { type: 'button', 'data-tag': tag, text: `#${tag}` });
    chip.addEventListener('click', () => addTag(tag));
    tags.append(el('li', {}, chip));
  }
  const item = el('li', { 'data-token': card.token_id },
    thumb,
    el('h2', {}, el('a', { href, text: title })),
    el('p', { class: 'price', text: cardPrice(card) }),
    el('p', { text: card.media_type ? t('explore.by_type', { type: card.media_type, creator: short(card.creator) }) : short(card.creator) }),
    el('p', { text: card.royalty_bps ? t('explore.royalty', { pct: pct(card.royalty_bps) }) : t('work.noroyalty') }));
  if (card.licenses.length) item.append(el('p', { class: 'terms', text: card.licenses.map((l) => l.summary).join('; ') }));
  if (card.tags.length) item.append(tags);
  cardMedia(card).then((m) => { if (m.state === 'ok') thumb.append(mediaNode(m, title)); }).catch(() => {});
  return item;
}

async function explore() {
  const form = $('search');
  let s = searchFromUrl();
  const fill = () => {
    $('q').value = s.q; $('f-chain').value = s.chain; $('f-media').value = s.media;
    $('f-listed').checked = s.listed; $('f-min').value = s.min; $('f-max').value = s.max; $('f-sort').value = s.sort;
    $('f-currency').value = s.currency; $('f-license').value = s.license; $('f-jurisdiction').value = s.jurisdiction;
    const chips = $('tag-chips');
    chips.replaceChildren();
    for (const tag of s.tags) {
      const remove = el('button', { type: 'button', 'data-remove-tag': tag, 'aria-label': t('explore.untag', { tag }), text: `#${tag} ×` });
      remove.addEventListener('click', () => { s = { ...s, tags: s.tags.filter((x) => x !== tag) }; run(); });
      chips.append(remove);
    }
  };
  let cursor = null;
  let shown = 0;
  const more = $('more');
  const addTag = (tag) => { if (!s.tags.includes(tag)) { s = { ...s, tags: [...s.tags, tag] }; run(); } };
  const loadPage = async (reset) => {
    const out = await api('GET', worksQuery(s, reset ? null : cursor));
    const list = $('works');
    if (reset) { list.replaceChildren(); shown = 0; }
    for (const card of out.works) list.append(workCard(card, addTag));
    shown += out.works.length;
    cursor = out.next_cursor;
    more.hidden = !cursor;
    const filtered = s.q || s.tags.length || s.chain || s.media || s.min || s.max || s.currency || s.license || s.jurisdiction;
    $('explore-status').textContent = shown ? t('explore.count', { n: shown })
      : filtered ? t(s.listed ? 'explore.nomatch' : 'explore.nomatch_any') : t(s.listed ? 'explore.empty' : 'explore.empty_any');
  };
  const run = async () => {
    const url = new URL(window.location.href);
    url.search = searchToUrl(s).toString();
    window.history.replaceState(null, '', url);
    fill();
    $('explore-status').textContent = t('common.loading');
    try { await loadPage(true); } catch (err) { $('explore-status').textContent = ''; fail(err); }
  };
  const chainSelect = $('f-chain');
  const currencySelect = $('f-currency');
  for (const c of (await platform()).chains) {
    chainSelect.append(el('option', { value: String(c.chain_id), text: `${c.name} (${c.chain_id})` }));
    if (c.wrapped_ether) currencySelect.append(el('option', { value: c.wrapped_ether, text: t('explore.currency_weth', { chain: c.name }) }));
  }
  if (s.currency && ![...currencySelect.options].some((o) => o.value === s.currency)) {
    currencySelect.append(el('option', { value: s.currency, text: short(s.currency) }));  // a linked token
  }
  liveAuctions().catch(fail);
  action(more, () => loadPage(false));
  submitting(form, async () => {
    s = { ...s, q: $('q').value.trim(), chain: $('f-chain').value, media: $('f-media').value, listed: $('f-listed').checked,
      min: $('f-min').value.trim(), max: $('f-max').value.trim(), sort: $('f-sort').value,
      currency: $('f-currency').value, license: $('f-license').value, jurisdiction: $('f-jurisdiction').value };
    await run();
  });
  await run();
}

// ---------------------------------------------------------------- one work

function licenseWords(l) {
  const parts = [
    l.commercial_use ? t('license.commercial') : t('license.noncommercial'),
    l.derivatives_allowed ? t('license.derivatives') : t('license.noderivatives'),
  ];
  if (l.attribution_required) parts.push(t('license.attribution'));
  parts.push(l.transferable ? t('license.transferable') : t('license.nontransferable'));
  if (l.revocable) parts.push(t('license.revocable'));
  if (l.derivative_revenue_share_bps) parts.push(t('license.share', { pct: pct(l.derivative_revenue_share_bps) }));
  parts.push(l.duration_s ? t('license.duration', { days: Math.round(l.duration_s / 86400) }) : t('license.perpetual'));
  if (BigInt(l.fee_wei) > 0n) parts.push(t('license.fee', { eth: eth(l.fee_wei) }));
  return parts;
}

function dlRows(dl, rows) {
  dl.replaceChildren();
  for (const [k, v] of rows) dl.append(el('dt', { text: k }), el('dd', {}, v));
}

// SVG drawn here, from the API's numbers: no chart library, and each chart says in words what it shows.
const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  for (const c of children) node.append(c);
  return node;
}

/** Sale prices over time: a line through each sale placed at its date (the x axis is time, its first
 * and last dates written under it), its words as the label, and the sales as a list beside it (the
 * chart is a picture of that list). */
function historyChart(sales) {
  const box = $('history');
  box.replaceChildren();
  if (!sales.length) { box.append(el('p', { text: t('work.nohistory') })); return; }
  const ordered = [...sales].sort((a, b) => (a.at < b.at ? -1 : 1));
  const wei = ordered.map((s) => BigInt(s.unit_price.wei));
  const high = wei.reduce((a, b) => (b > a ? b : a));
  const low = wei.reduce((a, b) => (b < a ? b : a));
  const W = 320; const H = 120; const pad = 10; const below = 16;
  // A sale without a time (a block the index could not date) puts the chart back to even spacing.
  const parsed = ordered.map((s) => (s.at ? Date.parse(s.at) : NaN));
  const timed = parsed.every(Number.isFinite);
  const times = timed ? parsed : ordered.map((_, i) => i);
  const span = times.at(-1) - times[0];
  const x = (i) => (span <= 0 ? W / 2 : pad + ((times[i] - times[0]) * (W - 2 * pad)) / span);
  const day = (i) => when(ordered[i].at).slice(0, 10);
  const y = (v) => (high === 0n ? H - pad : H - pad - Number((v * 1000n) / high) * (H - 2 * pad) / 1000);
  const label = t('work.history_chart', { n: ordered.length, first: when(ordered[0].at), last: when(ordered.at(-1).at),
    low: ethWei(low), high: ethWei(high) });
  const axis = !timed ? [] : span <= 0 ? [svg('text', { x: W / 2, y: H + 12, 'text-anchor': 'middle' }, day(0))]
    : [svg('text', { x: pad, y: H + 12, 'text-anchor': 'start' }, day(0)),
      svg('text', { x: W - pad, y: H + 12, 'text-anchor': 'end' }, day(ordered.length - 1))];
  const chart = svg('svg', { class: 'chart', viewBox: `0 0 ${W} ${H + below}`, role: 'img', 'aria-label': label, id: 'history-chart' },
    svg('line', { x1: pad, y1: H - pad, x2: W - pad, y2: H - pad }),
    svg('polyline', { points: wei.map((v, i) => `${x(i)},${y(v)}`).join(' ') }),
    ...wei.map((v, i) => svg('circle', { cx: x(i), cy: y(v), r: 3, 'data-at': ordered[i].at || '' })),
    ...axis);
  const list = el('ul', {});
  for (const s of ordered) list.append(el('li', { text: t('work.history_row', { at: when(s.at), kind: M[`work.sale.${s.kind}`] ? t(`work.sale.${s.kind}`) : s.kind, price: s.unit_price.text }) }));
  box.append(chart, el('p', { text: label }), list);
}

/** The royalty's split as one bar cut in shares (in basis points of the royalty), named in words. */
function splitChart(split) {
  const total = split.reduce((a, s) => a + Number(s.bps), 0) || 1;
  const W = 320; const H = 24;
  let at = 0;
  const parts = split.map((s) => `${short(s.account)} ${pct(s.bps)}%`).join(', ');
  const label = t('work.split_chart', { parts });
  const bars = split.map((s, i) => {
    const w = (Number(s.bps) * W) / total;
    const rect = svg('rect', { x: at, y: 0, width: w, height: H, class: `bar${i % 4}` });
    at += w;
    return rect;
  });
  return svg('svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': label, id: 'split-chart' }, ...bars);
}

/** Works related to this one (shared tags, shared buyers), each with the reason in words. */
async function relatedPanel(chain, collection, token) {
  const list = $('related');
  let out;
  try {
    out = await api('GET', `/works/${chain}/${collection}/${token}/related?limit=6`);
  } catch (err) {
    if (!(err instanceof ApiProblem && err.status === 404)) throw err;
    out = { related: [] };  // not catalogued yet
  }
  list.replaceChildren();
  if (!out.related.length) list.append(el('li', { text: t('work.norelated') }));
  for (const r of out.related) {
    const item = workCard(r.work, (tag) => { window.location.href = `/?tag=${encodeURIComponent(tag)}&listed=0`; });
    item.append(el('p', { class: 'reason', text: r.reason }));
    list.append(item);
  }
}

async function workPage() {
  const { chain, collection, token } = document.body.dataset;
  const [work, info] = await Promise.all([loadWork(chain, collection, token), platform()]);
  const feeBps = BigInt((info.chains.find((c) => String(c.chain_id) === chain) || {}).platform_fee_bps || 0);
  $('work-title').textContent = workTitle(work);
  document.title = `${workTitle(work)} · Chainright`;
  const media = await verifiedMedia(work).catch(() => ({ state: 'none' }));
  const mediaBox = $('media');
  mediaBox.replaceChildren();
  if (media.state === 'ok') {
    mediaBox.append(mediaNode(media, workTitle(work)), el('p', { class: 'ok', text: t(media.cidChecked ? 'work.verified_cid' : 'work.verified', { hash: media.hash, cid: work.cid }) }));
  } else {
    mediaBox.append(el('p', { class: media.state === 'mismatch' ? 'bad' : '', text: t(media.state === 'mismatch' ? 'work.mismatch' : 'work.nomedia') }));
  }
  const edition = work.standard === 'erc1155';
  const rows = edition ? [[t('work.kind'), t('work.edition')]] : [[t('work.owner'), el('code', { text: work.owner })]];
  if (edition && wallet.current() && wallet.address()) {
    const held = await wallet.read({ address: collection, abi: ERC1155_ABI, functionName: 'balanceOf', args: [wallet.address(), BigInt(token)] }).catch(() => null);
    if (held !== null) rows.push([t('work.copies_mine'), held.toString()]);
  }
  rows.push([t('work.cid'), el('code', { text: work.cid })]);
  if (work.rights) {
    rows.push([t('work.hash'), el('code', { text: work.rights.content_hash })],
      [t('work.creator'), el('code', { text: work.rights.creator })],
      [t('work.registered'), new Date(work.rights.registered_at * 1000).toISOString()]);
  }
  dlRows($('rights'), rows);
  const royaltyBox = $('royalty');
  royaltyBox.replaceChildren();
  if (work.royalty) {
    royaltyBox.append(el('p', { text: t('work.royalty_line', { pct: pct(work.royalty.bps), receiver: work.royalty.receiver }) }));
    if (work.royalty.split.length) {
      const ul = el('ul', { 'aria-label': t('work.split') });
      for (const s of work.royalty.split) ul.append(el('li', {}, el('code', { text: s.account }), ` ${pct(s.bps)}%`));
      royaltyBox.append(splitChart(work.royalty.split), ul);
    }
  } else royaltyBox.append(el('p', { text: t('work.noroyalty') }));
  const licBox = $('licenses');
  licBox.replaceChildren();
  if (!work.licenses.length) licBox.append(el('p', { text: t('work.nolicense') }));
  for (const l of work.licenses) {
    const ul = el('ul', { 'data-terms': l.terms_hash });
    for (const w of licenseWords(l)) ul.append(el('li', { text: w }));
    ul.append(el('li', {}, `${t('license.text')}: `, el('code', { text: l.legal_text_cid })));
    licBox.append(ul);
  }
  $('provenance-link').href = `/audit?chain_id=${chain}&collection=${collection}&token_id=${token}`;
  if (edition) {  // many holders: listings of copies; the auction and offers panels are ERC-721's
    historyChart((work.market && work.market.price_history) || []);
    const results = await Promise.allSettled([editionListings(work, chain, collection, token, feeBps),
      splitterPanel(work, chain, async () => { workCache.clear(); await workPage(); }),
      relatedPanel(chain, collection, token)]);
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) fail(failed.reason);
    bindBuy();
    return;
  }
  // A listing whose seller no longer holds the token cannot be filled (the book catches up with the index).
  const listings = (await api('GET', `/market/orders?chain_id=${chain}&token=${collection}&token_id=${token}&side=listing&status=open`))
    .filter((o) => o.signer.toLowerCase() === work.owner.toLowerCase());
  const box = $('listings');
  box.replaceChildren();
  if (!listings.length) box.append(el('p', { text: t('work.nolistings') }));
  for (const o of listings) {
    const me = wallet.token() && wallet.address();
    if (me && o.signer.toLowerCase() === me.toLowerCase()) {
      const cancel = el('button', { type: 'button', 'data-cancel': o.order_hash, text: t('work.cancel') });
      box.append(el('p', {}, `${eth(o.unit_price)} ETH · `, el('code', { text: short(o.signer) }), ' ', cancel));
      action(cancel, async () => {
        notice(t('work.cancel_terms'));
        // The API stops serving the signature at once and hands over the on-chain cancel when the
        // chain would still accept the order ({needs_transaction, detail, tx}).
        const out = await api('POST', `/market/orders/${o.order_hash}/cancel`);
        if (out.needs_transaction && out.tx) {
          await wallet.send(out.tx, t('sign.cancel', { order: short(o.order_hash), token: token, collection: short(collection), price: eth(o.unit_price) }));
        }
        workCache.clear();
        await workPage();
        notice(t('work.cancelled'));
      });
      continue;
    }
    const buy = el('button', { type: 'button', 'data-order': o.order_hash, text: `${t('work.buy')} · ${eth(o.unit_price)} ETH` });
    box.append(el('p', {}, `${eth(o.unit_price)} ETH · `, el('code', { text: short(o.signer) }), ' ', buy));
    action(buy, async () => {
      const price = BigInt(o.unit_price);
      const royalty = work.royalty ? (price * BigInt(work.royalty.bps)) / 10000n : 0n;
      const fee = (price * feeBps) / 10000n;
      $('buy-terms').textContent = t('work.buy_terms', {
        price: eth(price), royalty: eth(royalty), receiver: work.royalty ? work.royalty.receiver : '—',
        fee: eth(fee), seller: eth(price - royalty - fee), signer: o.signer,
      });
      $('buy-panel').hidden = false;
      $('buy-confirm').dataset.order = o.order_hash;
      $('buy-confirm').dataset.amount = '1';
      delete $('buy-confirm').dataset.copies;
      $('buy-confirm').focus();
    });
  }
  historyChart((work.market && work.market.price_history) || []);
  await workPanels(work, chain, collection, token, feeBps);
  bindBuy();
}

/** "Confirm in wallet": fills the order the buy panel states (``data-order``), ``data-amount`` units
 * of it (an edition's copies; 1 for a single work), with the panel's words before the prompt. */
function bindBuy() {
  const confirm = $('buy-confirm');
  if (confirm.dataset.bound) return;
  confirm.dataset.bound = 'true';
  action(confirm, async () => {
    await requireSession();
    const amount = Number(confirm.dataset.amount || 1);
    const tx = await api('POST', `/market/orders/${confirm.dataset.order}/fill-tx`, { amount });
    const receipt = await wallet.send(tx, $('buy-terms').textContent);
    $('buy-panel').hidden = true;
    workCache.clear();
    await workPage();
    notice(t(amount > 1 || confirm.dataset.copies ? 'work.bought_copies' : 'work.bought', { tx: receipt.transactionHash, quantity: amount }));
  });
}

const ORDER_STATUS_ABI = [
  { type: 'function', name: 'orderStatus', stateMutability: 'view', inputs: [{ name: 'orderHash', type: 'bytes32' }], outputs: [{ name: 'cancelled', type: 'bool' }, { name: 'filled', type: 'uint256' }] },
];

/** Copies of an edition for sale: each open listing with its seller, the copies left (signed quantity
 * less what the chain says is filled, none once cancelled or the seller's holding epoch moved on, and
 * no more than the seller still holds: read through the
 * connected wallet; without one, the signed quantity) and the unit price; "buy K copies" refuses a K
 * of none or more than are left before the wallet opens, and states K, unit and total price. */
async function editionListings(work, chain, collection, token, feeBps) {
  const info = (await platform()).chains.find((c) => String(c.chain_id) === chain) || {};
  const orders = await api('GET', `/market/orders?chain_id=${chain}&token=${collection}&token_id=${token}&side=listing&status=open`);
  const reading = Boolean(wallet.current());
  const rows = await Promise.all(orders.map(async (o) => {
    let left = BigInt(o.quantity);
    if (reading && info.marketplace) {
      const [cancelled, filled] = await wallet.read({ address: info.marketplace, abi: ORDER_STATUS_ABI, functionName: 'orderStatus', args: [o.order_hash] }).catch(() => [false, 0n]);
      const held = await wallet.read({ address: collection, abi: ERC1155_ABI, functionName: 'balanceOf', args: [o.signer, BigInt(token)] }).catch(() => left);
      // The listing dies when its seller receives more of the id (the holding epoch it signed moves on).
      const epoch = await wallet.read({ address: collection, abi: ERC721_ABI, functionName: 'holdingEpoch', args: [o.signer, BigInt(token)] }).catch(() => null);
      const dead = cancelled || (epoch !== null && epoch.toString() !== String(o.holding_epoch));
      left = dead ? 0n : left - filled;
      if (held < left) left = held;
    }
    return { o, left };
  }));
  const box = $('listings');
  box.replaceChildren();
  const open = rows.filter((r) => r.left > 0n);
  if (!open.length) box.append(el('p', { text: t('work.nolistings') }));
  const me = ((wallet.token() && wallet.address()) || '').toLowerCase();
  for (const { o, left } of open) {
    const unit = BigInt(o.unit_price);
    const line = el('p', { 'data-listing': o.order_hash },
      t('work.copies_listing', { left: left.toString(), quantity: o.quantity, unit: eth(unit) }), ' · ', el('code', { text: short(o.signer) }));
    box.append(line);
    if (me && o.signer.toLowerCase() === me) {  // the seller's own: withdrawn, on chain where it still could fill
      const cancel = el('button', { type: 'button', 'data-cancel': o.order_hash, text: t('work.cancel') });
      line.append(' ', cancel);
      action(cancel, async () => {
        notice(t('work.cancel_terms'));
        const out = await api('POST', `/market/orders/${o.order_hash}/cancel`);
        if (out.needs_transaction && out.tx) {
          await wallet.send(out.tx, t('sign.cancel', { order: short(o.order_hash), token, collection: short(collection), price: eth(unit) }));
        }
        workCache.clear();
        await workPage();
        notice(t('work.cancelled'));
      });
      continue;
    }
    const id = `copies-${o.order_hash.slice(2, 10)}`;
    const buy = el('button', { type: 'button', 'data-order': o.order_hash, text: t('work.buy_copies') });
    line.append(' ', ...field(id, t('work.copies_to_buy'), { inputmode: 'numeric', size: '5', value: '1' }), buy);
    action(buy, async () => {
      const text = $(id).value.trim();
      const count = Number(text);
      if (!/^[0-9]+$/.test(text) || count < 1 || BigInt(count) > left) {
        throw new Error(t('error.copies_left', { value: text, left: left.toString() }));
      }
      const total = unit * BigInt(count);
      const royalty = work.royalty ? (total * BigInt(work.royalty.bps)) / 10000n : 0n;
      const fee = (total * feeBps) / 10000n;
      $('buy-terms').textContent = t('work.buy_copies_terms', {
        quantity: count, unit: eth(unit), total: eth(total), royalty: eth(royalty),
        receiver: work.royalty ? work.royalty.receiver : '—', fee: eth(fee), seller: eth(total - royalty - fee),
        signer: o.signer, token,
      });
      $('buy-panel').hidden = false;
      $('buy-confirm').dataset.order = o.order_hash;
      $('buy-confirm').dataset.amount = String(count);
      $('buy-confirm').dataset.copies = 'true';
      $('buy-confirm').focus();
    });
  }
}

// ---------------------------------------------------------------- creator studio

const ERC721_ABI = [
  { type: 'function', name: 'holdingEpoch', stateMutability: 'view', inputs: [{ name: 'holder', type: 'address' }, { name: 'tokenId', type: 'uint256' }], outputs: [{ type: 'uint256' }] },
  { type: 'function', name: 'setApprovalForAll', stateMutability: 'nonpayable', inputs: [{ name: 'operator', type: 'address' }, { name: 'approved', type: 'bool' }], outputs: [] },
  { type: 'function', name: 'isApprovedForAll', stateMutability: 'view', inputs: [{ name: 'owner', type: 'address' }, { name: 'operator', type: 'address' }], outputs: [{ type: 'bool' }] },
];
const MARKET_ABI = [
  { type: 'function', name: 'counterOf', stateMutability: 'view', inputs: [{ name: 'signer', type: 'address' }], outputs: [{ type: 'uint256' }] },
];
const TRANSFER_TOPIC = '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef';
const TRANSFER_SINGLE_TOPIC = '0xc3d58168c5ae7397731d063d5bbf3d657854427343f4c083240f7aacaa2d0f62';
const ERC1155_ABI = [
  { type: 'function', name: 'supportsInterface', stateMutability: 'view', inputs: [{ name: 'interfaceId', type: 'bytes4' }], outputs: [{ type: 'bool' }] },
  { type: 'function', name: 'balanceOf', stateMutability: 'view', inputs: [{ name: 'account', type: 'address' }, { name: 'id', type: 'uint256' }], outputs: [{ type: 'uint256' }] },
];
const LISTING_TYPES = {
  Listing: [
    { name: 'seller', type: 'address' }, { name: 'token', type: 'address' }, { name: 'tokenId', type: 'uint256' },
    { name: 'standard', type: 'uint8' }, { name: 'quantity', type: 'uint256' }, { name: 'unitPrice', type: 'uint256' },
    { name: 'currency', type: 'address' }, { name: 'start', type: 'uint64' }, { name: 'expiry', type: 'uint64' },
    { name: 'salt', type: 'uint256' }, { name: 'counter', type: 'uint256' },
    { name: 'holdingEpoch', type: 'uint256' },
  ],
};
const ETH_CURRENCY = '0x0000000000000000000000000000000000000000';

function randomSalt() {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return BigInt(`0x${[...bytes].map((b) => b.toString(16).padStart(2, '0')).join('')}`);
}

async function studio() {
  const home = (await platform()).chains[0];
  const S = sessionStorage;
  const collectionInput = $('collection-address');
  collectionInput.value = localStorage.getItem(`chainright.collection.${wallet.address()}`) || '';
  const saveCollection = (a) => {
    collectionInput.value = a;
    localStorage.setItem(`chainright.collection.${wallet.address()}`, a);
  };
  submitting($('upload-form'), async () => {
    await requireSession();
    const data = new FormData();
    data.append('file', $('file').files[0]);
    const asset = await api('POST', '/assets', data, { form: true });
    S.setItem('studio.cid', asset.cid);
    S.setItem('studio.title', asset.title || asset.filename || asset.cid);
    $('upload-out').textContent = t('studio.uploaded', { cid: asset.cid, hash: asset.content_hash });
  });
  submitting($('collection-form'), async () => {
    await requireSession();
    const royaltyBps = Math.round(Number($('royalty-pct').value) * 100);
    const standard = $('collection-kind').value;
    const out = await api('POST', '/collections/tx', {
      chain_id: home.chain_id, name: $('collection-name').value, symbol: $('collection-symbol').value,
      royalty_bps: royaltyBps, standard,
    });
    $('collection-out').textContent = t(standard === 'erc1155' ? 'studio.collection_terms_editions' : 'studio.collection_terms', {
      name: $('collection-name').value, pct: pct(royaltyBps), receiver: wallet.address(),
    });
    await wallet.send(out.transaction, $('collection-out').textContent);
    saveCollection(out.predicted_address);
    $('collection-out').textContent = t('studio.collection_done', { address: out.predicted_address });
  });
  action($('mint'), async () => {
    // One work, several copies of it (an ERC-1155 editions collection: one id; an ERC-721 collection:
    // sequential tokens), or more copies of a work already minted (its id): said in words first.
    const quantityText = $('mint-quantity').value.trim() || '1';
    const quantity = Number(quantityText);
    if (!Number.isInteger(quantity) || quantity < 1 || quantity > 10000) throw new Error(t('error.quantity', { value: quantityText }));
    const moreOf = $('mint-more-of').value.trim();
    await requireSession();
    const collection = collectionInput.value;
    const title = S.getItem('studio.title') || S.getItem('studio.cid');
    const body = { chain_id: home.chain_id, collection, quantity, ...(moreOf ? { token_id: moreOf } : {}) };
    const tx = await api('POST', `/assets/${S.getItem('studio.cid')}/mint-tx`, body);
    $('mint-out').textContent = moreOf ? t('studio.mint_more_terms', { quantity, title, token: moreOf, collection })
      : t(quantity === 1 ? 'studio.mint_terms' : 'studio.mint_copies_terms', { quantity, title, collection });
    const receipt = await wallet.send(tx, $('mint-out').textContent);
    const ours = receipt.logs.filter((l) => l.address.toLowerCase() === collection.toLowerCase());
    const single = ours.find((l) => l.topics[0] === TRANSFER_SINGLE_TOPIC);
    if (single) {  // ERC-1155: TransferSingle(operator, from, to, id, value), id and value in data
      const tokenId = BigInt(single.data.slice(0, 66)).toString();
      const held = await wallet.read({ address: collection, abi: ERC1155_ABI, functionName: 'balanceOf', args: [wallet.address(), BigInt(tokenId)] });
      $('token-id').value = tokenId;
      $('mint-out').textContent = t('studio.minted_copies', { token: tokenId, quantity, held: held.toString() });
      return;
    }
    const ids = ours.filter((l) => l.topics[0] === TRANSFER_TOPIC && l.topics.length === 4).map((l) => BigInt(l.topics[3]).toString());
    $('token-id').value = ids[0];
    $('mint-out').textContent = ids.length === 1 ? t('studio.minted', { token: ids[0] })
      : t('studio.minted_range', { first: ids[0], last: ids.at(-1), quantity: ids.length });
  });
  submitting($('license-form'), async () => {
    await requireSession();
    const collection = collectionInput.value;
    const tokenId = $('token-id').value;
    const out = await api('POST', '/licenses/tx', {
      chain_id: home.chain_id, collection, token_ids: [tokenId], template: $('license-template').value,
      fee_wei: parseEther($('license-fee').value.trim()).toString(),
    });
    const terms = out.terms;
    const words = licenseWords({
      commercial_use: terms.commercialUse, derivatives_allowed: terms.derivativesAllowed,
      attribution_required: terms.attributionRequired, transferable: terms.transferable, revocable: terms.revocable,
      derivative_revenue_share_bps: terms.derivativeRevenueShareBps, duration_s: terms.duration, fee_wei: terms.fee,
    });
    const txs = [...(out.publish ? [out.publish] : []), ...out.attach];
    $('license-terms').textContent = t('studio.license_terms', { count: txs.length, token: tokenId, words: words.join('; ') });
    for (const [i, tx] of txs.entries()) {
      await wallet.send(tx, `${$('license-terms').textContent} (${i + 1}/${txs.length})`);
    }
    $('license-out').textContent = t('studio.licensed', { hash: out.terms_hash, token: tokenId });
  });
  submitting($('list-form'), async () => {
    await requireSession();
    const seller = wallet.address();
    const collection = collectionInput.value;
    const tokenId = BigInt($('token-id').value);
    const price = parseEther($('price').value.trim());
    const market = home.marketplace;
    // An editions (ERC-1155) collection sells copies: a number of them, at most those held, said in words.
    const editions = await wallet.read({ address: collection, abi: ERC1155_ABI, functionName: 'supportsInterface', args: ['0xd9b67a26'] }).catch(() => false);
    let quantity = 1n;
    if (editions) {
      const text = $('list-quantity').value.trim();
      const held = await wallet.read({ address: collection, abi: ERC1155_ABI, functionName: 'balanceOf', args: [seller, tokenId] });
      if (!/^[0-9]+$/.test(text) || BigInt(text) < 1n) throw new Error(t('error.list_copies', { value: text, token: tokenId }));
      quantity = BigInt(text);
      if (quantity > held) throw new Error(t('error.list_copies_held', { quantity: text, held: held.toString(), token: tokenId }));
    }
    const approved = await wallet.read({ address: collection, abi: ERC721_ABI, functionName: 'isApprovedForAll', args: [seller, market] });
    if (!approved) {
      $('list-terms').textContent = t('studio.approve_terms', { market });
      const data = encodeFunctionData({ abi: ERC721_ABI, functionName: 'setApprovalForAll', args: [market, true] });
      await wallet.send({ chain_id: home.chain_id, from: seller, to: collection, data, value: '0x0' },
        $('list-terms').textContent);
    }
    const counter = await wallet.read({ address: market, abi: MARKET_ABI, functionName: 'counterOf', args: [seller] });
    // The listing dies once the token leaves the seller: it binds the collection's holding epoch now.
    const holdingEpoch = await wallet.read({ address: collection, abi: ERC721_ABI, functionName: 'holdingEpoch', args: [seller, tokenId] });
    const now = Math.floor(Date.now() / 1000);
    const expiry = now + Number($('days').value) * 86400;
    const message = {
      seller, token: collection, tokenId, standard: editions ? 1 : 0, quantity, unitPrice: price, currency: ETH_CURRENCY,
      start: BigInt(now - 60), expiry: BigInt(expiry), salt: randomSalt(), counter, holdingEpoch,
    };
    const work = await loadWork(home.chain_id, collection, tokenId.toString()).catch(() => null);
    const royaltyBps = BigInt(work && work.royalty ? work.royalty.bps : 0);
    const feeBps = BigInt(home.platform_fee_bps || 0);
    const royalty = (price * royaltyBps) / 10000n;
    const fee = (price * feeBps) / 10000n;
    const until = new Date(expiry * 1000).toISOString();
    $('list-terms').textContent = `${editions ? t('studio.list_copies_terms', {
      market, chain: home.chain_id, quantity, title: work ? workTitle(work) : `#${tokenId}`, token: tokenId, collection,
      price: formatEther(price), expiry: until,
    }) : t('studio.list_terms', {
      market, chain: home.chain_id, token: tokenId, collection, price: formatEther(price), expiry: until,
    })} ${t(editions ? 'studio.list_split_copies' : 'studio.list_split', {
      royalty_pct: pct(royaltyBps), royalty: formatEther(royalty),
      receiver: work && work.royalty ? work.royalty.receiver : '—', fee_pct: pct(feeBps), fee: formatEther(fee),
      receive: formatEther(price - royalty - fee),
    })}`;
    const domain = { ...home.eip712_domain, chainId: BigInt(home.eip712_domain.chainId) };
    const signature = await wallet.signListing({ domain, types: LISTING_TYPES, primaryType: 'Listing', message },
      $('list-terms').textContent);
    const order = await api('POST', '/market/orders', {
      chain_id: home.chain_id, side: 'listing', signer: seller, token: collection, token_id: tokenId.toString(),
      ...(editions ? { standard: 'erc1155', quantity: Number(quantity) } : {}), unit_price: price.toString(), start: now - 60, expiry, salt: message.salt.toString(),
      counter: counter.toString(), holding_epoch: holdingEpoch.toString(), signature,
    });
    const out = $('list-out');
    out.replaceChildren(t('studio.listed', { order: order.order_hash }), ' ',
      el('a', { href: `/work/${home.chain_id}/${collection}/${tokenId}`, text: t('studio.view') }));
  });
}

// ---------------------------------------------------------------- auditor

async function audit() {
  const { chain, collection, token } = document.body.dataset;
  if (!chain || !collection || !token) return;
  const out = $('audit-out');
  out.replaceChildren(el('p', { text: t('common.loading') }));
  let story;
  try {
    story = await api('GET', `/provenance/${chain}/${collection}/${token}`);
  } catch (err) {
    out.replaceChildren(el('p', { text: err.status === 404 ? t('audit.none') : t('error.generic', { detail: err.message }) }));
    return;
  }
  const info = (await platform()).chains.find((c) => String(c.chain_id) === chain) || {};
  const file = `provenance-${chain}-${collection}-${token}.json`;
  const parts = ['chainright verify', file];
  // The work's file too, named by its CID (never by an uploader's file name: the command is pasted in a shell).
  const work = await loadWork(chain, collection, token).catch(() => null);
  const EXT = { 'image/png': '.png', 'image/jpeg': '.jpg', 'image/gif': '.gif', 'image/webp': '.webp',
    'image/svg+xml': '.svg', 'audio/mpeg': '.mp3', 'video/mp4': '.mp4', 'text/plain': '.txt', 'application/pdf': '.pdf' };
  const content = work && work.rights ? work.cid + (EXT[work.media_type] || '') : null;
  if (content) parts.push('--content', content);
  if (info.rights_registry) parts.push('--rights-registry', info.rights_registry);
  if (info.identity_registry) parts.push('--identity-registry', info.identity_registry);
  const table = el('table', {}, el('thead', {}, el('tr', {}, ...['#', 'chain', 'block', 'time', 'event', 'tx'].map((h) => el('th', { scope: 'col', text: h === '#' ? h : t(`audit.col.${h}`) })))));
  const body = el('tbody');
  story.entries.forEach((e, i) => body.append(el('tr', {},
    el('td', { text: i + 1 }), el('td', { text: e.chain_id }), el('td', { text: e.block_number }),
    el('td', { text: e.block_time ? new Date(e.block_time * 1000).toISOString() : '' }),
    el('td', { text: e.event }), el('td', {}, el('code', { text: short(e.tx_hash) })))));
  table.append(body);
  out.replaceChildren(
    el('p', {}, `${t('audit.content_check')}: `, el('strong', { text: story.content_check })),
    ...story.entries.filter((e) => e.creator).slice(0, 1).map((e) => el('p', { id: 'audit-creator' },
      t('audit.creator', { did: e.creator.did, status: e.creator.kyc.status, level: e.creator.kyc.level ?? '—', country: e.creator.kyc.country ?? '—' }))),
    el('h2', { text: t('audit.timeline') }), table,
    el('p', {}, el('a', { id: 'bundle-link', href: `/provenance/${chain}/${collection}/${token}/bundle`, download: file, text: t('audit.bundle') })),
    content ? el('p', {}, el('a', { id: 'content-link', href: `/assets/${work.cid}/content`, download: content, text: t('audit.content') })) : '',
    el('p', { text: `${t('audit.verify')}:` }),
    el('pre', {}, el('code', { id: 'verify-command', text: parts.join(' ') })));
}

// ---------------------------------------------------------------- my account: KYC

async function account() {
  const status = $('kyc-status');
  const load = async () => {
    if (!wallet.token()) { status.textContent = t('wallet.need'); return; }
    const s = await api('GET', '/kyc/status');
    if (!s.state) { status.textContent = t('account.status_none'); return; }
    status.textContent = t('account.status_line', {
      state: t(`account.state.${s.state}`), verified: s.verified ? t('common.yes') : t('common.no'),
    });
    $('apply-form').hidden = s.state === 'submitted' || s.verified;
  };
  submitting($('apply-form'), async () => {
    await requireSession();
    await api('POST', '/kyc/applications', {
      legal_name: $('legal-name').value, date_of_birth: $('dob').value, country: $('country').value.toUpperCase(),
      document_type: $('doc-type').value, document_number: $('doc-number').value,
    });
    notice(t('account.submitted'));
    await load();
  });
  window.addEventListener('chainright:session', load);
  await load();
}

// ---------------------------------------------------------------- operator: KYC queue

async function operator() {
  const status = $('operator-status');
  const queue = $('queue');
  const load = async () => {
    if (!wallet.token()) { status.textContent = t('wallet.need'); return; }
    let me;
    try { me = await api('GET', '/auth/me'); } catch { status.textContent = t('wallet.need'); return; }
    if (!me.roles.includes('kyc_officer')) { status.textContent = t('operator.need'); queue.replaceChildren(); return; }
    const state = $('kyc-state').value;
    const apps = await api('GET', `/kyc/applications?state=${state}`);
    status.textContent = apps.length ? '' : t(`operator.empty_${state}`);
    queue.replaceChildren();
    for (const a of apps) {
      if (a.state === 'approved') { queue.append(revocable(a, load)); continue; }
      if (a.state !== 'submitted') { queue.append(decided(a)); continue; }
      const level = el('input', { id: `level-${a.id}`, type: 'number', min: 1, max: 3, value: 1 });
      const reason = el('input', { id: `reason-${a.id}`, minlength: 3, maxlength: 500 });
      const approve = el('button', { type: 'button', text: t('operator.approve') });
      const details = el('button', { type: 'button', 'aria-expanded': 'false', text: t('operator.details') });
      const personal = el('dl', { hidden: true });
      action(details, async () => {
        const full = await api('GET', `/kyc/applications/${a.id}`);
        const p = full.personal_data || {};
        dlRows(personal, [[t('account.legal_name'), p.legal_name || ''], [t('account.dob'), p.date_of_birth || ''],
          [t('operator.document'), `${t(`account.${p.document_type}`)} ${p.document_number || ''}`]]);
        personal.hidden = false;
        details.setAttribute('aria-expanded', 'true');
      });
      const reject = el('button', { type: 'button', text: t('operator.reject') });
      const item = el('section', { 'data-application': a.id, 'aria-label': a.id },
        el('dl', {}, el('dt', { text: t('operator.address') }), el('dd', {}, el('code', { text: a.address || a.subject })),
          el('dt', { text: t('operator.country') }), el('dd', { text: a.country }),
          el('dt', { text: t('operator.submitted') }), el('dd', { text: a.submitted_at }),
          el('dt', { text: t('operator.sanctions') }), el('dd', { text: a.sanctions_match ? t('common.yes') : t('common.no') })),
        el('p', {}, details), personal,
        el('p', {}, el('label', { for: `level-${a.id}`, text: t('operator.level') }), ' ', level, ' ', approve),
        el('p', {}, el('label', { for: `reason-${a.id}`, text: t('operator.reason') }), ' ', reason, ' ', reject));
      action(approve, async () => {
        await api('POST', `/kyc/applications/${a.id}/approve`, { level: Number(level.value) });
        notice(t('operator.approved'));
        await load();
      });
      action(reject, async () => {
        await api('POST', `/kyc/applications/${a.id}/reject`, { reason: reason.value });
        notice(t('operator.rejected'));
        await load();
      });
      queue.append(item);
    }
  };
  $('kyc-state').addEventListener('change', () => load().catch(fail));
  window.addEventListener('chainright:session', load);
  await load();
}

function applicationFacts(a) {
  return el('dl', {}, el('dt', { text: t('operator.address') }), el('dd', {}, el('code', { text: a.address || a.subject })),
    el('dt', { text: t('operator.country') }), el('dd', { text: a.country }),
    el('dt', { text: t('operator.state') }), el('dd', { text: t(`account.state.${a.state}`) }),
    ...(a.level ? [el('dt', { text: t('operator.level') }), el('dd', { text: a.level })] : []),
    ...(a.reason ? [el('dt', { text: t('operator.reason') }), el('dd', { text: a.reason })] : []),
    el('dt', { text: t('operator.submitted') }), el('dd', { text: a.submitted_at }));
}

function decided(a) {
  return el('section', { 'data-application': a.id, 'aria-label': a.id }, applicationFacts(a));
}

/** An approved application, with revoke (a reason; the API and every chain stop verifying the wallet). */
function revocable(a, reload) {
  const reason = el('input', { id: `revoke-reason-${a.id}`, minlength: 3, maxlength: 500 });
  const revoke = el('button', { type: 'button', text: t('operator.revoke') });
  action(revoke, async () => {
    await api('POST', `/kyc/applications/${a.id}/revoke`, { reason: reason.value });
    await reload();
    notice(t('operator.revoked'));
  });
  return el('section', { 'data-application': a.id, 'aria-label': a.id }, applicationFacts(a),
    el('p', {}, el('label', { for: `revoke-reason-${a.id}`, text: t('operator.revoke_reason') }), ' ', reason, ' ', revoke));
}

/** The signed-in caller's roles, or null (with the status saying what is needed) when not signed in. */
async function rolesOr(status) {
  if (!wallet.token()) { status.textContent = t('wallet.need'); return null; }
  try { return (await api('GET', '/auth/me')).roles; } catch { status.textContent = t('wallet.need'); return null; }
}

const when = (iso) => (iso ? new Date(iso).toISOString().replace('.000Z', 'Z') : '—');

// ---------------------------------------------------------------- operator: circuit breakers and halts

const POLICY_FIELDS = ['band_bps', 'move_bps', 'cooldown_s', 'max_rejections', 'min_distinct_accounts', 'reference_fills'];

async function operatorRisk() {
  const status = $('risk-status');
  const list = $('breakers');
  const load = async () => {
    const roles = await rolesOr(status);
    if (!roles) { list.replaceChildren(); return; }
    if (!roles.includes('risk')) { status.textContent = t('risk.need'); list.replaceChildren(); return; }
    const rows = await api('GET', '/console/breakers');
    status.textContent = rows.length ? t('risk.count', { count: rows.length, halted: rows.filter((r) => r.halted).length }) : t('risk.empty');
    list.replaceChildren();
    for (const r of rows) list.append(breakerRow(r, load));
  };
  submitting($('risk-lookup'), async () => {
    const chain = $('risk-chain').value.trim();
    const collection = $('risk-collection').value.trim();
    const view = await api('GET', `/market/breaker/${chain}/${collection}`);
    list.prepend(breakerRow({ chain_id: Number(chain), collection, policy: view.policy, halted_until: view.halted_until,
      halted: Boolean(view.halted_until && new Date(view.halted_until) > new Date()), last_reason: (view.decisions[0] || {}).reason }, load));
  });
  window.addEventListener('chainright:session', load);
  await load();
}

function breakerRow(r, reload) {
  const id = `${r.chain_id}-${r.collection}`;
  const facts = el('p', { class: r.halted ? 'halted' : '' },
    r.halted ? el('strong', { text: t('risk.halted', { until: when(r.halted_until) }) }) : t('risk.trading'),
    r.last_reason ? ` ${t('risk.last_reason', { reason: r.last_reason })}` : '');
  const form = el('form', { class: 'inline', 'data-policy': id });
  for (const f of POLICY_FIELDS) {
    form.append(el('label', { for: `${f}-${id}`, text: t(`risk.field.${f}`) }),
      el('input', { id: `${f}-${id}`, name: f, type: 'number', min: 1, value: r.policy[f], size: 6 }));
  }
  const ref = el('input', { id: `ref-${id}`, name: 'operator_reference', inputmode: 'decimal', size: 8,
    value: r.policy.operator_reference ? formatEther(BigInt(r.policy.operator_reference)) : '' });
  form.append(el('label', { for: `ref-${id}`, text: t('risk.field.operator_reference') }), ref,
    el('button', { type: 'submit', text: t('risk.save') }));
  submitting(form, async () => {
    const changes = {};
    for (const f of POLICY_FIELDS) {
      const v = Number(form.elements[f].value);
      if (v !== Number(r.policy[f])) changes[f] = v;
    }
    const refText = ref.value.trim();
    const refWei = refText ? parseEther(refText).toString() : null;
    if (String(refWei) !== String(r.policy.operator_reference ?? null)) changes.operator_reference = refWei === null ? null : Number(refWei);
    await api('PATCH', `/market/breaker/${r.chain_id}/${r.collection}`, changes);
    await reload();
    notice(t('risk.saved', { collection: r.collection, fields: Object.keys(changes).join(', ') || '—' }));
  });
  const section = el('section', { 'data-breaker': id, 'aria-label': `${r.chain_id} ${r.collection}` },
    el('h2', {}, `${t('risk.collection')} `, el('code', { text: r.collection }), ` · ${t('risk.chain', { chain: r.chain_id })}`),
    facts, form);
  if (r.halted) {
    const lift = el('button', { type: 'button', 'data-lift': id, text: t('risk.lift') });
    action(lift, async () => {
      await api('POST', `/market/breaker/${r.chain_id}/${r.collection}/lift`);
      await reload();
      notice(t('risk.lifted', { collection: r.collection }));
    });
    facts.append(' ', lift);
  }
  return section;
}

// ---------------------------------------------------------------- operator: the bridge's backlog

async function operatorBridge() {
  const status = $('bridge-status');
  const out = $('bridge-out');
  const roles = await rolesOr(status);
  const load = async () => {
    const mine = roles || await rolesOr(status);
    if (!mine) return;
    if (!mine.includes('risk')) { status.textContent = t('bridge.need'); out.replaceChildren(); return; }
    const b = await api('GET', '/console/bridge');
    if (!b.readable) { status.textContent = t('bridge.unreadable'); out.replaceChildren(); return; }
    status.textContent = b.transfers.length ? t('bridge.count', { count: b.transfers.length }) : t('bridge.empty');
    const cols = ['status', 'route', 'token', 'recipient', 'attempts', 'age', 'reason'];
    const table = el('table', { id: 'bridge-transfers' }, el('caption', { text: t('bridge.transfers') }),
      el('thead', {}, el('tr', {}, ...cols.map((c) => el('th', { scope: 'col', text: t(`bridge.col.${c}`) })))));
    const body = el('tbody');
    for (const x of b.transfers) {
      body.append(el('tr', { 'data-transfer': x.transfer_id, class: x.status },
        el('td', { text: t(`bridge.state.${x.status}`) }), el('td', { text: `${x.source_chain_id} → ${x.dest_chain_id}` }),
        el('td', {}, el('code', { text: short(x.collection) }), ` #${x.token_id}`), el('td', {}, el('code', { text: short(x.recipient) })),
        el('td', { text: x.attempts }), el('td', { text: t('bridge.age', { minutes: Math.floor(x.age_s / 60) }) }),
        el('td', { text: x.reason || '—' })));
    }
    table.append(body);
    const parts = [table];
    if (b.held.length) {
      const held = el('table', { id: 'bridge-held' }, el('caption', { text: t('bridge.held') }),
        el('thead', {}, el('tr', {}, ...['worker', 'chain', 'tx', 'attempts', 'reason'].map((c) => el('th', { scope: 'col', text: t(`bridge.hcol.${c}`) })))));
      const hb = el('tbody');
      for (const h of b.held) {
        hb.append(el('tr', {}, el('td', { text: h.worker }), el('td', { text: h.chain_id }), el('td', {}, el('code', { text: short(h.tx_hash) })),
          el('td', { text: `${h.attempts}${h.stuck ? ` (${t('bridge.state.stuck')})` : ''}` }), el('td', { text: h.reason })));
      }
      held.append(hb);
      parts.push(held);
    }
    out.replaceChildren(...parts);
  };
  window.addEventListener('chainright:session', load);
  await load();
}

// ---------------------------------------------------------------- collector: holdings and open orders

async function collector() {
  const status = $('collector-status');
  const load = async () => {
    const me = wallet.address();
    if (!me || !wallet.current()) { status.textContent = t('collector.connect'); return; }
    status.textContent = t('collector.for', { address: me });
    const [held, orders, info] = await Promise.all([api('GET', `/wallets/${me}/holdings`), api('GET', `/wallets/${me}/orders?status=open`), platform()]);
    const extras = Promise.allSettled([myLicenses(me), myTransfers(me)]);
    const list = $('holdings');
    // Built first and put in place at once: two loads running side by side (connect, then sign-in)
    // each replace the whole list, instead of both appending to it (a holding listed twice).
    const items = [];
    if (!held.length) items.push(el('li', { text: t('collector.noholdings') }));
    for (const h of held) {
      const work = await loadWork(h.chain_id, h.collection, h.token_id).catch(() => null);
      items.push(el('li', { 'data-holding': `${h.chain_id}/${h.collection}/${h.token_id}` },
        el('a', { href: `/work/${h.chain_id}/${h.collection}/${h.token_id}`, text: work ? workTitle(work) : `${short(h.collection)} #${h.token_id}` }),
        ` · ${t('collector.chain', { chain: h.chain_id })}`,
        h.standard === 'erc1155' ? ` · ${t('collector.edition', { quantity: h.quantity })}` : '',
        h.confirmed ? '' : ` · ${t('collector.unconfirmed')}`, ' ', bridgeButton(h, info.chains.filter((c) => c.marketplace), load)));
    }
    list.replaceChildren(...items);
    const box = $('orders');
    box.replaceChildren();
    if (!orders.length) box.append(el('p', { text: t('collector.noorders') }));
    for (const o of orders) {
      const cancel = el('button', { type: 'button', 'data-cancel': o.order_hash, text: t('collector.cancel') });
      box.append(el('p', { 'data-order': o.order_hash },
        t(`collector.${o.side}`, { token: o.token_id, collection: short(o.token), price: eth(o.unit_price), expiry: new Date(o.expiry * 1000).toISOString() }),
        ' ', cancel));
      action(cancel, async () => {
        await requireSession();
        const out = await api('POST', `/market/orders/${o.order_hash}/cancel`);
        if (out.needs_transaction && out.tx) {
          await wallet.send(out.tx, t('sign.cancel', { order: short(o.order_hash), token: o.token_id, collection: short(o.token), price: eth(o.unit_price) }));
        }
        await load();
        notice(out.needs_transaction ? t('collector.cancelled_chain') : t('collector.cancelled', { detail: out.detail }));
      });
    }
    const failed = (await extras).find((r) => r.status === 'rejected');
    if (failed) fail(failed.reason);
  };
  window.addEventListener('chainright:session', load);
  window.addEventListener('chainright:wallet', () => load().catch(fail));
  await load();
}

// ---------------------------------------------------------------- amounts and times in words

/** "0.5 ETH (500000000000000000 wei)": what a person reads and what a program copies. */
const ethWei = (wei) => t('amount', { eth: eth(wei), wei: BigInt(wei).toString() });
const AMOUNT = /^[0-9]+(\.[0-9]{1,18})?$/;

/** An amount typed in ETH as wei; anything else is refused with words before the API is asked. */
function weiOf(text) {
  const value = String(text).trim();
  if (!AMOUNT.test(value)) throw new Error(t('error.amount', { value }));
  return parseEther(value);
}

function field(id, label, attrs = {}) {
  const input = el('input', { id, name: id, ...attrs });
  return [el('label', { for: id, text: label }), ' ', input, ' '];
}

/** Send the approval the API handed over first (``approval`` present), then ask it again for the
 * simulated transaction itself (``again``). */
async function approvedThen(out, again, words) {
  if (!out.approval) return out;
  await wallet.send(out.approval, words);
  return again();
}

// ---------------------------------------------------------------- work page: auctions

async function auctionPanel(work, chain, collection, token, reload) {
  const box = $('auction');
  const me = (wallet.address() || '').toLowerCase();
  const open = (await api('GET', `/auctions?chain_id=${chain}&token=${collection}&status=open`))
    .filter((a) => a.token_id === String(token));
  box.replaceChildren();
  for (const a of open) box.append(auctionItem(a, me, reload));
  if (open.length) return;
  box.append(el('p', { text: t('auction.none') }));
  if (me && work.owner.toLowerCase() === me) box.append(auctionForm(chain, collection, token, reload));
}

function auctionItem(a, me, reload) {
  const ended = a.status === 'open' && !a.live && a.end && new Date(a.end) <= new Date();
  const minutes = Math.round(a.extension_s / 60);
  const facts = [t('auction.facts', { id: a.auction_id, reserve: a.reserve.text, end: when(a.end) })];
  if (minutes > 0) facts.push(t('auction.extends', { minutes }));
  facts.push(a.high_bidder ? t('auction.high', { bid: a.high_bid.text, bidder: a.high_bidder }) : t('auction.nobid'));
  if (a.live && a.minimum_bid) facts.push(t('auction.minimum', { minimum: a.minimum_bid.text }));
  if (ended) facts.push(t('auction.ended'));
  const item = el('div', { 'data-auction': a.auction_id }, el('p', { text: facts.join(' ') }));
  const base = `/auctions/${a.chain_id}/${a.auction_id}`;
  if (a.live && a.seller.toLowerCase() !== me) {
    const id = `bid-${a.auction_id}`;
    const form = el('form', { class: 'inline' }, ...field(id, t('auction.bid_amount'),
      { inputmode: 'decimal', size: 12, required: true, value: a.minimum_bid ? a.minimum_bid.eth : '' }),
    el('button', { type: 'submit', text: t('auction.bid') }));
    submitting(form, async () => {
      const wei = weiOf(form.elements[id].value);
      await requireSession();
      const tx = await api('POST', `${base}/bid-tx`, { amount_wei: wei.toString() });
      await wallet.send(tx, t('sign.bid', { amount: ethWei(wei), id: a.auction_id, token: a.token_id, collection: a.token, end: when(a.end) }));
      await reload();
      notice(t('auction.bid_done', { amount: ethWei(wei), id: a.auction_id }));
    });
    item.append(form);
  }
  if (ended) {
    const settle = el('button', { type: 'button', 'data-settle': a.auction_id, text: t('auction.settle') });
    action(settle, async () => {
      await requireSession();
      const tx = await api('POST', `${base}/settle-tx`);
      await wallet.send(tx, a.high_bidder
        ? t('sign.settle', { id: a.auction_id, token: a.token_id, bidder: a.high_bidder, bid: a.high_bid.text, seller: a.seller })
        : t('sign.settle_nobid', { id: a.auction_id, token: a.token_id, seller: a.seller }));
      await reload();
      notice(t('auction.settled', { id: a.auction_id }));
    });
    item.append(el('p', {}, settle));
  }
  if (a.status === 'open' && !a.high_bidder && a.seller.toLowerCase() === me) {
    const cancel = el('button', { type: 'button', 'data-cancel-auction': a.auction_id, text: t('auction.cancel') });
    action(cancel, async () => {
      await requireSession();
      const tx = await api('POST', `${base}/cancel-tx`);
      await wallet.send(tx, t('sign.auction_cancel', { id: a.auction_id, token: a.token_id }));
      await reload();
      notice(t('auction.cancelled', { id: a.auction_id }));
    });
    item.append(el('p', {}, cancel));
  }
  return item;
}

function auctionForm(chain, collection, token, reload) {
  const form = el('form', { class: 'inline', id: 'auction-form' },
    ...field('auction-reserve', t('auction.reserve'), { inputmode: 'decimal', size: 10, required: true }),
    ...field('auction-hours', t('auction.hours'), { type: 'number', min: '0.01', step: 'any', value: 72, size: 6 }),
    ...field('auction-extension', t('auction.extension'), { type: 'number', min: 0, max: 60, value: 5, size: 4 }),
    el('button', { type: 'submit', text: t('auction.create') }));
  submitting(form, async () => {
    const reserve = weiOf($('auction-reserve').value);
    const end = new Date(Date.now() + Number($('auction-hours').value) * 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const minutes = Number($('auction-extension').value);
    await requireSession();
    const body = { chain_id: Number(chain), token: collection, token_id: String(token), reserve_wei: reserve.toString(),
      end, extension_s: Math.round(minutes * 60) };
    const first = await api('POST', '/auctions/tx', body);
    const market = first.transaction.to;
    const out = await approvedThen(first, () => api('POST', '/auctions/tx', body),
      t('sign.approve_market', { market, collection }));
    await wallet.send(out.transaction, t('sign.auction_create', { token, collection, reserve: ethWei(reserve), end, minutes, market }));
    await reload();
    notice(t('auction.created', { id: out.auction_id }));
  });
  return form;
}

/** Explore: every live auction on every chain served, each linking to its work. */
async function liveAuctions() {
  const list = $('live-auctions');
  const chains = (await platform()).chains.filter((c) => c.marketplace);
  const found = (await Promise.all(chains.map((c) => api('GET', `/auctions?chain_id=${c.chain_id}`).catch(() => [])))).flat();
  list.replaceChildren();
  if (!found.length) list.append(el('li', { text: t('auction.nolive') }));
  for (const a of found) {
    const work = await loadWork(a.chain_id, a.token, a.token_id).catch(() => null);
    list.append(el('li', { 'data-auction': `${a.chain_id}/${a.auction_id}` },
      el('a', { href: `/work/${a.chain_id}/${a.token}/${a.token_id}`, text: work ? workTitle(work) : `${short(a.token)} #${a.token_id}` }),
      ` · ${a.high_bidder ? t('auction.high_short', { bid: a.high_bid.text }) : t('auction.reserve_short', { reserve: a.reserve.text })}`,
      ` · ${t('auction.ends', { end: when(a.end) })}`));
  }
}

// ---------------------------------------------------------------- work page: offers in wrapped ETH

/** The EIP-712 message with its unsigned integers as BigInt (the API sends them as decimal strings). */
function typedForWallet(typed) {
  const [primary] = Object.keys(typed.types).filter((k) => k !== 'EIP712Domain');
  const message = { ...typed.message };
  for (const f of typed.types[primary]) if (f.type.startsWith('uint')) message[f.name] = BigInt(message[f.name]);
  const types = { [primary]: typed.types[primary] };
  return { domain: { ...typed.domain, chainId: BigInt(typed.domain.chainId) }, types, primaryType: typed.primaryType, message };
}

async function offersPanel(work, chain, collection, token, feeBps, reload) {
  const box = $('offers');
  const me = (wallet.address() || '').toLowerCase();
  const offers = await api('GET', `/offers?chain_id=${chain}&token=${collection}&token_id=${token}`);
  const owner = me && work.owner.toLowerCase() === me;
  box.replaceChildren();
  if (!offers.length) box.append(el('p', { text: t('offer.none') }));
  for (const o of offers) {
    const row = el('p', { 'data-offer': o.order_hash }, t('offer.line', { total: o.total.text, buyer: o.buyer, expiry: when(o.expiry) }),
      o.funded === false ? ` ${t('offer.unfunded')}` : '');
    box.append(row);
    if (owner) {
      const accept = el('button', { type: 'button', 'data-accept': o.order_hash, text: t('offer.accept') });
      row.append(' ', accept);
      action(accept, async () => {
        await requireSession();
        const path = `/offers/${o.order_hash}/accept-tx`;
        const first = await api('POST', path, { amount: 1 });
        const out = await approvedThen(first, () => api('POST', path, { amount: 1 }),
          t('sign.approve_market', { market: first.transaction.to, collection }));
        const price = BigInt(out.proceeds.wei);
        const royalty = work.royalty ? (price * BigInt(work.royalty.bps)) / 10000n : 0n;
        const fee = (price * feeBps) / 10000n;
        await wallet.send(out.transaction, t('sign.accept', {
          price: ethWei(price), buyer: o.buyer, token, royalty: ethWei(royalty), receiver: work.royalty ? work.royalty.receiver : '—',
          fee: ethWei(fee), receive: ethWei(price - royalty - fee),
        }));
        await reload();
        notice(t('offer.accepted', { buyer: o.buyer }));
      });
    } else if (me && o.buyer.toLowerCase() === me) {
      const cancel = el('button', { type: 'button', 'data-cancel-offer': o.order_hash, text: t('offer.cancel') });
      row.append(' ', cancel);
      action(cancel, async () => {
        await requireSession();
        const out = await api('POST', `/offers/${o.order_hash}/cancel`);
        if (out.needs_transaction && out.tx) await wallet.send(out.tx, t('sign.offer_cancel', { total: o.total.text, token }));
        await reload();
        notice(out.needs_transaction ? t('offer.cancelled_chain') : t('offer.cancelled', { detail: out.detail }));
      });
    }
  }
  if (owner) return;
  const steps = el('ol', { id: 'offer-steps' });
  const form = el('form', { class: 'inline', id: 'offer-form' },
    ...field('offer-price', t('offer.price'), { inputmode: 'decimal', size: 10, required: true }),
    ...field('offer-hours', t('offer.hours'), { type: 'number', min: 1, max: 8760, value: 72, size: 5 }),
    el('button', { type: 'submit', text: t('offer.make') }));
  box.append(form, steps);
  submitting(form, async () => {
    const wei = weiOf($('offer-price').value);
    const hours = Number($('offer-hours').value);
    await requireSession();
    const prep = await api('POST', '/offers/prepare', { chain_id: Number(chain), token: collection, token_id: String(token),
      unit_price_wei: wei.toString(), hours });
    const market = prep.typed_data.domain.verifyingContract;
    const wrap = prep.deposit ? BigInt(prep.deposit.value) : 0n;
    const words = {
      wrap: t('sign.wrap', { amount: ethWei(wrap), currency: prep.offer.currency }),
      approve: t('sign.weth_approve', { total: prep.total.text, market, currency: prep.offer.currency }),
      sign: t('sign.offer', { total: prep.total.text, token, collection, expiry: when(new Date(prep.offer.expiry * 1000).toISOString()), market }),
    };
    const todo = [...(prep.deposit ? ['wrap'] : []), ...(prep.approve ? ['approve'] : []), 'sign'];
    steps.replaceChildren(...todo.map((s) => el('li', { 'data-step': s, text: words[s] })));
    if (prep.deposit) await wallet.send(prep.deposit, words.wrap);
    if (prep.approve) await wallet.send(prep.approve, words.approve);
    const signature = await wallet.signListing(typedForWallet(prep.typed_data), words.sign);
    await api('POST', '/offers', { ...prep.offer, signature });
    steps.replaceChildren();
    await reload();
    notice(t('offer.made', { total: prep.total.text }));
  });
}

// ---------------------------------------------------------------- work page: buy a license; royalty income

function licenseBuyButton(l, chain, collection, token, reload) {
  const buy = el('button', { type: 'button', 'data-buy-license': l.terms_hash, text: t('license.buy', { fee: ethWei(l.fee_wei) }) });
  action(buy, async () => {
    await requireSession();
    const out = await api('POST', '/licenses/buy-tx', { chain_id: Number(chain), collection, token_id: String(token), terms_hash: l.terms_hash });
    const receipt = await wallet.send(out.transaction, t('sign.license', {
      fee: ethWei(out.terms.fee.wei), token, collection, terms: licenseWords(l).join('; '),
    }));
    await reload();
    notice(t('license.bought', { tx: receipt.transactionHash }));
  });
  return buy;
}

async function splitterPanel(work, chain, reload) {
  if (!work.royalty || !work.royalty.split.length) return;
  const splitter = work.royalty.receiver;
  const s = await api('GET', `/royalties/${chain}/${splitter}`);
  const me = (wallet.address() || '').toLowerCase();
  const table = el('table', { id: 'splitter' }, el('caption', { text: t('royalty.balances', { splitter: short(splitter) }) }),
    el('thead', {}, el('tr', {}, ...['account', 'share', 'withdrawable'].map((c) => el('th', { scope: 'col', text: t(`royalty.col.${c}`) })))));
  const body = el('tbody');
  for (const r of s.recipients) {
    body.append(el('tr', { 'data-recipient': r.account }, el('td', {}, el('code', { text: r.account })),
      el('td', { text: `${pct(r.bps)}%` }), el('td', { text: ethWei(r.withdrawable.wei) })));
  }
  table.append(body);
  const box = el('div', { id: 'royalty-income' }, table, el('p', { id: 'undistributed', text: t('royalty.undistributed', { amount: ethWei(s.undistributed.wei) }) }));
  if (BigInt(s.undistributed.wei) > 0n) {
    const distribute = el('button', { type: 'button', id: 'distribute', text: t('royalty.distribute') });
    action(distribute, async () => {
      await requireSession();
      const tx = await api('POST', `/royalties/${chain}/${splitter}/distribute-tx`, {});
      const shares = s.recipients.map((r) => `${r.account} ${pct(r.bps)}%`).join(', ');
      await wallet.send(tx, t('sign.distribute', { amount: ethWei(s.undistributed.wei), splitter, shares }));
      await reload();
      notice(t('royalty.distributed'));
    });
    box.append(el('p', {}, distribute));
  }
  const mine = s.recipients.find((r) => r.account.toLowerCase() === me);
  if (mine && BigInt(mine.withdrawable.wei) > 0n) {
    const withdraw = el('button', { type: 'button', id: 'withdraw-royalty', text: t('royalty.withdraw', { amount: ethWei(mine.withdrawable.wei) }) });
    action(withdraw, async () => {
      await requireSession();
      const tx = await api('POST', `/royalties/${chain}/${splitter}/withdraw-tx`, {});
      await wallet.send(tx, t('sign.withdraw_royalty', { amount: ethWei(mine.withdrawable.wei), splitter, to: mine.account }));
      await reload();
      notice(t('royalty.withdrawn', { amount: ethWei(mine.withdrawable.wei) }));
    });
    box.append(el('p', {}, withdraw));
  }
  $('royalty').querySelector('#royalty-income')?.remove();  // a render that overlapped this one
  $('royalty').append(box);
}

// ---------------------------------------------------------------- work page: rent and give (the owner)

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
function addressOf(text) {
  const value = String(text).trim();
  if (!ADDRESS.test(value)) throw new Error(t('error.address', { value }));
  return value;
}

/** The owner's own actions: rent the token out (ERC-4907, POST /rentals/tx) or give it away
 * (POST /market/gift-tx); each states what the wallet will sign before it opens. */
async function ownerPanel(work, chain, collection, token, reload) {
  const me = (wallet.current() && wallet.address()) || '';  // as the other panels: a connected wallet
  const section = $('owner-actions');
  section.hidden = !(me && work.owner.toLowerCase() === me.toLowerCase());
  if (section.hidden) return;
  const rental = await api('GET', `/rentals/${chain}/${collection}/${token}`).catch(() => null);
  $('rental').replaceChildren(...(rental && rental.active
    ? [el('p', { text: t('work.rental_now', { user: rental.user, until: when(rental.expires) }) })] : []));
  if (section.dataset.bound) return;
  section.dataset.bound = 'true';
  submitting($('rent-form'), async () => {
    const user = addressOf($('rent-user').value);
    const days = Number($('rent-days').value);
    if (!Number.isInteger(days) || days < 1 || days > 3650) throw new Error(t('error.days', { value: $('rent-days').value }));
    const until = new Date(Date.now() + days * 86_400_000).toISOString().replace(/\.\d+Z$/, 'Z');
    await requireSession();
    const tx = await api('POST', '/rentals/tx', { chain_id: Number(chain), collection, token_id: String(token), user, until });
    await wallet.send(tx, t('sign.rent', { user, token, collection, until }));
    await reload();
    notice(t('work.rented', { user, until }));
  });
  submitting($('gift-form'), async () => {
    const to = addressOf($('gift-to').value);
    await requireSession();
    const tx = await api('POST', '/market/gift-tx', { chain_id: Number(chain), token: collection, token_id: String(token), to });
    const receipt = await wallet.send(tx, t('sign.gift', { token, collection, to }));
    await reload();
    notice(t('work.gifted', { to, tx: receipt.transactionHash }));
  });
}

/** The work page's trading panels, each on its own: one that fails says so without hiding the others. */
async function workPanels(work, chain, collection, token, feeBps) {
  const reload = async () => { workCache.clear(); await workPage(); };
  const licBox = $('licenses');
  licBox.querySelectorAll('ul[data-terms]:not(:has([data-buy-license]))').forEach((ul) => {
    const l = work.licenses.find((x) => x.terms_hash === ul.dataset.terms);
    if (l) ul.append(el('li', {}, licenseBuyButton(l, chain, collection, token, reload)));
  });
  const results = await Promise.allSettled([
    auctionPanel(work, chain, collection, token, reload),
    offersPanel(work, chain, collection, token, feeBps, reload),
    splitterPanel(work, chain, reload),
    relatedPanel(chain, collection, token),
    ownerPanel(work, chain, collection, token, reload),
  ]);
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) fail(failed.reason);
}

// ---------------------------------------------------------------- studio: the platform fee (treasury)

async function feesPanel() {
  const box = $('fees');
  const status = $('fees-status');
  const roles = await rolesOr(status);
  if (!roles) return;
  if (!roles.includes('treasury') && !roles.includes('operator')) { status.textContent = t('fees.need'); box.replaceChildren(); return; }
  const rows = await api('GET', '/fees');
  status.textContent = '';
  box.replaceChildren();
  for (const f of rows) {
    const p = el('p', { 'data-fees': f.chain_id }, t('fees.line', { chain: f.chain_id, pct: pct(f.platform_fee_bps), treasury: f.treasury, amount: ethWei(f.accrued.wei) }));
    if (roles.includes('treasury') && BigInt(f.accrued.wei) > 0n) {
      const withdraw = el('button', { type: 'button', text: t('fees.withdraw') });
      action(withdraw, async () => {
        const tx = await api('POST', '/fees/withdraw-tx', { chain_id: f.chain_id });
        await wallet.send(tx, t('sign.fees', { amount: ethWei(f.accrued.wei), chain: f.chain_id, treasury: f.treasury }));
        await feesPanel();
        notice(t('fees.withdrawn', { amount: ethWei(f.accrued.wei) }));
      });
      p.append(' ', withdraw);
    }
    box.append(p);
  }
}

// ---------------------------------------------------------------- collector: licenses, bridge

async function myLicenses(me) {
  const list = $('my-licenses');
  const chains = (await platform()).chains.filter((c) => c.marketplace);
  const grants = (await Promise.all(chains.map((c) => api('GET', `/licenses?chain_id=${c.chain_id}&licensee=${me}`)
    .then((gs) => gs.map((g) => ({ ...g, chain_id: c.chain_id }))).catch(() => [])))).flat();
  list.replaceChildren();
  if (!grants.length) list.append(el('li', { text: t('licenses.none') }));
  for (const g of grants) {
    const work = await loadWork(g.chain_id, g.collection, g.token_id).catch(() => null);
    const terms = work && work.licenses.find((l) => l.terms_hash === g.terms_hash);
    list.append(el('li', { 'data-license': g.grant_id },
      el('a', { href: `/work/${g.chain_id}/${g.collection}/${g.token_id}`, text: work ? workTitle(work) : `${short(g.collection)} #${g.token_id}` }),
      ` · ${t('licenses.line', { id: g.grant_id, since: when(g.start), until: g.expiry ? when(g.expiry) : t('license.perpetual') })}`,
      terms ? ` · ${licenseWords(terms).join('; ')}` : ''));
  }
}

const FINAL = new Set(['delivered', 'failed']);

function transferRow(x) {
  return el('li', { 'data-transfer': x.transfer_id, class: x.status },
    t('transfer.line', { token: x.token_id ?? '?', from: x.source_chain_id, to: x.dest_chain_id ?? '?', since: when(x.observed_at) }), ' ',
    el('strong', { text: t(`bridge.state.${x.status}`) }), `: ${x.reason.replace(/[.。]?$/, '.')}`,
    x.delivered_at ? ` ${t('transfer.landed', { at: when(x.delivered_at) })}` : '');
}

/** Follow one transfer until it lands (or fails): the row is rewritten at each answer. */
async function follow(id, intervalMs = 1500) {
  for (;;) {
    const x = await api('GET', `/bridge/transfers/${id}`).catch((err) => (err.status === 404 ? null : Promise.reject(err)));
    if (x) {
      const list = $('transfers');
      const row = transferRow(x);
      const old = list.querySelector(`li[data-transfer='${x.transfer_id}']`);
      if (old) old.replaceWith(row); else list.prepend(row);
      list.querySelector('li.none')?.remove();
      if (FINAL.has(x.status)) return x;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

async function myTransfers(me) {
  const list = $('transfers');
  const rows = await api('GET', `/bridge/transfers?wallet=${me}`);
  list.replaceChildren(...rows.map(transferRow));
  if (!rows.length) list.append(el('li', { class: 'none', text: t('transfer.none') }));
  for (const x of rows) if (!FINAL.has(x.status)) follow(x.transfer_id).catch(() => {});
}

function bridgeButton(h, chains, reload) {
  const to = chains.find((c) => c.chain_id !== h.chain_id);
  // Tokens of the home chain's collections (the lockbox's side); ERC-1155 editions do not travel.
  if (!to || h.chain_id !== chains[0].chain_id || h.standard === 'erc1155') return '';
  const send = el('button', { type: 'button', 'data-bridge': `${h.chain_id}/${h.collection}/${h.token_id}`, text: t('transfer.send', { chain: to.chain_id }) });
  action(send, async () => {
    await requireSession();
    const body = { chain_id: h.chain_id, collection: h.collection, token_id: h.token_id };
    let out = await api('POST', '/bridge/send-tx', body);
    if (out.approval_needed) {
      await wallet.send(out.transactions[0], t('sign.bridge_approve', { bridge: out.bridge, token: h.token_id, collection: h.collection }));
      out = await api('POST', '/bridge/send-tx', body);
    }
    const receipt = await wallet.send(out.transactions[0], t(`sign.bridge_${out.direction}`, {
      token: h.token_id, collection: h.collection, from: out.source_chain_id, to: out.dest_chain_id, recipient: wallet.address(), bridge: out.bridge,
    }));
    const log = receipt.logs.find((l) => l.address.toLowerCase() === out.bridge.toLowerCase() && l.topics.length === 4);
    const id = BigInt(log.topics[1]).toString();
    notice(t('transfer.sent', { to: out.dest_chain_id }));
    await reload();
    const x = await follow(id);
    notice(x.status === 'delivered' ? t('transfer.delivered', { to: x.dest_chain_id }) : t('transfer.failed', { reason: x.reason }), x.status !== 'delivered');
  });
  return send;
}

// ---------------------------------------------------------------- commissions: milestone escrow

async function commissions() {
  const status = $('escrow-status');
  const box = $('escrows');
  const home = (await platform()).chains[0];
  const load = async () => {
    const me = wallet.address();
    if (!me || !wallet.current()) { status.textContent = t('collector.connect'); return; }
    const rows = await api('GET', `/escrows?chain_id=${home.chain_id}&party=${me}`);
    status.textContent = rows.length ? '' : t('escrow.none');
    box.replaceChildren(...rows.map((e) => escrowItem(e, me.toLowerCase(), load)));
  };
  submitting($('escrow-form'), async () => {
    const seller = $('escrow-seller').value.trim();
    const arbitrator = $('escrow-arbitrator').value.trim();
    const amounts = $('escrow-amounts').value.split(',').map(weiOf);
    const deadline = new Date(Date.now() + Number($('escrow-days').value) * 86_400_000).toISOString().replace(/\.\d+Z$/, 'Z');
    await requireSession();
    const out = await api('POST', '/escrows/tx', { chain_id: home.chain_id, seller, arbitrator,
      milestones: amounts.map((w) => ({ amount_wei: w.toString(), deadline })) });
    $('escrow-terms').textContent = t('sign.escrow_create', {
      total: out.total.text, count: amounts.length, amounts: amounts.map(ethWei).join(', '), seller, arbitrator, deadline,
    });
    await wallet.send(out.transaction, $('escrow-terms').textContent);
    await load();
    notice(t('escrow.created', { id: out.escrow_id }));
  });
  window.addEventListener('chainright:wallet', () => load().catch(fail));
  await load();
}

function escrowItem(e, me, reload) {
  const base = `/escrows/${e.chain_id}/${e.escrow_id}`;
  const role = e.buyer.toLowerCase() === me ? 'buyer' : e.seller.toLowerCase() === me ? 'seller' : 'arbitrator';
  const send = async (path, body, words, done) => {
    await requireSession();
    const tx = await api('POST', `${base}${path}`, body);
    await wallet.send(tx, words);
    await reload();
    notice(done);
  };
  const section = el('section', { 'data-escrow': e.escrow_id, 'aria-label': t('escrow.heading', { id: e.escrow_id }) },
    el('h3', { text: t('escrow.heading', { id: e.escrow_id }) }),
    el('p', { text: t('escrow.parties', { buyer: e.buyer, seller: e.seller, arbitrator: e.arbitrator, role: t(`escrow.role.${role}`) }) }),
    el('p', { text: t('escrow.held', { amount: ethWei(e.open_amount.wei), review: Math.round(e.review_period_s / 86400) }) }));
  if (role === 'seller' && !e.seller_accepted) {
    const accept = el('button', { type: 'button', 'data-accept-terms': e.escrow_id, text: t('escrow.accept_terms') });
    action(accept, () => send('/accept-terms-tx', undefined, t('sign.escrow_terms', { id: e.escrow_id, buyer: e.buyer, arbitrator: e.arbitrator }),
      t('escrow.terms_accepted')));
    section.append(el('p', {}, accept));
  }
  const list = el('ul');
  for (const m of e.milestones) {
    const item = el('li', { 'data-milestone': m.index }, t('escrow.milestone', {
      index: m.index, amount: ethWei(m.amount.wei), state: t(`escrow.state.${m.state}`), deadline: when(m.deadline),
    }), m.review_ends ? ` ${t('escrow.review_ends', { at: when(m.review_ends) })}` : '');
    const words = { index: m.index, id: e.escrow_id, amount: ethWei(m.amount.wei), seller: e.seller, buyer: e.buyer, arbitrator: e.arbitrator };
    if (role === 'seller' && e.seller_accepted && m.state === 'funded') {
      const id = `cid-${e.escrow_id}-${m.index}`;
      const form = el('form', { class: 'inline' }, ...field(id, t('escrow.cid'), { required: true, size: 60 }),
        el('button', { type: 'submit', text: t('escrow.deliver') }));
      submitting(form, () => {
        const cid = form.elements[id].value.trim();
        return send(`/milestones/${m.index}/deliver-tx`, { cid }, t('sign.escrow_deliver', { ...words, cid }), t('escrow.delivered'));
      });
      item.append(form);
    }
    if (role === 'buyer' && m.state === 'delivered') {
      const accept = el('button', { type: 'button', 'data-accept-milestone': m.index, text: t('escrow.accept') });
      const dispute = el('button', { type: 'button', 'data-dispute-milestone': m.index, text: t('escrow.dispute') });
      action(accept, () => send(`/milestones/${m.index}/accept-tx`, undefined, t('sign.escrow_accept', words), t('escrow.accepted')));
      action(dispute, () => send(`/milestones/${m.index}/dispute-tx`, undefined, t('sign.escrow_dispute', words), t('escrow.disputed')));
      item.append(' ', accept, ' ', dispute);
    }
    if (role === 'arbitrator' && m.state === 'disputed') {
      const id = `share-${e.escrow_id}-${m.index}`;
      const form = el('form', { class: 'inline' }, ...field(id, t('escrow.seller_share'), { type: 'number', min: 0, max: 100, value: 50, size: 4 }),
        el('button', { type: 'submit', text: t('escrow.decide') }));
      submitting(form, () => {
        const text = form.elements[id].value.trim();
        const share = Number(text);
        if (text === '' || !Number.isFinite(share) || share < 0 || share > 100) throw new Error(t('error.share', { value: text }));
        // What each side receives, as the contract's _split computes it (fee and royalty out of the artist's part).
        const sellerBps = BigInt(Math.round(share * 100));
        const total = BigInt(m.amount.wei);
        const toArtist = (total * sellerBps) / 10000n;
        const fee = (toArtist * BigInt(e.fee_bps)) / 10000n;
        const royalty = (toArtist * BigInt(e.royalty_bps)) / 10000n;
        const paid = { to_seller: ethWei(toArtist - fee - royalty), to_buyer: ethWei(total - toArtist) };
        return send(`/milestones/${m.index}/arbitrate-tx`, { seller_bps: Number(sellerBps) },
          t('sign.escrow_arbitrate', { ...words, ...paid, share, rest: (10000 - Number(sellerBps)) / 100, fee: ethWei(fee), royalty: ethWei(royalty) }),
          t('escrow.decided', paid));
      });
      item.append(form);
    }
    list.append(item);
  }
  section.append(list, escrowCredits(e, me, reload));
  if (e.next_steps.length) section.append(el('p', { class: 'steps', text: `${t('escrow.next')}: ${e.next_steps.join('; ')}.` }));
  return section;
}

/** What the escrow holds for the buyer and the artist because paying them failed (a pull payment),
 * with the party's own withdraw button when there is something to take. */
function escrowCredits(e, me, reload) {
  const p = el('p', { 'data-credits': e.escrow_id });
  const currency = e.currency === 'ETH' ? 'ETH' : e.currency;
  const read = (account) => api('GET', `/escrows/credit/${e.chain_id}/${account}?currency=${currency}`);
  Promise.all([read(e.buyer), read(e.seller)]).then(([buyer, seller]) => {
    p.textContent = t('escrow.credits', { buyer: ethWei(buyer.credit.wei), seller: ethWei(seller.credit.wei) });
    const mine = [buyer, seller].find((c) => c.account.toLowerCase() === me && BigInt(c.credit.wei) > 0n);
    if (!mine) return;
    const amount = ethWei(mine.credit.wei);
    const withdraw = el('button', { type: 'button', 'data-withdraw-credit': e.escrow_id, text: t('escrow.withdraw', { amount }) });
    action(withdraw, async () => {
      await requireSession();
      const tx = await api('POST', '/escrows/withdraw-tx', { chain_id: e.chain_id, currency });
      await wallet.send(tx, t('sign.escrow_withdraw', { amount, to: mine.account }));
      await reload();
      notice(t('escrow.withdrawn', { amount }));
    });
    p.append(' ', withdraw);
  }).catch(() => { p.remove(); });
  return p;
}

// ---------------------------------------------------------------- start

/** The work page, drawn again when the wallet connects or signs in (the panels depend on who looks). */
async function workStart() {
  window.addEventListener('chainright:wallet', () => {
    document.body.dataset.ready = 'false';  // tests and assistive tools wait for the page drawn anew
    workCache.clear();
    workPage().catch(fail).finally(() => { document.body.dataset.ready = 'true'; });
  });
  await workPage();
}

/** The studio, and the platform fee for the treasury. */
async function studioStart() {
  window.addEventListener('chainright:session', () => feesPanel().catch(fail));
  feesPanel().catch(fail);
  await studio();
}

const PAGES = {
  explore, work: workStart, studio: studioStart, audit, operator, account, operator_risk: operatorRisk, operator_bridge: operatorBridge, collector, commissions,
};

async function start() {
  setupHeader();
  await restoreWallet();
  header();
  checkOrigin().catch(() => {});
  const run = PAGES[page];
  if (run) {
    try { await run(); } catch (err) { fail(err); }
  }
  document.body.dataset.ready = 'true';
}

start();
