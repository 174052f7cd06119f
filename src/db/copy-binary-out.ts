/**
 * `COPY (…) TO STDOUT (FORMAT binary)` on a node-postgres connection, without pg-copy-streams: a Submittable (the
 * hook node-postgres gives custom queries) that parses PostgreSQL's binary COPY format as the CopyData messages arrive
 * and writes every field's bytes straight into the array its sink names, whatever the message boundaries.
 *
 * Why: a bytea read by an ordinary query arrives as hex text (twice the bytes) that node-postgres decodes into a new
 * Buffer per value, and node-postgres cannot take binary result rows (its protocol parser decodes every DataRow field
 * as UTF-8). CopyData messages are handed over as raw bytes.
 *
 * Binary COPY format: an 11-byte signature, int32 flags, int32 extension length and that many bytes; then per tuple an
 * int16 field count (−1 ends the data) and per field an int32 length (−1: NULL) followed by the value in its binary
 * send format (int4: 4 bytes big-endian, bytea: the raw bytes). All integers big-endian.
 */
import type pg from 'pg';

/** Where a tuple's fields go, one tuple at a time. */
export interface CopyTupleSink {
  /**
   * Field `column` of the current tuple is `length` bytes long (−1: NULL): the array of exactly `length` bytes to write
   * it into (an empty array for NULL). Fields arrive in column order: when this is called, every earlier field of the
   * tuple is complete. Throwing ends the copy with that error (the rest of the data is read and dropped).
   */
  target(column: number, length: number): Uint8Array;
  /** Every field of the current tuple has been written. */
  tupleEnd(): void;
}

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
/** Signature, flags, extension length. */
const HEADER_BYTES = SIGNATURE.length + 8;

type State = 'header' | 'extension' | 'fieldCount' | 'fieldLength' | 'fieldData' | 'trailer';

/** The streaming parser: feed it the CopyData payloads in order. */
export class BinaryCopyParser {
  private state: State = 'header';
  /** Bytes of the fixed-size item being read (header, a count, a length), which may be split across payloads. */
  private readonly scratch = Buffer.alloc(HEADER_BYTES);
  private scratchFilled = 0;
  private skip = 0;
  private fields = 0;
  private column = 0;
  private target: Uint8Array = new Uint8Array(0);
  private targetFilled = 0;
  private tuplesRead = 0;

  constructor(private readonly sink: CopyTupleSink) {}

  get tuples(): number {
    return this.tuplesRead;
  }

  /** True once the end-of-data marker has been read. */
  get complete(): boolean {
    return this.state === 'trailer';
  }

  write(bytes: Uint8Array): void {
    let at = 0;
    while (at < bytes.length) {
      switch (this.state) {
        case 'header': {
          at = this.fill(bytes, at, HEADER_BYTES);
          if (this.scratchFilled < HEADER_BYTES) break;
          if (!this.scratch.subarray(0, SIGNATURE.length).equals(SIGNATURE)) throw new Error('COPY data does not start with the binary COPY signature');
          this.skip = this.scratch.readUInt32BE(SIGNATURE.length + 4);
          this.state = 'extension';
          this.scratchFilled = 0;
          break;
        }
        case 'extension': {
          const skipped = Math.min(this.skip, bytes.length - at);
          this.skip -= skipped;
          at += skipped;
          if (this.skip === 0) this.state = 'fieldCount';
          break;
        }
        case 'fieldCount': {
          at = this.fill(bytes, at, 2);
          if (this.scratchFilled < 2) break;
          this.scratchFilled = 0;
          const count = this.scratch.readInt16BE(0);
          if (count === -1) {
            this.state = 'trailer';
          } else if (count === 0) {
            this.tupleEnd();
          } else {
            this.fields = count;
            this.column = 0;
            this.state = 'fieldLength';
          }
          break;
        }
        case 'fieldLength': {
          at = this.fill(bytes, at, 4);
          if (this.scratchFilled < 4) break;
          this.scratchFilled = 0;
          const length = this.scratch.readInt32BE(0);
          this.target = this.sink.target(this.column, length);
          const expected = Math.max(0, length);
          if (this.target.length !== expected) throw new Error(`COPY sink gave ${this.target.length} bytes for a field of ${expected}`);
          this.targetFilled = 0;
          this.state = 'fieldData';
          if (expected === 0) this.fieldEnd();
          break;
        }
        case 'fieldData': {
          const count = Math.min(this.target.length - this.targetFilled, bytes.length - at);
          this.target.set(bytes.subarray(at, at + count), this.targetFilled);
          this.targetFilled += count;
          at += count;
          if (this.targetFilled === this.target.length) this.fieldEnd();
          break;
        }
        case 'trailer':
          throw new Error('COPY data continues after its end marker');
      }
    }
  }

