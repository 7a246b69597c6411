/*
 * arcade's page. The game travels over /ws as the long-connection frames of docs/PROTOCOL.md,
 * unchanged: client frames go out as binary messages, server frames come back in binary messages
 * and are cut by a streaming parser (parseFrame, FrameReader), so a frame may straddle messages.
 * The leaderboard is pushed over /ws/top as JSON; look-ups and math use the JSON API.
 *
 *   keys, buttons -> send() -> /ws        /ws -> FrameReader -> handlers[kind] -> state -> render()
 *
 * The frame code at the top touches no DOM, so node can import this module to test it.
 */

// ---- frames ----

export const MOVE_NAMES = { 1: 'scissors', 2: 'rock', 3: 'paper' };
const OUTCOMES = { x: 'draw', y: 'win', z: 'loss' };
const NAME_RE = /^[A-Za-z0-9_-]{1,32}$/;

// What follows each server frame's kind byte: nothing, one code byte, or a length byte and text.
const SHAPES = new Map([
  ...'xyzWQGBCU'.split('').map((k) => [k, 'bare']),
  ...'MTF'.split('').map((k) => [k, 'code']),
  ...'ANEVKJD'.split('').map((k) => [k, 'text']),
]);

/* One server frame at bytes[at]: {size, frame} when it is complete, {size: 0} when more bytes are
 * needed, {size: -1} when the byte there starts no frame. */
export function parseFrame(bytes, at = 0) {
  if (at >= bytes.length) {
    return { size: 0 };
  }
  const kind = String.fromCharCode(bytes[at]);
  const shape = SHAPES.get(kind);
  if (shape === 'bare') {
    return { size: 1, frame: { kind } };
  }
  if (shape === 'code') {
    return at + 1 < bytes.length ? { size: 2, frame: { kind, code: String.fromCharCode(bytes[at + 1]) } } : { size: 0 };
  }
  if (shape === 'text') {
    if (at + 1 >= bytes.length || at + 2 + bytes[at + 1] > bytes.length) {
      return { size: 0 };
    }
    const len = bytes[at + 1];
    const text = String.fromCharCode(...bytes.subarray(at + 2, at + 2 + len));
    return { size: 2 + len, frame: { kind, text } };
  }
  return { size: -1 };
}

/* Cuts the concatenated bytes of every message into frames; keeps a partial frame for the next. */
export class FrameReader {
  constructor() {
    this.rest = new Uint8Array(0);
  }

  push(chunk) {
    const data = new Uint8Array(chunk);
    const bytes = new Uint8Array(this.rest.length + data.length);
    bytes.set(this.rest);
    bytes.set(data, this.rest.length);
    const frames = [];
    let at = 0;
    for (;;) {
      const { size, frame } = parseFrame(bytes, at);
      if (size === 0) {
        break;
      }
      frames.push(size > 0 ? frame : { kind: '?', code: bytes[at] });
      at += Math.max(size, 1);
    }
    this.rest = bytes.slice(at);
    return frames;
  }
}

const ascii = (s) => Array.from(s, (c) => c.charCodeAt(0));

/* Client frames, as the bytes of one binary message. */
export const encode = {
  move: (m) => Uint8Array.of(0x30 + m),
  register: (name) => Uint8Array.from([...ascii('R'), name.length, ...ascii(name)]),
  login: (name, secret) => Uint8Array.from([...ascii('I'), name.length, ...ascii(name), secret.length, ...ascii(secret)]),
  op: (letter) => Uint8Array.from(ascii(letter)),
};

/* J's text: "<opponent> <round> <wins> <losses> <draws> <moved> <seconds>", or null. */
export function parseSnapshot(text) {
  const f = text.split(' ');
  if (f.length !== 7 || !NAME_RE.test(f[0]) || !f.slice(1).every((n) => /^\d+$/.test(n))) {
    return null;
  }
  const [round, wins, losses, draws, moved, seconds] = f.slice(1).map(Number);
  return { opponent: f[0], round, wins, losses, draws, moved: moved === 1, seconds };
}

