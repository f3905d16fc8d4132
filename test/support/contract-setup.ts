import { afterAll, expect } from '@jest/globals';
import { appendFileSync } from 'node:fs';
import { contractRecording } from './contract-recorder.js';
import { ContractValidator, type OpenApiDocument } from './contract-validator.js';

// Every API process an e2e file starts (AppProcess) sits behind a recording proxy; when the file ends, each response
// it received must match the schema the served OpenAPI document declares for its route and status.
contractRecording.enabled = process.env.CONTRACT_RECORD !== '0';

afterAll(async () => {
  const records = contractRecording.records.splice(0);
  if (records.length === 0 || !contractRecording.document) return;
  const validator = new ContractValidator((await contractRecording.document) as OpenApiDocument);
  const problems = records.flatMap((r) => validator.check(r));
  // CONTRACT_REPORT names a file that collects one line per test file: how many responses were validated.
  if (process.env.CONTRACT_REPORT) {
    appendFileSync(
      process.env.CONTRACT_REPORT,
      `${JSON.stringify({ file: expect.getState().testPath, validated: records.length, problems: problems.length })}\n`,
    );
  }
  if (problems.length > 0) {
    throw new Error(
      `${problems.length} of ${records.length} API responses differ from the OpenAPI document:\n${[...new Set(problems)].join('\n')}`,
    );
  }
});
