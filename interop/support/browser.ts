// A headless Chromium for the web UI suite and the screenshot script:
// Debian's chromium-headless-shell driven by puppeteer-core (which downloads no
// browser). Each launch gets its own profile directory, removed on close.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';
import type { Dependency } from './deps.js';

const CANDIDATES = ['/usr/bin/chromium-headless-shell', '/usr/lib/chromium/chromium-headless-shell'];

/** The browser binary: WARREN_CHROMIUM, else Debian's chromium-headless-shell. */
export function chromiumPath(): string | undefined {
  const chosen = process.env.WARREN_CHROMIUM;
  if (chosen !== undefined && chosen !== '') return chosen;
  return CANDIDATES.find((candidate) => fs.existsSync(candidate));
}

export function chromiumDependency(): Dependency {
  const found = chromiumPath();
  const missing =
    found === undefined
      ? `chromium-headless-shell is not installed (${CANDIDATES.join(' or ')} missing; run scripts/install-test-deps.sh)`
      : fs.existsSync(found)
        ? null
        : `WARREN_CHROMIUM=${found} does not exist`;
  return { name: 'chromium-headless-shell', missing };
}

export interface RunningBrowser {
  readonly browser: Browser;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<RunningBrowser> {
  const executablePath = chromiumPath();
  if (executablePath === undefined) throw new Error('chromium-headless-shell is not installed');
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-chromium-'));
  try {
    const browser = await puppeteer.launch({
      executablePath,
      headless: true,
      timeout: 30_000,
      protocolTimeout: 30_000,
      userDataDir: profile,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        `--user-data-dir=${profile}`,
      ],
    });
    return {
      browser,
      close: async () => {
        await browser.close().catch(() => browser.process()?.kill('SIGKILL'));
        fs.rmSync(profile, { recursive: true, force: true });
      },
    };
  } catch (error) {
    fs.rmSync(profile, { recursive: true, force: true });
    throw error;
  }
}