// ---- the page ----

const $ = (id) => document.getElementById(id);
const KEYS = { 1: 1, 2: 2, 3: 3, s: 1, r: 2, p: 3 };
const REASONS = {
  'name taken': 'that name is registered to someone else: pick another, or log in with its secret',
  'name is registered': 'that name is registered: log in with its secret',
  'name in use': 'someone is playing as that name without an account right now',
  'wrong secret': 'the secret is not that account\'s; it may have been replaced elsewhere',
  'too many attempts': 'too many failed logins: try again later',
  'too many new names': 'too many new names from your address: try again in a minute',
};
/* Accounts kept in this browser: arcade.secret.<name in lower case> = {name, secret}. */
const store = {
  prefix: 'arcade.secret.',
  read(key) {
    try { return JSON.parse(localStorage.getItem(key)); } catch { return null; }
  },
  get(name) { return this.read(this.prefix + name.toLowerCase()); },
  put(name, secret) { localStorage.setItem(this.prefix + name.toLowerCase(), JSON.stringify({ name, secret })); },
  drop(name) { localStorage.removeItem(this.prefix + name.toLowerCase()); },
  all() {
    return Object.keys(localStorage).filter((k) => k.startsWith(this.prefix)).map((k) => this.read(k))
      .filter((a) => a && NAME_RE.test(a.name));
  },
};

const state = {
  ws: null,
  link: 'connecting', // connecting | open | offline | taken
  retries: 0,
  retryAt: 0,
  retryTimer: 0,
  naming: null, // the R or I in flight: { kind: 'register' | 'login', name, secret, typed }
  settling: false, // A arrived: J or W may follow in the same message
  who: { kind: 'guest', name: '' }, // guest | account | unclaimed
  phase: 'lobby', // lobby | queued | match
  wasInMatch: false,
  opponent: '',
  round: 0,
  score: { win: 0, loss: 0, draw: 0 },
  forfeit: 0, // the round a T y just won, until the frames after it tell why
  leaving: false, // L sent in a match: a T z before B is the leaver's forfeit
  mine: null, // my move in this round: 1..3, 'in' (known only to be in), or null
  theirs: null, // the opponent's move from M
  windowLength: 30, // the server's move window, from /api/settings (and corrected by timeouts)
  windowStart: 0, // when a whole window began (0 after J, which gives only what is left)
  windowEnd: 0,
  awayEnd: 0,
  tally: { rounds: 0, win: 0, loss: 0, draw: 0 },
  savedShown: '', // the saved accounts now drawn, so their buttons keep focus between draws
};

function notice(text, tone = 'info') {
  const li = document.createElement('li');
  li.className = tone;
  li.textContent = text;
  const list = $('notices');
  list.prepend(li);
  while (list.children.length > 40) {
    list.lastElementChild.remove();
  }
}

function send(bytes) {
  if (state.ws?.readyState === WebSocket.OPEN) {
    state.ws.send(bytes);
    return true;
  }
  notice('Not connected: wait for the connection to come back.', 'alert');
  return false;
}

// ---- the connection ----

const wsURL = (path) => `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${path}`;

function connect(intent) {
  const ws = new WebSocket(wsURL('/ws'));
  ws.binaryType = 'arraybuffer';
  const reader = new FrameReader();
  state.ws = ws;
  state.link = 'connecting';
  ws.onopen = () => {
    state.link = 'open';
    state.retries = 0;
    state.who = { kind: 'guest', name: '' };
    say(intent ?? savedLogin());
    render();
  };
  ws.onmessage = (e) => {
    for (const frame of reader.push(e.data)) {
      (handlers[frame.kind] ?? handlers['?'])(frame);
    }
    tellForfeit();
    settle();
    render();
  };
  ws.onclose = () => {
    if (state.ws !== ws) {
      return; // replaced on purpose
    }
    dropped();
  };
  render();
}

