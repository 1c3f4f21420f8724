/**
 * A client for one registry (OCI distribution API v2): manifests by tag or
 * digest, blobs as verified-by-caller streams that resume with Range after a
 * dropped connection. Plain HTTP only for loopback registries or --insecure
 * (HTTPS is tried first, as docker does).
 */
import { ImageError } from "../errors.ts";
import { isLoopbackRegistry, registryHost } from "../reference.ts";
import { MANIFEST_ACCEPT } from "../../oci/image/media-types.ts";
import { Authorizer, type Credentials } from "./auth.ts";
import { httpRequest, type HttpOptions } from "./http.ts";
import { loadRegistryTls } from "./certs.ts";
import { sha256 } from "../store/blobs.ts";

export type ClientOptions = { insecure?: boolean; credentials?: Credentials; attempts?: number };

export type FetchedManifest = { bytes: Uint8Array; mediaType: string; digest: string };

const MAX_MANIFEST = 4 * 1024 * 1024;

export class RegistryClient {
  readonly host: string;
  readonly #http: HttpOptions;
  readonly #auth: Authorizer;
  readonly #plainAllowed: boolean;
  #base: Promise<string> | undefined;

  /** `registry` is a reference's registry (`docker.io`, `localhost:5000`) or a mirror URL (`http://m:5000`). */
  constructor(
    readonly registry: string,
    readonly opts: ClientOptions = {},
  ) {
    let forced: string | undefined;
    let host = registry;
    const m = /^(https?):\/\/([^/]+)\/?$/.exec(registry);
    if (m) {
      forced = m[1];
      host = m[2]!;
    }
    this.host = registryHost(host);
    this.#plainAllowed = opts.insecure === true || isLoopbackRegistry(host) || forced === "http";
    // Like docker's default insecure range 127.0.0.0/8: loopback registries skip TLS verification.
    this.#http = {
      insecureTls: opts.insecure === true || isLoopbackRegistry(host),
      tls: loadRegistryTls(this.host),
      certsHost: this.host,
      attempts: opts.attempts,
    };
    this.#auth = new Authorizer(host, opts.credentials, this.#http);
    if (forced) this.#base = Promise.resolve(`${forced}://${this.host}`);
  }

  baseUrl(): Promise<string> {
    this.#base ??= this.#probe();
    return this.#base;
  }

  async #probe(): Promise<string> {
    const https = `https://${this.host}`;
    if (!this.#plainAllowed) return https;
    try {
      const r = await httpRequest(`${https}/v2/`, {}, { ...this.#http, attempts: 1 });
      await r.body?.cancel();
      return https;
    } catch {
      return `http://${this.host}`;
    }
  }

  /** A request with the auth dance: on 401, answer the challenge once and retry. */
  async request(path: string, scope: string, init: { method?: string; headers?: Record<string, string> } = {}): Promise<Response> {
    const url = `${await this.baseUrl()}${path}`;
    for (let round = 0; round < 3; round++) {
      const headers = { ...(init.headers ?? {}) };
      const a = this.#auth.header(scope);
      if (a) headers.Authorization = a;
      const res = await httpRequest(url, { method: init.method ?? "GET", headers }, this.#http);
      if (res.status === 401 && (await this.#auth.answer(res, scope))) {
        await res.body?.cancel();
        continue;
      }
      return res;
    }
    throw new ImageError("E_AUTH", `Cannot authenticate to registry "${this.host}"`);
  }

  statusError(res: Response, what: string): ImageError {
    const hint = this.opts.credentials ? "credentials rejected" : `authentication required (run "pelagos image login ${this.registry}")`;
    switch (res.status) {
      case 401:
        return new ImageError("E_AUTH", `Cannot fetch ${what} from "${this.host}": ${hint}`);
      case 403:
        return new ImageError("E_AUTH", `Cannot fetch ${what} from "${this.host}": access denied (403)`);
      case 404:
        return new ImageError("E_NOT_FOUND", `Cannot fetch ${what} from "${this.host}": not found`);
      case 429:
        return new ImageError("E_RATE_LIMIT", `Cannot fetch ${what} from "${this.host}": too many requests (429), try again later`);
      default:
        return new ImageError("E_REGISTRY", `Cannot fetch ${what} from "${this.host}": HTTP ${res.status}`);
    }
  }

  /** Checks that the registry answers and accepts our credentials (for `login`). */
  async ping(): Promise<void> {
    const res = await this.request("/v2/", "*");
    await res.body?.cancel();
    if (!res.ok) throw this.statusError(res, "the API root");
  }

  async getManifest(repo: string, target: string): Promise<FetchedManifest> {
    const what = `manifest "${repo}:${target}"`.replace(":sha256:", "@sha256:");
    const res = await this.request(`/v2/${repo}/manifests/${target}`, `repository:${repo}:pull`, { headers: { Accept: MANIFEST_ACCEPT } });
    if (!res.ok) {
      await res.body?.cancel();
      throw this.statusError(res, what);
    }
    const len = Number(res.headers.get("content-length") ?? "0");
    if (len > MAX_MANIFEST) throw new ImageError("E_REGISTRY", `Cannot fetch ${what}: too large (${len} bytes)`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (bytes.byteLength > MAX_MANIFEST) throw new ImageError("E_REGISTRY", `Cannot fetch ${what}: too large`);
    const digest = sha256(bytes);
    if (target.startsWith("sha256:") && digest !== target)
      throw new ImageError("E_DIGEST", `Cannot verify ${what}: the registry sent content with digest "${digest}"`);
    const header = res.headers.get("docker-content-digest");
    if (header && header.startsWith("sha256:") && header !== digest)
      throw new ImageError("E_DIGEST", `Cannot verify ${what}: Docker-Content-Digest "${header}" does not match the content ("${digest}")`);
    let mediaType = (res.headers.get("content-type") ?? "").split(";")[0]!.trim();
    try {
      const mt = (JSON.parse(new TextDecoder().decode(bytes)) as { mediaType?: string }).mediaType;
      if (mt) mediaType = mt;
    } catch {
      throw new ImageError("E_REGISTRY", `Cannot parse ${what}: not JSON`);
    }
    return { bytes, mediaType, digest };
  }

  /** Opens a blob at `offset`; the response body is the stream. */
  async #openBlob(repo: string, digest: string, offset: number): Promise<Response> {
    const headers: Record<string, string> = offset > 0 ? { Range: `bytes=${offset}-` } : {};
    const res = await this.request(`/v2/${repo}/blobs/${digest}`, `repository:${repo}:pull`, { headers });
    if (!res.ok) {
      await res.body?.cancel();
      throw this.statusError(res, `blob "${digest}"`);
    }
    if (offset > 0 && res.status !== 206) {
      await res.body?.cancel();
      throw new ImageError("E_NETWORK", `Cannot resume blob "${digest}": the registry does not support ranges`);
    }
    return res;
  }

  /**
   * The blob's bytes. A connection that drops mid-way is reopened at the
   * current offset (up to 3 times); the caller hashes everything it receives.
   */
  async *blob(repo: string, digest: string): AsyncGenerator<Uint8Array> {
    let offset = 0;
    let resumes = 0;
    let res = await this.#openBlob(repo, digest, 0);
    for (;;) {
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          offset += chunk.byteLength;
          yield chunk;
        }
        return;
      } catch (e) {
        if (e instanceof ImageError || resumes++ >= 3) throw e instanceof ImageError ? e : new ImageError("E_NETWORK", `Cannot download blob "${digest}": ${(e as Error).message}`, { cause: e });
        res = await this.#openBlob(repo, digest, offset);
      }
    }
  }
}
