/** Notifications at the start and end of a run (DESIGN.md "Configuration", `notify:`). */
export { isDue, pingStart, sendNotifications } from './send.js';
export { notificationBody, notificationTitle, outcomeOf } from './summary.js';
export type { NotifyBounds, NotifyLogger, NotifyOptions, RunReportLike } from './types.js';
