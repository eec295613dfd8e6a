// Jest setup (setupFilesAfterEnv): checks the wording of every error answer any test of the run
// provokes from an in-process app, as the client receives it (JsonApiError.body() is what the
// exception filter sends), and fails the test file that provoked a detail a person could not act on.
import { JsonApiError } from '../../src/http/jsonapi-error';
import { wordingProblem } from './error-wording';

const unclear: string[] = [];
const body = JsonApiError.prototype.body;
JsonApiError.prototype.body = function recordedBody(this: JsonApiError) {
  const sent = body.call(this);
  for (const error of sent.errors) {
    const problem = wordingProblem(error);
    if (problem) unclear.push(`${error.status} ${error.code}: ${problem}`);
  }
  return sent;
};

afterAll(() => {
  expect([...new Set(unclear)]).toEqual([]);
});
