// Inline SVG price chart from /tokens/{t}/history points (no library, no canvas).
import { svg, h, formatUnits, unitsToNumber } from "./dom.js";

const W = 600;
const H = 200;
const PAD = 8;

/** Polyline coordinates for prices (numbers), scaled into the chart box. Pure. */
export function chartPath(prices) {
  if (!prices.length) return "";
  const min = Math.min(...prices);
  const max = Math.max(...prices);
  const span = max - min;
  const step = prices.length > 1 ? (W - 2 * PAD) / (prices.length - 1) : 0;
  return prices
    .map((p, i) => {
      const x = PAD + i * step;
      // A flat series sits mid-height: at the bottom it would read as "worth nothing".
      const y = span ? H - PAD - ((p - min) / span) * (H - 2 * PAD) : H / 2;
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    })
    .join(" ");
}

export function priceChart(points) {
  if (!points?.length) return h("p.muted", {}, "No trades yet.");
  // One trade is one price: draw it as a flat line across the box rather than a lone dot.
  const prices = points.map((p) => unitsToNumber(p.price));
  if (prices.length === 1) prices.push(prices[0]);
  const first = points[0];
  const last = points[points.length - 1];
  const count = points.length === 1 ? "1 trade" : `${points.length} points`;
  const label = `Price history: ${count}, from ${formatUnits(first.price)} to ${formatUnits(last.price)} TOK`;
  const line = chartPath(prices);
  return h(
    "figure.chart",
    {},
    svg(
      "svg",
      {
        viewBox: `0 0 ${W} ${H}`,
        role: "img",
        "aria-label": label,
        preserveAspectRatio: "none",
        class: "chart-svg",
      },
      svg("polyline", {
        points: `${PAD},${H - PAD} ${line} ${W - PAD},${H - PAD}`,
        class: "chart-area",
      }),
      svg("polyline", { points: line, class: "chart-line" }),
    ),
    h("figcaption.muted", {}, label),
  );
}
