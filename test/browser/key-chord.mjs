// A web-test-runner command that presses a chord of real keys: `keys` go down in order and come
// up in reverse, so `['Shift', 'Tab']` is Shift+Tab as a person types it (the browser moves focus
// backwards; a synthetic KeyboardEvent would not). The tests call it through `executeServerCommand`
// ('press-chord', { keys }).
// Why not sendKeys({ down: 'Shift' }): @web/test-runner-commands supports only `press` and `type`
// over WebDriver, so WebKit (WebKitWebDriver) could not hold a key. WebDriver's Actions API can:
// the WebKit launcher (engines.mjs) sends the chord as one key input source's actions.

/** WebDriver's code points for the named keys the tests hold or press (W3C WebDriver, "keys"). */
const webdriverKeys = {
  Shift: '\uE008',
  Control: '\uE009',
  Alt: '\uE00A',
  Meta: '\uE03D',
  Tab: '\uE004',
  Enter: '\uE007',
  Escape: '\uE00C',
  ArrowLeft: '\uE012',
  ArrowUp: '\uE013',
  ArrowRight: '\uE014',
  ArrowDown: '\uE015',
};

/** The chord as W3C key actions: every key down in order, then up in reverse. */
export function chordActions(keys) {
  const values = keys.map((key) => {
    const value = webdriverKeys[key] ?? ([...key].length === 1 ? key : undefined);
    if (!value) throw new Error(`press-chord: no WebDriver key for "${key}"`);
    return value;
  });
  return [
    ...values.map((value) => ({ type: 'keyDown', value })),
    ...values.reverse().map((value) => ({ type: 'keyUp', value })),
  ];
}

export function keyChordPlugin() {
  return {
    name: 'press-chord-command',
    async executeCommand({ command, payload, session }) {
      if (command !== 'press-chord') return undefined;
      const keys = payload?.keys;
      if (!Array.isArray(keys) || !keys.length || !keys.every((k) => typeof k === 'string'))
        throw new Error('press-chord: give { keys: string[] }, e.g. { keys: ["Shift", "Tab"] }');
      const { browser } = session;
      if (browser.type === 'puppeteer') {
        const { keyboard } = browser.getPage(session.id);
        for (const key of keys) await keyboard.down(key);
        for (const key of [...keys].reverse()) await keyboard.up(key);
        return true;
      }
      if (browser.type === 'webdriver' && typeof browser.performKeyActions === 'function') {
        await browser.performKeyActions(session.id, chordActions(keys));
        return true;
      }
      throw new Error(`press-chord: not supported by the ${browser.name} launcher`);
    },
  };
}
