// JSON lines encoded as UTF-8 into one buffer that is reused, handed on
// whenever it is full. Joining a few thousand records into one string and
// encoding that made a string over V8's large-object size and a copy over
// malloc's mmap threshold per chunk: fresh pages every time, a page fault per
// 4 KiB (~15 µs each on the paravirtualised VMs this runs on;
// docs/performance.md, "The report's page faults"). Here the records' strings
// stay small and die young, and the bytes go through the same pages.

import fs from 'node:fs';

const NEWLINE = 0x0a;
const DEFAULT_BYTES = 256 * 1024;

export class LineSink {
  private readonly buf: Buffer;
  private pos = 0;

  /** `out` must be done with the bytes when it returns (they are overwritten next). */
  constructor(private readonly out: (bytes: Uint8Array) => void, bytes = DEFAULT_BYTES) {
    this.buf = Buffer.allocUnsafeSlow(bytes);
  }

  /** One line; `text` must not contain a newline (JSON.stringify's never does). */
  line(text: string): void {
    // UTF-8 is at most 3 bytes per UTF-16 unit: room is checked before the write, never after.
    const most = 3 * text.length + 1;
    if (this.pos + most > this.buf.length) {
      this.flush();
      if (most > this.buf.length) {
        this.out(Buffer.from(`${text}\n`));
        return;
      }
    }
    this.pos += this.buf.write(text, this.pos);
    this.buf[this.pos++] = NEWLINE;
  }

  flush(): void {
    if (this.pos === 0) return;
    const n = this.pos;
    this.pos = 0;
    this.out(this.buf.subarray(0, n));
  }
}

/** Writes all of `bytes` (a write may be short) at `position`, else at the
 * file's own position, or throws. */
export function writeAllSync(fd: number, bytes: Uint8Array, offset = 0, length = bytes.length, position: number | null = null): void {
  for (let done = 0; done < length;) {
    const n = fs.writeSync(fd, bytes, offset + done, length - done, position === null ? null : position + done);
    if (n <= 0) throw Object.assign(new Error(`write returned ${n} with ${length - done} bytes left`), { code: 'EIO' });
    done += n;
  }
}
