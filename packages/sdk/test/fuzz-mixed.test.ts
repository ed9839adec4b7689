// Randomized sync scenarios (fuzz-scenario.ts): set, remove and adds, each tab on skus of its own, with faults in flight.
import { testConfig } from './helpers.js';
import { mixedStep, fuzz } from './fuzz-scenario.js';

describe('sync: randomized scenarios', () => {
  it('mixed (set, remove too), with faults in flight: the server and every tab hold exactly the intended cart', async function () {
    this.timeout(240_000);
    const { fuzzSeed } = await testConfig();
    await fuzz('sdk-sync-fuzz-mixed', mixedStep, fuzzSeed + 1, 8, true);
  });
});
