// A loopback server that replays one recorded chat-completion SSE body for
// every POST, either in one write (bursty: many events per body chunk, as
// under load) or one write per event (paced: as tokens trickle in). It runs
// in its own process so the bench measures only the client's CPU.
import http from 'node:http';

const mode = process.argv[2] === 'paced' ? 'paced' : 'bursty';
const events: string[] = JSON.parse(process.env['TCE_REPLAY_EVENTS'] ?? '[]');
const whole = Buffer.from(events.join(''));
const parts = events.map((e) => Buffer.from(e));

const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    if (mode === 'bursty') {
      res.end(whole);
      return;
    }
    let i = 0;
    const next = (): void => {
      if (i >= parts.length) {
        res.end();
        return;
      }
      res.write(parts[i++]);
      setImmediate(next);
    };
    next();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const a = server.address();
  process.stdout.write(`${typeof a === 'object' && a ? a.port : 0}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
