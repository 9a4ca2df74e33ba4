import { expect, it } from "vitest";
import { startProxyHarness } from "./support/proxy-harness.js";
it("smoke", async () => {
  const h = await startProxyHarness();
  const r = await fetch(`${h.url}/v1/things?x=1`, { headers: { authorization: `Bearer ${h.acme.token}`, "x-tenant-id": "evil" } });
  console.log(r.status, await r.text());
  console.log(h.http[0]!.seen[0] ?? h.http[1]!.seen[0]);
  const r2 = await fetch(`${h.url}/v1/things`, { headers: { authorization: `Bearer tm_aaaaaaaaaaaa_${"a".repeat(32)}` } });
  console.log(r2.status, await r2.text());
  const c = h.echoClient();
  const res = await new Promise((resolve, reject) => c.unary({ message: "hi", payload: Buffer.alloc(0), delayMs: 0, failCode: 0, failMessage: "" }, h.auth(h.acme.token), (e, r) => e ? reject(e) : resolve(r)));
  console.log(res);
  await h.close();
});
