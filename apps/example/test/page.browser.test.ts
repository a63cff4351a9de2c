import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startRedisServer, type RedisServer } from '@presence/cache-redis/testing';
import { startApp, type App } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js';

/**
 * The page in a real browser: Debian's chromium driven by playwright-core (no browser download).
 * Every wait is bounded and generous: this machine is shared and busy.
 */
const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const LIVE_MS = 15_000; // how long a change may take to show, on a loaded machine
const SCREENSHOT = fileURLToPath(new URL('../test-results/page.png', import.meta.url));

interface Browser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

async function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium); .ci/run does.`);
  const userDataDir = mkdtempSync(join(tmpdir(), 'presence-page-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1200, height: 820 },
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

async function api(base: string, method: string, path: string, body?: unknown): Promise<void> {
  const response = await fetch(`${base}${path}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  expect(response.status, `${method} ${path}`).toBe(200);
  await response.text();
}

const room = (page: Page, name: string) => page.locator(`article.room[data-room="${name}"]`);
const row = (page: Page, roomName: string, user: string) => room(page, roomName).locator(`li[data-user="${user}"]`);
const liveRow = (page: Page, roomName: string, user: string) => room(page, roomName).locator(`li[data-user="${user}"]:not(.gone)`);
const occupancy = (page: Page, roomName: string) => room(page, roomName).locator('[data-occupancy]');

async function openPage(context: BrowserContext, url: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(url);
  await page.waitForSelector('#connection[data-state="live"]', { timeout: LIVE_MS });
  // A marker that a reload would wipe: every change below must arrive without one.
  await page.evaluate('window.notReloaded = true');
  return page;
}

const notReloaded = (page: Page) => page.evaluate('window.notReloaded === true');

