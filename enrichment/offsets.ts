/** A message's place in Kafka. */
export interface OffsetRef {
  topic: string;
  partition: number;
  offset: string;
}

export interface CommitOffset {
  topic: string;
  partition: number;
  /** The next offset to read: everything before it is written. */
  offset: string;
}

/**
 * What each partition may commit while work is in flight. Messages are taken in offset order; work on them
 * (bulk requests, dead letters, join look-ups) finishes in any order and holds back the commit at the lowest
 * offset it covers until it is released, so a commit never passes a message whose documents are not written.
 */
export class CommitTracker {
  /** Next offset after the last message taken, per `topic:partition`. */
  private readonly taken = new Map<string, { topic: string; partition: number; next: bigint }>();
  private readonly committed = new Map<string, bigint>();
  /** Open holds: lowest held offset per partition. */
  private readonly holds = new Set<Map<string, bigint>>();

  /** Messages up to `lastOffset` of a partition were taken. */
  take(topic: string, partition: number, lastOffset: string): void {
    const key = `${topic}:${partition}`;
    const next = BigInt(lastOffset) + 1n;
    const current = this.taken.get(key);
    if (current === undefined || next > current.next) this.taken.set(key, { topic, partition, next });
  }

  /** Holds back each partition's commit at the lowest of these offsets until the returned release is called. */
  hold(refs: Iterable<OffsetRef>): () => void {
    const hold = lowestPerPartition(refs);
    this.holds.add(hold);
    return () => void this.holds.delete(hold);
  }

  /**
   * What to commit now: per partition, the next offset after what was taken, but not past an open hold nor past
   * `waiting` (messages whose documents are not written yet either); only partitions that moved on since their
   * last commit.
   */
  due(waiting: Iterable<OffsetRef>): CommitOffset[] {
    const waitingLowest = lowestPerPartition(waiting);
    const due: CommitOffset[] = [];
    for (const [key, { topic, partition, next }] of this.taken) {
      let offset = next;
      for (const hold of this.holds) {
        const held = hold.get(key);
        if (held !== undefined && held < offset) offset = held;
      }
      const waits = waitingLowest.get(key);
      if (waits !== undefined && waits < offset) offset = waits;
      if (offset > (this.committed.get(key) ?? -1n)) due.push({ topic, partition, offset: String(offset) });
    }
    return due;
  }

  /** These offsets were committed. */
  done(offsets: CommitOffset[]): void {
    for (const o of offsets) {
      const key = `${o.topic}:${o.partition}`;
      const offset = BigInt(o.offset);
      if (offset > (this.committed.get(key) ?? -1n)) this.committed.set(key, offset);
    }
  }

  /**
   * Forgets partitions no longer assigned (`topic:partition` keys), so work still in flight for them never
   * commits over their new owner's progress.
   */
  keepOnly(assigned: ReadonlySet<string>): void {
    for (const map of [this.taken, this.committed, ...this.holds]) for (const key of map.keys()) if (!assigned.has(key)) map.delete(key);
  }
}

function lowestPerPartition(refs: Iterable<OffsetRef>): Map<string, bigint> {
  const lowest = new Map<string, bigint>();
  for (const ref of refs) {
    const key = `${ref.topic}:${ref.partition}`;
    const offset = BigInt(ref.offset);
    const current = lowest.get(key);
    if (current === undefined || offset < current) lowest.set(key, offset);
  }
  return lowest;
}
