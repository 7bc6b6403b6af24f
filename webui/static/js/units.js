// Exact conversions between base units (18 decimals, decimal strings) and whole-token strings.

const DECIMALS = 18n;
const BASE = 10n ** DECIMALS;

/** "1500000000000000000" -> "1.5" (exact). */
export function toWhole(baseUnits) {
  const n = BigInt(baseUnits);
  const negative = n < 0n;
  const abs = negative ? -n : n;
  const frac = (abs % BASE).toString().padStart(Number(DECIMALS), "0").replace(/0+$/, "");
  return `${negative ? "-" : ""}${abs / BASE}${frac ? `.${frac}` : ""}`;
}

/** "1.5" -> 1500000000000000000n; throws on anything that is not a plain positive decimal. */
export function toBase(whole) {
  const text = String(whole).trim();
  if (!/^\d+(\.\d{1,18})?$/.test(text)) throw new Error("Enter an amount like 1 or 2.5.");
  const [int, frac = ""] = text.split(".");
  return BigInt(int) * BASE + BigInt(frac.padEnd(Number(DECIMALS), "0"));
}

/** Whole tokens needed to reach `required` from `have`, rounded up to an integer (at least 1). */
export function wholeTokensNeeded(required, have) {
  const missing = BigInt(required) - BigInt(have);
  if (missing <= 0n) return "0";
  const whole = (missing + BASE - 1n) / BASE;
  return String(whole < 1n ? 1n : whole);
}

/** Add a slippage allowance in basis points to a cost (rounded up) or take it off a refund. */
export function withSlippage(baseUnits, bps, side) {
  const n = BigInt(baseUnits);
  const b = BigInt(bps);
  return side === "buy"
    ? String((n * (10000n + b) + 9999n) / 10000n)
    : String((n * (10000n - b)) / 10000n);
}
