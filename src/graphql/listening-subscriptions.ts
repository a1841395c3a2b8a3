import type { ExecutionArgs, ExecutionResult } from 'graphql';

type Results = AsyncGenerator<ExecutionResult, void, void>;
type Subscribe = (args: ExecutionArgs) => Promise<Results | ExecutionResult>;

/** Told when a subscriber starts listening (+1) and when it stops (-1). */
export type ListeningCounter = (change: 1 | -1) => void;

/**
 * A `subscribe` that tells `count` about every subscriber, one by one: +1 once its stream is
 * returned (it is listening from then on), -1 once when it ends, however it ends (the client's
 * complete, a closed socket, an error, the stream's own end). Counted here rather than at the
 * event bus because subscribers of one live operation share a single bus listener
 * (shared-subscriptions.ts): the bus sees one listener for a thousand dashboards.
 */
export function countListening(subscribe: Subscribe, count: ListeningCounter): Subscribe {
  return async (args) => {
    const result = await subscribe(args);
    if (!(Symbol.asyncIterator in result)) return result;
    count(1);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      count(-1);
    };
    const stream = result;
    const counted: Results = {
      async next() {
        try {
          const step = await stream.next();
          if (step.done) end();
          return step;
        } catch (error) {
          end();
          throw error;
        }
      },
      async return() {
        end();
        return stream.return();
      },
      async throw(error) {
        end();
        return stream.throw(error);
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
    return counted;
  };
}
