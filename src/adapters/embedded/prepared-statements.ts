import { parse, protocol, type PGlite } from '@electric-sql/pglite';

const { serialize } = protocol;

/** What a statement returns, as node-postgres shapes it. */
export interface StatementResult {
  rows: Record<string, unknown>[];
  rowCount: number;
}

interface Prepared {
  name: string;
  /** The type of each parameter, as the database inferred it when the statement was parsed. */
  types: number[];
}

/** Statements kept parsed at once; the least recently used beyond it is closed. */
const KEPT = 256;

function joined(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((length, part) => length + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * Runs statements with parameters on PGlite as named prepared statements, each run one call into
 * the database. PGlite's own `query` makes six calls per statement (parse, describe, bind,
 * describe, execute, sync) and parses and plans the text every time; a statement run for every
 * rollout transition spent more CPU on that than on its work. Parameters are turned into text as
 * PGlite's `query` does: by the type the database inferred for each, with PGlite's serializers.
 */
export class PreparedStatements {
  private readonly kept = new Map<string, Prepared>();
  private named = 0;

  constructor(private readonly db: PGlite) {}

  async run(text: string, params: readonly unknown[]): Promise<StatementResult> {
    if (this.db.closed) throw new Error('PGlite is closed');
    return this.db.runExclusive(async () => {
      const prepared = await this.prepared(text);
      const values = params.map((value, index) => {
        if (value === null || value === undefined) return null;
        const type = prepared.types[index];
        const serializer = type === undefined ? undefined : this.db.serializers[type];
        return serializer === undefined ? String(value) : serializer(value);
      });
      const messages = await this.send(text, params, [
        serialize.bind({ statement: prepared.name, values }),
        serialize.describe({ type: 'P' }),
        serialize.execute({}),
        serialize.sync(),
      ]);
      const [result] = parse.parseResults(messages, this.db.parsers);
      return {
        rows: (result?.rows ?? []) as Record<string, unknown>[],
        rowCount: result?.affectedRows ?? result?.rows.length ?? 0,
      };
    });
  }

  private async prepared(text: string): Promise<Prepared> {
    const known = this.kept.get(text);
    if (known !== undefined) {
      // Most recently used last, so the first is the one to close.
      this.kept.delete(text);
      this.kept.set(text, known);
      return known;
    }
    const name = `baton_${++this.named}`;
    const parts = [
      serialize.parse({ name, text }),
      serialize.describe({ type: 'S', name }),
      serialize.sync(),
    ];
    const oldest = this.kept.size >= KEPT ? this.kept.entries().next().value : undefined;
    if (oldest !== undefined) {
      this.kept.delete(oldest[0]);
      parts.unshift(serialize.close({ type: 'S', name: oldest[1].name }));
    }
    const messages = await this.send(text, undefined, parts);
    const prepared = { name, types: parse.parseDescribeStatementResults(messages) };
    this.kept.set(text, prepared);
    return prepared;
  }

  /** Sends protocol messages in one call; a database error is thrown with the statement on it. */
  private async send(text: string, params: readonly unknown[] | undefined, parts: Uint8Array[]) {
    try {
      return (await this.db.execProtocol(joined(parts), { throwOnError: true })).messages;
    } catch (error) {
      // As PGlite's own query reports it.
      if (typeof error === 'object' && error !== null)
        Object.assign(error, { query: text, params });
      throw error;
    }
  }
}
