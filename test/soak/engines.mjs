// The browsers the soak runs in, each found on this machine or not, and how each is launched
// headless by puppeteer-core (the system's browser, nothing downloaded): Chromium over
// DevTools, Firefox over WebDriver BiDi.
import puppeteer from 'puppeteer-core';
import { chromiumArgs, engines } from '../browser/engines.mjs';

/** The engines the soak runs in (found and installed as the browser suite's are). */
export const soakEngines = { chromium: engines.chromium, firefox: engines.firefox };

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
      ...chromiumArgs,
      // Tabs of one site must not share a renderer: a crash kills one tab, as on a real
      // machine with memory to spare (and background tabs keep running at full speed).
      '--renderer-process-limit=100',
      '--disable-renderer-backgrounding',
      '--disable-background-timer-throttling',
      '--disable-backgrounding-occluded-windows',
    ],
  });
}
