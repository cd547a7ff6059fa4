/**
 * Serialises the relayer's transactions (batches, permits): each picks its nonce and sends
 * under the lock, so two never take the same nonce.
 */
export interface SendLock {
  run<T>(work: () => Promise<T>): Promise<T>;
}

export function createSendLock(): SendLock {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    run(work) {
      const next = tail.then(work, work);
      tail = next.catch(() => undefined);
      return next;
    },
  };
}
