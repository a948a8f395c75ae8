// Types of dingscope-grant.js, shipped by dingscope. Do not edit.

/** openAuth's parameters in a denial: `type` 1 asks an admin for the corp, 0 the user. */
export interface OpenAuthRequest {
  rpcScope: string;
  fieldScope: string;
  type: 0 | 1;
}

/** The JSON body of a dingscope denial's 403. */
export interface Denial {
  error: "denied";
  message: string;
  function: string;
  location: { file: string; line: number } | null;
  reason: "noGrant" | "missing" | "notGranted" | "server" | "wrongAuthType";
  endpoint: string | null;
  /** What is missing: each inner list is alternatives, any one of which will do. */
  missing: string[][];
  openAuth: OpenAuthRequest;
}

/** What openAuth answers. */
export type OpenAuthStatus = "ok" | "cancel" | "toAdmin" | "failed";

/** What the page posts to the server: `dingscope::wire::OpenAuthAnswer`. */
export interface OpenAuthAnswer {
  status: OpenAuthStatus;
  request: OpenAuthRequest;
  /** For type 0 answering `ok`: the one-time code in openAuth's `result`. */
  authCode?: string;
}

/** The options openAuth is called with (a subset of what `dingtalk-design-libs` takes). */
export interface OpenAuthOptions {
  clientId: string;
  corpId?: string;
  rpcScope?: string;
  fieldScope?: string;
  type: 0 | 1;
}

/**
 * `openAuth` from `dingtalk-design-libs`, or a stand-in with its signature. Inside
 * DingTalk it needs client 6.3.35 or newer.
 */
export type OpenAuth = (opt: OpenAuthOptions) => Promise<unknown>;

export interface GrantOptions {
  /** The function to call: `openAuth` from `dingtalk-design-libs` inside DingTalk. */
  openAuth: OpenAuth;
  /** The app's AppKey or SuiteKey. */
  clientId: string;
  /** The corp; required for type 1. */
  corpId?: string;
  /** Where the answer goes: a URL it is POSTed to as JSON, or a function. */
  report: string | ((answer: OpenAuthAnswer) => Promise<void>);
  /** Headers for the report's POST (a CSRF token, say). */
  headers?: Record<string, string>;
  /** The `fetch` to use; the global one by default. */
  fetch?: typeof fetch;
}

export interface GrantOutcome {
  status: OpenAuthStatus;
  /** Whether to call again: openAuth answered `ok` and the server took the answer. */
  retry: boolean;
  /** openAuth's `result`, if it gave one. */
  result?: unknown;
  /** What went wrong: openAuth threw, or the report failed. */
  error?: unknown;
}

export interface FetchWithGrantOptions extends GrantOptions {
  /** Told of the denial before openAuth opens. */
  onDenied?: (denial: Denial) => void;
}

export interface FetchWithGrantResult {
  /** The last response: the retried call's, or the 403 when no grant was given. */
  response: Response;
  denial?: Denial;
  grant?: GrantOutcome;
}

export function isDenial(body: unknown): body is Denial;
export function openAuthOptions(
  denial: Denial,
  ids: { clientId: string; corpId?: string },
): OpenAuthOptions;
/** `dd.getAuthInfo`'s parameters (dingtalk-jsapi): the same codes, as arrays. */
export interface AuthInfoParams {
  clientId: string;
  corpId: string;
  type: 0 | 1;
  rpcScope: string[];
  fieldScope: string[];
}
export function authInfoParams(
  denial: Denial,
  ids: { clientId: string; corpId: string },
): AuthInfoParams;
export function statusOf(answer: unknown): OpenAuthStatus;
export function requestGrant(denial: Denial, options: GrantOptions): Promise<GrantOutcome>;
/**
 * `fetch(input, init)`; after a denial, openAuth, the report, and `fetch(input, init)` once
 * more if the grant was given. `init` is used twice: a one-shot body (a stream) cannot be.
 */
export function fetchWithGrant(
  input: RequestInfo | URL,
  init: RequestInit | undefined,
  options: FetchWithGrantOptions,
): Promise<FetchWithGrantResult>;
