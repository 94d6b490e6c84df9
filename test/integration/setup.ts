// Per-file setup for integration tests: real servers answer in seconds, not milliseconds.
import { afterAll, jest } from '@jest/globals';
import { kube } from '../helpers/kube.js';
import { leakScanAtFileEnd } from '../helpers/leak-collect.js';
import { recordConsole } from '../helpers/leak-record.js';

jest.setTimeout(120_000);

// What the file prints is a place of the suite-wide leak scan too.
recordConsole();

// Before the file's own afterAll hooks (they run in the order declared): its namespaces
// and operators are still there for the suite-wide leak scan.
afterAll(() => leakScanAtFileEnd(kube().kc));
