/** The Prometheus textfile written after every run (node_exporter textfile collector). */
export { escapeLabelValue } from './exposition.js';
export {
  type GuestFromManifests,
  guestsFromManifests,
  type ManifestTree,
} from './fromManifests.js';
export {
  type MetricsInput,
  type MetricsReportLike,
  MetricsWriteError,
  renderMetrics,
  writeMetricsTextfile,
} from './textfile.js';
