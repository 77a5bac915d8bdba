// The floor under any node:net client on paced streams: keep-alive sockets
// that send the request and only watch each read for the chunked body's
// last bytes. No HTTP framing, no SSE, no engine, no promise per turn: what
// is left is the wake-up, the socket read and node's read callback per body
// chunk. Not a client; a yardstick for the runner bench.
import net from 'node:net';

// The last chunk, alone in its read (the server ends the body with a write of its own) or after a chunk's CRLF.
const LAST = Buffer.from('0\r\n\r\n');

function endsBody(n: number, b: Uint8Array): boolean {
  if (n < LAST.length || LAST.compare(b, n - LAST.length, n) !== 0) return false;
  return n === LAST.length || (b[n - 7] === 0x0d && b[n - 6] === 0x0a);
}

export async function readFloor(url: string, turns: number, concurrency: number): Promise<void> {
  const u = new URL(url);
  const head = `POST ${u.pathname}/chat/completions HTTP/1.1\r\nhost: ${u.host}\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}`;
  const buf = Buffer.allocUnsafe(64 * 1024);
  let left = turns;
  const sockets: net.Socket[] = [];
  await new Promise<void>((resolve, reject) => {
    let live = concurrency;
    for (let i = 0; i < concurrency; i++) {
      const next = (s: net.Socket): void => {
        if (left <= 0) {
          if (--live === 0) resolve();
          return;
        }
        left--;
        s.write(head, 'latin1');
      };
      const s: net.Socket = net.connect({
        host: u.hostname,
        port: Number(u.port),
        noDelay: true,
        onread: { buffer: buf, callback: (n, b) => { if (endsBody(n, b)) next(s); return true; } },
      });
      s.on('error', reject);
      sockets.push(s);
      next(s);
    }
  });
  for (const s of sockets) s.destroy();
}
