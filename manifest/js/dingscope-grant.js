// dingscope-grant.js: the openAuth round trip for a dingscope denial. Shipped by dingscope
// (`dingscope_build` writes it beside dingscope.ts); see dingscope-grant.d.ts. Do not edit.

const STATUSES = ["ok", "cancel", "toAdmin", "failed"];

/** Whether `body` is the JSON of a dingscope denial (the body of its 403). */
export function isDenial(body) {
  if (body === null || typeof body !== "object" || body.error !== "denied") {
    return false;
  }
  const o = body.openAuth;
  return (
    o !== null &&
    typeof o === "object" &&
    (o.type === 0 || o.type === 1) &&
    typeof o.rpcScope === "string" &&
    typeof o.fieldScope === "string"
  );
}

/** openAuth's options for a denial: exactly its parameters, with clientId and corpId. */
export function openAuthOptions(denial, { clientId, corpId }) {
  const o = denial.openAuth;
  const opt = { clientId, type: o.type };
  if (corpId) opt.corpId = corpId;
  if (o.rpcScope) opt.rpcScope = o.rpcScope;
  if (o.fieldScope) opt.fieldScope = o.fieldScope;
  return opt;
}

/**
 * The same parameters for `dd.getAuthInfo` (dingtalk-jsapi), which takes the code lists
 * as arrays.
 */
export function authInfoParams(denial, { clientId, corpId }) {
  const list = (s) => s.split(",").filter((c) => c !== "");
  const o = denial.openAuth;
  return {
    clientId,
    corpId,
    type: o.type,
    rpcScope: list(o.rpcScope),
    fieldScope: list(o.fieldScope),
  };
}

/** openAuth's status in what it resolved: a closed dialog (nothing) is `cancel`. */
export function statusOf(answer) {
  if (answer === null || answer === undefined) return "cancel";
  const s = typeof answer === "object" ? answer.status : undefined;
  return STATUSES.includes(s) ? s : "failed";
}

async function send(report, answer, options) {
  if (typeof report === "function") {
    await report(answer);
    return;
  }
  const f = options.fetch || globalThis.fetch;
  const response = await f(report, {
    method: "POST",
    credentials: "same-origin",
    headers: { ...(options.headers || {}), "content-type": "application/json" },
    body: JSON.stringify(answer),
  });
  if (!response.ok) {
    throw new Error(`the server refused the openAuth answer: HTTP ${response.status}`);
  }
}

/**
 * Calls openAuth with exactly the denial's parameters, reports its answer to the server,
 * and says whether to retry the denied call.
 */
export async function requestGrant(denial, options) {
  if (!isDenial(denial)) {
    throw new TypeError("requestGrant: not a dingscope denial");
  }
  if (!options || typeof options.openAuth !== "function") {
    throw new TypeError("requestGrant: options.openAuth must be openAuth");
  }
  if (!options.clientId) {
    throw new TypeError("requestGrant: options.clientId is required");
  }
  if (denial.openAuth.type === 1 && !options.corpId) {
    throw new TypeError("requestGrant: options.corpId is required for type 1");
  }
  const request = denial.openAuth;
  let status;
  let result;
  let error;
  try {
    const answer = await options.openAuth(openAuthOptions(denial, options));
    status = statusOf(answer);
    result = answer && typeof answer === "object" ? answer.result : undefined;
  } catch (e) {
    status = "failed";
    error = e;
  }
  const report = { status, request };
  const code = result && typeof result === "object" ? result.authCode : undefined;
  if (status === "ok" && request.type === 0 && typeof code === "string") {
    report.authCode = code;
  }
  try {
    await send(options.report, report, options);
  } catch (e) {
    return { status, retry: false, result, error: e };
  }
  return { status, retry: status === "ok", result, error };
}

/**
 * `fetch`, and when the answer is a dingscope denial, the round trip: openAuth, the
 * report, and one retry if the grant was given. Resolves the last response and, after a
 * denial, what openAuth answered.
 */
export async function fetchWithGrant(input, init, options) {
  const f = options.fetch || globalThis.fetch;
  const response = await f(input, init);
  if (response.status !== 403) return { response };
  let body;
  try {
    body = await response.clone().json();
  } catch {
    return { response };
  }
  if (!isDenial(body)) return { response };
  if (options.onDenied) options.onDenied(body);
  const grant = await requestGrant(body, options);
  if (!grant.retry) return { response, denial: body, grant };
  return { response: await f(input, init), denial: body, grant };
}
