import { closeSync, writeSync, existsSync, mkdirSync, openSync, readSync, statSync, truncateSync, writeFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { AccessRecord } from '../contracts/access-record.js';
import { insertAccessRecords, type RecordsPool } from '../db/access-records.js';

const BATCH = 500;
const ROTATE_AT_BYTES = 4 * 1024 * 1024;

/**
 * Access records are appended to a local journal as each response finishes (a synchronous
 * write: once it returns, a killed process loses nothing), and a flusher moves them to
 * PostgreSQL in batches. The flushed offset is kept beside the journal; a restart resumes
 * from it, and record ids make a repeated batch harmless. The image path never waits on
 * the database.
 */
export class AccessJournal {
  private readonly file: string;
  private readonly offsetFile: string;
  /** Opened once for appending: each record is then one write(2), not an open, a write and a close. */
  private readonly fd: number;
  /** Opened once too: the offset is rewritten in place, one pwrite(2) per flush that moved it. */
  private readonly offsetFd: number;
  private offset: number;
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;
  private nextFlush?: Promise<void>;

  constructor(
    private readonly pool: RecordsPool,
    dir: string,
    private readonly log: Logger,
    private readonly intervalMs = 200,
  ) {
    mkdirSync(dir, { recursive: true });
    this.file = path.join(dir, 'access.jsonl');
    this.offsetFile = path.join(dir, 'access.offset');
    if (!existsSync(this.file)) writeFileSync(this.file, '');
    this.offset = existsSync(this.offsetFile) ? Number(readFileSync(this.offsetFile, 'utf8')) || 0 : 0;
    this.fd = openSync(this.file, 'a');
    if (!existsSync(this.offsetFile)) writeFileSync(this.offsetFile, offsetText(this.offset));
    this.offsetFd = openSync(this.offsetFile, 'r+');
  }

  private saveOffset(offset: number): void {
    if (offset === this.offset) return;
    this.offset = offset;
    writeSync(this.offsetFd, offsetText(offset), 0);
  }

  /** Synchronous: once it returns, the record is in the file (O_APPEND, so after a truncation too). */
  record(entry: AccessRecord): void {
    writeSync(this.fd, `${JSON.stringify(entry)}\n`);
  }

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.intervalMs);
    this.timer.unref();
  }

  /**
   * Moves every journal line complete at the time of the call to the database; one flush at
   * a time. A flush already under way may have read the journal before the caller's last
   * line, so the caller waits for one that starts after it (shared by every caller meanwhile).
   */
  flush(): Promise<void> {
    if (!this.flushing) {
      this.flushing = this.flushOnce().finally(() => (this.flushing = undefined));
      return this.flushing;
    }
    this.nextFlush ??= this.flushing.then(() => {
      this.nextFlush = undefined;
      return this.flush();
    });
    return this.nextFlush;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
    closeSync(this.fd);
    closeSync(this.offsetFd);
  }

  private readPending(): { records: AccessRecord[]; end: number } {
    const size = statSync(this.file).size;
    if (size <= this.offset) return { records: [], end: this.offset };
    const fd = openSync(this.file, 'r');
    const buffer = Buffer.alloc(Math.min(size - this.offset, 8 * 1024 * 1024));
    readSync(fd, buffer, 0, buffer.length, this.offset);
    closeSync(fd);
    const text = buffer.toString('utf8');
    const complete = text.lastIndexOf('\n') + 1;
    const lines = text.slice(0, complete).split('\n').filter(Boolean);
    return { records: lines.map((l) => JSON.parse(l) as AccessRecord), end: this.offset + Buffer.byteLength(text.slice(0, complete)) };
  }

  private async flushOnce(): Promise<void> {
    try {
      const { records, end } = this.readPending();
      for (let i = 0; i < records.length; i += BATCH) {
        await insertAccessRecords(this.pool, records.slice(i, i + BATCH));
      }
      this.saveOffset(end);
      // Synchronously, so no append can land between the check and the truncation.
      if (this.offset >= ROTATE_AT_BYTES && statSync(this.file).size === this.offset) {
        truncateSync(this.file, 0);
        this.saveOffset(0);
      }
    } catch (error) {
      // The journal keeps everything; the next flush tries again.
      this.log.warn({ err: (error as Error).message }, 'access records not flushed yet');
    }
  }
}

/**
 * Always as wide, so a rewrite in place covers the previous value whole (leading spaces,
 * which Number() ignores, as the reader in the constructor does).
 */
function offsetText(offset: number): string {
  return String(offset).padStart(16, ' ');
}
