/**
 * The status page in a real headless Chromium (Debian's `chromium`): the
 * table rows, verdict words, sorting, the filter, one SVG chart per series
 * with a point per generation, a narrow phone-sized viewport and the dark
 * scheme. Any request other than the file itself fails the test: the page
 * must work offline. Screenshots go to .tmp/status-html/.
 */
import { access, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderStatusPage, type StatusPageRow } from '../../../src/status/html.js';

const OUT = resolve('.tmp/status-html');
const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const copy = (generation: string, day: number, size: number, durationSeconds?: number) => ({
  generation,
  time: `2026-12-0${day}T01:00:00.000Z`,
  size,
  ...(durationSeconds !== undefined ? { durationSeconds } : {}),
});

const ROWS: StatusPageRow[] = [
  {
    cluster: 'home',
    node: 'pve1',
    vmid: 101,
    name: 'web',
    type: 'lxc',
    state: 'running',
    verdict: 'ok',
    newest: {
      generation: 'daily.0',
      time: '2026-12-04T01:00:00.000Z',
      ageSeconds: 3600,
      size: 5_000_000,
      hasSha256: true,
    },
    copies: 3,
    // Newest first, as coverage() gives them.
    history: [
      copy('daily.0', 4, 5_000_000, 60),
      copy('daily.1', 3, 4_800_000, 58),
      copy('daily.2', 2, 4_500_000, 55),
    ],
  },
  {
    cluster: 'home',
    node: 'pve1',
    vmid: 102,
    name: 'db <main>',
    type: 'lxc',
    state: 'running',
    verdict: 'stale',
    newest: {
      generation: 'daily.3',
      time: '2026-12-01T01:00:00.000Z',
      ageSeconds: 270_000,
      size: 9_000_000,
      hasSha256: false,
    },
    copies: 2,
    // The older copy has no duration recorded: the duration chart has one point.
    history: [
      copy('daily.3', 1, 9_000_000, 120),
      { generation: 'daily.4', time: '2026-11-30T01:00:00.000Z', size: 8_000_000 },
    ],
  },
  {
    cluster: 'home',
    node: 'pve2',
    vmid: 200,
    name: 'new',
    type: 'lxc',
    state: 'running',
    verdict: 'missing',
    newest: null,
    copies: 0,
    history: [],
  },
  {
    cluster: 'home',
    node: 'pve2',
    vmid: 201,
    name: 'tmpl-ish',
    type: 'qemu',
    state: 'stopped',
    verdict: 'unselected',
    reason: 'type qemu not in backup.types',
    newest: null,
    copies: 0,
    history: [],
  },
];

let context: BrowserContext;
let profile: string;
let pageUrl: string;
const outside: string[] = [];

beforeAll(async () => {
  await access(CHROMIUM).catch(() => {
    throw new Error(
      `${CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium)`,
    );
  });
  await mkdir(OUT, { recursive: true });
  const file = join(OUT, 'status.html');
  await writeFile(
    file,
    renderStatusPage({
      rows: ROWS,
      generatedAt: new Date('2026-12-04T02:00:00Z'),
      lastRun: {
        runId: 'run-1',
        finishedAt: '2026-12-04T01:30:00.000Z',
        exitCode: 1,
        summary: { saved: 1, failed: 1, notStarted: 0, bytesSaved: 5_000_000 },
      },
    }),
  );
  pageUrl = pathToFileURL(file).href;
  profile = await mkdtemp(join(tmpdir(), 'pfb-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    timeout: 20_000,
  });
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url === pageUrl) return route.continue();
    outside.push(url);
    return route.abort();
  });
}, 30_000);

afterAll(async () => {
  await context?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
});

async function openPage(o: { width: number; dark?: boolean }) {
  const page = await context.newPage();
  await page.setViewportSize({ width: o.width, height: 800 });
  await page.emulateMedia({ colorScheme: o.dark ? 'dark' : 'light' });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(pageUrl);
  return { page, errors };
}

describe('status page in Chromium', () => {
  it('shows every guest, worst first, each verdict as a word; charts have a point per copy', async () => {
    const { page, errors } = await openPage({ width: 1200 });
    const rows = await page.$$eval('#coverage tbody tr', (trs) =>
      trs.map((tr) =>
        Array.from(
          tr.querySelectorAll('td'),
          (c: { textContent: string | null }) => c.textContent?.trim() ?? '',
        ),
      ),
    );
    expect(rows.map((r) => [r[0], r[1]])).toEqual([
      ['missing', '200'],
      ['stale', '102'],
      ['ok', '101'],
      ['unselectedtype qemu not in backup.types', '201'],
    ]);
    expect(rows[1]?.[2]).toBe('db <main>');
    const charts = await page.$$eval('svg[class^="chart-"]', (svgs) =>
      svgs.map((s) => ({
        kind: s.getAttribute('class'),
        points: s.querySelectorAll('circle.pt').length,
        line: s.querySelector('polyline')?.getAttribute('points')?.split(' ').length ?? 0,
        width: s.getBoundingClientRect().width,
      })),
    );
    expect(charts.map((c) => [c.kind, c.points, c.line])).toEqual([
      ['chart-size', 2, 2],
      ['chart-duration', 1, 1],
      ['chart-size', 3, 3],
      ['chart-duration', 3, 3],
    ]);
    for (const c of charts) expect(c.width).toBeGreaterThan(100);
    await page.screenshot({ path: join(OUT, 'status-wide.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  }, 20_000);

  it('sorts by a header and filters rows and charts', async () => {
    const { page } = await openPage({ width: 1200 });
    await page.click('th:nth-child(2) button');
    const vmids = () =>
      page.$$eval('#coverage tbody tr:not([hidden]) td:nth-child(2)', (tds) =>
        tds.map((t) => t.textContent),
      );
    expect(await vmids()).toEqual(['101', '102', '200', '201']);
    await page.click('th:nth-child(2) button');
    expect(await vmids()).toEqual(['201', '200', '102', '101']);
    await page.fill('#filter', 'db');
    expect(await vmids()).toEqual(['102']);
    expect(await page.$$eval('section.guest:not([hidden])', (s) => s.length)).toBe(1);
    await page.close();
  }, 20_000);

  it('fits a 375 px phone and follows a dark colour scheme', async () => {
    const { page } = await openPage({ width: 375, dark: true });
    // A string, because this project compiles without the DOM library.
    const fit = (await page.evaluate(
      '({ page: document.documentElement.scrollWidth, background: getComputedStyle(document.body).backgroundColor })',
    )) as { page: number; background: string };
    // The wide table scrolls inside its box; the page itself does not.
    expect(fit.page).toBeLessThanOrEqual(375);
    expect(fit.background).toBe('rgb(13, 17, 23)');
    await page.screenshot({ path: join(OUT, 'status-375-dark.png'), fullPage: true });
    await page.close();
    expect(outside).toEqual([]);
  }, 20_000);
});