describe('the page, one replica', { timeout: 90_000 }, () => {
  let app: App;
  let base: string;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    app = await startApp(loadConfig({ PORT: '0', SIMULATE: '0' }));
    base = app.replicas[0]!.url;
    await api(base, 'POST', '/users/ada/rooms/lobby/heartbeat?heartbeat=300');
    await api(base, 'PUT', '/users/ada/rooms/lobby/state', { mood: 'reviewing' });
    await api(base, 'POST', '/users/grace/rooms/engineering/heartbeat?heartbeat=300');
    await app.replicas[0]!.live.ready;
    browser = await launch();
    page = await openPage(browser.context, `${base}/`);
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  }, 60_000);

  test('it is readable without JavaScript: every room, its occupancy and occupants with state', async () => {
    const plain = await browser.context.newPage();
    const cdp = await browser.context.newCDPSession(plain);
    await cdp.send('Emulation.setScriptExecutionDisabled', { value: true });
    await plain.goto(`${base}/`);
    expect(await plain.locator('article.room h3').allTextContents()).toEqual(['lobby', 'engineering', 'random']);
    await expect.poll(() => row(plain, 'lobby', 'ada').textContent()).toMatch(/ada\s*reviewing/);
    expect(await occupancy(plain, 'lobby').textContent()).toBe('1');
    expect(await row(plain, 'engineering', 'grace').count()).toBe(1);
    expect(await plain.locator('#connection').getAttribute('data-state')).toBe('static'); // no script ran
    await plain.close();
  });

  test('it lists the rooms and goes live', async () => {
    expect(await page.locator('article.room h3').allTextContents()).toEqual(['lobby', 'engineering', 'random']);
    expect(await page.locator('#connection').textContent()).toMatch(/live/i);
    expect(await liveRow(page, 'lobby', 'ada').textContent()).toMatch(/reviewing/);
  });

  test('the activity panel says what it is for until the first change, then lists changes', async () => {
    const placeholder = (p: Page) => p.evaluate(`getComputedStyle(document.getElementById('activity'), '::before').content`);
    const fresh = await openPage(browser.context, `${base}/`);
    expect(await fresh.locator('#activity li').count()).toBe(0);
    expect(await placeholder(fresh)).toMatch(/appear here as they happen/);
    await api(base, 'POST', '/users/edsger/rooms/random/heartbeat?heartbeat=300');
    await expect.poll(() => fresh.locator('#activity li').count(), { timeout: LIVE_MS }).toBeGreaterThan(0);
    expect(await placeholder(fresh)).toBe('none');
    await api(base, 'DELETE', '/users/edsger/rooms/random');
    await fresh.close();
  });

  test('a join through the API appears without a reload, and the count moves', async () => {
    await api(base, 'POST', '/users/linus/rooms/lobby/heartbeat?heartbeat=300');
    await expect.poll(() => liveRow(page, 'lobby', 'linus').count(), { timeout: LIVE_MS }).toBe(1);
    await expect.poll(() => occupancy(page, 'lobby').textContent(), { timeout: LIVE_MS }).toBe('2');
    expect(await page.locator('#activity').textContent()).toMatch(/linus joined lobby/);
    expect(await notReloaded(page)).toBe(true);
  });

  test('a state change updates the row in place', async () => {
    const before = await liveRow(page, 'lobby', 'ada').elementHandle();
    await api(base, 'PUT', '/users/ada/rooms/lobby/state', { mood: 'at lunch' });
    await expect.poll(() => liveRow(page, 'lobby', 'ada').textContent(), { timeout: LIVE_MS }).toMatch(/at lunch/);
    // The same element, updated: not removed and added again.
    expect(await before.evaluate((element) => element.isConnected && element.textContent)).toMatch(/at lunch/);
    expect(await notReloaded(page)).toBe(true);
  });

  test('a leave disappears, marked as a leave', async () => {
    await api(base, 'DELETE', '/users/linus/rooms/lobby');
    await expect.poll(() => liveRow(page, 'lobby', 'linus').count(), { timeout: LIVE_MS }).toBe(0);
    await expect.poll(() => occupancy(page, 'lobby').textContent(), { timeout: LIVE_MS }).toBe('1');
    expect(await page.locator('#activity').textContent()).toMatch(/linus left lobby/);
    await expect.poll(() => row(page, 'lobby', 'linus').count(), { timeout: LIVE_MS }).toBe(0); // the marked row goes too
  });

  test('a timeout disappears, marked as a timeout', async () => {
    // Two seconds of presence without another heartbeat: the service times the user out.
    await api(base, 'POST', '/users/ken/rooms/random/heartbeat?heartbeat=2');
    await expect.poll(() => liveRow(page, 'random', 'ken').count(), { timeout: LIVE_MS }).toBe(1);
    await expect.poll(() => row(page, 'random', 'ken').getAttribute('data-gone'), { timeout: 30_000 }).toBe('timeout');
    expect(await row(page, 'random', 'ken').textContent()).toMatch(/timed out/);
    expect(await page.locator('#activity').textContent()).toMatch(/ken timed out of random/);
    await expect.poll(() => row(page, 'random', 'ken').count(), { timeout: LIVE_MS }).toBe(0);
    expect(await occupancy(page, 'random').textContent()).toBe('0');
    expect(await notReloaded(page)).toBe(true);
  });

  test('the form joins a room, sets a status and leaves, by keyboard', async () => {
    await page.locator('#user').focus();
    await page.keyboard.type('visitor');
    await page.keyboard.press('Tab'); // the room
    await page.keyboard.press('ArrowDown'); // engineering
    await page.keyboard.press('Tab'); // the status
    await page.keyboard.type('just looking');
    await page.keyboard.press('Enter'); // submits with the first button: Join
    await expect.poll(() => liveRow(page, 'engineering', 'visitor').textContent(), { timeout: LIVE_MS }).toMatch(/just looking/);
    expect(await page.locator('#form-status').textContent()).toMatch(/visitor joined engineering/);

    await page.locator('#mood').fill('busy');
    await page.getByRole('button', { name: 'Set status' }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => liveRow(page, 'engineering', 'visitor').textContent(), { timeout: LIVE_MS }).toMatch(/busy/);

    await page.getByRole('button', { name: 'Leave' }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => liveRow(page, 'engineering', 'visitor').count(), { timeout: LIVE_MS }).toBe(0);
    expect(await notReloaded(page)).toBe(true);
  });

  test('every form control has a label, and the page has one h1 and landmarks', async () => {
    for (const id of ['user', 'room', 'mood']) expect(await page.locator(`label[for="${id}"]`).count()).toBe(1);
    expect(await page.locator('h1').count()).toBe(1);
    expect(await page.locator('main').count()).toBe(1);
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
  });

  test('a screenshot of the page', async () => {
    for (const [user, where, mood] of [['margaret', 'lobby', 'writing specs'], ['dennis', 'engineering', 'coding'], ['radia', 'random', 'away'], ['barbara', 'lobby', 'in a meeting']] as const) {
      await api(base, 'POST', `/users/${user}/rooms/${where}/heartbeat?heartbeat=300`);
      await api(base, 'PUT', `/users/${user}/rooms/${where}/state`, { mood });
    }
    await expect.poll(() => liveRow(page, 'lobby', 'barbara').textContent(), { timeout: LIVE_MS }).toMatch(/in a meeting/);
    await page.locator('#user').fill('');
    await page.locator('#mood').fill('');
    await page.locator('#form-status').evaluate((element) => (element.textContent = ''));
    await page.evaluate('document.activeElement && document.activeElement.blur()');
    await expect.poll(() => page.locator('li.gone').count(), { timeout: LIVE_MS }).toBe(0); // marked rows have gone
    await page.waitForTimeout(1600); // and the highlight of the last change has faded
    mkdirSync(fileURLToPath(new URL('../test-results/', import.meta.url)), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
  });
});

