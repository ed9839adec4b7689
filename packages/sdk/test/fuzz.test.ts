// Randomized sync scenarios (fuzz-scenario.ts): adds from every tab, with faults in flight.
import { testConfig } from './helpers.js';
import { step, fuzz } from './fuzz-scenario.js';

describe('sync: randomized scenarios', () => {
  it('adds from every tab, with faults in flight: the server and every tab hold exactly the intended cart', async function () {
    this.timeout(240_000);
    const { fuzzSeed } = await testConfig();
    // To replay a printed failure: SDK_FUZZ_SEED=<seed> npm run test:browser
    await fuzz('sdk-sync-fuzz', step, fuzzSeed, 12, false);
  });
});