/* The account this browser logs in with on load and after a drop. */
function savedLogin() {
  const name = localStorage.getItem('arcade.name');
  const acct = name && store.get(name);
  return acct ? { kind: 'login', name: acct.name, secret: acct.secret } : { kind: 'guest' };
}

function say(intent) {
  if (intent.kind === 'register') {
    state.naming = { kind: 'register', name: intent.name };
    send(encode.register(intent.name));
  } else if (intent.kind === 'login') {
    state.naming = { kind: 'login', name: intent.name, secret: intent.secret, typed: intent.typed };
    send(encode.login(intent.name, intent.secret));
  }
}

/* Register or log in: on this connection while it is a guest's, else on a new one. */
function become(intent) {
  if (state.link === 'open' && state.who.kind === 'guest' && !state.naming) {
    say(intent);
    render();
    return;
  }
  reconnectNow(intent);
}

function reconnectNow(intent) {
  const old = state.ws;
  if (old?.readyState === WebSocket.OPEN && state.phase !== 'lobby') {
    old.send(encode.op('L')); // leaving on purpose: nobody should wait for a held seat
  }
  state.ws = null;
  old?.close();
  clearTimeout(state.retryTimer);
  resetMatch('lobby');
  connect(intent);
}

function dropped() {
  state.wasInMatch ||= state.phase === 'match';
  state.naming = null;
  resetMatch('lobby');
  if (state.link === 'taken') {
    render();
    return;
  }
  const delay = Math.min(30000, 500 * 2 ** state.retries) * (0.75 + Math.random() / 2);
  state.retries += 1;
  state.link = 'offline';
  state.retryAt = Date.now() + delay;
  if (state.retries === 1) {
    notice(state.wasInMatch ? 'Connection lost: reconnecting to get back in the match…' : 'Connection lost: reconnecting…', 'alert');
  }
  state.retryTimer = setTimeout(() => connect(), delay);
  render();
}

// ---- what the server says ----

function resetMatch(phase) {
  state.phase = phase;
  state.leaving = false;
  state.mine = null;
  state.theirs = null;
  state.awayEnd = 0;
  state.windowEnd = 0;
}

function startWindow(seconds = state.windowLength, whole = true) {
  state.windowStart = whole ? Date.now() : 0;
  state.windowEnd = Date.now() + seconds * 1000;
}

function countRound(outcome) {
  state.tally.rounds += 1;
  state.tally[outcome] += 1;
  if (state.phase === 'match') {
    state.score[outcome] += 1;
    state.round += 1;
    startWindow();
  }
}

const moveName = (m) => MOVE_NAMES[m] ?? 'a move';
const scoreText = (s) => `${s.win}–${s.loss}–${s.draw}`;

/* The move that gets `outcome` against mine: a guest is told only the result. */
function botMove(mine, outcome) {
  const beats = { 1: 3, 2: 1, 3: 2 };
  if (!MOVE_NAMES[mine]) {
    return null;
  }
  return outcome === 'draw' ? mine : outcome === 'win' ? beats[mine] : Number(Object.keys(beats).find((k) => beats[k] === mine));
}

function onResult({ kind }) {
  const outcome = OUTCOMES[kind];
  const inMatch = state.phase === 'match';
  const theirs = state.theirs ?? (state.who.kind === 'guest' ? botMove(state.mine, outcome) : null);
  const them = inMatch ? state.opponent : 'the bot';
  const text = `${inMatch ? `Round ${state.round}: ` : ''}you ${state.mine === 'in' ? 'moved' : `played ${moveName(state.mine)}`}, `
    + `${them} ${theirs ? `played ${moveName(theirs)}` : 'moved'}: ${outcome === 'win' ? 'you win' : outcome === 'loss' ? 'you lose' : 'a draw'}`;
  countRound(outcome);
  state.mine = null;
  state.theirs = null;
  const sentence = text[0].toUpperCase() + text.slice(1);
  $('last-round').textContent = sentence;
  $('last-round').dataset.outcome = outcome;
  notice(sentence, outcome);
}

