/** The users slice's public surface: the slice factory, and the row helpers provisioning needs */
export { createUsersSlice, usersSlice, DEFAULT_SESSION_TTL_MS, type UsersSliceOptions } from "./slice.js";
export { insertUser, findUserByEmail, normalizeEmail, toUserMessage, type NewUser, type UserRow } from "./store.js";
export { createSessionChecker, sessionVerifier, type CheckedSession, type SessionChecker } from "./sessions.js";
export { PASSWORD_RESET_OUTBOX_KIND } from "./reset.js";