describe('the page recovers after its event stream is cut', { timeout: 90_000 }, () => {
  let app: App;
  let proxy: TcpProxy;
  let browser: Browser;

  beforeAll(async () => {
    app = await startApp(loadConfig({ PORT: '0', SIMULATE: '0' }));
    proxy = await startTcpProxy(new URL(app.replicas[0]!.url));
    browser = await launch();
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await proxy?.close();
    await app?.close();
  }, 60_000);

  test('it shows it is offline, reconnects with Last-Event-ID, and catches up on what it missed', async () => {
    const base = app.replicas[0]!.url;
    const page = await openPage(browser.context, `${proxy.url}/`);
    await api(base, 'POST', '/users/ada/rooms/lobby/heartbeat?heartbeat=300');
    await expect.poll(() => liveRow(page, 'lobby', 'ada').count(), { timeout: LIVE_MS }).toBe(1);

    proxy.cut();
    await expect.poll(() => page.locator('#connection').getAttribute('data-state'), { timeout: LIVE_MS }).toBe('offline');
    expect(await page.locator('#connection').textContent()).toMatch(/offline/i);
    // Changes while the page is cut off.
    await api(base, 'POST', '/users/grace/rooms/lobby/heartbeat?heartbeat=300');
    await api(base, 'DELETE', '/users/ada/rooms/lobby');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const seen = proxy.requests.length;

    proxy.restore();
    await expect.poll(() => page.locator('#connection').getAttribute('data-state'), { timeout: 30_000 }).toBe('live');
    await expect.poll(() => liveRow(page, 'lobby', 'grace').count(), { timeout: LIVE_MS }).toBe(1);
    await expect.poll(() => liveRow(page, 'lobby', 'ada').count(), { timeout: LIVE_MS }).toBe(0);
    expect(await occupancy(page, 'lobby').textContent()).toBe('1');
    // It resumed from where it was rather than starting over.
    const reconnects = proxy.requests.slice(seen).filter((head) => head.startsWith('get /events'));
    expect(reconnects.length).toBeGreaterThan(0);
    expect(reconnects.some((head) => /\r\nlast-event-id: \w+-\d+/.test(head) || /since=\w+-\d+/.test(head))).toBe(true);
    expect(await notReloaded(page)).toBe(true);
  });
});

describe('the page on two replicas sharing Redis', { timeout: 90_000 }, () => {
  let redis: RedisServer;
  let app: App;
  let browser: Browser;

  beforeAll(async () => {
    redis = await startRedisServer();
    app = await startApp(loadConfig({ PORT: '0', REPLICAS: '2', REDIS_URL: redis.url, SIMULATE: '0' }));
    browser = await launch();
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await redis?.stop();
  }, 60_000);

  test('both pages show the same roster, live: one replica runs the roster, the other mirrors it', async () => {
    const [a, b] = app.replicas.map((replica) => replica.url);
    await Promise.all(app.replicas.map((replica) => replica.live.ready));
    await expect.poll(() => app.replicas.map((replica) => replica.rosterRole()).sort(), { timeout: LIVE_MS }).toEqual(['leader', 'mirror']);
    const pages = [await openPage(browser.context, `${a}/`), await openPage(browser.context, `${b}/`)];
    await api(a!, 'POST', '/users/ada/rooms/lobby/heartbeat?heartbeat=300');
    await api(b!, 'POST', '/users/grace/rooms/random/heartbeat?heartbeat=300');
    await api(a!, 'PUT', '/users/grace/rooms/random/state', { mood: 'on call' });
    for (const page of pages) {
      await expect.poll(() => liveRow(page, 'lobby', 'ada').count(), { timeout: LIVE_MS }).toBe(1);
      await expect.poll(() => liveRow(page, 'random', 'grace').textContent(), { timeout: LIVE_MS }).toMatch(/on call/);
    }
    await api(b!, 'DELETE', '/users/ada/rooms/lobby');
    for (const page of pages) await expect.poll(() => row(page, 'lobby', 'ada').count(), { timeout: LIVE_MS }).toBe(0);
    const rosterOf = (page: Page) => page.locator('#rooms').innerText();
    await expect.poll(async () => (await rosterOf(pages[0]!)) === (await rosterOf(pages[1]!)), { timeout: LIVE_MS }).toBe(true);
  });
});
