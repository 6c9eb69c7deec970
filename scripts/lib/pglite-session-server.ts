import type { PGlite } from '@electric-sql/pglite';
import { createServer, type Server, type Socket } from 'node:net';

// PGlite is one PostgreSQL backend: one session, whose unnamed prepared statement, portal
// and transaction every client connection shares. @electric-sql/pglite-socket 0.2.17 queues
// each protocol message on its own and keeps a connection together only inside a
// transaction, so the Parse/Bind/Execute/Sync of two connections interleave and one client
// binds, or reads the rows of, another's statement (electric-sql/pglite#1046). This server
// hands the session to one connection from its first message until the backend tells that
// connection ReadyForQuery with status idle: a whole extended-protocol exchange, or a whole
// transaction, runs alone.

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const PROTOCOL_3 = 196608;
const READY_FOR_QUERY = 0x5a; // 'Z'
const IDLE = 0x49; // 'I'
const SYNC = Buffer.from([0x53, 0, 0, 0, 4]);
/** PostgreSQL's own limit on one frontend message (1 GB). */
const MAX_MESSAGE = 0x3fffffff;

/** Follows the backend's message stream to a connection and remembers the last ReadyForQuery. */
class ReadyForQueryScanner {
  private readonly header = Buffer.alloc(5);
  private headerFill = 0;
  private bodyLeft = 0;
  private type = 0;
  private status = 0;

  push(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.bodyLeft > 0) {
        if (this.type === READY_FOR_QUERY) this.status = chunk[i]!;
        const n = Math.min(this.bodyLeft, chunk.length - i);
        i += n;
        this.bodyLeft -= n;
        continue;
      }
      this.header[this.headerFill++] = chunk[i++]!;
      if (this.headerFill === 5) {
        this.headerFill = 0;
        this.type = this.header[0]!;
        this.bodyLeft = this.header.readInt32BE(1) - 4;
        if (this.type === READY_FOR_QUERY) this.status = 0;
      }
    }
  }

  /** True when the last complete message was ReadyForQuery 'I': no transaction, no exchange open. */
  get idle(): boolean {
    return this.headerFill === 0 && this.bodyLeft === 0 && this.type === READY_FOR_QUERY && this.status === IDLE;
  }
}

/** Who holds the session; the others wait in arrival order. */
class SessionGate {
  private owner: object | undefined;
  private readonly waiting: { who: object; resolve: () => void }[] = [];

  acquire(who: object): Promise<void> {
    if (this.owner === undefined) this.owner = who;
    if (this.owner === who) return Promise.resolve();
    return new Promise((resolve) => this.waiting.push({ who, resolve }));
  }

  holds(who: object): boolean {
    return this.owner === who;
  }

  release(who: object): void {
    if (this.owner !== who) return;
    const next = this.waiting.shift();
    this.owner = next?.who;
    next?.resolve();
  }
}

export interface SessionServerOptions {
  db: PGlite;
  host: string;
  port: number;
  maxConnections?: number;
  /**
   * A connection that holds the session (mid-transaction) and sends nothing for this long is
   * closed and rolled back, as PostgreSQL's idle_in_transaction_session_timeout does: one
   * stuck client must not stop every other.
   */
  idleInSessionTimeoutMs?: number;
}

export class PgliteSessionServer {
  private readonly gate = new SessionGate();
  private readonly connections = new Set<Socket>();
  private server: Server | undefined;

  constructor(private readonly options: SessionServerOptions) {}

