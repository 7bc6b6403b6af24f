// Inline SVG price chart of a creator token (no library, no canvas): the curve's start price,
// then the price after every trade, with a price axis and a trade axis (first and last time).
import { formatUnits, h, svg, unitsToNumber } from "./dom.js";

const W = 600;
const H = 240;
const LEFT = 72; // room for the price labels
const RIGHT = 12;
const TOP = 12;
const BOTTOM = 34; // room for the trade-axis labels

/**
 * Where everything goes, from GET /tokens/{t}/history ({start_price, points}). Pure.
 * x: the start, then one even step per trade (trades in one block would pile up on a time
 * axis); y: price, from 0 when the start price is the lowest, so the curve's rise shows.
 */
export function chartModel(history) {
  const points = history?.points ?? [];
  const prices = [history?.start_price ?? points[0]?.price ?? "0", ...points.map((p) => p.price)];
  const values = prices.map((p) => unitsToNumber(p));
  const top = Math.max(...values) || 1;
  const low = Math.min(...values);
  const bottom = low === values[0] ? 0 : low;
  const span = top - bottom || 1;
  const steps = Math.max(values.length - 1, 1);
  const x = (i) => LEFT + (i / steps) * (W - LEFT - RIGHT);
  const y = (v) => TOP + (1 - (v - bottom) / span) * (H - TOP - BOTTOM);
  const marks = values.map((v, i) => ({
    x: Number(x(i).toFixed(1)),
    y: Number(y(v).toFixed(1)),
    price: prices[i],
    side: i === 0 ? "start" : points[i - 1].side,
    amount: i === 0 ? null : points[i - 1].amount,
    timestamp: i === 0 ? null : points[i - 1].timestamp,
  }));
  const ticks = [top, (top + bottom) / 2, bottom].map((v) => ({
    y: Number(y(v).toFixed(1)),
    label: v.toPrecision(3).replace(/\.?0+$/, ""),
  }));
  return { marks, ticks, trades: points.length, box: { W, H, LEFT, RIGHT, TOP, BOTTOM } };
}

function when(seconds) {
  return new Date(seconds * 1000).toLocaleString([], {
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  });
}

/** The chart as a <figure>; `symbol` names the token in labels. */
export function priceChart(history, symbol = "") {
  const { marks, ticks, trades } = chartModel(history);
  const start = marks[0];
  const last = marks[marks.length - 1];
  const unit = symbol ? ` per ${symbol}` : "";
  const label =
    `Price in TOK${unit}: starts at ${formatUnits(start.price)} TOK, ` +
    (trades
      ? `${trades} trade${trades === 1 ? "" : "s"}, now ${formatUnits(last.price)} TOK`
      : "no trades yet");
  const line = marks.map((m) => `${m.x},${m.y}`).join(" ");
  const base = H - BOTTOM;
  const first = marks[1];
  return h(
    "figure.chart",
    {},
    svg(
      "svg",
      { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": label, class: "chart-svg" },
      svg("line", { x1: LEFT, y1: TOP, x2: LEFT, y2: base, class: "chart-axis" }),
      svg("line", { x1: LEFT, y1: base, x2: W - RIGHT, y2: base, class: "chart-axis" }),
      ...ticks.flatMap((t) => [
        svg("line", { x1: LEFT - 4, y1: t.y, x2: W - RIGHT, y2: t.y, class: "chart-grid" }),
        svg(
          "text",
          { x: LEFT - 8, y: t.y + 4, class: "chart-label", "text-anchor": "end" },
          t.label,
        ),
      ]),
      svg("text", { x: 4, y: H - 10, class: "chart-label" }, "TOK"),
      marks.length > 1
        ? svg("polyline", {
            points: `${start.x},${base} ${line} ${last.x},${base}`,
            class: "chart-area",
          })
        : null,
      marks.length > 1 ? svg("polyline", { points: line, class: "chart-line" }) : null,
      ...marks.map((m) =>
        svg(
          "circle",
          { cx: m.x, cy: m.y, r: m.side === "start" ? 5 : 4, class: `chart-dot ${m.side}` },
          svg(
            "title",
            {},
            m.side === "start"
              ? `Start price ${formatUnits(m.price)} TOK`
              : `${m.side === "buy" ? "Buy" : "Sell"} of ${formatUnits(m.amount)} ${symbol}: price ${formatUnits(m.price)} TOK`,
          ),
        ),
      ),
      svg("text", { x: LEFT, y: H - 10, class: "chart-label" }, "start"),
      first
        ? svg(
            "text",
            { x: W - RIGHT, y: H - 10, class: "chart-label", "text-anchor": "end" },
            `${trades} trade${trades === 1 ? "" : "s"} · ${when(first.timestamp)} – ${when(last.timestamp)}`,
          )
        : null,
    ),
    h("figcaption.muted", {}, label),
  );
}
