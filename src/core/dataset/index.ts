/** The GIFT dataset store: storage, IoU buckets, import and export. Pure Node, no vscode. */
export { openDataset, Dataset, type OpenDatasetOptions, type CollectionInfo, type ReadResult } from './store';
export {
  DATASET_SCHEMA,
  DEFAULT_COLLECTIONS,
  DatasetError,
  formatWarning,
  sanitizeRecordId,
  validateCollectionName,
  validateRecordId,
  type DatasetInfo,
  type DatasetRecord,
  type DatasetWarning,
  type NewRecord,
} from './types';
export { DatasetLockError } from './lock';
export { bucketForIou, checkFlag, DEFAULT_THRESHOLDS, validateThresholds, type Bucket, type FlagCheck, type IouThresholds } from './thresholds';
export {
  detectImportFormat,
  importGenCad,
  importImageFolder,
  importIntoDataset,
  type ImportFormat,
  type ImportOptions,
  type ImportReport,
} from './import';
export {
  CHAT_PROMPT,
  chatLine,
  exportDataset,
  scrubForExport,
  type ChatLine,
  type ExportFormat,
  type ExportOptions,
  type ExportReport,
} from './export';
export { datasetSignature, pollDataset, type DatasetPoller } from './watch';
export { giftRecord, type GroundTruth, type SampledCode } from './gift-record';
