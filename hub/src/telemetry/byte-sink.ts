/**
 * A growing byte buffer that text is written into as UTF-8, one character at a time while it is
 * ASCII (line protocol nearly always is) and with Buffer.write from the first non-ASCII character.
 *
 * Why: building each line as a string and joining them made ~8 bytes of short-lived strings per
 * byte of request body (every `+=` is a new cons string, then the join and the UTF-8 encoding copy
 * it all again): the largest share of the hub's garbage. Written this way, a batch allocates its
 * body and the number strings, nothing else.
 */
export class ByteSink {
  private buf: Buffer;
  private pos = 0;

  constructor(capacity: number) {
    this.buf = Buffer.allocUnsafe(Math.max(64, capacity));
  }

  get length(): number {
    return this.pos;
  }

  byte(value: number): void {
    if (this.pos >= this.buf.length) this.grow(1);
    this.buf[this.pos++] = value;
  }

  /** `text` as UTF-8 (a lone surrogate becomes U+FFFD, as with Buffer.from). */
  text(text: string): void {
    const n = text.length;
    // At most 3 bytes per UTF-16 unit (a surrogate pair is 2 units, 4 bytes).
    if (this.pos + n * 3 > this.buf.length) this.grow(n * 3);
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c > 0x7f) {
        pos += buf.write(i === 0 ? text : text.slice(i), pos, 'utf8');
        break;
      }
      buf[pos++] = c;
    }
    this.pos = pos;
  }

  /** What was written (a view, not a copy). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  private grow(extra: number): void {
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + extra));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
}
