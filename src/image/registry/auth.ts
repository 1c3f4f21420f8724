/**
 * Registry authentication: parses WWW-Authenticate challenges and answers
 * them. Basic: the credentials on every request. Bearer: a token from the
 * realm (GET with service and scope; Basic credentials on the token request
 * when we have them), cached per scope.
 */
import { ImageError } from "../errors.ts";
import { httpRequest, type HttpOptions } from "./http.ts";

export type Credentials = { username: string; password: string } | { identityToken: string; username?: string };

export type Challenge = { scheme: string; params: Record<string, string> };

/** Parses `Bearer realm="…",service="…",scope="…"` (quoted or token values, commas inside quotes). */
export function parseChallenge(header: string): Challenge | undefined {
  const m = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  const re = /([\w.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*,?/g;
  for (const p of m[2]!.matchAll(re)) params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, "$1") : (p[3] ?? "");
  return { scheme: m[1]!.toLowerCase(), params };
}

function basic(c: Credentials): string | undefined {
  if ("password" in c) return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString("base64")}`;
  return undefined;
}

export class Authorizer {
  #tokens = new Map<string, string>();
  #basic = false;

  constructor(
    readonly registry: string,
    readonly credentials: Credentials | undefined,
    readonly http: HttpOptions,
  ) {}

  /** The Authorization header to send for `scope`, if we already know one. */
  header(scope: string): string | undefined {
    if (this.#basic && this.credentials) return basic(this.credentials);
    return this.#tokens.get(scope) ?? this.#tokens.get("*");
  }

  /** Answers a 401's challenge; returns false if there is nothing more we can try. */
  async answer(res: Response, scope: string): Promise<boolean> {
    const ch = parseChallenge(res.headers.get("www-authenticate") ?? "");
    if (!ch) return false;
    if (ch.scheme === "basic") {
      if (!this.credentials || !("password" in this.credentials) || this.#basic) return false;
      this.#basic = true;
      return true;
    }
    if (ch.scheme !== "bearer" || !ch.params.realm) return false;
    if (this.#tokens.has(scope)) return false; // the token we sent was refused
    this.#tokens.set(scope, await this.#token(ch.params, scope));
    return true;
  }

  async #token(p: Record<string, string>, scope: string): Promise<string> {
    const url = new URL(p.realm!);
    if (p.service) url.searchParams.set("service", p.service);
    const sc = p.scope ?? (scope === "*" ? undefined : scope);
    if (sc) for (const s of sc.split(" ")) url.searchParams.append("scope", s);
    const headers: Record<string, string> = {};
    let res: Response;
    if (this.credentials && "identityToken" in this.credentials) {
      const form = new URLSearchParams({ grant_type: "refresh_token", refresh_token: this.credentials.identityToken, service: p.service ?? "", client_id: "pelagos" });
      if (sc) form.set("scope", sc);
      res = await httpRequest(url.origin + url.pathname, { method: "POST", body: form.toString(), headers: { "Content-Type": "application/x-www-form-urlencoded" } }, this.http);
    } else {
      const b = this.credentials ? basic(this.credentials) : undefined;
      if (b) headers.Authorization = b;
      res = await httpRequest(url.toString(), { headers }, this.http);
    }
    if (res.status === 401 || res.status === 403)
      throw new ImageError("E_AUTH", `Cannot log in to registry "${this.registry}": ${this.credentials ? "credentials rejected" : "anonymous access refused"} (${res.status})`);
    if (!res.ok) throw new ImageError("E_REGISTRY", `Cannot get a token from "${url.host}": HTTP ${res.status}`);
    const body = (await res.json().catch(() => ({}))) as { token?: string; access_token?: string };
    const t = body.token ?? body.access_token;
    if (!t) throw new ImageError("E_REGISTRY", `Cannot get a token from "${url.host}": the answer holds no token`);
    return `Bearer ${t}`;
  }
}
