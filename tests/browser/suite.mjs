// The browser suite: arcade's page (web/) in Debian's headless Chromium against a real arcaded,
// started here on --port 0 with a temporary database and stopped at the end, pass or fail.
// Every step waits on what the page shows, never on the clock, and saves screenshots to
// build/screenshots/. Run from this directory: npm ci --no-audit --no-fund && node suite.mjs
// Environment: ARCADED (default ../../bin/arcaded), CHROMIUM (default /usr/bin/chromium).
// Prints "ok N - ..." per step and ends with "N passed, N failed"; exits 1 on any failure.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { checkFrames } from './frames.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../..');
// A relative ARCADED is looked for from here, then from the repository root (as the C suites name it).
const ARCADED = process.env.ARCADED
  ? [resolve(process.env.ARCADED), resolve(ROOT, process.env.ARCADED)].find((p) => existsSync(p)) ?? process.env.ARCADED
  : join(ROOT, 'bin/arcaded');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = join(ROOT, 'build/screenshots');
const MOVE_TIMEOUT = 5; // seconds: short, so a round that goes wrong ends quickly
const WAIT_MS = 10000; // the longest any one thing may take to show
const SUITE_MS = 180000; // the whole suite, past which the server and the browser are stopped

// ---- the server ----

async function startServer(dir, port = 0) {
  const args = ['--port', String(port), '--db', join(dir, 'arcade.db'), '--move-timeout', String(MOVE_TIMEOUT)];
  const child = spawn(ARCADED, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const log = createWriteStream(join(dir, 'arcaded.log'));
  const exited = new Promise((done) => child.once('exit', (code, signal) => done(signal ?? code)));
  const first = await new Promise((done, fail) => {
    let seen = '';
    const timer = setTimeout(() => fail(new Error(`${ARCADED} wrote no log line in ${WAIT_MS} ms`)), WAIT_MS);
    const onData = (chunk) => {
      seen += chunk;
      const nl = seen.indexOf('\n');
      if (nl < 0) {
        return;
      }
      clearTimeout(timer);
      child.stderr.off('data', onData);
      log.write(seen.slice(nl + 1));
      child.stderr.pipe(log); // drained, so the server never blocks on a full pipe
      done(seen.slice(0, nl));
    };
    child.stderr.on('data', onData);
    child.once('error', (err) => { clearTimeout(timer); fail(err); });
    exited.then((how) => { clearTimeout(timer); fail(new Error(`${ARCADED} ended (${how}) before listening: ${seen}`)); });
  });
  // As tests/harness.c reads it: "... listening on 127.0.0.1:PORT (tcp and udp), database ..."
  const bound = Number((first.match(/127\.0\.0\.1:(\d+)/) ?? first.match(/:(\d+)\D*$/) ?? [])[1]);
  if (!bound) {
    child.kill('SIGKILL');
    throw new Error(`no port in arcaded's first line: ${first}`);
  }
  console.log(`# ${first}`);
  return { child, exited, port: bound, logPath: join(dir, 'arcaded.log') };
}

async function stopServer(server) {
  if (server.child.exitCode !== null || server.child.signalCode !== null) {
    return;
  }
  server.child.kill('SIGTERM');
  const timer = setTimeout(() => server.child.kill('SIGKILL'), WAIT_MS);
  const how = await server.exited;
  clearTimeout(timer);
  if (how !== 0) {
    console.log(`# arcaded ended with ${how}`);
  }
}

// ---- pages and waiting ----

let browser;
const ctx = {}; // what the steps share: the server, its directory, the players' pages
let base;
const pages = [];
const consoleErrors = [];

async function openPage(label, contextOptions = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...contextOptions });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  page.on('console', (m) => {
    if (m.type() === 'error') {
      consoleErrors.push(`${label}: ${m.text()}`);
    }
  });
  page.on('pageerror', (err) => consoleErrors.push(`${label}: ${err.message}`));
  pages.push({ label, page });
  await page.goto(`${base}/`);
  await waitAttr(page, '#link', 'data-state', 'open');
  return page;
}

