// One line that says which wallet pays and signs (the browser wallet's account, or this peer's
// wallet) with the button to connect or disconnect a browser wallet. Shared by the trade form,
// the lock overlay and the status page.
import { announce, h, shortAddress } from "./dom.js";
import { available, connect, disconnect, explainWallet, watchWallet } from "./wallet.js";

export function walletLine(n = "") {
  const text = h(`span#wallet-holder${n}`, {});
  const button = h("button.small", { type: "button" });
  const error = h("span.error-text", { role: "alert" });
  const line = h("p.wallet-line", {}, text, " ", button, error);
  let connected = null;
  let seen = false; // in the page once: leaving it afterwards ends the watch
  button.addEventListener("click", async () => {
    error.textContent = "";
    if (connected) {
      disconnect();
      announce("Using this peer's wallet");
      return;
    }
    button.disabled = true;
    try {
      const account = await connect();
      announce(`Browser wallet ${shortAddress(account)} connected`);
    } catch (e) {
      error.textContent = explainWallet(e);
    } finally {
      button.disabled = false;
    }
  });
  const unwatch = watchWallet((account) => {
    if (line.isConnected) seen = true;
    else if (seen) {
      unwatch();
      return;
    }
    connected = account;
    text.textContent = account
      ? `Paying and signing with your browser wallet ${shortAddress(account)}.`
      : "Paying and signing with this peer's wallet.";
    button.textContent = account ? "Use this peer's wallet" : "Connect browser wallet";
    button.hidden = !account && !available();
  });
  return line;
}