  async start(): Promise<number> {
    await this.options.db.waitReady;
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => resolve());
    });
    const address = server.address();
    return typeof address === 'object' && address ? address.port : this.options.port;
  }

  async stop(): Promise<void> {
    for (const socket of this.connections) socket.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    if (this.connections.size >= (this.options.maxConnections ?? 100)) {
      socket.end(fatalError('53300', 'too many connections to the embedded PostgreSQL'));
      return;
    }
    this.connections.add(socket);
    socket.setNoDelay(true);
    const { db } = this.options;
    const self = {};
    const scanner = new ReadyForQueryScanner();
    let buffer: Buffer = Buffer.alloc(0);
    let started = false;
    let closed = false;
    let idleTimer: NodeJS.Timeout | undefined;
    // One connection's messages run one after another, in the order they came.
    let chain: Promise<void> = Promise.resolve();

    const execute = async (message: Buffer) => {
      await this.gate.acquire(self);
      clearTimeout(idleTimer);
      if (closed) return;
      try {
        await db.runExclusive(() =>
          db.execProtocolRawStream(new Uint8Array(message), {
            onRawData: (data) => {
              scanner.push(data);
              if (!closed) socket.write(Buffer.from(data));
            },
          }),
        );
      } catch {
        socket.destroy();
        return;
      }
      if (scanner.idle) {
        this.gate.release(self);
      } else {
        const timeout = this.options.idleInSessionTimeoutMs ?? 60_000;
        idleTimer = setTimeout(() => socket.destroy(), timeout);
        idleTimer.unref();
      }
    };

    // A connection that ends while it holds the session leaves it as a new one expects:
    // no half-finished exchange, no open transaction. Its chain has finished, so a connection
    // that does not hold the session has nothing open.
    const cleanup = async () => {
      clearTimeout(idleTimer);
      this.connections.delete(socket);
      if (!this.gate.holds(self)) return;
      // PGlite keeps the last stream callback for later raw calls: give each its own.
      const discard = { onRawData: () => undefined };
      try {
        await db.runExclusive(async () => {
          await db.execProtocolRawStream(new Uint8Array(SYNC), discard);
          if (db.isInTransaction()) await db.execProtocolRawStream(simpleQuery('ROLLBACK'), discard);
        });
      } finally {
        this.gate.release(self);
      }
    };

    // A length no client sends would loop or swallow memory: end the connection instead.
    const refuseProtocol = () => {
      buffer = Buffer.alloc(0);
      socket.end(fatalError('08P01', 'invalid message length'));
    };

    const enqueue = (message: Buffer) => {
      chain = chain.then(() => execute(message));
    };

    socket.on('data', (chunk: Buffer) => {
      buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
      for (;;) {
        if (!started) {
          if (buffer.length < 8) return;
          const length = buffer.readInt32BE(0);
          const code = buffer.readInt32BE(4);
          if (length < 8 || length > MAX_MESSAGE) return refuseProtocol();
          if (buffer.length < length) return;
          const message = buffer.subarray(0, length);
          buffer = buffer.subarray(length);
          if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
            socket.write('N');
          } else if (code === CANCEL_REQUEST) {
            // PGlite has no backend to signal; the protocol expects no answer.
            socket.end();
            return;
          } else if (code === PROTOCOL_3) {
            started = true;
            enqueue(Buffer.from(message));
          } else {
            socket.end(fatalError('08P01', 'unsupported frontend protocol'));
            return;
          }
          continue;
        }
        if (buffer.length < 5) return;
        const declared = buffer.readInt32BE(1);
        if (declared < 4 || declared > MAX_MESSAGE) return refuseProtocol();
        const length = 1 + declared;
        if (buffer.length < length) return;
        enqueue(Buffer.from(buffer.subarray(0, length)));
        buffer = buffer.subarray(length);
      }
    });
    socket.on('error', () => socket.destroy());
    socket.once('close', () => {
      closed = true;
      chain = chain.then(cleanup, cleanup).catch(() => undefined);
    });
  }
}

function simpleQuery(sql: string): Uint8Array {
  const text = Buffer.from(`${sql}\0`);
  const message = Buffer.alloc(5 + text.length);
  message.write('Q', 0);
  message.writeInt32BE(4 + text.length, 1);
  text.copy(message, 5);
  return new Uint8Array(message);
}

function fatalError(code: string, text: string): Buffer {
  const fields = Buffer.from(`SFATAL\0C${code}\0M${text}\0\0`);
  const message = Buffer.alloc(5 + fields.length);
  message.write('E', 0);
  message.writeInt32BE(4 + fields.length, 1);
  fields.copy(message, 5);
  return message;
}
