// The browsers the soak runs in, each found on this machine or not, and how each is launched
// headless by puppeteer-core (the system's browser, nothing downloaded): Chromium over
// DevTools, Firefox over WebDriver BiDi.
import { existsSync } from 'node:fs';
import puppeteer from 'puppeteer-core';

/** The engines the soak runs in, each found here or not. */
export const soakEngines = {
  chromium: {
    find: () => firstExisting(process.env.CHROME_PATH, '/usr/bin/chromium'),
    install: 'apt-get install chromium (or set CHROME_PATH)',
  },
  firefox: {
    find: () => firstExisting(process.env.FIREFOX_PATH, '/usr/bin/firefox-esr', '/usr/bin/firefox'),
    install: 'apt-get install firefox-esr (or set FIREFOX_PATH)',
  },
};

const firstExisting = (...paths) => paths.find((p) => p && existsSync(p)) ?? null;

/** The browser of `engine`, headless. */
export function launch(engine) {
  const executablePath = soakEngines[engine].find();
  if (engine === 'firefox') {
    return puppeteer.launch({ browser: 'firefox', executablePath, headless: true });
  }
  return puppeteer.launch({
    executablePath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      // Tabs of one site must not share a renderer: a crash kills one tab, as on a real
      // machine with memory to spare (and background tabs keep running at full speed).
      '--renderer-process-limit=100',
      '--disable-renderer-backgrounding',
      '--disable-background-timer-throttling',
      '--disable-backgrounding-occluded-windows',
    ],
  });
}
