/** Billing: rate cards from the plan catalogue, cost breakdowns, immutable invoices, recommendations */
export { billingSlice } from "./slice.js";
export { createBillingAccountStep } from "./account-step.js";
export { calculateCosts, costPeriod } from "./costs.js";
export { generateInvoice, invoicePeriod } from "./invoices.js";
export { divideHalfEven, formatMinor, lineAmountMinor, microsPerMinor } from "./money.js";
export { baseFeeLine, lateAdjustmentLine, priceBreakdown, sumLines, usageLine, type BillingCycle, type Breakdown, type ChargeLine, type Quantities } from "./pricing.js";
export { pricing, rateCardFor, type RateCard, type ResourcePricing } from "./rate-card.js";
export { recommend, type Recommendation } from "./recommendations.js";
export { listInvoices, type StoredInvoice } from "./store.js";