function onTimeout({ code }) {
  const elapsed = (Date.now() - state.windowStart) / 1000;
  if (state.windowStart && Math.abs(elapsed - state.windowLength) > 1.5) {
    state.windowLength = Math.max(1, Math.round(elapsed)); // the server's window, learned
  }
  const round = state.round;
  state.theirs = null;
  if (code === 'v') {
    state.round += 1;
    startWindow();
    notice(`Round ${round} is void: neither of you moved in time.`, 'draw');
    return;
  }
  if (code === 'y') {
    state.mine = null;
    state.forfeit = round; // told once the rest of the message shows why (G: the opponent left)
    countRound('win');
    return;
  }
  countRound('loss');
  const why = state.leaving ? `you left after ${state.opponent} moved` : 'you did not move in time';
  notice(`Round ${round}: ${why}: you lose it.`, 'loss');
}

/* A T y with no G after it in the same message: the opponent's time ran out. */
function tellForfeit(why = 'did not move in time') {
  if (state.forfeit) {
    notice(`Round ${state.forfeit}: ${state.opponent} ${why}: you win it.`, 'win');
    state.forfeit = 0;
  }
}

function onAccepted({ text }) {
  const kind = state.naming ? 'account' : 'unclaimed';
  if (state.naming?.kind === 'login') {
    store.put(text, state.naming.secret);
  }
  if (state.naming?.typed) {
    $('login-form').reset();
    $('secret-login').open = false;
  }
  state.who = { kind, name: text };
  state.naming = null;
  state.settling = true;
  if (kind === 'account') {
    localStorage.setItem('arcade.name', text);
    $('register-name').value = '';
  }
  notice(`You play as ${text}.`);
}

/* After A: a match (J) or the queue (W) would have come with it; else we are in the lobby. */
function settle() {
  if (!state.settling) {
    return;
  }
  state.settling = false;
  if (state.phase === 'lobby' && state.wasInMatch) {
    notice('Your match ended while you were away.', 'alert');
  }
  state.wasInMatch = false;
}

function onRefused({ text }) {
  const naming = state.naming;
  state.naming = null;
  if (naming?.kind === 'login' && !naming.typed && text === 'not registered') {
    // The server no longer has the account this browser kept (a new database, or released): claim it again.
    store.drop(naming.name);
    notice(`The server no longer knows the account ${naming.name}: registering it again.`, 'alert');
    say({ kind: 'register', name: naming.name });
    return;
  }
  if (naming?.kind === 'login') {
    localStorage.removeItem('arcade.name');
  }
  const name = naming ? ` ${naming.name}` : '';
  notice(`Name${name} refused (${text})${REASONS[text] ? `: ${REASONS[text]}` : ''}. You stay as you were.`, 'alert');
}

function onError({ text }) {
  state.mine = null;
  if (text === 'taken over by another login') {
    state.link = 'taken';
    notice(`${state.who.name} logged in somewhere else: this page stopped playing.`, 'alert');
    return;
  }
  notice(`Server: ${text}.`, 'alert');
}

function onSecret({ text }) {
  const name = state.naming?.name ?? state.who.name;
  store.put(name, text);
  localStorage.setItem('arcade.name', name);
  notice(state.naming ? `Registered ${name}: its secret is kept in this browser.` : 'New secret kept in this browser: the old one no longer works.');
}

