// Crash-safe outbox: two or three tabs of one browser profile write cart changes while one of
// them (the writer, the leader in the middle of a push, or a bystander) has its renderer
// crashed at a random point, without pagehide or unload; the crashed tab is then reopened.
// A change counts as stored when its promise resolved or when the IndexedDB outbox held it
// just after the crash; every stored change and every change of a tab that was not killed
// must reach the server exactly once, delivered by another tab or by the reopened one.
import { onProfile, random } from './harness.mjs';

/** Runs `kills` crashes in rounds of `perRound` on a fresh profile each; returns the line. */
export async function runOutboxKill(soak, rng, { kills, perRound, tag }) {
  const counts = {
    kills: 0,
    changes: 0,
    stored: 0,
    lost: 0,
    duplicated: 0,
    unstored: 0,
    stuck: 0,
    leaderKills: 0,
  };
  for (let round = 0; counts.kills < kills; round++) {
    const r = random(Math.floor(rng.next() * 2 ** 31));
    const ns = `kill:${tag}:${round}`;
    let n = 0;
    // However the round ends (a crash that fails, a deadline), its tabs and its profile go.
    // `all`: every tab of the round, the crashed ones too (their events say what resolved).
    await onProfile(soak, ns, async (openTab, all) => {
      const open = () => openTab(`k${round}#${n++}`, { crashable: true });
      const tabs = [];
      for (let i = r.int(2, 3); i > 0; i--) tabs.push(await open());
      await tabs[0].run(() => window.soak.online());
      /** sku -> the tab that made it. */
      const madeBy = new Map();
      const stored = new Set();
      const doubtful = new Set();
      let seq = 0;
      for (let k = 0; k < perRound && counts.kills < kills; k++) {
        const writer = r.pick(tabs);
        const leader = await writer.run(() => window.soak.leaderTab());
        // The victim: the writer itself, the leader (whose push is in flight), or anyone.
        const victim = r.chance(1 / 3)
          ? writer
          : r.chance(0.5)
            ? (tabs.find((t) => t.name === leader) ?? writer)
            : r.pick(tabs);
        if (victim.name === leader) counts.leaderKills++;
        const skus = Array.from({ length: r.int(1, 3) }, () => `K${round}-${seq++}`);
        for (const sku of skus) madeBy.set(sku, writer);
        const wait = r.int(0, 30);
        // Not awaited: the crash may land before, during or after the writes.
        const wrote = writer.run((skus) => window.soak.add(skus), skus).catch(() => {});
        await new Promise((resolve) => setTimeout(resolve, wait));
        await victim.crash();
        counts.kills++;
        await wrote;
        const survivor = tabs.find((t) => t !== victim);
        for (const sku of await survivor.run(() => window.soak.outbox())) stored.add(sku);
        if (victim === writer) for (const sku of skus) doubtful.add(sku);
        // Earlier changes of the victim were long stored or delivered: the outbox read says.
        for (const [sku, by] of madeBy) if (by === victim) doubtful.add(sku);
        await victim.close();
        tabs[tabs.indexOf(victim)] = await open();
      }
      // Everyone syncs; the server must then hold every change that was stored or whose tab
      // lived, once.
      for (const t of tabs) if (await t.settle()) counts.stuck++;
      for (const t of all) for (const e of t.events) if (e.type === 'resolved') stored.add(e.sku);
      const cart = await soak.serverCart(await tabs[0].run(() => window.soak.token()));
      for (const sku of madeBy.keys()) {
        const qty = cart.get(sku) ?? 0;
        const expected = stored.has(sku) || !doubtful.has(sku);
        counts.changes++;
        if (stored.has(sku)) counts.stored++;
        if (qty === 0 && expected) counts.lost++;
        if (qty === 0 && !expected) counts.unstored++;
        if (qty > 1) counts.duplicated++;
      }
    });
  }
  const c = counts;
  const line = `outbox-kill: engine=${soak.engine} kills=${c.kills} leader_kills=${c.leaderKills} changes=${c.changes} stored=${c.stored} lost=${c.lost} duplicated=${c.duplicated} unstored_lost=${c.unstored} stuck=${c.stuck}`;
  const failures = [];
  if (c.lost) failures.push(`outbox-kill: ${c.lost} stored change(s) lost`);
  if (c.duplicated) failures.push(`outbox-kill: ${c.duplicated} change(s) duplicated`);
  if (c.stuck) failures.push(`outbox-kill: ${c.stuck} stuck sync(s) (stored, never pushed)`);
  return { lines: [line], failures };
}