  private fieldEnd(): void {
    this.column++;
    if (this.column < this.fields) {
      this.state = 'fieldLength';
    } else {
      this.tupleEnd();
    }
  }

  private tupleEnd(): void {
    this.tuplesRead++;
    this.state = 'fieldCount';
    this.sink.tupleEnd();
  }

  /** Copies from `bytes` at `at` into the scratch until it holds `size` bytes; the new position. */
  private fill(bytes: Uint8Array, at: number, size: number): number {
    const count = Math.min(size - this.scratchFilled, bytes.length - at);
    this.scratch.set(bytes.subarray(at, at + count), this.scratchFilled);
    this.scratchFilled += count;
    return at + count;
  }
}

/** A connection-level failure (the connection should be discarded), as opposed to an error of the query or the sink. */
export class CopyConnectionError extends Error {}

/**
 * Runs `sql` (a `COPY … TO STDOUT (FORMAT binary)` statement; COPY takes no parameters, so any literal in it must be
 * escaped by the caller) on `client`, feeding `sink`. Resolves with the number of tuples once Postgres has finished;
 * rejects with the server's error, the sink's first error or a format error. Unless the rejection is a
 * CopyConnectionError the connection is left ready for the next query.
 */
export function copyBinaryOut(client: pg.ClientBase, sql: string, sink: CopyTupleSink): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    client.query(new CopyOutQuery(sql, sink, resolve, reject));
  });
}

/** The protocol side: node-postgres calls these handlers for the active query (see pg/lib/client.js). */
class CopyOutQuery implements pg.Submittable {
  private readonly parser: BinaryCopyParser;
  private failure: Error | null = null;
  private settled = false;

  constructor(
    private readonly text: string,
    sink: CopyTupleSink,
    private readonly resolve: (tuples: number) => void,
    private readonly reject: (error: Error) => void,
  ) {
    this.parser = new BinaryCopyParser(sink);
  }

  submit(connection: pg.Connection): void {
    connection.query(this.text);
  }

  handleCopyData(message: { chunk: Buffer }): void {
    if (this.failure) return;
    try {
      this.parser.write(message.chunk);
    } catch (error) {
      this.failure = error instanceof Error ? error : new Error(String(error));
    }
  }

  handleCommandComplete(): void {
    if (!this.failure && !this.parser.complete) this.failure = new Error('COPY ended before its end marker');
  }

  handleReadyForQuery(): void {
    if (this.failure) this.fail(this.failure);
    else this.succeed(this.parser.tuples);
  }

  /** A server error (ReadyForQuery follows, but node-postgres does not pass it to this query) or a broken connection. */
  handleError(error: Error): void {
    const fromServer = typeof (error as { code?: unknown }).code === 'string' && (error as { severity?: unknown }).severity !== undefined;
    this.fail(fromServer ? error : new CopyConnectionError(error.message, { cause: error }));
  }

  handleCopyInResponse(connection: pg.Connection & { sendCopyFail(message: string): void }): void {
    this.failure ??= new Error('the statement reads COPY data instead of writing it');
    connection.sendCopyFail('not a COPY TO statement');
  }

  handleRowDescription(): void {
    this.failure ??= new Error('the statement returned rows instead of COPY data');
  }

  handleDataRow(): void {}

  handleEmptyQuery(): void {
    this.failure ??= new Error('empty statement');
  }

  handlePortalSuspended(): void {}

  private succeed(tuples: number): void {
    if (this.settled) return;
    this.settled = true;
    this.resolve(tuples);
  }

  private fail(error: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.reject(error);
  }
}
