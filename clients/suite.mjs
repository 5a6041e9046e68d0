// What the Node suites share: named checks counted for clients/run.sh's
// `N passed, M failed` summary line, and GraphQL over HTTP.
let passed = 0;
let failed = 0;

export async function check(name, fn) {
  try {
    await fn();
    console.log(`ok - ${name}`);
    passed++;
  } catch (e) {
    console.log(`FAIL - ${name}: ${e && e.message ? e.message : e}`);
    failed++;
  }
}

export function expect(cond, msg) {
  if (!cond) throw new Error(msg);
}

/// POST /graphql on `process.env.BASE_URL`; throws on GraphQL errors.
export async function gql(query, variables, headers) {
  const res = await fetch(`${process.env.BASE_URL}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

/// Prints the summary line and sets the exit code.
export function summary() {
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}