function onRejoined({ text }) {
  const snap = parseSnapshot(text);
  if (!snap) {
    notice(`Server sent a snapshot this page cannot read: ${text}`, 'alert');
    return;
  }
  resetMatch('match');
  state.wasInMatch = false;
  state.opponent = snap.opponent;
  state.round = snap.round;
  state.score = { win: snap.wins, loss: snap.losses, draw: snap.draws };
  state.mine = snap.moved ? 'in' : null;
  state.windowLength = Math.max(state.windowLength, snap.seconds);
  startWindow(snap.seconds, false);
  notice(`Back in your match with ${snap.opponent}: round ${snap.round}, score ${scoreText(state.score)}, `
    + `your move is ${snap.moved ? 'in' : 'not in yet'}, ${snap.seconds} s left.`);
}

const handlers = {
  x: onResult,
  y: onResult,
  z: onResult,
  M: ({ code }) => { state.theirs = Number(code); },
  A: onAccepted,
  N: onRefused,
  E: onError,
  W: () => { state.phase = 'queued'; notice('Waiting for an opponent…'); },
  V: ({ text }) => {
    resetMatch('match');
    state.opponent = text;
    state.round = 1;
    state.score = { win: 0, loss: 0, draw: 0 };
    startWindow();
    notice(`Matched with ${text}: round 1, make your move.`);
  },
  Q: () => { resetMatch('lobby'); notice('Nobody came to play: back in the lobby.'); },
  T: onTimeout,
  G: () => {
    tellForfeit('left after you moved');
    const mine = state.mine; // a move the server did not have in the match: it plays the bot
    resetMatch('lobby');
    state.mine = Number.isInteger(mine) ? mine : null;
    notice(`${state.opponent} left: the match is over.`, 'alert');
  },
  F: ({ code }) => {
    resetMatch('lobby');
    const how = { y: 'you won', z: 'you lost', v: 'both of you timed out' }[code] ?? code;
    notice(`Match over after three timed-out rounds: ${how}.`, code === 'y' ? 'win' : 'loss');
  },
  B: () => { resetMatch('lobby'); notice('Back in the lobby.'); },
  K: onSecret,
  J: onRejoined,
  D: ({ text }) => {
    state.awayEnd = Date.now() + Number(text) * 1000;
    notice(`${state.opponent} dropped: their seat is held for ${text} s.`, 'alert');
  },
  C: () => { state.awayEnd = 0; notice(`${state.opponent} is back.`); },
  U: () => {
    store.drop(state.who.name);
    localStorage.removeItem('arcade.name');
    state.who.kind = 'unclaimed';
    notice(`${state.who.name} is unclaimed again: anyone may register it.`);
  },
  '?': ({ code }) => notice(`Unexpected byte 0x${code.toString(16).padStart(2, '0')} from the server.`, 'alert'),
};

// ---- what the player does ----

function canMove() {
  return state.link === 'open' && state.phase !== 'queued' && state.mine === null && !state.naming;
}

function playMove(move) {
  if (!canMove()) {
    return;
  }
  if (send(encode.move(move))) {
    state.mine = move;
    render();
  }
}

/* One button plays a person, stops waiting or leaves the match, so it keeps the focus. */
function onQueueButton() {
  if (state.who.kind === 'guest') {
    notice('Register a name first: people are matched by name.', 'alert');
    return;
  }
  if (state.phase !== 'lobby') {
    state.leaving = send(encode.op('L')) && state.phase === 'match';
  } else if (send(encode.op('P'))) {
    state.phase = 'queued';
    render();
  }
}

function onKey(e) {
  const typing = e.target instanceof Element && e.target.closest('input, textarea, select');
  if (e.ctrlKey || e.metaKey || e.altKey || e.repeat || typing) {
    return;
  }
  const move = KEYS[e.key.toLowerCase()];
  if (move) {
    e.preventDefault();
    playMove(move);
  }
}

