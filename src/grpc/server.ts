import { fileURLToPath } from "node:url";
import path from "node:path";
import { Server, ServerCredentials, type ServiceDefinition, type UntypedServiceImplementation } from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import { HealthImplementation, protoPath as healthProtoPath, type ServingStatus } from "grpc-health-check";

export const protoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../proto");

export interface ServiceRegistration {
  /** Fully-qualified name, e.g. tenantmesh.v1.TenantService (the health service reports it by this name) */
  name: string;
  definition: ServiceDefinition;
  implementation: UntypedServiceImplementation;
}

export interface GrpcServerHandle {
  readonly server: Server;
  readonly port: number;
  readonly health: HealthImplementation;
  /** Sets every registered service (and the overall "") to one serving status */
  setServing(serving: boolean): void;
  /** Graceful stop; forces after `graceMs` */
  close(graceMs?: number): Promise<void>;
}

/** The .proto files the reflection service describes, with the standard health service beside ours */
function reflectionDefinition(protoFiles: string[]): protoLoader.PackageDefinition {
  return protoLoader.loadSync([...protoFiles, healthProtoPath], {
    includeDirs: [protoRoot, path.dirname(healthProtoPath)],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
}

/**
 * Builds and binds a gRPC server with our services, the standard grpc.health.v1 service, and server
 * reflection over the given .proto files (relative to proto/). Resolves once it listens.
 */
export async function startGrpcServer(options: {
  host: string;
  port: number;
  services: ServiceRegistration[];
  protoFiles: string[];
}): Promise<GrpcServerHandle> {
  const server = new Server({ "grpc.max_receive_message_length": 8 * 1024 * 1024 });
  for (const s of options.services) server.addService(s.definition, s.implementation);

  const statuses: Record<string, ServingStatus> = { "": "NOT_SERVING" };
  for (const s of options.services) statuses[s.name] = "NOT_SERVING";
  const health = new HealthImplementation(statuses);
  health.addToServer(server);

  const reflection = new ReflectionService(reflectionDefinition(options.protoFiles.map((f) => path.join(protoRoot, f))));
  reflection.addToServer(server);

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${options.host}:${options.port}`, ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(err) : resolve(bound),
    );
  });

  return {
    server,
    port,
    health,
    setServing(serving) {
      const status: ServingStatus = serving ? "SERVING" : "NOT_SERVING";
      for (const name of Object.keys(statuses)) health.setStatus(name, status);
    },
    close(graceMs = 5_000) {
      return new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        force.unref();
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
    },
  };
}
