// The overall progress of a publish: each stage's share of the whole, weighted by what it
// usually costs (sending and converting dominate), so the bar moves with the work instead of
// sitting at one stage's share while that stage counts to 100 %. Pure.

// Relative cost of each stage (they sum to 100 with encryption, which only premium clips run).
export const STAGE_WEIGHTS = {
  upload: 15,
  probe: 3,
  transcode: 55,
  encrypt: 8,
  add: 10,
  manifest: 2,
  sign: 2,
  gossip: 5,
};

/** The stages a publish runs: "encrypt" only for premium clips. */
export function stagesFor(premium, all) {
  return all.filter((s) => premium || s !== "encrypt");
}

/** Overall percentage (0-100, integer) when `stage` is `fraction` (0-1) done. */
export function overallPercent(stages, stage, fraction) {
  const total = stages.reduce((sum, s) => sum + (STAGE_WEIGHTS[s] ?? 1), 0);
  let done = 0;
  for (const s of stages) {
    if (s === stage) {
      done += (STAGE_WEIGHTS[s] ?? 1) * Math.max(0, Math.min(1, fraction));
      break;
    }
    done += STAGE_WEIGHTS[s] ?? 1;
  }
  return Math.round((done / total) * 100);
}
