/**
 * One KYB backend process on PostgreSQL for benchmarks:
 * `node --import tsx bench/support/kyb-backend.ts <database url> <http port> <grpc port>`. The database must
 * be migrated (bench/support/kyb-setup.ts does it). The identity secret comes from bench/support/secrets.ts,
 * so the proxies and the load generator sign what it accepts. Prints `ready <http port> <grpc port>`.
 */
import { defaultRoles, openDatabase } from "../../src/db/index.js";
import { startKybService } from "../../src/kyb/index.js";
import { silentLogger } from "../../src/log/index.js";
import { unencryptedFieldsForTesting } from "../../src/security/index.js";
import { benchSecrets } from "./secrets.js";

const [url = "", httpPort = "0", grpcPort = "0"] = process.argv.slice(2);
const db = openDatabase({ kind: "postgres", url, poolMax: 16, connectTimeoutMs: 3_000, ...defaultRoles });
const kyb = await startKybService({
  db,
  identitySecret: benchSecrets().identitySecret,
  host: "127.0.0.1",
  httpPort: Number(httpPort),
  grpcPort: Number(grpcPort),
  // Above the load's concurrency: the benchmark measures forwarding, not the backend's queue
  capacity: 1_000,
  serviceTimeMs: 0,
  logger: silentLogger,
  // Several backend processes without a shared keystore: this benchmark measures forwarding, not encryption
  fields: unencryptedFieldsForTesting,
});
console.log(`ready ${kyb.httpPort} ${kyb.grpcPort}`);
process.on("SIGTERM", () => void kyb.close().then(() => db.close()).then(() => process.exit(0)));
