// A live price chart: GET /tokens/{t}/history, drawn again on every token.trade of that token.
import * as api from "./api.js";
import { priceChart } from "./chart.js";
import { h } from "./dom.js";

/** A chart slot for `token` ({address, symbol}) that follows new trades while on the page. */
export function liveChart(token) {
  const slot = h("div.chart-slot", {}, h("p.muted", {}, "Loading price history…"));
  let drawing = null;
  async function draw() {
    if (drawing) return drawing;
    drawing = api
      .get(`/tokens/${token.address}/history`)
      .then(
        (history) => slot.replaceChildren(priceChart(history, token.symbol)),
        (error) => slot.replaceChildren(h("p.muted", {}, api.explain(error))),
      )
      .finally(() => {
        drawing = null;
      });
    return drawing;
  }
  const off = api.on("token.trade", (trade) => {
    if (!slot.isConnected && slot.dataset.drawn) off();
    else if (String(trade.token).toLowerCase() === token.address.toLowerCase()) draw();
  });
  draw().then(() => {
    slot.dataset.drawn = "true";
  });
  return slot;
}
