// openAuth's stand-in outside DingTalk, for the example on the mock. It has the signature
// of `openAuth` in `dingtalk-design-libs` (biz/openAuth) and throws and resolves as it does;
// a dialog stands in for the admin's or user's choice, and the mock's `/mock/openAuth` for
// DingTalk. Inside DingTalk the page imports the real one instead.

/**
 * @typedef {{clientId: string, corpId?: string, rpcScope?: string, fieldScope?: string, type: string|number, from?: string}} OpenAuthOpt
 */

/**
 * The admin's or user's choice in a dialog: `ok`, `cancel`, `toAdmin`, or `close`.
 * @param {OpenAuthOpt} opt
 * @returns {Promise<string>}
 */
function choose(opt) {
  return new Promise((resolve) => {
    const d = document.createElement("dialog");
    d.id = "openauth-dialog";
    const codes = [opt.rpcScope, opt.fieldScope].filter(Boolean).join(", ");
    const who = Number(opt.type) === 1 ? "the organisation (an admin grants)" : "you (type 0)";
    d.innerHTML =
      `<button class="close" data-choice="close" aria-label="close">×</button>` +
      `<h2>授权申请: permission for ${who}</h2>` +
      `<p>The app asks for <code></code> (type <span class="type"></span>).</p>` +
      `<p><button data-choice="ok">Grant</button>` +
      `<button class="plain" data-choice="cancel">Refuse</button>` +
      (Number(opt.type) === 1
        ? `<button class="plain" data-choice="toAdmin">Ask an admin</button>`
        : "") +
      `</p>`;
    /** @type {HTMLElement} */ (d.querySelector("code")).textContent = codes;
    /** @type {HTMLElement} */ (d.querySelector(".type")).textContent = String(opt.type);
    d.addEventListener("click", (e) => {
      const choice = e.target instanceof HTMLElement ? e.target.dataset.choice : undefined;
      if (!choice) return;
      d.close();
      d.remove();
      resolve(choice);
    });
    d.addEventListener("cancel", () => {
      d.remove();
      resolve("close");
    });
    document.body.append(d);
    d.showModal();
  });
}

/**
 * @param {OpenAuthOpt} opt
 * @returns {Promise<unknown>}
 */
export function openAuth(opt) {
  if (!opt || typeof opt !== "object") {
    throw new Error("openAuth error: option is missing or not object");
  }
  if ((!opt.corpId && opt.type == 1) || !opt.clientId) {
    throw new Error("openAuth error: corpId or clientId is missing");
  }
  return choose(opt).then(async (decision) => {
    // A closed dialog resolves as the component's does.
    if (decision === "close") return { status: "cancel" };
    const session = await (await fetch("/api/session")).json();
    const response = await fetch(session.mockOpenAuth, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ...opt, userId: session.userId, decision }),
    });
    return (await response.json()) || { status: "cancel" };
  });
}
