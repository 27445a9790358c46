// A logger for the Slack SDKs (the @slack/logger interface) that writes to stderr, so stdout
// carries only the JSON lines the C++ side reads. The test prints stderr when it fails.
export function stderrLogger(name) {
  let level = 'debug';
  const write = (lvl) => (...msg) => process.stderr.write(`[${lvl}] ${name} ${msg.join(' ')}\n`);
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    setLevel: (l) => { level = l; },
    getLevel: () => level,
    setName: (n) => { name = n; },
  };
}
