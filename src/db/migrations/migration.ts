import type { Knex } from "knex";
import type { DbRoles } from "../roles.js";

/** One schema change, with its undo. Names are timestamped so they sort in the order they apply. */
export interface Migration {
  name: string;
  up(knex: Knex, roles: DbRoles): Promise<void>;
  down(knex: Knex, roles: DbRoles): Promise<void>;
}
