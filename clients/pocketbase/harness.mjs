// The checks' harness shared by the PocketBase SDK suites: `check` runs one
// named check (any error fails it, the suite goes on), `expect*` assert, and
// `summary` prints `N passed, M failed` and sets the exit code.
import { ClientResponseError } from "pocketbase";

let passed = 0;
let failed = 0;

export class CheckFailed extends Error {}

export async function check(name, fn) {
  try {
    await fn();
    passed += 1;
    console.log(`ok - ${name}`);
  } catch (err) {
    failed += 1;
    let reason;
    if (err instanceof CheckFailed) {
      reason = err.message;
    } else if (err instanceof ClientResponseError) {
      reason = `ClientResponseError ${err.status} on ${err.url}: ${JSON.stringify(err.response).slice(0, 300)}`;
    } else {
      reason = `${err?.name ?? "Error"}: ${String(err?.message ?? err).slice(0, 300)}`;
    }
    console.log(`FAIL - ${name}: ${reason}`);
  }
}

export function expect(cond, message) {
  if (!cond) throw new CheckFailed(message);
}

export function expectEq(actual, expected, what) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new CheckFailed(`${what}: expected ${e}, got ${a}`);
}

/**
 * Expects `fn` to reject with a ClientResponseError whose status is in `statuses`,
 * carrying a PocketBase error body `{status, message, data}`.
 */
export async function expectError(fn, statuses, what) {
  statuses = Array.isArray(statuses) ? statuses : [statuses];
  let result;
  try {
    result = await fn();
  } catch (err) {
    if (err instanceof CheckFailed) throw err;
    expect(
      err instanceof ClientResponseError && statuses.includes(err.status),
      `${what}: expected ClientResponseError ${statuses.join("/")}, got ` +
        (err instanceof ClientResponseError
          ? `${err.status} ${JSON.stringify(err.response).slice(0, 200)}`
          : String(err)),
    );
    const body = err.response;
    expect(
      body?.status === err.status && typeof body?.message === "string" && body?.data && typeof body.data === "object",
      `${what}: error body is not {status, message, data}: ${JSON.stringify(body).slice(0, 200)}`,
    );
    return err;
  }
  throw new CheckFailed(
    `${what}: expected ClientResponseError ${statuses.join("/")}, got success ${JSON.stringify(result).slice(0, 200)}`,
  );
}

export function summary() {
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}
