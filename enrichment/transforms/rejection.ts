/**
 * An event the pipeline cannot turn into a document. It goes to the dead-letter topic with `reason`;
 * the pipeline carries on with the next event.
 */
export class EventRejected extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = "EventRejected";
  }
}

export function reject(reason: string): never {
  throw new EventRejected(reason);
}
