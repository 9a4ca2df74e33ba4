import { credentials, loadPackageDefinition, type Client, type ServiceError } from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { protoPath } from "grpc-health-check";

type HealthClient = Client & {
  check(req: { service: string }, cb: (err: ServiceError | null, res: { status: string }) => void): void;
};

const definition = loadPackageDefinition(protoLoader.loadSync(protoPath, { keepCase: true, enums: String })) as unknown as {
  grpc: { health: { v1: { Health: new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => HealthClient } } };
};

/** A grpc.health.v1 client; `status(service)` answers SERVING / NOT_SERVING, or `error:<code>` */
export function healthClient(address: string): { status(service?: string): Promise<string>; close(): void } {
  const client = new definition.grpc.health.v1.Health(address, credentials.createInsecure());
  return {
    status: (service = "") =>
      new Promise((resolve) => client.check({ service }, (err, res) => resolve(err ? `error:${err.code}` : res.status))),
    close: () => client.close(),
  };
}