function bindAccount() {
  $('register-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const name = $('register-name').value.trim();
    if (NAME_RE.test(name)) {
      become({ kind: 'register', name });
    }
  });
  $('login-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const name = $('login-name').value.trim();
    const secret = $('login-secret').value.trim().toLowerCase();
    become({ kind: 'login', name, secret, typed: true });
  });
  $('saved-list').addEventListener('click', (e) => {
    const acct = store.get(e.target.closest('button')?.value ?? '');
    if (acct) {
      become({ kind: 'login', name: acct.name, secret: acct.secret });
    }
  });
  $('as-guest').addEventListener('click', () => {
    localStorage.removeItem('arcade.name');
    reconnectNow({ kind: 'guest' });
  });
  $('rotate').addEventListener('click', () => send(encode.op('X')));
  $('release').addEventListener('click', () => send(encode.op('U')));
  $('forget').addEventListener('click', () => {
    const acct = store.get(state.who.name);
    store.drop(state.who.name);
    localStorage.removeItem('arcade.name');
    if (acct) {
      notice(`This browser forgot ${acct.name}. To play as ${acct.name} again you need its secret: ${acct.secret}`, 'alert');
    }
    reconnectNow({ kind: 'guest' });
  });
}

// ---- drawing ----

function statusText(now) {
  const me = state.who.name || 'You (guest)';
  if (state.link === 'taken') {
    return 'Another login took this account over. Reload the page to play here again.';
  }
  if (state.link === 'offline') {
    return `Offline: reconnecting in ${Math.max(0, Math.ceil((state.retryAt - now) / 1000))} s…`;
  }
  if (state.link === 'connecting') {
    return 'Connecting…';
  }
  if (state.naming) {
    return state.naming.kind === 'login' ? `Logging in as ${state.naming.name}…` : `Registering ${state.naming.name}…`;
  }
  if (state.phase === 'queued') {
    return `${me}: waiting for an opponent…`;
  }
  if (state.phase === 'match') {
    const them = state.opponent;
    return state.mine !== null ? `${me} vs ${them}: your move is in, waiting for ${them}…` : `${me} vs ${them}: your move.`;
  }
  if (state.mine !== null) {
    return `${me} vs the bot: you play ${moveName(state.mine)}…`;
  }
  return state.who.kind === 'guest' ? 'You play the bot as a guest: pick a move. Register a name to play people.'
    : `${me} vs the bot: pick a move, or play a person.`;
}

function renderWindow(now) {
  const inMatch = state.phase === 'match' && state.link === 'open';
  $('match').hidden = !inMatch;
  if (!inMatch) {
    return;
  }
  const left = Math.max(0, state.windowEnd - now);
  $('window-left').textContent = `${Math.ceil(left / 1000)} s left`;
  $('window-bar').style.width = `${Math.min(100, (100 * left) / (state.windowLength * 1000))}%`;
  $('window-bar').dataset.low = String(left < 5000);
  const away = Math.max(0, Math.ceil((state.awayEnd - now) / 1000));
  $('away').hidden = away === 0;
  $('away').textContent = `${state.opponent} dropped: seat held ${away} s more.`;
}

function renderSaved() {
  const saved = store.all().filter((a) => a.name.toLowerCase() !== state.who.name.toLowerCase());
  const shown = saved.map((a) => a.name).join(' ');
  if (shown === state.savedShown) {
    return;
  }
  state.savedShown = shown;
  $('saved').hidden = saved.length === 0;
  $('saved-list').replaceChildren(...saved.map((a) => {
    const li = document.createElement('li');
    li.append(cell('button', `Log in as ${a.name}`, { type: 'button', value: a.name }));
    return li;
  }));
}

