import { credentials, loadPackageDefinition, type Client, type ServiceError } from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { healthClient } from "../../test/support/health.js";
import { startTestControlPlane, type TestControlPlane } from "../../test/support/control-plane.js";

type ReflectionClient = Client & {
  ServerReflectionInfo(): NodeJS.ReadWriteStream & { write(req: object): boolean };
};

/** Lists services through the v1alpha reflection API, as grpcurl does */
async function listServices(address: string): Promise<string[]> {
  const reflectionProto = new URL("../../node_modules/@grpc/reflection/build/proto/grpc/reflection/v1alpha/reflection.proto", import.meta.url).pathname;
  const pkg = loadPackageDefinition(protoLoader.loadSync(reflectionProto, { keepCase: true })) as unknown as {
    grpc: { reflection: { v1alpha: { ServerReflection: new (a: string, c: ReturnType<typeof credentials.createInsecure>) => ReflectionClient } } };
  };
  const client = new pkg.grpc.reflection.v1alpha.ServerReflection(address, credentials.createInsecure());
  try {
    return await new Promise<string[]>((resolve, reject) => {
      const stream = client.ServerReflectionInfo();
      stream.on("data", (res: { list_services_response?: { service: Array<{ name: string }> } }) => {
        resolve((res.list_services_response?.service ?? []).map((s) => s.name));
        stream.end();
      });
      stream.on("error", (err: ServiceError) => reject(err));
      stream.write({ list_services: "*" });
    });
  } finally {
    client.close();
  }
}

describe("control plane server", () => {
  let t: TestControlPlane;
  beforeAll(async () => {
    t = await startTestControlPlane();
  });
  afterAll(async () => t?.close());

  it("reports SERVING on the standard gRPC health service once migrated", async () => {
    const health = healthClient(t.address);
    try {
      expect(await health.status("")).toBe("SERVING");
      expect(await health.status("no.such.Service")).toBe(`error:5`);
    } finally {
      health.close();
    }
  });

  it("lists its services through server reflection, health included", async () => {
    const services = await listServices(t.address);
    expect(services).toContain("grpc.health.v1.Health");
  });
});
