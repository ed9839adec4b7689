// Leader election: 10 to 20 tabs of one browser profile open and close while followers make
// changes, then the leader's renderer crashes (no unload, so the lock goes only when the
// browser notices the dead process). Per trial: the time until another tab has taken the
// leader lock and opened the poke stream (does the leader's work), then, once settled, how
// many live tabs act as leader (hold a poke stream) and whether that is the lock's holder, and
// whether every change a follower made reached the server, once.
import { onProfile, percentile, random } from './harness.mjs';

/** Every live tab's view: which tab the lock manager names leader, which tabs hold a stream. */
async function leaders(tabs) {
  const [named, ...streams] = await Promise.all([
    tabs[0].run(() => window.soak.leaderTab()),
    ...tabs.map((t) => t.run(() => window.soak.streams())),
  ]);
  return { named, acting: tabs.filter((_, i) => streams[i] > 0).map((t) => t.name) };
}

export async function runLeader(soak, rng, { trials, tag }) {
  const r = random(Math.floor(rng.next() * 2 ** 31));
  const ns = `leader:${tag}`;
  let n = 0;
  /** The profile's `open` (onProfile: however the test ends, its tabs are closed). */
  let openTab;
  const open = () => openTab(`L#${n++}`, { crashable: true });
  let tabs = [];
  const takeovers = [];
  const made = new Set();
  const counts = {
    lost: 0,
    duplicated: 0,
    changes: 0,
    stuck: 0,
    maxLeaders: 0,
    minLeaders: Infinity,
  };
  const problems = [];
  let seq = 0;

  /** One trial; false when it cannot go on (a problem was recorded). */
  async function trialOnce(trial) {
    // Churn: a few tabs close (a follower only once its changes are stored) and a few open,
    // keeping 10 to 20.
    const target = r.int(10, 20);
    const closing = Math.min(r.int(0, 3), tabs.length - 2);
    for (let i = 0; i < closing; i++) {
      const t = r.pick(tabs.slice(1));
      if (t.madeChanges) await t.run(() => window.soak.durable());
      tabs = tabs.filter((x) => x !== t);
      await t.close();
    }
    while (tabs.length < target) tabs.push(await open());
    while (tabs.length > target) {
      const t = tabs.pop();
      if (t.madeChanges) await t.run(() => window.soak.durable());
      await t.close();
    }
    const { named } = await leaders(tabs);
    const leader = tabs.find((t) => t.name === named);
    if (!leader) {
      problems.push(`trial ${trial}: no live tab holds the leader lock (${named})`);
      return false;
    }
    // Followers change the cart; the leader dies a moment later, maybe mid-push.
    const followers = tabs.filter((t) => t !== leader);
    const writers = followers.filter(() => r.chance(0.3));
    await Promise.all(
      writers.map((t) => {
        const sku = `L${trial}-${seq++}`;
        made.add(sku);
        t.madeChanges = true;
        return t.run((skus) => window.soak.add(skus), [sku]);
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, r.int(0, 30)));
    const crashedAt = Date.now();
    await leader.crash();
    tabs = tabs.filter((t) => t !== leader);
    // The first stream a survivor opens after the crash is the new leader at work.
    const first = await Promise.race(
      tabs.map((t) =>
        t.next((e) => e.type === 'stream-open' && e.at >= crashedAt, 10000, 'takeover'),
      ),
    ).catch(() => null);
    if (!first) {
      problems.push(`trial ${trial}: no tab took over within 10 s`);
      return false;
    }
    takeovers.push(first.at - crashedAt);
    await leader.close();
    // Settled once every writer's changes are on the server.
    for (const t of writers) {
      if (!(await t.settle())) continue;
      counts.stuck++;
      t.stuck = true;
    }
    const now = await leaders(tabs);
    counts.maxLeaders = Math.max(counts.maxLeaders, now.acting.length);
    counts.minLeaders = Math.min(counts.minLeaders, now.acting.length);
    if (now.acting.length !== 1 || now.acting[0] !== now.named) {
      problems.push(
        `trial ${trial}: acting leaders ${now.acting.join(',') || 'none'}, lock held by ${now.named}`,
      );
    }
    tabs.push(await open());
    // A tab whose sync stuck would stall every later trial: it goes (once its changes are
    // stored) and a fresh one takes its place.
    for (const t of tabs.filter((x) => x.stuck)) {
      await t.run(() => window.soak.durable());
      await t.close();
      tabs[tabs.indexOf(t)] = await open();
    }
    // The oracle, every few trials and at the end: the server has each follower change once.
    if (made.size > 40 || trial === trials - 1) {
      // Through the leader: its sync pushes the whole outbox, whatever any follower believes.
      const { named: current } = await leaders(tabs);
      const by = tabs.find((t) => t.name === current) ?? tabs[0];
      if (await by.settle()) counts.stuck++;
      const cart = await soak.serverCart(await by.run(() => window.soak.token()));
      for (const sku of made) {
        const qty = cart.get(sku) ?? 0;
        counts.changes++;
        if (qty === 0) counts.lost++;
        if (qty > 1) counts.duplicated++;
      }
      made.clear();
      await by.run(() => (window.soak.client.cart.clear(), window.soak.sync()));
    }
    return true;
  }

  await onProfile(soak, ns, async (o) => {
    openTab = o;
    const size = r.int(10, 20);
    for (let i = 0; i < size; i++) tabs.push(await open());
    await tabs[0].run(() => window.soak.online());
    for (let trial = 0; trial < trials; trial++) {
      try {
        if (!(await trialOnce(trial))) break;
      } catch (e) {
        const seen = await leaders(tabs).catch(() => null);
        problems.push(`trial ${trial}: ${e.message}; leaders then: ${JSON.stringify(seen)}`);
        break;
      }
    }
  });
  const p95 = percentile(takeovers, 95);
  const line = `leader: engine=${soak.engine} trials=${takeovers.length} max_leaders=${counts.maxLeaders} min_leaders=${counts.minLeaders} takeover_p50_ms=${percentile(takeovers, 50)} takeover_p95_ms=${p95} takeover_max_ms=${percentile(takeovers, 100)} changes=${counts.changes} lost=${counts.lost} duplicated=${counts.duplicated} stuck=${counts.stuck}`;
  const failures = [...problems.map((p) => `leader: ${p}`)];
  if (takeovers.length < trials)
    failures.push(`leader: only ${takeovers.length} of ${trials} trials ran`);
  if (p95 > 2000) failures.push(`leader: takeover p95 ${p95} ms is over 2 s`);
  if (counts.lost) failures.push(`leader: ${counts.lost} follower change(s) lost`);
  if (counts.duplicated) failures.push(`leader: ${counts.duplicated} change(s) duplicated`);
  if (counts.stuck) failures.push(`leader: ${counts.stuck} stuck sync(s) (stored, never pushed)`);
  return { lines: [line], failures };
}
