// The browser engines the tests run in, each found on this machine or not, each with the
// web-test-runner launcher that drives it:
//   chromium  Debian's chromium (or CHROME_PATH) through puppeteer-core over CDP.
//   firefox   Debian's firefox-esr (or FIREFOX_PATH) through puppeteer-core over WebDriver BiDi.
//   webkit    WebKitGTK's MiniBrowser through WebKitWebDriver (classic WebDriver: WebKitWebDriver
//             refuses BiDi), on a private Xvfb display unless DISPLAY is set.
// puppeteer-core is the one @web/test-runner-chrome already ships, so no browser is downloaded.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { chromeLauncher, puppeteerCore } from '@web/test-runner-chrome';
import { WebdriverLauncher } from '@web/test-runner-webdriver';

const firstExisting = (...paths) => paths.find((p) => p && existsSync(p)) ?? null;

const miniBrowser = () =>
  firstExisting(
    process.env.MINIBROWSER_PATH,
    '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser',
    '/usr/lib/aarch64-linux-gnu/webkit2gtk-4.1/MiniBrowser',
    '/usr/libexec/webkit2gtk-4.1/MiniBrowser',
  );

/** A TCP port nobody listens on right now. */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts HTTP on `url`, or rejects after `ms`. */
async function reachable(url, ms, child) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${child.spawnfile} exited (${child.exitCode})`);
    try {
      await fetch(url);
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`nothing answered at ${url} within ${ms} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Starts Xvfb on the first free display; resolves with the display (`:N`) and the process. */
export function startXvfb() {
  return new Promise((resolve, reject) => {
    // -displayfd: Xvfb picks a free display and writes its number to fd 3 once it is ready.
    const x = spawn(
      'Xvfb',
      ['-displayfd', '3', '-screen', '0', '1280x1024x24', '-nolisten', 'tcp'],
      {
        stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    x.stderr.on('data', (d) => (err += d));
    x.stdio[3].on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve({ display: `:${out.trim()}`, process: x });
    });
    x.on('error', reject);
    x.on('exit', (code) => reject(new Error(`Xvfb exited (${code}): ${err.trim()}`)));
  });
}

/**
 * Starts WebKitWebDriver (on a private Xvfb display when there is no DISPLAY); resolves with the
 * webdriverio options of a MiniBrowser session through it (MiniBrowser given `browserArgs` too),
 * and `stop()` for both processes.
 */
export async function startWebKitDriver(binary, browserArgs = []) {
  const children = [];
  const stop = () => {
    for (const child of children.reverse()) child.kill();
  };
  try {
    const env = { ...process.env };
    if (!env.DISPLAY) {
      const x = await startXvfb();
      children.push(x.process);
      env.DISPLAY = x.display;
    }
    const port = await freePort();
    const driver = spawn('WebKitWebDriver', [`--port=${port}`, '--host=local'], {
      env,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    children.push(driver);
    await reachable(`http://127.0.0.1:${port}/status`, 10_000, driver);
    const options = {
      hostname: '127.0.0.1',
      port,
      logLevel: 'error',
      capabilities: {
        browserName: 'MiniBrowser',
        // WebKitWebDriver speaks classic WebDriver only; webdriverio would otherwise ask for BiDi.
        'wdio:enforceWebDriverClassic': true,
        'webkitgtk:browserOptions': { binary, args: ['--automation', ...browserArgs] },
      },
    };
    return { options, stop };
  } catch (e) {
    stop();
    throw e;
  }
}

/** web-test-runner's WebDriver launcher, with its own WebKitWebDriver for the run. */
class WebKitLauncher extends WebdriverLauncher {
  constructor(binary) {
    super({ capabilities: {} });
    this.binary = binary;
  }

  async initialize(config, testFiles) {
    const { options, stop } = await startWebKitDriver(this.binary);
    this.options = options;
    this.stopDriver = stop;
    await super.initialize(config, testFiles);
    this.name = 'WebKit';
  }

  async stop() {
    await super.stop();
    this.stopDriver?.();
  }

  /**
   * Performs W3C key actions in the session's window as one keyboard (test/browser/key-chord.mjs):
   * the launcher's own sendKeys can only press keys one at a time, never hold one.
   */
  performKeyActions(sessionId, actions) {
    if (!this.driverManager) throw new Error('Not initialized');
    return this.driverManager.performActions(sessionId, [{ type: 'key', id: 'keyboard', actions }]);
  }
}

export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/**
 * Every engine: `find()` gives what it needs on this machine or null, `install` how to get it
 * on Debian/Ubuntu, `launcher(found)` the web-test-runner browser.
 */
export const engines = {
  chromium: {
    label: 'Chromium',
    install: 'apt-get install chromium (or set CHROME_PATH)',
    find: () => firstExisting(process.env.CHROME_PATH, '/usr/bin/chromium'),
    launcher: (executablePath) =>
      // Given puppeteer-core explicitly, the launcher calls itself Chromium rather than Chrome.
      chromeLauncher({
        puppeteer: puppeteerCore,
        launchOptions: { executablePath, headless: true, args: chromiumArgs },
      }),
  },
  firefox: {
    label: 'Firefox',
    install: 'apt-get install firefox-esr (or set FIREFOX_PATH)',
    find: () => firstExisting(process.env.FIREFOX_PATH, '/usr/bin/firefox-esr', '/usr/bin/firefox'),
    launcher: (executablePath) =>
      chromeLauncher({
        puppeteer: puppeteerCore,
        launchOptions: { browser: 'firefox', executablePath, headless: true },
      }),
  },
  webkit: {
    label: 'WebKit',
    install: 'apt-get install webkit2gtk-driver xvfb xauth',
    // Test files this engine does not pass yet, each with its reason: { file: why }. None now.
    notYet: {},
    find: () => {
      const browser = miniBrowser();
      const driver = firstExisting('/usr/bin/WebKitWebDriver', '/usr/local/bin/WebKitWebDriver');
      const display = process.env.DISPLAY || firstExisting('/usr/bin/Xvfb');
      return browser && driver && display ? browser : null;
    },
    launcher: (binary) => new WebKitLauncher(binary),
  },
};

export const engineNames = /** @type {(keyof typeof engines)[]} */ (Object.keys(engines));

/**
 * The engines a runner's command line asks for (`--engine a,b`, repeatable; every engine when
 * none is named), whether a missing one is an error (named, or OMNIKIT_REQUIRE_ENGINES=1), and
 * the other arguments. Exits 2 on an unknown engine.
 */
export function selectEngines(argv) {
  const asked = [];
  const rest = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--engine') asked.push(...(argv[++i] ?? '').split(','));
    else if (a.startsWith('--engine=')) asked.push(...a.slice('--engine='.length).split(','));
    else rest.push(a);
  }
  for (const name of asked) {
    if (!engines[name]) {
      console.error(`unknown engine "${name}": one of ${engineNames.join(', ')}`);
      process.exit(2);
    }
  }
  return {
    selected: asked.length ? [...new Set(asked)] : engineNames,
    required: asked.length > 0 || process.env.OMNIKIT_REQUIRE_ENGINES === '1',
    rest,
  };
}
