/**
 * One HTTP exchange with a registry, with retries: connection failures, 5xx
 * and 429 are retried with exponential backoff (Retry-After honoured, capped);
 * TLS failures and other statuses are not. Redirects are followed by hand so
 * the Authorization header never leaks to the blob storage a registry
 * redirects to.
 */
import { ImageError } from "../errors.ts";
import { certsDir, type RegistryTls } from "./certs.ts";

/**
 * `tls`: CAs and client certificates from the certs dir of registry `certsHost`
 * (certs.ts), used for every hop, as docker's transport does.
 */
export type HttpOptions = { insecureTls?: boolean; tls?: RegistryTls; certsHost?: string; attempts?: number; signal?: AbortSignal };

const TLS_CODES = /CERT|TLS|SSL|SELF_SIGNED|UNABLE_TO_VERIFY|HOSTNAME_MISMATCH|ERR_TLS/i;

const UNKNOWN_AUTHORITY = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_UNTRUSTED",
]);

/**
 * What is known about a failed handshake (EPROTO says nothing more in bun);
 * `certsHost`: whose certs dir applies (the registry's, also for a redirect to another host).
 */
export type HandshakeContext = { speaksHttp?: boolean; clientCert?: boolean; certsHost?: string };

/** What went wrong in words, and what the user can do about it (docker's x509 messages, roughly). */
function tlsDetail(code: string, msg: string, host: string, ctx: HandshakeContext): string {
  const insecure = "use --insecure for a registry without valid TLS";
  const dir = `${certsDir()}/${ctx.certsHost ?? host}`;
  if (UNKNOWN_AUTHORITY.has(code)) return `certificate signed by an unknown authority (${code}): trust its CA in "${dir}/ca.crt" or ${insecure}`;
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID" || /HOSTNAME_MISMATCH/i.test(code))
    return `certificate is not valid for "${new URL(`https://${host}`).hostname}" (${code}): ${insecure}`;
  if (code === "CERT_HAS_EXPIRED" || code === "CERT_NOT_YET_VALID") return `certificate ${code === "CERT_HAS_EXPIRED" ? "has expired" : "is not yet valid"} (${code}): ${insecure}`;
  if (code === "EPROTO") {
    // docker: "http: server gave HTTP response to HTTPS client".
    if (ctx.speaksHttp) return `the registry speaks plain HTTP (${code}): use --insecure to allow plain HTTP`;
    if (ctx.clientCert) return `handshake failed (${code}): the registry may have refused the client certificate in "${dir}"`;
    return `handshake failed (${code}): if the registry requires a client certificate, put it and its key in "${dir}/client.cert" and "client.key"`;
  }
  return `${code || msg} (${insecure})`;
}

export function classifyFetchError(e: unknown, url: string, ctx: HandshakeContext = {}): ImageError {
  const err = e as { code?: string; message?: string };
  const code = err?.code ?? "";
  const msg = err?.message ?? String(e);
  const host = new URL(url).host;
  if (TLS_CODES.test(code) || /certificate|tls|ssl|handshake/i.test(msg))
    return new ImageError("E_TLS", `Cannot connect to registry "${host}" over TLS: ${tlsDetail(code, msg, host, ctx)}`, { cause: e });
  return new ImageError("E_NETWORK", `Cannot connect to registry "${host}": ${code || msg}`, { cause: e });
}

/**
 * Whether a registry answers plain HTTP on that port: only to explain a failed
 * handshake (a plain-HTTP registry, or one that wants a client certificate),
 * as bun reports both as EPROTO. No credentials are sent and the answer is
 * never used.
 */
async function answersPlainHttp(url: string): Promise<boolean> {
  const u = new URL(url);
  try {
    const r = await fetch(`http://${u.hostname}:${u.port || "443"}/v2/`, { redirect: "manual", signal: AbortSignal.timeout(2000) });
    await r.body?.cancel();
    // The API root answers 200 or 401. A TLS server may answer plain HTTP too:
    // 400 "Client sent an HTTP request to an HTTPS server" (Go).
    return r.status === 200 || r.status === 401 || r.headers.has("docker-distribution-api-version");
  } catch {
    return false;
  }
}

/** classifyFetchError() for a failed fetch of `url`, with the plain-HTTP check for a failed handshake of a verifying client. */
async function fetchError(e: unknown, url: string, opts: HttpOptions): Promise<ImageError> {
  const code = (e as { code?: string } | undefined)?.code;
  // Insecure clients fall back to HTTP by themselves (client.ts): no need to ask.
  const ctx: HandshakeContext = { certsHost: opts.certsHost, clientCert: opts.tls?.cert !== undefined };
  if (code !== "EPROTO" || opts.insecureTls || !url.startsWith("https:")) return classifyFetchError(e, url, ctx);
  return classifyFetchError(e, url, { ...ctx, speaksHttp: await answersPlainHttp(url) });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function retryAfter(res: Response, attempt: number): number {
  const h = res.headers.get("retry-after");
  const s = h !== null ? Number(h) : NaN;
  const base = Number.isFinite(s) ? s * 1000 : 250 * 2 ** attempt;
  return Math.min(base, 10_000) + Math.random() * 100;
}

/**
 * fetch with retries and manual redirects. `auth` is applied only to the
 * original host. Returns the final response whatever its status (callers map
 * 401/403/404 themselves), except that 429/5xx are retried first.
 */
export async function httpRequest(url: string, init: RequestInit & { headers?: Record<string, string> }, opts: HttpOptions = {}): Promise<Response> {
  const attempts = opts.attempts ?? 4;
  let lastErr: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    try {
      const res = await followRedirects(url, init, opts);
      if ((res.status === 429 || res.status >= 500) && attempt < attempts - 1) {
        await res.body?.cancel();
        await sleep(retryAfter(res, attempt));
        continue;
      }
      return res;
    } catch (e) {
      const c = e instanceof ImageError ? e : classifyFetchError(e, url);
      if (c.code === "E_TLS" || opts.signal?.aborted) throw c;
      lastErr = c;
      if (attempt < attempts - 1) await sleep(250 * 2 ** attempt + Math.random() * 100);
    }
  }
  throw lastErr;
}

async function followRedirects(url: string, init: RequestInit & { headers?: Record<string, string> }, opts: HttpOptions): Promise<Response> {
  const origin = new URL(url).origin;
  let current = url;
  for (let hop = 0; hop < 10; hop++) {
    const sameOrigin = new URL(current).origin === origin;
    const headers = { ...(init.headers ?? {}) };
    if (!sameOrigin) delete headers.Authorization;
    let res: Response;
    try {
      res = await fetch(current, { ...init, headers, redirect: "manual", signal: opts.signal, tls: tlsOptions(opts) } as RequestInit);
    } catch (e) {
      // Named after the URL that failed: a redirect target is another host.
      throw await fetchError(e, current, opts);
    }
    if (res.status >= 300 && res.status < 400 && res.headers.get("location")) {
      await res.body?.cancel();
      current = new URL(res.headers.get("location")!, current).toString();
      continue;
    }
    return res;
  }
  throw new ImageError("E_REGISTRY", `Cannot fetch "${url}": too many redirects`);
}

/** Bun's fetch `tls` option: the certs dir's CAs and client pairs, verification off only for insecure registries. */
export function tlsOptions(opts: HttpOptions): (RegistryTls & { rejectUnauthorized?: boolean }) | undefined {
  if (!opts.insecureTls && !opts.tls) return undefined;
  return { ...opts.tls, ...(opts.insecureTls ? { rejectUnauthorized: false } : {}) };
}