async function until(page, what, fn, arg, describe) {
  try {
    await page.waitForFunction(fn, arg, { timeout: WAIT_MS, polling: 50 });
  } catch (err) {
    const now = describe ? await describe().catch(() => '?') : '';
    throw new Error(`${what}: not within ${WAIT_MS} ms${now ? `; the page shows ${JSON.stringify(now)}` : ''}`);
  }
}

const textOf = (page, sel) => page.locator(sel).first().textContent();

function waitText(page, sel, text) {
  return until(page, `${sel} to show "${text}"`,
    ([s, t]) => document.querySelector(s)?.textContent.includes(t), [sel, text], () => textOf(page, sel));
}

function waitAttr(page, sel, attr, value) {
  return until(page, `${sel} ${attr}="${value}"`,
    ([s, a, v]) => document.querySelector(s)?.getAttribute(a) === v, [sel, attr, value],
    () => page.locator(sel).first().getAttribute(attr));
}

/* The move window has at least `secs` left, so two moves land in one round (a void round starts a new one). */
function freshWindow(page, secs) {
  return until(page, `a move window with ${secs} s left`, (s) => parseInt(document.querySelector('#window-left').textContent, 10) >= s,
    secs, () => textOf(page, '#window-left'));
}

async function shot(page, name, options = {}) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), ...options });
}

async function getJSON(path) {
  const res = await fetch(`${base}${path}`);
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    throw new Error(`${path}: ${res.status}, not JSON: ${JSON.stringify(text.slice(0, 200))}`);
  }
}

function check(cond, what) {
  if (!cond) {
    throw new Error(what);
  }
}

async function register(page, name) {
  await page.fill('#register-name', name);
  await page.getByRole('button', { name: 'Register', exact: true }).click();
  await waitText(page, '#who', `You play as ${name};`);
  await waitText(page, '#notices', `Registered ${name}`);
}

const button = (page, name) => page.getByRole('button', { name: new RegExp(`^${name}`) });
const rowOf = (page, name) => page.locator(`#top-rows tr[data-name="${name}"]`);

// ---- the steps ----


