// The page's logic. It runs unchanged inside DingTalk: there `/open-auth.js` is
// `open-auth.dingtalk.js`, the real component bundled with the page; here it is the
// stand-in (`open-auth.js`) that the example serves on the mock. `tsc --strict` checks
// that both have the real openAuth's type (`examples/web/typecheck.ts`).
import { openAuth } from "/open-auth.js";
import { fetchWithGrant } from "/dingscope-grant.js";

const session = await (await fetch("/api/session")).json();
const $ = (id) => document.getElementById(id);

function log(line) {
  $("log").textContent += line + "\n";
}

async function call(url, target, show) {
  $(target).textContent = "";
  log(`GET ${url}`);
  const { response, grant } = await fetchWithGrant(url, undefined, {
    openAuth,
    clientId: session.clientId,
    corpId: session.corpId,
    report: "/api/openauth",
    onDenied: (d) =>
      log(
        `403 ${d.reason}: ${d.function} needs ${d.missing.map((m) => m.join(" or ")).join(", ")}\n` +
          `openAuth({ rpcScope: "${d.openAuth.rpcScope}", fieldScope: "${d.openAuth.fieldScope}", type: ${d.openAuth.type} })`,
      ),
  });
  if (grant) {
    $("status").textContent = grant.status;
    log(
      grant.retry
        ? `openAuth answered ok; reported; GET ${url} again`
        : `openAuth answered ${grant.status}; not retried` +
            (grant.error ? ` (${grant.error})` : ""),
    );
  }
  if (response.ok) {
    show(await response.json());
    log(`${response.status}: done`);
  } else {
    const body = await response.json().catch(() => ({}));
    $(target).textContent = `Not shown: ${body.message || response.status}`;
    log(`${response.status}: ${body.error || "failed"}`);
  }
}

$("leavers").addEventListener("click", () =>
  call("/api/leavers", "leavers-result", (r) => {
    const h = document.createElement("p");
    h.id = "leaver-count";
    h.textContent = `${r.count} employees have left.`;
    const ids = document.createElement("p");
    ids.className = "ids";
    ids.textContent = r.userIds.join(", ");
    $("leavers-result").replaceChildren(h, ids);
  }),
);

$("me").addEventListener("click", () =>
  call("/api/me", "me-result", (r) => {
    const p = document.createElement("p");
    p.id = "profile";
    p.textContent = `${r.nick}, mobile ${r.mobile ?? "(not granted)"}`;
    $("me-result").replaceChildren(p);
  }),
);
