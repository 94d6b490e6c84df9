// A test-only record of every AdmissionReview answer the webhook sends
// (SECRETSYNC_TEST_ADMISSION_RECORD=<file>, read by main.ts): one JSON line each, appended
// as sent, so the test suite's leak scan sees the raw answers (their base64 JSON Patch
// included) and not only the Pods the API server stored. Never set in production;
// announced loudly when it is. Nothing else changes.
import { appendFileSync } from 'node:fs';
import type { Logger } from '../observability/logger.js';

export function admissionRecorder(file: string | undefined, log: Logger): ((body: string) => void) | undefined {
  if (!file) return undefined;
  log.warn({ file }, 'TEST ADMISSION RECORD ENABLED: every webhook answer is appended to a file');
  return (body) => {
    try {
      appendFileSync(file, `${body}\n`);
    } catch (err) {
      log.warn({ errorClass: err instanceof Error ? err.constructor.name : typeof err }, 'could not append to the test admission record');
    }
  };
}