const steps = [
  ['the frame parser reads every server frame, split anywhere', async () => {
    await checkFrames(join(ROOT, 'web/app.js'));
  }],

  ['a registered player plays the bot three times and sees them counted', async () => {
    const ana = await openPage('ana');
    await waitText(ana, '#who', 'guest');
    await register(ana, 'ana');
    await button(ana, 'Rock').click();
    await waitAttr(ana, '#tally', 'data-rounds', '1');
    await waitText(ana, '#last-round', 'You played rock, the bot played');
    await ana.keyboard.press('p');
    await waitAttr(ana, '#tally', 'data-rounds', '2');
    await waitText(ana, '#last-round', 'You played paper, the bot played');
    await ana.keyboard.press('1');
    await waitAttr(ana, '#tally', 'data-rounds', '3');
    await waitText(ana, '#last-round', 'You played scissors, the bot played');
    await waitText(ana, '#tally', '3 rounds');
    // Bot rounds reach a player's totals when the server folds its tallies: ask until they show.
    let player = await getJSON('/api/players/ana');
    for (const deadline = Date.now() + WAIT_MS; player.body.rounds !== 3 && Date.now() < deadline;) {
      await new Promise((done) => setTimeout(done, 100));
      player = await getJSON('/api/players/ana');
    }
    check(player.status === 200 && player.body.rounds === 3, `/api/players/ana: ${JSON.stringify(player)}`);
    await ana.fill('#lookup-name', 'ana');
    await ana.press('#lookup-name', 'Enter');
    await waitText(ana, '#lookup', 'Ranknot ranked');
    await waitText(ana, '#lookup', 'Rounds3:');
    await shot(ana, '01-bot-three-rounds');
  }],

  ['two pages register, are matched, and each sees the other\'s move and its own result', async () => {
    ctx.watcher = await openPage('watcher');
    await waitText(ctx.watcher, '#top-live', 'live');
    await waitText(ctx.watcher, '#top-rows', 'Nobody is ranked yet');
    const bo = ctx.bo = await openPage('bo');
    const cy = ctx.cy = await openPage('cy');
    await register(bo, 'bo');
    await register(cy, 'cy');
    await bo.getByRole('button', { name: 'Play a person' }).click();
    await waitAttr(bo, '#play', 'data-phase', 'queued');
    await waitText(bo, '#notices', 'Waiting for an opponent');
    await cy.getByRole('button', { name: 'Play a person' }).click();
    await Promise.all([waitAttr(bo, '#play', 'data-phase', 'match'), waitAttr(cy, '#play', 'data-phase', 'match')]);
    await Promise.all([waitText(bo, '#opponent', 'vs cy'), waitText(cy, '#opponent', 'vs bo')]);
    await Promise.all([bo.keyboard.press('2'), button(cy, 'Scissors').click()]);
    await Promise.all([
      waitText(bo, '#last-round', 'Round 1: you played rock, cy played scissors: you win'),
      waitText(cy, '#last-round', 'Round 1: you played scissors, bo played rock: you lose'),
    ]);
    await Promise.all([waitText(bo, '#match-score', '1–0–0'), waitText(cy, '#match-score', '0–1–0')]);
    await shot(bo, '02-bo-won-round-1');
    await shot(cy, '02-cy-lost-round-1');
  }],

  ['a third page sees both players appear on the live leaderboard without a reload', async () => {
    const w = ctx.watcher;
    await Promise.all([rowOf(w, 'bo').waitFor(), rowOf(w, 'cy').waitFor()]);
    const bo = Number(await rowOf(w, 'bo').locator('.rating').evaluate((el) => el.firstChild.textContent));
    const cy = Number(await rowOf(w, 'cy').locator('.rating').evaluate((el) => el.firstChild.textContent));
    check(bo > 1200 && cy < 1200, `ratings after bo beat cy: bo ${bo}, cy ${cy}`);
    ctx.boRating = bo;
    await w.fill('#lookup-name', 'bo');
    await w.press('#lookup-name', 'Enter');
    await waitText(w, '#lookup', `Rating${bo}`);
    await waitText(w, '#lookup', 'Rank1');
    await shot(w, '03-leaderboard');
  }],

  ['a reload mid-match rejoins from the snapshot and the match goes on', async () => {
    const { bo, cy } = ctx;
    await freshWindow(bo, 3);
    await Promise.all([bo.keyboard.press('3'), cy.keyboard.press('r')]);
    await Promise.all([waitText(bo, '#match-score', '2–0–0'), waitText(cy, '#match-score', '0–2–0')]);
    await cy.reload();
    await waitText(cy, '#notices', 'Back in your match with bo');
    await waitAttr(cy, '#play', 'data-phase', 'match');
    await Promise.all([waitText(cy, '#opponent', 'vs bo'), waitText(cy, '#match-score', '0–2–0')]);
    await waitText(bo, '#notices', 'cy is back');
    await shot(cy, '04-cy-rejoined');
    await Promise.all([cy.keyboard.press('3'), button(bo, 'Rock').click()]);
    await Promise.all([
      waitText(cy, '#last-round', 'you played paper, bo played rock: you win'),
      waitText(bo, '#last-round', 'you played rock, cy played paper: you lose'),
    ]);
    await Promise.all([waitText(cy, '#match-score', '1–2–0'), waitText(bo, '#match-score', '2–1–0')]);
    await shot(cy, '04-cy-won-after-rejoin');
    const w = ctx.watcher;
    await Promise.all([waitText(w, '#top-rows tr[data-name="bo"]', '2–1–0'), waitText(w, '#top-rows tr[data-name="cy"]', '1–2–0')]);
    const bo2 = Number(await rowOf(w, 'bo').locator('.rating').evaluate((el) => el.firstChild.textContent));
    check(bo2 !== ctx.boRating, `bo's rating on the leaderboard did not change: ${bo2}`);
    await shot(w, '04-leaderboard-after');
  }],

  ['on a phone the page fits 375 px, and a long exact result wraps', async () => {
    const phone = await openPage('phone', { viewport: { width: 375, height: 812 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    await rowOf(phone, 'bo').waitFor();
    const n = '1234567890'.repeat(8);
    await phone.fill('#math-n', n);
    await phone.getByRole('button', { name: 'Fourth' }).click();
    await waitAttr(phone, '#math-out', 'data-ok', 'true');
    const result = await textOf(phone, '#math-out .result');
    check(result === String(BigInt(n) ** 4n), `fourth power of ${n}: ${result}`);
    const overflow = await phone.evaluate(() => ({
      page: document.documentElement.scrollWidth - window.innerWidth,
      math: document.querySelector('#math-out').scrollWidth - document.querySelector('#math-out').clientWidth,
    }));
    check(overflow.page <= 0 && overflow.math <= 0, `wider than the phone: ${JSON.stringify(overflow)}`);
    await shot(phone, '05-phone', { fullPage: true });
  }],

  ['after the server restarts, the pages reconnect by themselves and log in again', async () => {
    const [ana, { bo }] = [pages.find((p) => p.label === 'ana').page, ctx];
    await stopServer(ctx.server);
    ctx.server = await startServer(ctx.dir, ctx.server.port);
    await Promise.all([waitText(ana, '#notices', 'Connection lost'), waitText(bo, '#notices', 'Server: server shutting down')]);
    await Promise.all([waitAttr(ana, '#link', 'data-state', 'open'), waitAttr(bo, '#link', 'data-state', 'open')]);
    await until(ana, 'ana logged in a second time', () => document.querySelector('#notices').textContent.split('You play as ana.').length === 3);
    await until(bo, 'bo logged in a second time', () => document.querySelector('#notices').textContent.split('You play as bo.').length === 3);
    await waitText(bo, '#notices', 'Your match ended while you were away');
    await waitAttr(bo, '#play', 'data-phase', 'lobby');
    await button(ana, 'Paper').click();
    await waitAttr(ana, '#tally', 'data-rounds', '4');
    await shot(bo, '06-bo-after-restart');
  }],

  ['no page wrote an error to the console', async () => {
    check(consoleErrors.length === 0, `console errors:\n  ${consoleErrors.join('\n  ')}`);
  }],
];

// ---- running them ----

async function report(server) {
  for (const { label, page } of pages) {
    await shot(page, `failed-${label}`, { fullPage: true }).catch(() => {});
    const notices = await page.$$eval('#notices li', (items) => items.map((li) => li.textContent).join(' | ')).catch(() => '');
    console.log(`# ${label}: status "${await textOf(page, '#status').catch(() => '?')}"; notices, newest first: ${notices}`);
  }
  if (server) {
    const log = await readFile(server.logPath, 'utf8').catch(() => '');
    console.log(`# arcaded's log, last lines:\n${log.split('\n').slice(-30).map((l) => `#   ${l}`).join('\n')}`);
  }
}

async function main() {
  await rm(SHOTS, { recursive: true, force: true }); // only this run's pictures
  await mkdir(SHOTS, { recursive: true });
  const dir = ctx.dir = await mkdtemp(join(tmpdir(), 'arcade-browser-'));
  let passed = 0;
  let failed = 0;
  const watchdog = setTimeout(() => {
    console.log(`# the suite ran past ${SUITE_MS} ms: stopping the server and the browser`);
    ctx.server?.child.kill('SIGKILL');
    browser?.close().catch(() => {});
  }, SUITE_MS);
  try {
    ctx.server = await startServer(dir);
    base = `http://127.0.0.1:${ctx.server.port}`;
    const root = process.getuid?.() === 0;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: root ? ['--no-sandbox'] : [] });
    for (const [i, [title, run]] of steps.entries()) {
      const started = Date.now();
      try {
        await run();
        passed++;
        console.log(`ok ${i} - ${title} (${Date.now() - started} ms)`);
      } catch (err) {
        failed++;
        console.log(`not ok ${i} - ${title}\n# ${String(err.stack ?? err).split('\n').join('\n# ')}`);
        await report(ctx.server);
        break;
      }
    }
  } catch (err) {
    failed++;
    console.log(`not ok - setting up: ${err.message}`);
  } finally {
    clearTimeout(watchdog);
    await browser?.close().catch(() => {});
    if (ctx.server) {
      await stopServer(ctx.server);
    }
    await rm(dir, { recursive: true, force: true });
  }
  const skipped = steps.length - passed - failed;
  console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
  console.log(`# screenshots in ${SHOTS}`);
  process.exitCode = failed > 0 ? 1 : 0;
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    console.log(`# ${sig}: stopping`);
    browser?.close().catch(() => {});
    process.exitCode = 1;
  });
}

await main();
