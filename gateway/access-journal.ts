import { closeSync, writeSync, existsSync, mkdirSync, openSync, readSync, statSync, truncateSync, writeFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { storedAccessRecord, type AccessRecord } from '../contracts/access-record.js';
import type { Db } from '../db/client.js';

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
  private offset: number;
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;
  private nextFlush?: Promise<void>;

  constructor(
    private readonly db: Db,
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
        await this.db.gatewayAccessRecord.createMany({
          data: records.slice(i, i + BATCH).map(storedAccessRecord),
          skipDuplicates: true,
        });
      }
      this.offset = end;
      writeFileSync(this.offsetFile, String(end));
      // Synchronously, so no append can land between the check and the truncation.
      if (this.offset >= ROTATE_AT_BYTES && statSync(this.file).size === this.offset) {
        truncateSync(this.file, 0);
        this.offset = 0;
        writeFileSync(this.offsetFile, '0');
      }
    } catch (error) {
      // The journal keeps everything; the next flush tries again.
      this.log.warn({ err: (error as Error).message }, 'access records not flushed yet');
    }
  }
}
