/**
 * A bearer-token front for a test registry, like Docker Hub's: /v2/* needs
 * `Authorization: Bearer <token>` (else 401 with a Bearer challenge naming
 * the realm, service and scope); /token hands out tokens (optionally only
 * with Basic credentials). Can also answer the first N requests with 429 or
 * 503 to exercise retries. Runs in the test process; stop() closes it.
 */
export type TokenProxy = { host: string; requests: string[]; stop: () => void };

export function startTokenProxy(upstream: string, opts: { basic?: string; fail?: { status: number; times: number } } = {}): TokenProxy {
  const requests: string[] = [];
  let failures = opts.fail?.times ?? 0;
  let self = "";
  const server: { port?: number; stop: (force?: boolean) => void } = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req): Promise<Response> {
      const url = new URL(req.url);
      requests.push(`${req.method} ${url.pathname}${url.search}`);
      if (url.pathname === "/token") {
        if (opts.basic && req.headers.get("authorization") !== `Basic ${Buffer.from(opts.basic).toString("base64")}`)
          return new Response("denied", { status: 401 });
        return Response.json({ token: `tok-${url.searchParams.get("scope")}` });
      }
      if (failures > 0 && url.pathname.includes("/manifests/")) {
        failures--;
        return new Response("busy", { status: opts.fail!.status, headers: { "Retry-After": "0" } });
      }
      const m = /^\/v2\/(.+)\/(manifests|blobs)\//.exec(url.pathname);
      const scope = m ? `repository:${m[1]}:pull` : "";
      if (req.headers.get("authorization") !== `Bearer tok-${scope}`) {
        const challenge: string = `Bearer realm="http://${self}/token",service="test-registry"${scope ? `,scope="${scope}"` : ""}`;
        return new Response("{}", { status: 401, headers: { "WWW-Authenticate": challenge } });
      }
      const headers = new Headers(req.headers);
      headers.delete("authorization");
      const res = await fetch(`http://${upstream}${url.pathname}${url.search}`, { method: req.method, headers, redirect: "manual" });
      return new Response(res.body, { status: res.status, headers: res.headers });
    },
  });
  self = `127.0.0.1:${server.port}`;
  return { host: self, requests, stop: () => server.stop(true) };
}
