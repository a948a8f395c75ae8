// Unit tests of the page's helper (`dingscope-grant.js`, as `build.rs` wrote it), with a
// fake openAuth and a fake fetch: `node --test helper.test.mjs`.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  authInfoParams,
  fetchWithGrant,
  isDenial,
  openAuthOptions,
  requestGrant,
  statusOf,
} from "../frontend/dingscope-grant.js";

const denial = (type = 1, fieldScope = "") => ({
  error: "denied",
  message: "m",
  function: "app::f",
  location: null,
  reason: "missing",
  endpoint: null,
  missing: [["qyapi_hrm_read_user"]],
  openAuth: { rpcScope: type === 1 ? "qyapi_hrm_read_user" : "Contact.User.Read", fieldScope, type },
});

function recorder(answer) {
  const calls = [];
  const reports = [];
  return {
    calls,
    reports,
    openAuth: async (opt) => {
      calls.push(opt);
      if (answer instanceof Error) throw answer;
      return answer;
    },
    report: async (a) => {
      reports.push(a);
    },
  };
}

test("a denial is recognised, anything else is not", () => {
  assert.ok(isDenial(denial()));
  for (const other of [null, 1, "denied", {}, { error: "denied" }, { ...denial(), openAuth: { type: 2, rpcScope: "", fieldScope: "" } }]) {
    assert.equal(isDenial(other), false, JSON.stringify(other));
  }
});

test("openAuth gets exactly the denial's parameters, empty lists left out", async () => {
  assert.deepEqual(openAuthOptions(denial(), { clientId: "k", corpId: "c" }), {
    clientId: "k",
    corpId: "c",
    rpcScope: "qyapi_hrm_read_user",
    type: 1,
  });
  const r = recorder({ status: "ok", result: { authCode: "code1" } });
  const out = await requestGrant(denial(0, "Contact.User.mobile"), { ...r, clientId: "k", corpId: "c" });
  assert.deepEqual(r.calls, [
    { clientId: "k", corpId: "c", rpcScope: "Contact.User.Read", fieldScope: "Contact.User.mobile", type: 0 },
  ]);
  assert.equal(out.retry, true);
  // The type 0 authCode goes to the server with the answer.
  assert.deepEqual(r.reports, [
    {
      status: "ok",
      request: { rpcScope: "Contact.User.Read", fieldScope: "Contact.User.mobile", type: 0 },
      authCode: "code1",
    },
  ]);
});

test("getAuthInfo gets the same codes as arrays", () => {
  assert.deepEqual(authInfoParams(denial(0, "Contact.User.mobile"), { clientId: "k", corpId: "c" }), {
    clientId: "k",
    corpId: "c",
    type: 0,
    rpcScope: ["Contact.User.Read"],
    fieldScope: ["Contact.User.mobile"],
  });
  assert.deepEqual(authInfoParams(denial(), { clientId: "k", corpId: "c" }).fieldScope, []);
});

test("every answer is reported; only ok retries", async () => {
  for (const [answer, status] of [
    [{ status: "cancel" }, "cancel"],
    [{ status: "toAdmin" }, "toAdmin"],
    [{ status: "failed", result: { errorCode: 500204 } }, "failed"],
    [null, "cancel"],
    [undefined, "cancel"],
    [{ status: "granted" }, "failed"],
    [new Error("openAuth error: corpId or clientId is missing"), "failed"],
  ]) {
    const r = recorder(answer);
    const out = await requestGrant(denial(), { ...r, clientId: "k", corpId: "c" });
    assert.equal(out.status, status, JSON.stringify(answer));
    assert.equal(out.retry, false);
    assert.equal(r.reports.length, 1);
    assert.equal(r.reports[0].status, status);
    assert.equal(r.reports[0].authCode, undefined);
  }
  assert.equal(statusOf({ status: "ok" }), "ok");
});

test("a refused report means no retry, with the reason", async () => {
  const r = recorder({ status: "ok" });
  const fetch = async () => new Response("no", { status: 500 });
  const out = await requestGrant(denial(), {
    openAuth: r.openAuth,
    clientId: "k",
    corpId: "c",
    report: "/api/openauth",
    fetch,
  });
  assert.equal(out.status, "ok");
  assert.equal(out.retry, false);
  assert.match(String(out.error), /HTTP 500/);
});

test("wrong options are refused before openAuth opens", async () => {
  const r = recorder({ status: "ok" });
  await assert.rejects(requestGrant({ error: "other" }, { ...r, clientId: "k", corpId: "c" }), TypeError);
  await assert.rejects(requestGrant(denial(), { ...r, clientId: "", corpId: "c" }), TypeError);
  await assert.rejects(requestGrant(denial(1), { ...r, clientId: "k" }), TypeError);
  await assert.rejects(requestGrant(denial(), { report: r.report, clientId: "k", corpId: "c" }), TypeError);
  assert.equal(r.calls.length, 0);
});

test("fetchWithGrant retries once after ok, and only after a denial", async () => {
  const bodies = [
    new Response(JSON.stringify(denial()), { status: 403 }),
    new Response("[1,2]", { status: 200 }),
  ];
  const seen = [];
  const fetch = async (input, init) => {
    seen.push([String(input), init?.method ?? "GET"]);
    if (String(input) === "/api/openauth") return new Response("{}", { status: 200 });
    return bodies.shift();
  };
  const r = recorder({ status: "ok" });
  let told;
  const { response, grant } = await fetchWithGrant("/api/list", undefined, {
    openAuth: r.openAuth,
    clientId: "k",
    corpId: "c",
    report: "/api/openauth",
    fetch,
    onDenied: (d) => (told = d.function),
  });
  assert.equal(response.status, 200);
  assert.equal(grant.status, "ok");
  assert.equal(told, "app::f");
  assert.deepEqual(seen, [
    ["/api/list", "GET"],
    ["/api/openauth", "POST"],
    ["/api/list", "GET"],
  ]);
  // A 403 that is not a denial (another app's, a proxy's) opens nothing.
  const other = await fetchWithGrant("/x", undefined, {
    ...r,
    clientId: "k",
    corpId: "c",
    fetch: async () => new Response("<html>forbidden</html>", { status: 403 }),
  });
  assert.equal(other.response.status, 403);
  assert.equal(other.grant, undefined);
  assert.equal(r.calls.length, 1);
});
