// Type-checks, with `tsc --strict`, the module dingscope generates (`dingscope.ts`) and the
// helper it ships (`dingscope-grant.js` with its `.d.ts`) against the real typings of
// `openAuth` in `dingtalk-design-libs`. Nothing here runs.
import { openAuth } from "dingtalk-design-libs/biz/openAuth";
import { application, clientId, delegated } from "../frontend/dingscope";
import type { IUnionGetAuthInfoParams } from "dingtalk-jsapi/api/union/getAuthInfo";
import {
  authInfoParams,
  fetchWithGrant,
  isDenial,
  openAuthOptions,
  requestGrant,
  type Denial,
  type GrantOutcome,
  type OpenAuth,
  type OpenAuthAnswer,
} from "../frontend/dingscope-grant.js";
import { openAuth as standIn } from "./page/open-auth.js";
import { openAuth as inDingTalk } from "./page/open-auth.dingtalk.js";

// Each generated object is openAuth's options as it is, with the corp added.
export const askCorp = (corpId: string): Promise<unknown> => openAuth({ ...application, corpId });
export const askUser = (corpId: string): Promise<unknown> => openAuth({ ...delegated, corpId });

// Literal types: an object cannot be passed as the other type.
export const corpType: 1 = application.type;
export const userType: 0 = delegated.type;
export const id: string = clientId;
// @ts-expect-error the delegated object is type 0, not 1
export const wrongType: 1 = delegated.type;

// The real openAuth is what the helper takes, and the helper's options are openAuth's.
export const real: OpenAuth = openAuth;
export const direct = (d: Denial): Promise<unknown> =>
  openAuth(openAuthOptions(d, { clientId, corpId: "dingcorp" }));

export async function page(body: unknown): Promise<GrantOutcome | undefined> {
  if (!isDenial(body)) return undefined;
  // Narrowed: the denial's parameters are typed.
  const scope: string = body.openAuth.rpcScope;
  const kind: 0 | 1 = body.openAuth.type;
  void scope;
  void kind;
  return requestGrant(body, { openAuth, clientId, corpId: "dingcorp", report: "/api/openauth" });
}

export async function reportedByHand(d: Denial): Promise<boolean> {
  const outcome = await requestGrant(d, {
    openAuth,
    clientId,
    corpId: "dingcorp",
    report: async (answer: OpenAuthAnswer) => {
      await fetch("/api/openauth", { method: "POST", body: JSON.stringify(answer) });
    },
  });
  return outcome.retry;
}

export async function wrapped(): Promise<number> {
  const { response, grant } = await fetchWithGrant("/api/leavers", undefined, {
    openAuth,
    clientId,
    corpId: "dingcorp",
    report: "/api/openauth",
    onDenied: (d: Denial) => console.log(d.missing.map((alts) => alts.join(" or "))),
  });
  if (grant && !grant.retry) console.log(grant.status);
  return response.status;
}

// The example page's stand-in has openAuth's signature, and the module it is swapped for
// inside DingTalk is the real one.
export const standInIsOpenAuth: typeof openAuth = standIn;
export const inDingTalkIsOpenAuth: typeof openAuth = inDingTalk;

// `dd.getAuthInfo` takes the lists as arrays.
export const forGetAuthInfo = (d: Denial): IUnionGetAuthInfoParams =>
  authInfoParams(d, { clientId, corpId: "dingcorp" });

// @ts-expect-error requestGrant needs openAuth, the ids and where to report
export const missing = (d: Denial) => requestGrant(d, { clientId });
