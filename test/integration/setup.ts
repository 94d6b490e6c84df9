// Per-file setup for integration tests: real servers answer in seconds, not milliseconds.
import { jest } from '@jest/globals';

jest.setTimeout(120_000);
