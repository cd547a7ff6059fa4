/**
 * Iterates `source` one item ahead: the next item is asked for as soon as the current one is
 * handed out, so a reader's next request (an eth_getLogs over the next range) runs while the
 * caller works on this one. At most two items are held at once. A failure of the item read ahead
 * is thrown where it would have been, when the caller comes to it; a caller that stops early
 * closes the source.
 *
 * @example
 * for await (const { logs } of readAhead(readLogsAdaptively(client, { address, fromBlock, toBlock }))) check(logs)
 */
export async function* readAhead<T>(source: AsyncIterable<T>): AsyncGenerator<T, void, undefined> {
  const iterator = source[Symbol.asyncIterator]();
  const ask = () => {
    const next = iterator.next();
    next.catch(() => {}); // awaited in its turn: this only keeps it from counting as unhandled meanwhile
    return next;
  };
  let next = ask();
  let done = false;
  try {
    for (;;) {
      const result = await next;
      if (result.done) {
        done = true;
        return;
      }
      next = ask();
      yield result.value;
    }
  } catch (error) {
    done = true; // the source threw: it is finished already
    throw error;
  } finally {
    // Stopped early: the source finishes the read under way, then closes (not waited for).
    if (!done) iterator.return?.().catch(() => {});
  }
}
