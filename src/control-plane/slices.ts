import type { SliceFactory } from "./deps.js";
import { usersSlice } from "../users/index.js";
import { tenantsSlice } from "../tenants/index.js";

/**
 * The control plane's slices, in the order their services are registered. The one place a new slice joins.
 */
export const sliceFactories: readonly SliceFactory[] = [tenantsSlice, usersSlice];
