// What every check script shares: its inputs from the environment (set by tests/sdk's gtest
// fixture), one JSON line on stdout per thing the SDK did or saw, and a deadline so a check
// that waits for something that never comes fails by itself instead of hanging the test.

export function input(name) {
  const value = process.env[name];
  if (value === undefined || value === '') {
    console.error(`${name} is not set (run this through sdk_tests)`);
    process.exit(2);
  }
  return value;
}

// One observation, as a JSON line the C++ side parses.
export function saw(what, details = {}) {
  process.stdout.write(`${JSON.stringify({ saw: what, ...details })}\n`);
}

// An error as the C++ side asserts on it: the SDK's own code and message.
export function failure(error) {
  return {
    name: error?.name,
    code: error?.code,
    message: String(error?.message ?? error),
    data_error: error?.data?.error,
    status: error?.statusCode ?? error?.status,
  };
}

// Ends the script with exit 1 after ms, saying what it was still waiting for.
export function deadline(ms, waiting_for) {
  const timer = setTimeout(() => {
    saw('deadline', { after_ms: ms, waiting_for: waiting_for() });
    process.exit(1);
  }, ms);
  timer.unref();
  return timer;
}
