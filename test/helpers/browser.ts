import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { DASHBOARD_DIR } from '../../src/http/static.ts';
import { closeWith, type Scope } from './scope.ts';

/** Debian's Chromium (`apt-get install chromium`); playwright-core downloads no browser. */
export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/** Screenshots land here (gitignored) for a person to look at after a run. */
export const ARTIFACTS_DIR = join(import.meta.dirname, '..', '..', 'test-artifacts');

export const DESKTOP = { width: 1366, height: 800 };
export const PHONE = { width: 390, height: 844 };

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface TestBrowser {
  context: BrowserContext;
  /** A new tab at `url` with the given viewport; console errors are collected in `errors`. */
  open(url: string, viewport?: { width: number; height: number }): Promise<Page>;
  /** Page errors and console errors seen so far, for assertions and failure messages. */
  errors: string[];
  screenshot(page: Page, name: string): Promise<string>;
  /** Closes it now; it is closed when its scope ends anyway. */
  close(): Promise<void>;
}

/** Fails with the fix when the dashboard or the browser is missing, instead of a blank page. */
function assertPrerequisites() {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`no Chromium at ${CHROMIUM_PATH}: apt-get install -y chromium`);
  }
  if (!existsSync(join(DASHBOARD_DIR, 'index.html'))) {
    throw new Error('the dashboard is not built: npm run build (npm run test:browser does it)');
  }
}

/**
 * Launches headless Chromium with a fresh profile directory; both are gone when `scope` ends.
 */
export async function launchBrowser(scope: Scope): Promise<TestBrowser> {
  assertPrerequisites();
  const profile = mkdtempSync(join(tmpdir(), 'mailscope-chromium-'));
  const removeProfile = () => rmSync(profile, { recursive: true, force: true });
  const context = await chromium
    .launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: DESKTOP,
    })
    .catch((error: unknown) => {
      removeProfile();
      throw error;
    });
  let closing: Promise<void> | null = null;
  const close = () => (closing ??= context.close().then(removeProfile));
  closeWith(scope, close);
  const errors: string[] = [];
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  return {
    context,
    errors,
    async open(url, viewport = DESKTOP) {
      const page = await context.newPage();
      await page.setViewportSize(viewport);
      page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
      page.on('console', (message) => {
        if (message.type() === 'error') errors.push(`console: ${message.text()}`);
      });
      await page.goto(url);
      return page;
    },
    async screenshot(page, name) {
      const path = join(ARTIFACTS_DIR, `${name}.png`);
      // Animations off: the picture shows where things end up, not a frame of a slide-in.
      await page.screenshot({ path, fullPage: false, animations: 'disabled' });
      return path;
    },
    close,
  };
}
