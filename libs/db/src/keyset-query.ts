/**
 * The tail of a newest-first keyset page: optional conditions with numbered parameters, the
 * (created_at, id) position to continue before, the order and the limit.
 */
export class KeysetQuery {
  readonly params: unknown[] = [];
  private readonly conditions: string[] = [];

  /** A numbered parameter for `value`. */
  param(value: unknown): string {
    return `$${this.params.push(value)}`;
  }

  /** Adds `column = value` when a value is given. */
  equals(column: string, value: string | undefined): this {
    if (value) this.conditions.push(`${column} = ${this.param(value)}`);
    return this;
  }

  /** Adds a condition written with param(). */
  where(condition: string): this {
    this.conditions.push(condition);
    return this;
  }

  /** Only rows strictly before this position of `alias` (its created_at, id). */
  before(alias: string, position: { createdAt: string; id: string } | undefined): this {
    if (position)
      this.conditions.push(
        `(${alias}.created_at, ${alias}.id) < (${this.param(position.createdAt)}::timestamptz, ${this.param(position.id)}::uuid)`,
      );
    return this;
  }

  /** `WHERE …` (none without conditions), newest first, at most `limit` rows. */
  page(alias: string, limit: number): string {
    const where = this.conditions.length ? `WHERE ${this.conditions.join(' AND ')} ` : '';
    return `${where}ORDER BY ${alias}.created_at DESC, ${alias}.id DESC LIMIT ${this.param(limit)}`;
  }
}