function render() {
  const now = Date.now();
  const { who, phase } = state;
  $('link').dataset.state = state.link;
  $('link').textContent = { open: 'online', connecting: 'connecting…', offline: 'offline', taken: 'taken over' }[state.link];
  $('play').dataset.phase = phase;
  $('status').textContent = statusText(now);
  $('opponent').textContent = `vs ${state.opponent}`;
  $('round').textContent = state.round;
  $('match-score').textContent = scoreText(state.score);
  renderWindow(now);
  const ready = canMove();
  for (const b of document.querySelectorAll('button.move')) {
    b.setAttribute('aria-disabled', String(!ready));
    b.setAttribute('aria-pressed', String(state.mine === Number(b.dataset.move)));
  }
  const t = state.tally;
  $('tally').textContent = `${t.rounds} round${t.rounds === 1 ? '' : 's'}: ${t.win} won, ${t.loss} lost, ${t.draw} drawn`;
  $('tally').dataset.rounds = t.rounds;
  const named = who.kind !== 'guest';
  $('queue').textContent = { lobby: 'Play a person', queued: 'Stop waiting', match: 'Leave the match' }[phase];
  $('queue').setAttribute('aria-disabled', String(!named || state.link !== 'open'));
  $('who').textContent = who.kind === 'account' ? `You play as ${who.name}; its secret is kept in this browser.`
    : who.kind === 'unclaimed' ? `You play as ${who.name}, which nobody owns now.`
    : 'You play as a guest: your rounds count, but only named players are ranked.';
  $('account-actions').hidden = !named;
  for (const id of ['rotate', 'release', 'forget', 'secret-view']) {
    $(id).hidden = who.kind !== 'account';
  }
  $('secret-name').textContent = who.name;
  $('secret-text').textContent = (who.kind === 'account' && store.get(who.name)?.secret) || '';
  renderSaved();
}

// ---- leaderboard, look-ups, math ----

async function getJSON(path) {
  const res = await fetch(path, { headers: { accept: 'application/json' } });
  const body = await res.json().catch(() => null);
  if (!res.ok) {
    throw new Error(body?.error ?? `${res.status} ${res.statusText}`);
  }
  return body;
}

/* An element with its text and properties (className, title, colSpan, ...). */
function cell(tag, text, props = {}) {
  return Object.assign(document.createElement(tag), { textContent: text }, props);
}

function formCell(form) {
  const td = document.createElement('td');
  td.className = 'form';
  td.setAttribute('aria-label', form ? `last results, oldest first: ${form}` : 'no rated results');
  td.append(...Array.from(form ?? '', (c) => cell('span', c, { className: `f${c}` })));
  return td;
}

function boardRows(players, highlight = '') {
  if (!players?.length) {
    const tr = document.createElement('tr');
    tr.append(cell('td', 'Nobody is ranked yet.', { className: 'empty', colSpan: 5 }));
    return [tr];
  }
  return players.map((p) => {
    const tr = document.createElement('tr');
    tr.dataset.name = p.name;
    if (p.name.toLowerCase() === highlight.toLowerCase() || p.name.toLowerCase() === state.who.name.toLowerCase()) {
      tr.className = 'me';
    }
    const rating = cell('td', String(p.rating), { className: 'rating' });
    if (p.provisional) {
      rating.append(cell('abbr', '?', { className: 'prov', title: 'provisional: fewer than 30 rated rounds' }));
    }
    tr.append(cell('td', String(p.rank)), cell('th', p.name, { scope: 'row' }), rating,
      cell('td', `${p.wins}–${p.losses}–${p.draws}`), formCell(p.form));
    return tr;
  });
}

function watchTop(retries = 0) {
  const ws = new WebSocket(wsURL('/ws/top?n=10'));
  ws.onopen = () => { retries = 0; $('top-live').dataset.live = 'yes'; $('top-live').textContent = 'live'; };
  ws.onmessage = (e) => {
    try {
      $('top-rows').replaceChildren(...boardRows(JSON.parse(e.data).top));
    } catch {
      notice('The leaderboard sent something this page cannot read.', 'alert');
    }
  };
  ws.onclose = () => {
    $('top-live').dataset.live = 'no';
    $('top-live').textContent = 'offline';
    setTimeout(() => watchTop(retries + 1), Math.min(30000, 1000 * 2 ** retries));
  };
}

