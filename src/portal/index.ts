/** The portal: PortalService (a control-plane slice) and the web portal that talks to the control plane */
export { createPortalSlice, defaultDashboardSources, portalSlice, type PortalSliceOptions } from "./slice.js";
export { composeDashboard, type ComposeInput } from "./dashboard/compose.js";
export { notInThisBuild, type DashboardSource, type DashboardView, type DashboardWindow, type SectionName } from "./dashboard/source.js";
export { startPortal, type Portal, type PortalOptions } from "./web/server.js";
export { loadPortalConfig, type PortalConfig } from "./config.js";
export { callUnary, bearer, RpcError } from "./rpc-client.js";
