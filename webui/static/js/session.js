// Who the user is: the peer's own address (GET /profile), fetched once per page.
import * as api from "./api.js";

let me = null;

/** The user's address, lower-case, or "" when the peer has no wallet. */
export function myAddress() {
  if (!me) {
    me = api.get("/profile").then(
      (p) => String(p?.address ?? "").toLowerCase(),
      () => {
        me = null;
        return "";
      },
    );
  }
  return me;
}

/** True when `address` is the user's own. */
export async function isMe(address) {
  return Boolean(address) && (await myAddress()) === String(address).toLowerCase();
}