function sparkline(history) {
  const svgNS = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(svgNS, 'svg');
  const ratings = history.map((h) => h.rating);
  const lo = Math.min(...ratings);
  const hi = Math.max(...ratings);
  const pts = ratings.map((r, i) => `${(i / Math.max(1, ratings.length - 1)) * 200},${hi === lo ? 20 : 38 - ((r - lo) / (hi - lo)) * 36}`);
  svg.setAttribute('viewBox', '0 0 200 40');
  svg.setAttribute('class', 'spark');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `rating history: ${ratings.length} points, from ${ratings[0]} to ${ratings.at(-1)}`);
  const line = document.createElementNS(svgNS, 'polyline');
  line.setAttribute('points', pts.join(' '));
  svg.append(line);
  return svg;
}

async function lookUp(name) {
  const out = $('lookup');
  out.replaceChildren(cell('p', `Looking up ${name}…`));
  let p;
  let around = [];
  try {
    p = await getJSON(`/api/players/${encodeURIComponent(name)}`);
    if (p.rank !== null) {
      around = (await getJSON(`/api/rank/${encodeURIComponent(p.name)}?k=3`)).players;
    }
  } catch (err) {
    out.replaceChildren(cell('p', `${name}: ${err.message}`, { className: 'error' }));
    return;
  }
  const facts = document.createElement('dl');
  const pairs = [['Rating', `${p.rating}${p.provisional ? ' (provisional)' : ''}`], ['Rank', p.rank ?? 'not ranked'],
    ['Rounds', `${p.rounds}: ${p.wins} won, ${p.losses} lost, ${p.draws} drawn`], ['Form', p.form || '–']];
  for (const [k, v] of pairs) {
    facts.append(cell('dt', k), cell('dd', String(v)));
  }
  const card = [cell('h3', p.name), facts];
  if (p.history?.length > 1) {
    card.push(sparkline(p.history));
  }
  if (around?.length) {
    const table = cell('table', '', { className: 'board' });
    table.createTBody().append(...boardRows(around, p.name));
    card.push(table);
  }
  out.replaceChildren(...card);
}

const POWERS = { square: '²', cube: '³', fourth: '⁴' };

async function doMath(op, n) {
  const out = $('math-out');
  out.textContent = '…';
  try {
    const { result } = await getJSON(`/api/${op}?n=${encodeURIComponent(n)}`);
    out.replaceChildren(cell('span', `(${n})${POWERS[op]} = `, { className: 'expr' }), cell('span', result, { className: 'result' }));
    out.dataset.ok = 'true';
  } catch (err) {
    out.textContent = `${n}: ${err.message}`;
    out.dataset.ok = 'false';
  }
}

// The server's move window, as it says (GET /api/settings); until it answers, the default.
async function learnSettings() {
  try {
    const res = await fetch('/api/settings');
    if (res.ok) {
      const settings = await res.json();
      state.windowLength = Number(settings.move_timeout) || state.windowLength;
    }
  } catch {
    // Offline: the default stands, and timed-out rounds still correct it.
  }
}

function start() {
  learnSettings();
  for (const b of document.querySelectorAll('button.move')) {
    b.addEventListener('click', () => playMove(Number(b.dataset.move)));
  }
  document.addEventListener('keydown', onKey);
  $('queue').addEventListener('click', onQueueButton);
  bindAccount();
  $('lookup-form').addEventListener('submit', (e) => { e.preventDefault(); lookUp($('lookup-name').value.trim()); });
  $('math-form').addEventListener('submit', (e) => {
    e.preventDefault();
    doMath(e.submitter?.value ?? 'square', $('math-n').value.trim());
  });
  setInterval(() => {
    if (state.phase === 'match' || state.link === 'offline') {
      render();
    }
  }, 250);
  connect();
  watchTop();
}

if (typeof document !== 'undefined') {
  start();
}
